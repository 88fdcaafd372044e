/**
 * Public entry of the e2e harness for code outside test/e2e (bench/preview.ts): the real Pulumi
 * engine, the local cluster and the Helm repository of the real charts. Anything not exported here is
 * internal to the e2e tests and may change without notice.
 */
export { Pulumi, kubectlPath, makeRootCA, prepareCluster, startCluster, toolchainDir } from "./support/env";
export { chartRepoDir, startChartRepo } from "./support/chartRepo";
