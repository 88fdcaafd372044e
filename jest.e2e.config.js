/**
 * `npm run test:e2e`: the real engine against a real API server (see test/e2e and docs/toolchain.md).
 * Not part of `npm test`: the unit config only matches *.test.ts.
 */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/test/e2e"],
    testMatch: ["**/*.e2e.ts"],
    transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
    testTimeout: 15 * 60 * 1000,
    // Two files at a time, each with its own cluster: most of an e2e is waiting (engine, Helm, controllers);
    // measured 13.3 min for every file at load ~10 against ~16 min one at a time (docs/toolchain.md "Timings").
    maxWorkers: 2,
    bail: false,
};
