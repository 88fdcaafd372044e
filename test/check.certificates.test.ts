/**
 * The identity checks' certificate math on certificates made in the test (openssl): key algorithm and
 * curve, validity, the issuer signed by the anchor, the anchor the program used, and the issuer's
 * time left against the guide's 48h/25h.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { X509Certificate } from "crypto";
import { IdentityInputs, checkIdentity, issuerExpiry, keyProblem, parseCertificates, signedByOneOf } from "../check/certificates";
import { CheckResult } from "../check";
import { MadeCert, makeIssuer, makeRoot } from "./support/certs";
import { context, testConfig } from "./support/checkFixtures";

let dir: string;
let root: MadeCert;
let issuer: MadeCert;
let otherRoot: MadeCert;
let issuerOfOther: MadeCert;
let rsaRoot: MadeCert;
let rsaIssuer: MadeCert;
let p384Issuer: MadeCert;
let expiredIssuer: MadeCert;

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-check-certs-"));
    root = makeRoot(dir, { cn: "root.linkerd.test" });
    issuer = makeIssuer(dir, root, { days: 2 });
    otherRoot = makeRoot(dir, { cn: "another-root.test" });
    issuerOfOther = makeIssuer(dir, otherRoot, { days: 2 });
    rsaRoot = makeRoot(dir, { cn: "rsa-root.test", key: "rsa" });
    rsaIssuer = makeIssuer(dir, root, { key: "rsa" });
    p384Issuer = makeIssuer(dir, root, { key: "p384" });
    expiredIssuer = makeIssuer(dir, root, { days: -1 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const HOUR = 3600 * 1000;
const byName = (results: CheckResult[], name: string) => results.filter((r) => r.name === name);
const statusOf = (results: CheckResult[], name: string) => byName(results, name).map((r) => r.status);

function inputs(over: Partial<IdentityInputs> = {}): IdentityInputs {
    return {
        anchors: { pem: root.crt, where: "ConfigMap linkerd/linkerd-config (identityTrustAnchorsPEM)" },
        expected: { pem: root.crt, where: "Secret linkerd/linkerd-identity-issuer (ca.crt)" },
        issuerPem: issuer.crt,
        ...over,
    };
}

describe("certificate math", () => {
    test("keyProblem accepts ECDSA P-256 and names RSA and other curves", () => {
        expect(keyProblem(new X509Certificate(issuer.crt))).toBeUndefined();
        expect(keyProblem(new X509Certificate(rsaIssuer.crt))).toMatch(/RSA, but Linkerd requires ECDSA P-256/);
        expect(keyProblem(new X509Certificate(p384Issuer.crt))).toMatch(/secp384r1.*P-256/);
    });

    test("signedByOneOf finds the signing anchor in a bundle, and none for a foreign issuer", () => {
        const anchors = parseCertificates(otherRoot.crt + root.crt, "bundle");
        expect(anchors).toHaveLength(2);
        expect(signedByOneOf(new X509Certificate(issuer.crt), anchors)?.subject).toBe("CN=root.linkerd.test");
        expect(signedByOneOf(new X509Certificate(issuerOfOther.crt), [new X509Certificate(root.crt)])).toBeUndefined();
    });

    test("parseCertificates names where a PEM came from when it holds none", () => {
        expect(() => parseCertificates("not a pem", "ConfigMap linkerd/linkerd-config")).toThrow(
            /ConfigMap linkerd\/linkerd-config holds no PEM certificate/,
        );
    });
});

describe("checkIdentity", () => {
    test("a fresh P-256 anchor and issuer signed by it pass every identity check", () => {
        const results = checkIdentity(inputs(), context());
        expect(results.filter((r) => r.status !== "ok")).toEqual([]);
        expect(results.map((r) => r.name)).toEqual(
            expect.arrayContaining([
                "trust anchor",
                "trust anchor matches the program's",
                "issuer key algorithm",
                "issuer signed by the trust anchor",
                "issuer validity",
            ]),
        );
        // 48h of validity is far below `linkerd check`'s 60 days, and expected: ok, saying so.
        expect(byName(results, "issuer validity")[0].message).toMatch(/linkerd check` warns below 60 days: expected with the 48h\/25h lifetime/);
    });

    test("an expired issuer fails with the powered-off explanation and what to do", () => {
        const results = checkIdentity(inputs({ issuerPem: expiredIssuer.crt }), context());
        const [r] = byName(results, "issuer validity");
        expect(r.status).toBe("fail");
        expect(r.message).toMatch(/expired on .*ago.*powered off past the expiry/);
        expect(r.fix).toMatch(/cert-manager .* re-issues the Secret/);
        expect(r.fix).toContain("rollout restart deployment/linkerd-identity");
        expect(r.fix).toContain("--kubeconfig /nonexistent/kubeconfig --context pi");
        expect(r.fix).toContain("pulumi up -s picluster");
    });

    test("the same issuer is judged by the time: 47h left ok, 24h left (past renewBefore 25h) warns, 49h later fails", () => {
        const cert = new X509Certificate(issuer.crt);
        const expiry = Date.parse(cert.validTo);
        const cmds = { certificateCmd: "describe", restartIdentity: "restart", up: "up" };
        const settings = { duration: "48h", renewBefore: "25h" };
        expect(issuerExpiry(cert, "issuer", new Date(expiry - 47 * HOUR), settings, cmds).status).toBe("ok");
        expect(issuerExpiry(cert, "issuer", new Date(expiry - 25 * HOUR + 60_000), settings, cmds).status).toBe("ok"); // renewal in progress
        const overdue = issuerExpiry(cert, "issuer", new Date(expiry - 24 * HOUR), settings, cmds);
        expect(overdue.status).toBe("warn");
        expect(overdue.message).toMatch(/should have renewed it 25h before expiry .*overdue/);
        expect(issuerExpiry(cert, "issuer", new Date(expiry + HOUR), settings, cmds).status).toBe("fail");
        // A longer configured lifetime moves the renewal point.
        expect(issuerExpiry(cert, "issuer", new Date(expiry - 24 * HOUR), { duration: "2160h", renewBefore: "360h" }, cmds).status).toBe("warn");
        expect(issuerExpiry(cert, "issuer", new Date(expiry - 24 * HOUR), { duration: "48h", renewBefore: "12h" }, cmds).status).toBe("ok");
    });

    test("an issuer not signed by the anchor in linkerd-config fails", () => {
        const results = checkIdentity(inputs({ issuerPem: issuerOfOther.crt }), context());
        const [r] = byName(results, "issuer signed by the trust anchor");
        expect(r.status).toBe("fail");
        expect(r.message).toMatch(/issued by "CN=another-root.test".* not signed by any trust anchor in linkerd-config/);
        expect(r.fix).toContain("pulumi up -s picluster");
    });

    test("a wrong anchor in linkerd-config: not the program's, and the issuer is not signed by it", () => {
        const results = checkIdentity(
            inputs({ anchors: { pem: otherRoot.crt, where: "ConfigMap linkerd/linkerd-config (identityTrustAnchorsPEM)" } }),
            context(),
        );
        const [match] = byName(results, "trust anchor matches the program's");
        expect(match.status).toBe("fail");
        expect(match.message).toMatch(
            /linkerd-config .*does not carry the anchor the program uses \("CN=root.linkerd.test".*from Secret linkerd\/linkerd-identity-issuer \(ca.crt\)\); it has "CN=another-root.test"/,
        );
        expect(match.fix).toMatch(/get manifest linkerd-control-plane \| kubectl --kubeconfig \/nonexistent\/kubeconfig --context pi apply -f -/);
        expect(statusOf(results, "issuer signed by the trust anchor")).toEqual(["fail"]);
    });

    test("a bundle with the old and the new anchor (rotation) passes", () => {
        const results = checkIdentity(inputs({ anchors: { pem: otherRoot.crt + root.crt, where: "bundle" } }), context());
        expect(results.filter((r) => r.status === "fail")).toEqual([]);
        expect(byName(results, "trust anchor 1")).toHaveLength(1);
        expect(byName(results, "trust anchor 2")).toHaveLength(1);
    });

    test("an RSA anchor and an RSA issuer fail naming the algorithm", () => {
        const results = checkIdentity(
            inputs({ anchors: { pem: rsaRoot.crt, where: "x" }, expected: { pem: rsaRoot.crt, where: "y" }, issuerPem: rsaIssuer.crt }),
            context(),
        );
        expect(byName(results, "trust anchor")[0]).toMatchObject({
            status: "fail",
            message: expect.stringMatching(/RSA, but Linkerd requires ECDSA P-256/),
        });
        expect(byName(results, "issuer key algorithm")[0]).toMatchObject({ status: "fail", message: expect.stringMatching(/RSA/) });
    });

    test("an anchor that expires within 60 days warns (pl-identity-trust-anchor-expiry) naming npm run rotate-anchor; an expired one fails", () => {
        const anchor = new X509Certificate(root.crt);
        const expiry = Date.parse(anchor.validTo);
        const far = checkIdentity(inputs(), context(testConfig(), new Date(expiry - 61 * 24 * HOUR)));
        expect(byName(far, "trust anchor")[0]).toMatchObject({ id: "pl-identity-trust-anchor-valid", status: "ok" });
        expect(byName(far, "trust anchor expiry")[0]).toMatchObject({ id: "pl-identity-trust-anchor-expiry", status: "ok" });
        const bundle = testConfig({ identity: { trustAnchor: { mode: "bundle" } } });
        const soon = checkIdentity(inputs({ issuerPem: undefined }), context(bundle, new Date(expiry - 59 * 24 * HOUR)));
        expect(byName(soon, "trust anchor")[0]).toMatchObject({ id: "pl-identity-trust-anchor-valid", status: "ok" });
        expect(byName(soon, "trust anchor expiry")[0]).toMatchObject({
            id: "pl-identity-trust-anchor-expiry",
            doc: "docs/checks.md#pl-identity-trust-anchor-expiry",
            status: "warn",
            message: expect.stringMatching(/expires on .*every proxy stops trusting the mesh then, and nothing renews it on its own/),
            fix: expect.stringContaining("`npm run rotate-anchor -- --stack picluster`"),
        });
        // Mode pem: the rotation needs mode bundle first, and the fix says so.
        const pem = checkIdentity(inputs(), context(testConfig(), new Date(expiry - 59 * 24 * HOUR)));
        expect(byName(pem, "trust anchor expiry")[0].fix).toMatch(
            /switch identity.trustAnchor.mode to "bundle".*npm run rotate-anchor -- --stack picluster/,
        );
        const gone = checkIdentity(inputs(), context(testConfig(), new Date(expiry + HOUR)));
        expect(byName(gone, "trust anchor")[0]).toMatchObject({ status: "fail", message: expect.stringMatching(/expired on/) });
        expect(byName(gone, "trust anchor expiry")).toEqual([]);
    });

    test("during a rotation the previous anchor is reported as rotated out, and must be in the bundle", () => {
        const bundle = testConfig({ identity: { trustAnchor: { mode: "bundle", previousSecret: { name: "linkerd-previous-anchor" } } } });
        const expiry = Date.parse(new X509Certificate(otherRoot.crt).validTo);
        const previous = { pem: otherRoot.crt, where: "Secret cert-manager/linkerd-previous-anchor (ca.crt)" };
        const both = checkIdentity(
            inputs({ anchors: { pem: root.crt + otherRoot.crt, where: "bundle" }, previous }),
            context(bundle, new Date(expiry - 10 * 24 * HOUR)),
        );
        expect(byName(both, "trust anchor 2 expiry")[0]).toMatchObject({
            status: "ok",
            message: expect.stringMatching(/previous anchor, being rotated out/),
        });
        expect(byName(both, "previous trust anchor in use")[0]).toMatchObject({ id: "pl-identity-trust-anchor-matches", status: "ok" });
        const lost = checkIdentity(inputs({ anchors: { pem: root.crt, where: "bundle" }, previous }), context(bundle));
        expect(byName(lost, "previous trust anchor in use")[0]).toMatchObject({
            status: "fail",
            message: expect.stringMatching(/lacks the previous anchor/),
            fix: expect.stringContaining("npm run rotate-anchor -- --stack picluster"),
        });
        const noSecret = checkIdentity(inputs({ previous: { where: previous.where } }), context(bundle));
        expect(byName(noSecret, "previous trust anchor in use")[0]).toMatchObject({ status: "fail", message: expect.stringMatching(/is missing/) });
    });

    test("a missing issuer Secret, a missing anchor and an unreadable source fail with their fix", () => {
        const results = checkIdentity(
            inputs({ issuerPem: undefined, anchors: { where: "ConfigMap linkerd/linkerd-config" }, expected: { where: "Secret s/t (k)" } }),
            context(),
        );
        expect(byName(results, "issuer certificate")[0]).toMatchObject({
            status: "fail",
            fix: expect.stringContaining("describe certificate linkerd-identity-issuer"),
        });
        expect(byName(results, "trust anchors")[0].status).toBe("fail");
        expect(byName(results, "trust anchor matches the program's")[0]).toMatchObject({
            status: "fail",
            message: expect.stringMatching(/Secret s\/t \(k\) is missing/),
        });
    });

    test("an issuer for another cluster domain fails; a Certificate cert-manager reports not Ready warns", () => {
        const results = checkIdentity(
            inputs({ certificate: { status: { conditions: [{ type: "Ready", status: "False", message: "issuer ca-issuer not found" }] } } }),
            context(testConfig({ linkerd: { clusterDomain: "pi.lan" } })),
        );
        expect(byName(results, "issuer name")[0]).toMatchObject({
            status: "fail",
            message: expect.stringMatching(/not issued for identity.linkerd.pi.lan/),
        });
        expect(byName(results, "issuer Certificate ready")[0]).toMatchObject({
            status: "warn",
            message: expect.stringMatching(/issuer ca-issuer not found/),
        });
    });
});
