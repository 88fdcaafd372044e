/**
 * Public entry of the e2e harness for code outside test/e2e (bench/cluster.ts): the real Pulumi
 * engine, the local cluster, the Helm repository of the real charts, and the releases and stack
 * shapes the suites use. Anything not exported here is internal to the e2e tests and may change
 * without notice.
 */
export {
    Pulumi,
    apply,
    binDir,
    checkToolchain,
    kubectl,
    kubectlPath,
    makeRootCA,
    prepareCluster,
    repoRoot,
    run,
    startCluster,
    toolchainDir,
} from "./support/env";
export type { Cluster, RunResult } from "./support/env";
export { chartRepoDir, checkChartsPresent, startChartRepo } from "./support/chartRepo";
export { CONTROL_PLANE_ONLY, EDGE, STABLE } from "./support/suite";
export { simulatedDeployment } from "./support/workloads";
