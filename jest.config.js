/** Jest runs the TypeScript sources transpile-only; `npm run build` does the type check. */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testMatch: ["**/*.test.ts"],
    transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
    testTimeout: 60000,
    globalSetup: "<rootDir>/test/support/globalSetup.js",
    // Jest defaults to cores - 1 workers (one, on a two-core machine); the suites are CPU-bound and independent.
    maxWorkers: "100%",
};
