/**
 * picluster-linkerd: Linkerd on a Raspberry Pi k3s cluster, as the guide installs it.
 *
 * The program is a function (Pulumi runs it and uses its result as the stack outputs): the
 * configuration is read once, what the cluster already has that the charts could collide with is
 * read once (lib/cluster.ts), and both are validated together before any resource is registered; then
 * the composition root (components/picluster.ts) maps the result onto the components.
 */
import { unmapPromiseStacks } from "./lib/stackTraces";
unmapPromiseStacks();
import { ClusterReader, OFFLINE, kubectlClusterReader } from "./lib/cluster";
import { clusterAccess, loadConfig } from "./lib/config";
import { readStackConfig } from "./lib/config/stack";
import { GATEWAY_API_CRDS } from "./lib/gatewayApi";
import { ConfigError, configKey, parseConfig } from "./lib/config";
import { ROOT_NAME } from "./lib/names";
import { kubernetesProvider as createKubernetesProvider, registerEarlyProviders } from "./lib/earlyProviders";
import { directUpgradeProblems } from "./lib/upgrade/plan";
import { oldestProxyMinor } from "./lib/upgrade/running";
import * as pulumi from "@pulumi/pulumi";

/** `clusterReader`: how the cluster is read before deciding; the offline render passes one that reads nothing. @default kubectl on the stack's cluster */
export = async (options: { readonly clusterReader?: ClusterReader } = {}) => {
    const raw = readStackConfig();
    // The provider plugins start while the components load and the cluster is read (lib/earlyProviders.ts).
    const schema = parseConfig(raw);
    const access = clusterAccess(raw, process.env, schema);
    const early = schema.problems.length === 0 && !raw.fileProblems?.length ? registerEarlyProviders(schema.config, access) : {};
    const reader = options.clusterReader ?? (access ? kubectlClusterReader(access) : undefined);
    const reading = reader ? reader(Object.values(GATEWAY_API_CRDS)) : Promise.resolve(OFFLINE);
    // The components (and the provider SDK modules they load) are loaded while kubectl reads the cluster.
    const { PiclusterLinkerd } = await import("./components/picluster");
    const cluster = await reading;
    const config = loadConfig(raw, process.env, cluster);
    if (cluster.status === "read" && cluster.linkerd) {
        // Linkerd supports neither skipped majors nor downgrades: npm run upgrade goes one major at a time.
        const running = { controlPlane: cluster.linkerd.controlPlane, oldestProxyMinor: oldestProxyMinor(cluster.linkerd) };
        const problems = directUpgradeProblems(config.linkerd.release, running, pulumi.getStack());
        if (problems.length > 0) throw new ConfigError(problems.map((message) => ({ key: configKey("linkerd.version"), message })));
    }
    const { kubernetes, ...others } = early;
    const kubernetesProvider = kubernetes ?? createKubernetesProvider(config.kubernetes, config.adopt.enabled);
    const { outputs } = new PiclusterLinkerd(ROOT_NAME, { config, kubernetesProvider }, { providers: others });
    // Outputs that do not apply to the chosen mode are left out rather than shown as undefined.
    return Object.fromEntries(Object.entries(outputs).filter(([, value]) => value !== undefined));
};
