// Loaded by Node before the Pulumi program (Pulumi.yaml: runtime.options.nodeargs `--require`), so it
// comes before TypeScript, ts-node and the SDKs: Node's on-disk compile cache (module.enableCompileCache,
// Node >= 22.1) keeps V8's compiled code of every module the program loads, keyed by the module's
// content. Every `pulumi preview` / `up` after the first then skips compiling typescript.js (9 MB), the
// SDKs and this program again: about 0.5 s of each run (npm run bench, "real pulumi preview").
// The cache lives in node_modules/.cache (removed with node_modules); anything that goes wrong here
// (an older Node, a read-only directory) only leaves the cache off.
"use strict";
const path = require("path");
const nodeModule = require("module");
try {
    if (typeof nodeModule.enableCompileCache === "function" && !process.env.NODE_COMPILE_CACHE) {
        nodeModule.enableCompileCache(path.join(__dirname, "..", "node_modules", ".cache", "picluster-linkerd", "compile-cache"));
    }
} catch {
    // The cache is an optimisation only.
}
