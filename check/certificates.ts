/**
 * Identity: the trust anchor and the issuer certificate, checked as `linkerd check` does
 * (linkerd2 pkg/healthcheck, "linkerd-identity": ECDSA P-256 keys, within validity, issuer signed
 * by a trust anchor) and beyond: the anchor Linkerd uses is the one the program handed it, and the
 * issuer's remaining time is judged against the guide's short lifetime (48h, renewed 25h before
 * expiry: guide step 4) instead of `linkerd check`'s fixed 60 days.
 */
import { X509Certificate } from "crypto";
import { durationSeconds } from "../lib/config/resolve";
import { IDENTITY_ISSUER_NAME, identityName, keyProblem } from "../lib/builders/identity";

export { keyProblem };
import { LINKERD_NAMESPACE } from "../lib/k8s";
import { kubectlCommand } from "../lib/kubeconfig";
import { CheckContext, CheckResult, fail, ok, warn } from "./types";
import { Obj, isObj, listAt, str } from "../lib/k8s";
import { parseCertificates, signedByOneOf, subjectOf } from "../lib/certificates";

export { parseCertificates, signedByOneOf, subjectOf };

/** `linkerd check` warns when a certificate expires within 60 days (healthcheck.go). */
export const LINKERD_CHECK_EXPIRY_WARNING_SECONDS = 60 * 24 * 3600;
/**
 * A trust anchor is rotated by `npm run rotate-anchor`, never on its own (docs/rotate-anchor.md): warn as
 * `linkerd check` does, 60 days before it expires, which leaves time to plan the rotation's restarts.
 */
export const ANCHOR_ROTATION_WARNING_SECONDS = LINKERD_CHECK_EXPIRY_WARNING_SECONDS;
/** cert-manager renews at `renewBefore`; a little slack before calling the renewal overdue. */
export const RENEWAL_GRACE_SECONDS = 10 * 60;

/** Seconds until `validTo` (negative once expired). */
export function secondsLeft(cert: X509Certificate, now: Date): number {
    return (Date.parse(cert.validTo) - now.getTime()) / 1000;
}

/** "3d 4h", "25h 10m", "12m": how people read a duration. */
export function humanDuration(seconds: number): string {
    const s = Math.abs(Math.round(seconds));
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d > 0) return `${d}d ${h}h`;
    if (h > 0) return `${h}h ${m}m`;
    return `${m}m`;
}

function validityProblem(cert: X509Certificate, now: Date): string | undefined {
    if (Date.parse(cert.validFrom) > now.getTime()) return `it is not valid before ${cert.validFrom} (clock skew, or issued in the future)`;
    const left = secondsLeft(cert, now);
    if (left <= 0) return `it expired on ${cert.validTo} (${humanDuration(left)} ago)`;
    return undefined;
}

export interface IdentityInputs {
    /** The trust anchors Linkerd uses (identityTrustAnchorsPEM of linkerd-config, or the trust-roots ConfigMap), and where they were read. */
    readonly anchors: { readonly pem?: string; readonly where: string };
    /** The anchor the program handed the control plane (from the configured source), and where it was read. */
    readonly expected: { readonly pem?: string; readonly where: string };
    /** Mode "bundle" during a rotation: the previous anchor (identity.trustAnchor.previousSecret), being rotated out. */
    readonly previous?: { readonly pem?: string; readonly where: string };
    /** tls.crt of the linkerd-identity-issuer Secret. */
    readonly issuerPem?: string;
    /** The cert-manager Certificate linkerd/linkerd-identity-issuer, when read. */
    readonly certificate?: Obj;
}

/** The trust anchors Linkerd uses, parsed; a failure when they cannot be read. */
function readAnchors(input: IdentityInputs, up: string): { anchors: X509Certificate[]; results: CheckResult[] } {
    if (!input.anchors.pem) {
        const fix = `run \`${up}\`: it installs linkerd-control-plane with the anchor`;
        return { anchors: [], results: [fail("pl-identity-trust-anchors", "trust anchors", `no trust anchor in ${input.anchors.where}`, fix)] };
    }
    try {
        return { anchors: parseCertificates(input.anchors.pem, input.anchors.where), results: [] };
    } catch (e) {
        const fix = `run \`${up}\` to reinstall linkerd-control-plane with the anchor`;
        return { anchors: [], results: [fail("pl-identity-trust-anchors", "trust anchors", (e as Error).message, fix)] };
    }
}

/** Each anchor: ECDSA P-256, a CA, within validity; then, for each valid one, its time left before it must be rotated. */
function checkAnchors(anchors: readonly X509Certificate[], input: IdentityInputs, ctx: CheckContext, up: string): CheckResult[] {
    return anchors.flatMap((a, i) => {
        const name = anchors.length > 1 ? `trust anchor ${i + 1}` : "trust anchor";
        const what = `"${subjectOf(a)}" in ${input.anchors.where}`;
        const problems = [keyProblem(a), validityProblem(a, ctx.now), a.ca ? undefined : "it is not a CA certificate"].filter((p) => p);
        if (problems.length > 0) {
            const ref = ctx.config.identity.issuer.issuerRef;
            return [
                fail(
                    "pl-identity-trust-anchor-valid",
                    name,
                    `${what}: ${problems.join("; ")}`,
                    `make a new ECDSA P-256 root CA for cert-manager's ${ref.kind} ${ref.name} (guide: cert-manager CA), then run \`${up}\` and restart the meshed workloads`,
                ),
            ];
        }
        return [
            ok("pl-identity-trust-anchor-valid", name, `${what}: ECDSA P-256 CA, valid until ${a.validTo}`),
            anchorExpiry(a, `${name} expiry`, what, isPrevious(a, input), ctx),
        ];
    });
}

/** Whether the anchor is the previous one of a rotation in progress (identity.trustAnchor.previousSecret). */
function isPrevious(anchor: X509Certificate, input: IdentityInputs): boolean {
    if (!input.previous?.pem) return false;
    try {
        return parseCertificates(input.previous.pem, input.previous.where).some((p) => p.fingerprint256 === anchor.fingerprint256);
    } catch {
        return false;
    }
}

/** The anchor's time left: within 60 days, a warning naming the one way to rotate it (`npm run rotate-anchor`). */
function anchorExpiry(anchor: X509Certificate, name: string, what: string, previous: boolean, ctx: CheckContext): CheckResult {
    const left = secondsLeft(anchor, ctx.now);
    const rotate = `npm run rotate-anchor -- --stack ${ctx.stack}`;
    if (previous) {
        return ok(
            "pl-identity-trust-anchor-expiry",
            name,
            `${what} is the previous anchor, being rotated out by \`${rotate}\` (expires on ${anchor.validTo})`,
        );
    }
    if (left >= ANCHOR_ROTATION_WARNING_SECONDS) {
        return ok("pl-identity-trust-anchor-expiry", name, `${what}: ${humanDuration(left)} left, until ${anchor.validTo}`);
    }
    const how =
        ctx.config.identity.trustAnchor.mode === "bundle"
            ? `rotate it without an outage: \`${rotate}\` (docs/rotate-anchor.md)`
            : `switch identity.trustAnchor.mode to "bundle" (docs/rotate-anchor.md says how), then rotate it without an outage: \`${rotate}\``;
    return warn(
        "pl-identity-trust-anchor-expiry",
        name,
        `${what} expires on ${anchor.validTo} (in ${humanDuration(left)}): every proxy stops trusting the mesh then, and nothing renews it on its own`,
        how,
    );
}

/** The anchor in use is the one the program used. */
function checkAnchorMatches(input: IdentityInputs, anchors: readonly X509Certificate[], ctx: CheckContext, up: string): CheckResult[] {
    const name = "trust anchor matches the program's";
    if (!input.expected.pem) {
        return [
            fail(
                "pl-identity-trust-anchor-matches",
                name,
                `cannot read the anchor the program uses: ${input.expected.where} is missing or empty`,
                `check identity.trustAnchor in the stack configuration and that the Secret exists, then run \`${up}\``,
            ),
        ];
    }
    if (anchors.length === 0) return [];
    const results: CheckResult[] = [];
    let expected: X509Certificate[] = [];
    try {
        expected = parseCertificates(input.expected.pem, input.expected.where);
    } catch (e) {
        const fix = `fix the source the configuration names (identity.trustAnchor)`;
        results.push(fail("pl-identity-trust-anchor-source", "trust anchor source", (e as Error).message, fix));
    }
    if (expected.length === 0) return results;
    const inUse = new Set(anchors.map((a) => a.fingerprint256));
    const missing = expected.filter((e) => !inUse.has(e.fingerprint256));
    if (missing.length === 0) {
        return [...results, ok("pl-identity-trust-anchor-matches", name, `${input.anchors.where} carries the anchor from ${input.expected.where}`)];
    }
    const k = ctx.config.kubernetes;
    const helm = `helm --kubeconfig ${k.kubeconfigPath}${k.context ? ` --kube-context ${k.context}` : ""} -n ${LINKERD_NAMESPACE}`;
    const has = anchors.map((a) => `"${subjectOf(a)}" ${a.fingerprint256.slice(0, 23)}…`).join(", ");
    return [
        ...results,
        fail(
            "pl-identity-trust-anchor-matches",
            name,
            `${input.anchors.where} does not carry the anchor the program uses ("${subjectOf(missing[0])}", fingerprint ${missing[0].fingerprint256.slice(0, 23)}…, from ${input.expected.where}); it has ${has}`,
            `run \`${up}\`: the program reads the anchor again and upgrades linkerd-control-plane. If linkerd-config was edited by hand (the release's values did not change), restore it from the release: \`${helm} get manifest linkerd-control-plane | ${kubectlCommand(k, "apply -f -")}\`. Then restart the meshed workloads so their proxies load it`,
        ),
    ];
}

/** During a rotation: the anchors in use also carry the previous anchor (the Bundle's second source). */
function checkPreviousAnchor(input: IdentityInputs, anchors: readonly X509Certificate[], ctx: CheckContext): CheckResult[] {
    if (!input.previous || anchors.length === 0) return [];
    const name = "previous trust anchor in use";
    const resume = `npm run rotate-anchor -- --stack ${ctx.stack}`;
    let previous: X509Certificate[];
    try {
        previous = parseCertificates(input.previous.pem ?? "", input.previous.where);
    } catch {
        return [
            fail(
                "pl-identity-trust-anchor-matches",
                name,
                `a rotation is in progress (identity.trustAnchor.previousSecret), but ${input.previous.where} is missing or holds no certificate: trust-manager fails the Bundle without it`,
                `let the rotation put it back: \`${resume}\` (it resumes from what the cluster shows)`,
            ),
        ];
    }
    const inUse = new Set(anchors.map((a) => a.fingerprint256));
    if (previous.every((p) => inUse.has(p.fingerprint256))) {
        return [
            ok("pl-identity-trust-anchor-matches", name, `${input.anchors.where} also carries the previous anchor, from ${input.previous.where}`),
        ];
    }
    return [
        fail(
            "pl-identity-trust-anchor-matches",
            name,
            `a rotation is in progress, but ${input.anchors.where} lacks the previous anchor from ${input.previous.where}: proxies started now would reject certificates of the issuer it signed`,
            `run \`pulumi up -s ${ctx.stack}\` so the Bundle has it as its second source, then resume: \`${resume}\``,
        ),
    ];
}

/** Every identity check. */
export function checkIdentity(input: IdentityInputs, ctx: CheckContext): CheckResult[] {
    const up = `pulumi up -s ${ctx.stack}`;
    const { anchors, results } = readAnchors(input, up);
    return [
        ...results,
        ...checkAnchors(anchors, input, ctx, up),
        ...checkAnchorMatches(input, anchors, ctx, up),
        ...checkPreviousAnchor(input, anchors, ctx),
        ...checkIssuer(input, anchors, ctx),
    ];
}

/** The commands the issuer's fixes name. */
interface IssuerCommands {
    readonly certificateCmd: string;
    readonly restartIdentity: string;
    readonly up: string;
    readonly deleteSecret: string;
}

function issuerCommands(ctx: CheckContext): IssuerCommands {
    const k = (args: string) => kubectlCommand(ctx.config.kubernetes, args);
    return {
        certificateCmd: k(`-n ${LINKERD_NAMESPACE} describe certificate ${IDENTITY_ISSUER_NAME}`),
        restartIdentity: k(`-n ${LINKERD_NAMESPACE} rollout restart deployment/linkerd-identity`),
        up: `pulumi up -s ${ctx.stack}`,
        deleteSecret: k(`-n ${LINKERD_NAMESPACE} delete secret ${IDENTITY_ISSUER_NAME}`),
    };
}

/** The issuer certificate's own properties: key, CA, name. */
function issuerShape(cert: X509Certificate, what: string, ctx: CheckContext, up: string): CheckResult[] {
    const results: CheckResult[] = [];
    const keyIssue = keyProblem(cert);
    if (keyIssue) {
        results.push(
            fail(
                "pl-identity-issuer-key",
                "issuer key algorithm",
                `${what}: ${keyIssue}`,
                `the Certificate must ask for privateKey.algorithm ECDSA (the program's does): run \`${up}\`, then delete the Secret so cert-manager re-issues it`,
            ),
        );
    } else {
        results.push(ok("pl-identity-issuer-key", "issuer key algorithm", `${what}: ECDSA P-256`));
    }
    if (!cert.ca)
        results.push(
            fail(
                "pl-identity-issuer-ca",
                "issuer is a CA",
                `${what} is not a CA certificate: identity cannot sign proxy certificates with it`,
                `run \`${up}\` (the Certificate sets isCA: true), then delete the Secret so cert-manager re-issues it`,
            ),
        );
    const expectedName = identityName(ctx.config.linkerd.clusterDomain);
    if (!cert.subject.split("\n").includes(`CN=${expectedName}`) && !(cert.subjectAltName ?? "").includes(`DNS:${expectedName}`)) {
        results.push(
            fail(
                "pl-identity-issuer-name",
                "issuer name",
                `${what} is not issued for ${expectedName}: the identity service refuses it`,
                `check linkerd.clusterDomain (${ctx.config.linkerd.clusterDomain}) and run \`${up}\``,
            ),
        );
    }
    return results;
}

/** The issuer is signed by an anchor in use. */
function issuerSigned(cert: X509Certificate, what: string, anchors: readonly X509Certificate[], cmds: IssuerCommands): CheckResult[] {
    if (anchors.length === 0) return [];
    const signer = signedByOneOf(cert, anchors);
    if (signer) return [ok("pl-identity-issuer-signed", "issuer signed by the trust anchor", `${what} is signed by "${subjectOf(signer)}"`)];
    return [
        fail(
            "pl-identity-issuer-signed",
            "issuer signed by the trust anchor",
            `${what} (issued by "${cert.issuer.replace(/\n/g, ", ")}") is not signed by any trust anchor in linkerd-config: proxies reject every certificate identity issues`,
            `the anchor and the issuer's CA diverged (root CA replaced?): run \`${cmds.up}\` so the control plane gets the CA that signs the issuer, then \`${cmds.restartIdentity}\` and restart the meshed workloads`,
        ),
    ];
}

/** cert-manager reports the issuer's Certificate Ready. */
function issuerCertificateReady(certificate: Obj | undefined, certificateCmd: string): CheckResult[] {
    if (!certificate) return [];
    const ready = listAt(certificate, "status", "conditions")
        .filter(isObj)
        .map((c) => ({ status: str(c.status), message: str(c.message), type: c.type }))
        .find((c) => c.type === "Ready");
    if (ready?.status === "True") return [];
    return [
        warn(
            "pl-identity-issuer-ready",
            "issuer Certificate ready",
            `cert-manager reports Certificate ${LINKERD_NAMESPACE}/${IDENTITY_ISSUER_NAME} not Ready${ready?.message ? `: ${ready.message}` : ""}`,
            `see \`${certificateCmd}\` and cert-manager's logs`,
        ),
    ];
}

function checkIssuer(input: IdentityInputs, anchors: readonly X509Certificate[], ctx: CheckContext): CheckResult[] {
    const where = `Secret ${LINKERD_NAMESPACE}/${IDENTITY_ISSUER_NAME} (tls.crt)`;
    const cmds = issuerCommands(ctx);
    if (!input.issuerPem) {
        return [
            fail(
                "pl-identity-issuer-certificate",
                "issuer certificate",
                `${where} is missing or has no tls.crt`,
                `cert-manager issues it from the Certificate ${LINKERD_NAMESPACE}/${IDENTITY_ISSUER_NAME}: see \`${cmds.certificateCmd}\`; run \`${cmds.up}\` if the Certificate is gone`,
            ),
        ];
    }
    let cert: X509Certificate;
    try {
        cert = parseCertificates(input.issuerPem, where)[0];
    } catch (e) {
        const fix = `delete the Secret so cert-manager re-issues it: \`${cmds.deleteSecret}\``;
        return [fail("pl-identity-issuer-certificate", "issuer certificate", (e as Error).message, fix)];
    }
    const what = `"${subjectOf(cert)}" in ${where}`;
    return [
        ...issuerShape(cert, what, ctx, cmds.up),
        ...issuerSigned(cert, what, anchors, cmds),
        issuerExpiry(cert, what, ctx.now, ctx.config.identity.issuer, cmds),
        ...issuerCertificateReady(input.certificate, cmds.certificateCmd),
    ];
}

/**
 * The issuer's remaining time against the configured lifetime: cert-manager renews it `renewBefore`
 * before expiry, so with the guide's 48h/25h between 25h and 48h are left in normal operation.
 * Less means cert-manager did not renew it (warn); expired means it has not run since, typically
 * because the cluster was powered off past the expiry (fail, with what to do once it runs again).
 */
export function issuerExpiry(
    cert: X509Certificate,
    what: string,
    now: Date,
    settings: { readonly duration: string; readonly renewBefore: string },
    cmds: { readonly certificateCmd: string; readonly restartIdentity: string; readonly up: string },
): CheckResult {
    const name = "issuer validity";
    const left = secondsLeft(cert, now);
    const renewBefore = durationSeconds(settings.renewBefore);
    if (Date.parse(cert.validFrom) > now.getTime()) {
        return fail(
            "pl-identity-issuer-validity",
            name,
            `${what} is not valid before ${cert.validFrom}: the clocks of this machine or the cluster are wrong`,
            `fix the clocks (NTP on the nodes), then \`${cmds.restartIdentity}\``,
        );
    }
    if (left <= 0) {
        return fail(
            "pl-identity-issuer-validity",
            name,
            `${what} expired on ${cert.validTo}, ${humanDuration(left)} ago. cert-manager renews it ${settings.renewBefore} before expiry ` +
                `(identity.issuer.renewBefore), so it has not run since: typically the cluster was powered off past the expiry. ` +
                `Until it is renewed, identity issues no proxy certificates and meshed traffic fails once the proxies' 24h certificates lapse`,
            `start the cluster and let cert-manager run: it re-issues the Secret at once (\`${cmds.certificateCmd}\` shows Ready). ` +
                `Then \`${cmds.restartIdentity}\` so identity signs with the new issuer, and restart the meshed workloads whose proxies hold expired certificates. ` +
                `If cert-manager or the Certificate is gone, run \`${cmds.up}\``,
        );
    }
    if (left < renewBefore - RENEWAL_GRACE_SECONDS) {
        return warn(
            "pl-identity-issuer-validity",
            name,
            `${what} expires on ${cert.validTo} (in ${humanDuration(left)}), but cert-manager should have renewed it ${settings.renewBefore} before expiry (identity.issuer.renewBefore): renewal is overdue`,
            `see \`${cmds.certificateCmd}\` and cert-manager's logs; the renewal needs cert-manager running and its issuer Ready`,
        );
    }
    const vsLinkerdCheck =
        left < LINKERD_CHECK_EXPIRY_WARNING_SECONDS
            ? ` (\`linkerd check\` warns below 60 days: expected with the ${settings.duration}/${settings.renewBefore} lifetime of guide step 4)`
            : "";
    return ok(
        "pl-identity-issuer-validity",
        name,
        `${what}: ${humanDuration(left)} left, until ${cert.validTo}; cert-manager renews it ${settings.renewBefore} before${vsLinkerdCheck}`,
    );
}
