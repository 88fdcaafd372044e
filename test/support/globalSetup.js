// Jest global setup (jest.config.js): the CLIs the unit tests start (ts-node, npm run render/policy:check)
// use Node's compile cache, as the program does (lib/compileCache.js): each such process then skips
// compiling TypeScript and the SDKs again. Set here, the workers and every process they start inherit it.
"use strict";
const path = require("path");

module.exports = async () => {
    process.env.NODE_COMPILE_CACHE ??= path.join(__dirname, "..", "..", "node_modules", ".cache", "picluster-linkerd", "compile-cache");
};
