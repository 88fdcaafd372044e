/**
 * The one place that says where the e2e toolchain lives: the toolchain builder (toolchain.ts), the
 * local cluster (cluster.ts), the e2e harness (../support/env.ts) and the preview benchmark all read
 * these paths.
 *
 * <toolchainDir> is $PICLUSTER_TOOLCHAIN_DIR, else ~/.cache/picluster-linkerd/toolchain (outside the
 * repository, so a fresh clone reuses an earlier build).
 */
import * as os from "os";
import * as path from "path";

/** Root of this checkout (test/e2e/toolchain/../../..). */
export const repoRoot = path.resolve(__dirname, "..", "..", "..");

export const toolchainDir = process.env.PICLUSTER_TOOLCHAIN_DIR || path.join(os.homedir(), ".cache", "picluster-linkerd", "toolchain");

/** Binaries built or installed by `npm run toolchain`. */
export const toolchainBinDir = path.join(toolchainDir, "bin");

/**
 * Data files a toolchain component ships (`crds/`, `stages/`), linked as <toolchainDir>/data/<component>
 * to the cached build of that component.
 */
export const toolchainDataDir = path.join(toolchainDir, "data");

/** The cluster CLI the harness shells out to (`npm run cluster`). */
export const clusterScript = path.join(__dirname, "cluster.ts");
