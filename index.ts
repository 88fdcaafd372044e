/**
 * picluster-linkerd: Linkerd on a Raspberry Pi k3s cluster, as the guide installs it.
 * The configuration is read and validated once here, before any resource is registered.
 */
import { loadConfig } from "./lib/config";
import { resolveKubeTarget } from "./lib/kubeconfig";
import { deployPicluster } from "./lib/program";
import { readStackConfig } from "./lib/stackConfig";

const config = loadConfig(readStackConfig());
const outputs = deployPicluster(config, resolveKubeTarget(config));

export const linkerd = outputs.linkerd;
export const trustAnchorMode = outputs.trustAnchorMode;
export const trustAnchorPEM = outputs.trustAnchorPEM;
export const linkerdConfigTrustAnchorPEM = outputs.linkerdConfigTrustAnchorPEM;
export const trustAnchorInLinkerdConfig = outputs.trustAnchorInLinkerdConfig;
export const verifyCommands = outputs.verifyCommands;
