/**
 * picluster-linkerd: Linkerd on a Raspberry Pi k3s cluster, as the guide installs it.
 *
 * The program is a function (Pulumi runs it and uses its result as the stack outputs): the
 * configuration is read and validated once, before any resource is registered, then handed to the
 * composition root (components/picluster.ts), which maps it onto the components.
 */
import { PiclusterLinkerd } from "./components/picluster";
import { loadConfig } from "./lib/config";
import { readStackConfig } from "./lib/config/stack";

export = async () => {
    const config = loadConfig(readStackConfig());
    const { outputs } = new PiclusterLinkerd("linkerd", { config });
    // Outputs that do not apply to the chosen mode are left out rather than shown as undefined.
    return Object.fromEntries(Object.entries(outputs).filter(([, value]) => value !== undefined));
};
