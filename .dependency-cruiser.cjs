/**
 * The layering, enforced by `npm test` (`npm run lint:deps`):
 *
 *   index.ts -> components -> lib
 *   cli -> check -> policy -> lib
 *   test -> anything; nothing -> test
 *
 * lib/ is the shared core (configuration, builders, release model, every Linkerd fact): it imports none of the
 * layers above it. The policy pack imports only lib/ (it runs on its own under CrossGuard). The check judges the
 * cluster with the pack's rules and lib/'s facts. Components are Pulumi wiring over lib/.
 */
const layer = (name, path, forbidden) => ({
    name,
    severity: "error",
    comment: `${path} must not import ${forbidden.join(", ")}`,
    from: { path: `^${path}` },
    to: { path: `^(${forbidden.join("|")})` },
});

module.exports = {
    forbidden: [
        layer("lib-is-the-core", "lib/", ["policy/", "components/", "check/", "cli/", "bench/", "test/", "index\\.ts"]),
        layer("policy-on-lib-only", "policy/", ["components/", "check/", "cli/", "bench/", "test/", "index\\.ts"]),
        layer("check-without-pulumi-wiring", "check/", ["components/", "cli/", "bench/", "test/", "index\\.ts"]),
        layer("components-without-policy-or-check", "components/", ["policy/", "check/", "cli/", "bench/", "test/", "index\\.ts"]),
        layer("product-without-tests", "(index\\.ts|cli/)", ["test/", "bench/"]),
        {
            name: "no-circular",
            severity: "error",
            comment: "modules that import each other cannot be understood (or tested) one at a time",
            from: { path: "^(index\\.ts|lib|components|policy|check|cli)" },
            to: { circular: true },
        },
    ],
    options: {
        doNotFollow: { path: "node_modules" },
        exclude: { path: "^(node_modules|out|bin)" },
        tsPreCompilationDeps: true,
        tsConfig: { fileName: "tsconfig.json" },
    },
};
