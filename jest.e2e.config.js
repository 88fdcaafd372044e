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
    maxWorkers: 1,
    bail: false,
};
