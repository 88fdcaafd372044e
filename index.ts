/**
 * picluster-linkerd: Linkerd on a Raspberry Pi k3s cluster, as the guide installs it.
 *
 * The program is a function (Pulumi runs it and uses its result as the stack outputs): the
 * configuration is read and validated once, before any resource is registered, then passed down.
 * Stack outputs are the fields of `ProgramOutputs` in lib/program.ts.
 */
import { loadConfig } from "./lib/config";
import { resolveKubeTarget } from "./lib/kubeconfig";
import { deployPicluster } from "./lib/program";
import { readStackConfig } from "./lib/stackConfig";

export = async () => {
    const config = loadConfig(readStackConfig());
    const outputs = deployPicluster(config, resolveKubeTarget(config));
    // Outputs that do not apply to the chosen mode are left out rather than shown as undefined.
    return Object.fromEntries(Object.entries(outputs).filter(([, value]) => value !== undefined));
};
