/**
 * The trust-anchor rotation (`npm run rotate-anchor`, docs/rotate-anchor.md) as steps, and which step the
 * cluster is at. Linkerd's proxies and its identity service read the trust roots only when they start
 * (linkerd2 #13613), and identity rejects an issuer signed by an anchor it did not load (IssuerUpdateSkipped):
 * so the old and the new anchor are trusted side by side until everything has restarted twice, in the order
 * of Linkerd's "Automatically rotating control plane TLS credentials" (trust-manager's Bundle with the previous
 * anchor as a second source):
 *
 *   1. save-previous    the current anchor kept as the previous one (its certificate only), the Bundle's second source
 *   2. new-anchor       a new anchor with a new key in the anchor Secret: the bundle holds old and new
 *   3. restart-both     control plane (identity first), then meshed workloads: everything trusts both
 *   4. reissue-issuer   the identity issuer re-issued from the new anchor
 *   5. restart-issuer   again: identity signs with the new issuer, proxies get certificates chaining to the new anchor
 *   6. drop-previous    the previous anchor out of the Bundle (the bundle holds the new anchor only), its Secret deleted
 *   7. restart-new      again: nothing trusts the old anchor any more
 *
 * The step is worked out from what the cluster shows (`decideRotation`), so a run that stopped anywhere is
 * resumed by running the command again. Restarts say what they were for: each restarted pod template carries
 * RESTART_MARKER_ANNOTATION, a digest of the anchors in the bundle and of the anchor that signed the issuer at
 * the time, so a workload already restarted for this state is not restarted again. Pure.
 */
import { X509Certificate, createHash } from "crypto";
import { parseCertificates, sameKey, signedByOneOf, subjectOf } from "../certificates";

/** On the pod template of each workload the rotation restarted: what the trust roots and the issuer's anchor were. */
export const RESTART_MARKER_ANNOTATION = "picluster-linkerd/restarted-for-trust-roots";
/**
 * On the anchor's cert-manager Certificate while the rotation has set privateKey.rotationPolicy to Always for its
 * re-issue: the policy found before (`unset` when there was none), restored once the new key is issued.
 */
export const ROTATION_POLICY_ANNOTATION = "picluster-linkerd/rotation-policy-before-rotate-anchor";

export const ROTATION_STEPS = [
    "save-previous",
    "new-anchor",
    "restart-both",
    "reissue-issuer",
    "restart-issuer",
    "drop-previous",
    "restart-new",
] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

export const RESTART_STEPS: readonly RotationStep[] = ["restart-both", "restart-issuer", "restart-new"];

/** What the cluster (and the stack file) show, as read by the command. */
export interface RotationFacts {
    /** The anchor Secret's certificate (identity.trustAnchor.secret), undefined when missing. */
    readonly current?: string;
    /** The previous-anchor Secret's certificate, undefined when that Secret does not exist. */
    readonly previous?: string;
    /** The stack file sets identity.trustAnchor.previousSecret. */
    readonly previousConfigured: boolean;
    /** The live Bundle has the previous-anchor Secret among its sources (the `up` that added it was applied). */
    readonly bundleHasPreviousSource: boolean;
    /** The distributed bundle (ca-bundle.crt) of each namespace the Bundle targets, undefined where it is missing. */
    readonly distributed: Readonly<Record<string, string | undefined>>;
    /** tls.crt of the identity issuer Secret. */
    readonly issuer?: string;
    /** RESTART_MARKER_ANNOTATION of each workload to restart (`namespace/kind/name`), undefined when it has none. */
    readonly markers: Readonly<Record<string, string | undefined>>;
}

export type RotationDecision =
    | {
          readonly kind: "step";
          readonly step: RotationStep;
          /** Why this step, from what was read. */
          readonly reason: string;
          /**
           * The anchors (PEM, one each) every distributed bundle holds once the step is done, and, for the restart
           * steps, before they start; undefined for new-anchor (the new one is not known yet).
           */
          readonly bundle?: readonly string[];
          /** save-previous: the certificate to keep as the previous anchor. */
          readonly previousPem?: string;
          /** Restart steps: the marker each restarted workload gets. */
          readonly marker?: string;
          /** Whether this run resumes a rotation in progress (anything but a fresh start). */
          readonly resuming: boolean;
      }
    | { readonly kind: "problem"; readonly message: string };

/** Parses one certificate, or undefined when the text holds none. */
function cert(pem: string | undefined, where: string): X509Certificate | undefined {
    if (!pem) return undefined;
    return parseCertificates(pem, where)[0];
}

/** The marker of a state: the anchors in the bundle (as a set) and the anchor that signed the issuer. */
export function restartMarker(bundle: readonly X509Certificate[], issuerAnchor: X509Certificate): string {
    const anchors = [...new Set(bundle.map((a) => a.fingerprint256))].sort().join(",");
    return createHash("sha256").update(`${anchors}|${issuerAnchor.fingerprint256}`).digest("hex").slice(0, 16);
}

/** The distinct certificates of every distributed bundle, as a set of fingerprints per namespace. */
export function distributedSets(distributed: RotationFacts["distributed"]): Record<string, Set<string>> {
    const out: Record<string, Set<string>> = {};
    for (const [ns, pem] of Object.entries(distributed)) {
        out[ns] = new Set(pem ? parseCertificates(pem, `the bundle in ${ns}`).map((c) => c.fingerprint256) : []);
    }
    return out;
}

/** Whether every distributed bundle holds exactly these anchors. */
export function bundleIs(distributed: RotationFacts["distributed"], anchors: readonly string[]): boolean {
    const want = new Set(anchors.map((a) => new X509Certificate(a).fingerprint256));
    const sets = Object.values(distributedSets(distributed));
    return sets.length > 0 && sets.every((s) => s.size === want.size && [...want].every((f) => s.has(f)));
}

/** Workloads whose marker is not `marker` (not restarted for this state yet). */
export function notRestartedFor(markers: RotationFacts["markers"], marker: string): string[] {
    return Object.entries(markers)
        .filter(([, m]) => m !== marker)
        .map(([ref]) => ref)
        .sort();
}

/** No rotation in progress: a fresh start, or the last restarts of one whose previous anchor is already gone. */
function notInProgress(facts: RotationFacts, current: X509Certificate): RotationDecision {
    const issuer = cert(facts.issuer, "the identity issuer Secret (tls.crt)");
    const finalMarker = issuer && signedByOneOf(issuer, [current]) ? restartMarker([current], current) : undefined;
    const stale = finalMarker ? Object.values(facts.markers).filter((m) => m !== undefined && m !== finalMarker) : [];
    if (finalMarker && stale.length > 0) {
        return step("restart-new", "the previous anchor is gone; workloads restarted during the overlap still trust it", [facts.current!], {
            marker: finalMarker,
            resuming: true,
        });
    }
    return step("save-previous", "no rotation in progress: a new one starts", [facts.current!], { previousPem: facts.current, resuming: false });
}

/** The previous-anchor Secret is gone while the rotation still names it: recovered from the distributed bundle when that is unambiguous. */
function previousLost(facts: RotationFacts, current: X509Certificate): RotationDecision {
    const others = new Map<string, string>();
    for (const pem of Object.values(facts.distributed)) {
        for (const c of pem ? parseCertificates(pem, "a distributed bundle") : []) {
            if (c.fingerprint256 !== current.fingerprint256) others.set(c.fingerprint256, c.toString());
        }
    }
    if (others.size === 0) {
        return step(
            "save-previous",
            "the previous-anchor Secret is missing and the bundle holds the current anchor only: kept again",
            [facts.current!],
            {
                previousPem: facts.current,
                resuming: true,
            },
        );
    }
    if (others.size === 1) {
        const old = [...others.values()][0];
        return step("save-previous", "the previous-anchor Secret is missing: re-created from the distributed bundle", [facts.current!, old], {
            previousPem: old,
            resuming: true,
        });
    }
    return {
        kind: "problem",
        message: `the previous-anchor Secret is missing and the distributed bundle holds ${others.size} anchors besides the current one: which one is the previous cannot be told`,
    };
}

function step(
    s: RotationStep,
    reason: string,
    bundle: readonly string[] | undefined,
    extra: { previousPem?: string; marker?: string; resuming: boolean },
): RotationDecision {
    return { kind: "step", step: s, reason, ...(bundle ? { bundle: distinct(bundle) } : {}), ...extra };
}

/** The certificates once each (by fingerprint), in their order. */
function distinct(pems: readonly string[]): string[] {
    const seen = new Set<string>();
    return pems.filter((p) => {
        const f = new X509Certificate(p).fingerprint256;
        if (seen.has(f)) return false;
        seen.add(f);
        return true;
    });
}

/** The overlap (the anchor already re-issued with a new key): restarts, the issuer, then the previous anchor out. */
function overlap(facts: RotationFacts, current: X509Certificate, previous: X509Certificate): RotationDecision {
    const both = [facts.current!, facts.previous!];
    const issuer = cert(facts.issuer, "the identity issuer Secret (tls.crt)");
    if (!issuer) return { kind: "problem", message: "the identity issuer Secret has no readable tls.crt" };
    const signer = signedByOneOf(issuer, [current, previous]);
    if (!signer) {
        return {
            kind: "problem",
            message: `the identity issuer ("${subjectOf(issuer)}", issued by "${issuer.issuer.replace(/\n/g, ", ")}") is signed by neither the new nor the previous anchor`,
        };
    }
    const bundle = [current, previous];
    if (!facts.previousConfigured) {
        // Only the rotation removes the key, once everything runs on the new issuer; removed earlier (by hand), it is put back.
        const early = signer === previous || notRestartedFor(facts.markers, restartMarker(bundle, current)).length > 0;
        return early
            ? {
                  kind: "problem",
                  message:
                      "identity.trustAnchor.previousSecret is gone from the stack file before the rotation was done with the previous anchor " +
                      "(the issuer or some proxies still need it): put it back as it was, then run the rotation again",
              }
            : step("drop-previous", "the previous anchor is leaving the Bundle", [facts.current!], { resuming: true });
    }
    if (signer === previous) {
        const marker = restartMarker(bundle, previous);
        const left = notRestartedFor(facts.markers, marker);
        return left.length > 0
            ? step("restart-both", `${left.length} workload(s) not yet restarted with both anchors`, both, { marker, resuming: true })
            : step("reissue-issuer", "everything trusts both anchors; the issuer is still signed by the previous one", both, { resuming: true });
    }
    const marker = restartMarker(bundle, current);
    const left = notRestartedFor(facts.markers, marker);
    return left.length > 0
        ? step("restart-issuer", `${left.length} workload(s) not yet restarted since the issuer chains to the new anchor`, both, {
              marker,
              resuming: true,
          })
        : step("drop-previous", "everything runs on the new issuer: the previous anchor can go", [facts.current!], { resuming: true });
}

/** The step the rotation is at, from what the cluster shows. */
export function decideRotation(facts: RotationFacts): RotationDecision {
    let current: X509Certificate | undefined;
    let previous: X509Certificate | undefined;
    try {
        current = cert(facts.current, "the anchor Secret");
        previous = cert(facts.previous, "the previous-anchor Secret");
    } catch (e) {
        return { kind: "problem", message: (e as Error).message };
    }
    if (!current) return { kind: "problem", message: "the anchor Secret (identity.trustAnchor.secret) is missing or holds no certificate" };
    const inProgress = previous !== undefined || facts.previousConfigured || facts.bundleHasPreviousSource;
    if (!inProgress) return notInProgress(facts, current);
    if (!previous) return previousLost(facts, current);
    if (sameKey(current, previous)) {
        return facts.previousConfigured && facts.bundleHasPreviousSource
            ? step("new-anchor", "the previous anchor is in the Bundle; the anchor still has the old key", undefined, { resuming: true })
            : step("save-previous", "the previous anchor is kept but not yet in the Bundle", [facts.current!, facts.previous!], {
                  previousPem: facts.previous,
                  resuming: true,
              });
    }
    return overlap(facts, current, previous);
}

/**
 * How far ahead of the identity issuer's own renewal (cert-manager's status.renewalTime) the rotation renews it
 * first, from the anchor in use: renewed on its own after the new anchor and before the first restarts are done,
 * it would be signed by an anchor that proxies not yet restarted do not trust.
 */
export const ISSUER_RENEWAL_GUARD_SECONDS = 2 * 3600;

/** Whether the issuer's renewal (RFC 3339, or undefined when cert-manager has not set it) falls within the guard. */
export function issuerRenewsTooSoon(renewalTime: string | undefined, now: Date): boolean {
    if (!renewalTime) return false;
    const at = Date.parse(renewalTime);
    return Number.isFinite(at) && at - now.getTime() < ISSUER_RENEWAL_GUARD_SECONDS * 1000;
}

/** The steps, each marked done, next or to do, with what it does. */
export function formatRotationPlan(next: RotationStep, texts: Readonly<Record<RotationStep, string>>): string {
    const at = ROTATION_STEPS.indexOf(next);
    return ROTATION_STEPS.map((s, i) => `  [${i < at ? "done" : i === at ? "next" : "    "}] ${i + 1}. ${s}: ${texts[s]}`).join("\n");
}
