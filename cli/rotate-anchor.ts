/**
 * npm run rotate-anchor -- --stack <s> [--stack-file <file>] [--new-anchor <dir>] [--dry-run] [--timeout <seconds>]
 *
 * Rotates the Linkerd trust anchor of a stack in trust-anchor mode `bundle` without an outage, in the order
 * of lib/rotate/plan.ts (Linkerd's "Automatically rotating control plane TLS credentials"): the current anchor
 * kept as the previous one and added to trust-manager's Bundle (`identity.trustAnchor.previousSecret` in the
 * stack file, `pulumi up`), a new anchor with a new key (cert-manager re-issues the anchor's Certificate, or
 * `--new-anchor`), the control plane then the meshed workloads restarted, the identity issuer re-issued from
 * the new anchor, restarts, the previous anchor removed (`pulumi up`), restarts; `npm run check`'s checks after
 * every step. It works out the step from what the cluster shows, so after any interruption the same command
 * resumes. `--dry-run` shows where the rotation is and what is left, and changes nothing.
 */
import { X509Certificate, createPrivateKey, createPublicKey } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isMap, parseDocument } from "yaml";
import { CommandSpec, commandLine } from "./args";
import { CannotRun, Kubectl, loadCheckConfig, readSnapshot } from "./check";
import {
    Io,
    editStackFile,
    restartOwner,
    selectStack,
    sleep,
    runAsCommand,
    upFailure,
    upWithStackFile,
    wasInterrupted,
    failedByInterrupt,
} from "./dayTwo";
import { CheckResult, ClusterSnapshot, exitCodeOf, formatTable, runChecks } from "../check";
import { topOwner } from "../check/dataPlane";
import { PROJECT, PiclusterConfig } from "../lib/config";
import {
    IDENTITY_ISSUER_NAME,
    PREVIOUS_ANCHOR_SECRET,
    SecretKeyRef,
    TRUST_ROOTS_KEY,
    TRUST_ROOTS_NAME,
    TrustNamespaceKeyRef,
    keyProblem,
} from "../lib/builders/identity";
import { parseCertificates, sameKey, signedByOneOf, subjectOf } from "../lib/certificates";
import { LINKERD_NAMESPACE, Obj, get, isObj, listAt, nameOf, namespaceOf, str, stringMapAt } from "../lib/k8s";
import {
    RESTART_MARKER_ANNOTATION,
    ROTATION_POLICY_ANNOTATION,
    ROTATION_STEPS,
    RotationDecision,
    RotationFacts,
    RotationStep,
    bundleIs,
    decideRotation,
    formatRotationPlan,
    issuerRenewsTooSoon,
} from "../lib/rotate/plan";

export const ROTATE_COMMAND: CommandSpec = {
    usage: "npm run rotate-anchor --",
    summary:
        "Rotates the stack's Linkerd trust anchor without an outage (trust-anchor mode bundle): the current anchor kept beside a new one " +
        "in the trust bundle, the control plane then the meshed workloads restarted, the identity issuer re-issued from the new anchor, " +
        "restarts, the old anchor removed, restarts; the check after every step. Run it again after any interruption: it resumes from " +
        "what the cluster shows. --dry-run shows the steps and changes nothing.",
    options: {
        stack: { type: "string", value: "<name>", default: "picluster", help: "Stack whose anchor is rotated (default picluster)." },
        "stack-file": { type: "string", value: "<file>", help: "Its stack file, when kept elsewhere (default Pulumi.<stack>.yaml of this project)." },
        "new-anchor": {
            type: "string",
            value: "<dir>",
            help: "A directory with tls.crt and tls.key of the new root CA (ECDSA P-256), when the anchor Secret is not a cert-manager Certificate's.",
        },
        "dry-run": { type: "boolean", default: false, help: "Show where the rotation is and what is left; change nothing." },
        timeout: {
            type: "string",
            value: "<seconds>",
            default: "300",
            help: "How long each wait may take: a workload's rollout, cert-manager's issuance, trust-manager's distribution (default 300).",
        },
    },
    exitCodes: {
        0: "rotated (with --dry-run: the steps shown)",
        1: "a step or the check after it failed: the message says what, and the same command resumes",
        2: "cannot run: bad usage, invalid stack configuration, trust-anchor mode pem, an identity issuer not signed from the anchor Secret, a new anchor needed that --new-anchor does not give (or given where cert-manager issues the anchor), cluster unreachable; nothing (more) was changed",
    },
};

/** A step that did not complete: what, and how to go on. */
class StepFailed extends Error {}

const FIELD_MANAGER = "picluster-linkerd-rotate-anchor";
const CERTIFICATES = "certificates.cert-manager.io";
const BUNDLES = "bundles.trust.cert-manager.io";
/** The control plane's Deployments restart first, identity before the others (it must load the trust roots first). */
const CONTROL_PLANE_ORDER = ["linkerd-identity", "linkerd-destination", "linkerd-proxy-injector"];
const RESTARTABLE = new Set(["Deployment", "DaemonSet", "StatefulSet"]);

/** Everything a run works with. */
interface Rotation {
    readonly stackName: string;
    readonly stackFile: string;
    /** The command that resumes this rotation. */
    readonly resume: string;
    readonly k: Kubectl;
    readonly io: Io;
    readonly timeoutSeconds: number;
    /** identity.trustAnchor.secret. */
    readonly anchor: SecretKeyRef;
    /** The previous anchor's Secret, in the anchor's (trust) namespace. */
    readonly previous: TrustNamespaceKeyRef;
    /** The cert-manager Certificate whose secretName is the anchor Secret, when there is one. */
    readonly anchorCertificate?: string;
    /** --new-anchor, validated: the new root CA's certificate and key. */
    readonly newAnchor?: { readonly crt: string; readonly key: string };
}

// ---------------------------------------------------------------- reading the cluster

/** One key of a Secret (certificates only, never tls.key), or undefined when the Secret or the key is missing. */
function secretKey(k: Kubectl, namespace: string, name: string, key: string): string | undefined {
    const r = k.run(["-n", namespace, "get", "secret", name, "-o", `go-template={{index .data "${key}"}}`]);
    if (r.code !== 0) {
        if (/NotFound|not found/.test(r.stderr)) return undefined;
        throw new CannotRun(`cannot read Secret ${namespace}/${name}: ${r.stderr}`);
    }
    const value = r.stdout.trim();
    return value && value !== "<no value>" ? Buffer.from(value, "base64").toString("utf8") : undefined;
}

function readJson(k: Kubectl, args: string[]): Obj | undefined {
    const r = k.run([...args, "-o", "json"]);
    if (r.code !== 0) {
        if (/NotFound|not found/.test(r.stderr)) return undefined;
        throw new CannotRun(`kubectl ${args.join(" ")} failed: ${r.stderr}`);
    }
    const o: unknown = JSON.parse(r.stdout);
    return isObj(o) ? o : undefined;
}

const items = (o: Obj | undefined): Obj[] => listAt(o, "items").filter(isObj);

/** Whether the stack file sets identity.trustAnchor.previousSecret. */
function previousConfigured(stackFile: string): boolean {
    const doc = parseDocument(fs.readFileSync(stackFile, "utf8"));
    return isMap(doc.getIn(["config", `${PROJECT}:identity`, "trustAnchor", "previousSecret"], true));
}

/** The distributed bundle of each namespace the live Bundle targets. */
function readDistributed(k: Kubectl, bundle: Obj | undefined): Record<string, string | undefined> {
    const selector = Object.entries(stringMapAt(bundle, "spec", "target", "namespaceSelector", "matchLabels") ?? {})
        .map(([a, b]) => `${a}=${b}`)
        .join(",");
    const key = str(get(bundle, "spec", "target", "configMap", "key")) ?? TRUST_ROOTS_KEY;
    const namespaces = items(readJson(k, ["get", "namespaces", ...(selector ? ["-l", selector] : [])])).map(nameOf);
    const out: Record<string, string | undefined> = {};
    for (const ns of namespaces) out[ns] = stringMapAt(readJson(k, ["-n", ns, "get", "configmap", TRUST_ROOTS_NAME]), "data")?.[key];
    return out;
}

interface Workload {
    /** `namespace/kind/name`, as dayTwo.restartOwner takes it. */
    readonly ref: string;
    readonly marker?: string;
}

/** The control plane's Deployments (identity first) and the owners of every running meshed pod, with their markers. */
function readWorkloads(k: Kubectl): { controlPlane: Workload[]; meshed: Workload[]; unowned: string[] } {
    const marker = (o: Obj | undefined) => stringMapAt(o, "spec", "template", "metadata", "annotations")?.[RESTART_MARKER_ANNOTATION];
    const rank = (n: string) => (CONTROL_PLANE_ORDER.includes(n) ? CONTROL_PLANE_ORDER.indexOf(n) : CONTROL_PLANE_ORDER.length);
    const controlPlane = items(readJson(k, ["-n", LINKERD_NAMESPACE, "get", "deployments.apps"]))
        .sort((a, b) => rank(nameOf(a)) - rank(nameOf(b)) || nameOf(a).localeCompare(nameOf(b)))
        .map((d) => ({ ref: `${LINKERD_NAMESPACE}/deployment/${nameOf(d)}`, marker: marker(d) }));
    const pods = items(readJson(k, ["get", "pods", "-A", "-l", "linkerd.io/control-plane-ns"])).filter(
        (p) => namespaceOf(p) !== LINKERD_NAMESPACE && !get(p, "metadata", "deletionTimestamp") && get(p, "status", "phase") === "Running",
    );
    const objects: Obj[] = [...pods];
    for (const ns of new Set(pods.map((p) => namespaceOf(p)))) {
        objects.push(...items(readJson(k, ["-n", ns, "get", "replicasets.apps,deployments.apps,daemonsets.apps,statefulsets.apps"])));
    }
    const snapshot: ClusterSnapshot = { objects, crds: [], secrets: {}, unservedTypes: [] };
    const owners = new Map<string, Workload>();
    const unowned: string[] = [];
    for (const p of pods) {
        const o = topOwner(snapshot, p);
        const object = o && objects.find((x) => x.kind === o.kind && namespaceOf(x) === o.namespace && nameOf(x) === o.name);
        if (o && RESTARTABLE.has(o.kind)) owners.set(`${o.namespace}/${o.kind.toLowerCase()}/${o.name}`, { ref: "", marker: marker(object) });
        else unowned.push(`${namespaceOf(p)}/${nameOf(p)}`);
    }
    const meshed = [...owners.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([ref, w]) => ({ ...w, ref }));
    return { controlPlane, meshed, unowned };
}

/** What the rotation needs to decide its step. */
function readFacts(r: Rotation): RotationFacts {
    const bundle = readJson(r.k, ["get", BUNDLES, TRUST_ROOTS_NAME]);
    if (!bundle) throw new CannotRun(`no trust-manager Bundle ${TRUST_ROOTS_NAME} on the cluster: run \`pulumi up -s ${r.stackName}\` first`);
    const sources = listAt(bundle, "spec", "sources").map((s) => str(get(s, "secret", "name")));
    const w = readWorkloads(r.k);
    return {
        current: secretKey(r.k, r.anchor.namespace, r.anchor.name, r.anchor.key),
        previous: secretKey(r.k, r.anchor.namespace, r.previous.name, r.previous.key),
        previousConfigured: previousConfigured(r.stackFile),
        bundleHasPreviousSource: sources.includes(r.previous.name),
        distributed: readDistributed(r.k, bundle),
        issuer: secretKey(r.k, LINKERD_NAMESPACE, IDENTITY_ISSUER_NAME, "tls.crt"),
        markers: Object.fromEntries([...w.controlPlane, ...w.meshed].map((x) => [x.ref, x.marker])),
    };
}

// ---------------------------------------------------------------- changing it

/** Polls `done` every second until it returns true, or fails with `what` after the timeout. */
async function waitFor(r: Rotation, what: string, done: () => boolean): Promise<void> {
    const deadline = Date.now() + r.timeoutSeconds * 1000;
    while (!done()) {
        if (Date.now() > deadline) throw new StepFailed(`timed out after ${r.timeoutSeconds}s waiting for ${what}`);
        await sleep(1000);
    }
}

/** Every namespace the Bundle targets has exactly these anchors in its trust roots. */
async function waitForBundle(r: Rotation, anchors: readonly string[]): Promise<void> {
    const names = anchors.map((a) => `"${subjectOf(new X509Certificate(a))}" ${new X509Certificate(a).fingerprint256.slice(0, 11)}…`).join(" and ");
    r.io.out(`  waiting for trust-manager: ${TRUST_ROOTS_NAME} (${TRUST_ROOTS_KEY}) in every namespace it targets holds ${names}`);
    await waitFor(r, `trust-manager to distribute ${names} (see \`kubectl describe bundle ${TRUST_ROOTS_NAME}\`)`, () =>
        bundleIs(readDistributed(r.k, readJson(r.k, ["get", BUNDLES, TRUST_ROOTS_NAME])), anchors),
    );
}

/** `pulumi up` of the stack with its stack file. */
async function up(r: Rotation, why: string): Promise<void> {
    r.io.out(`  pulumi up (${why})`);
    const stack = await selectStack(r.stackName);
    try {
        await upWithStackFile(stack, r.stackFile, (s) => r.io.out(s.trimEnd()));
    } catch (e) {
        throw new StepFailed(`pulumi up failed: ${upFailure(e)}`);
    }
}

/** Makes cert-manager issue a Certificate again, as `cmctl renew` does: the Issuing condition on its status. */
function triggerIssuance(r: Rotation, namespace: string, name: string): void {
    const cert = readJson(r.k, ["-n", namespace, "get", CERTIFICATES, name]);
    if (!cert) throw new StepFailed(`no Certificate ${namespace}/${name}`);
    const conditions = listAt(cert, "status", "conditions");
    if (conditions.some((c) => get(c, "type") === "Issuing" && get(c, "status") === "True")) return; // already being issued
    const condition = {
        type: "Issuing",
        status: "True",
        reason: "ManuallyTriggered",
        message: "Certificate re-issuance manually triggered by npm run rotate-anchor",
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        observedGeneration: get(cert, "metadata", "generation"),
    };
    const op = get(cert, "status", "conditions")
        ? { op: "add", path: "/status/conditions/-", value: condition }
        : { op: "add", path: "/status/conditions", value: [condition] };
    const ops = get(cert, "status") ? [op] : [{ op: "add", path: "/status", value: { conditions: [condition] } }];
    r.k.read([
        "-n",
        namespace,
        "patch",
        CERTIFICATES,
        name,
        "--subresource=status",
        "--type=json",
        `--field-manager=${FIELD_MANAGER}`,
        "-p",
        JSON.stringify(ops),
    ]);
}

/** Why cert-manager is not issuing a Certificate, from its conditions (for a timeout's message). */
function certificateStatus(r: Rotation, namespace: string, name: string): string {
    const cert = readJson(r.k, ["-n", namespace, "get", CERTIFICATES, name]);
    return listAt(cert, "status", "conditions")
        .map((c) => `${str(get(c, "type"))}=${str(get(c, "status"))}${get(c, "message") ? ` (${str(get(c, "message"))})` : ""}`)
        .join(", ");
}

/** The certificate currently in a Secret's key, parsed, or undefined. */
function certIn(r: Rotation, namespace: string, name: string, key: string): X509Certificate | undefined {
    const pem = secretKey(r.k, namespace, name, key);
    return pem ? parseCertificates(pem, `Secret ${namespace}/${name} (${key})`)[0] : undefined;
}

/**
 * The identity issuer renews itself `renewBefore` ahead of expiry. Renewed between the new anchor and the end of
 * the first restarts, it would be signed by the new anchor while proxies not yet restarted trust only the old
 * one: so when its renewal is due within lib/rotate's guard, it is renewed now, from the anchor in use.
 */
async function renewIssuerAheadOfTheRotation(r: Rotation): Promise<void> {
    const cert = readJson(r.k, ["-n", LINKERD_NAMESPACE, "get", CERTIFICATES, IDENTITY_ISSUER_NAME]);
    const renewal = str(get(cert, "status", "renewalTime"));
    if (!issuerRenewsTooSoon(renewal, new Date())) return;
    const before = certIn(r, LINKERD_NAMESPACE, IDENTITY_ISSUER_NAME, "tls.crt")?.fingerprint256;
    r.io.out(`  the identity issuer renews itself at ${renewal}, during the rotation: renewed now, still from the current anchor`);
    triggerIssuance(r, LINKERD_NAMESPACE, IDENTITY_ISSUER_NAME);
    await waitFor(
        r,
        `cert-manager to renew Certificate ${LINKERD_NAMESPACE}/${IDENTITY_ISSUER_NAME}`,
        () => certIn(r, LINKERD_NAMESPACE, IDENTITY_ISSUER_NAME, "tls.crt")?.fingerprint256 !== before,
    );
}

/** Puts the anchor Certificate's privateKey.rotationPolicy back as the rotation found it, once the new key is issued. */
function restoreRotationPolicy(r: Rotation, facts: RotationFacts): void {
    if (!r.anchorCertificate || !facts.current || !facts.previous) return;
    const cert = readJson(r.k, ["-n", r.anchor.namespace, "get", CERTIFICATES, r.anchorCertificate]);
    const before = stringMapAt(cert, "metadata", "annotations")?.[ROTATION_POLICY_ANNOTATION];
    if (before === undefined) return;
    const [current, previous] = [new X509Certificate(facts.current), new X509Certificate(facts.previous)];
    if (sameKey(current, previous)) return; // the new key is not issued yet
    const patch = {
        metadata: { annotations: { [ROTATION_POLICY_ANNOTATION]: null } },
        spec: { privateKey: { rotationPolicy: before === "unset" ? null : before } },
    };
    r.k.read([
        "-n",
        r.anchor.namespace,
        "patch",
        CERTIFICATES,
        r.anchorCertificate,
        "--type=merge",
        `--field-manager=${FIELD_MANAGER}`,
        "-p",
        JSON.stringify(patch),
    ]);
    r.io.out(`  Certificate ${r.anchor.namespace}/${r.anchorCertificate}: privateKey.rotationPolicy back to ${before}`);
}

/** cert-manager re-issues the anchor with a new key: rotationPolicy Always for this issuance (the one found is kept in an annotation). */
async function reissueAnchor(r: Rotation, previous: X509Certificate): Promise<void> {
    const name = r.anchorCertificate!;
    const cert = readJson(r.k, ["-n", r.anchor.namespace, "get", CERTIFICATES, name]);
    const policy = str(get(cert, "spec", "privateKey", "rotationPolicy"));
    const annotations = stringMapAt(cert, "metadata", "annotations") ?? {};
    if (annotations[ROTATION_POLICY_ANNOTATION] === undefined || policy !== "Always") {
        const patch = {
            ...(annotations[ROTATION_POLICY_ANNOTATION] === undefined
                ? { metadata: { annotations: { [ROTATION_POLICY_ANNOTATION]: policy ?? "unset" } } }
                : {}),
            spec: { privateKey: { rotationPolicy: "Always" } },
        };
        r.k.read([
            "-n",
            r.anchor.namespace,
            "patch",
            CERTIFICATES,
            name,
            "--type=merge",
            `--field-manager=${FIELD_MANAGER}`,
            "-p",
            JSON.stringify(patch),
        ]);
    }
    r.io.out(
        `  cert-manager re-issues Certificate ${r.anchor.namespace}/${name} with a new key (privateKey.rotationPolicy Always for this issuance; was ${policy ?? "unset"})`,
    );
    triggerIssuance(r, r.anchor.namespace, name);
    try {
        await waitFor(r, `a new key in Secret ${r.anchor.namespace}/${r.anchor.name}`, () => {
            const c = certIn(r, r.anchor.namespace, r.anchor.name, r.anchor.key);
            return c !== undefined && !sameKey(c, previous);
        });
    } catch (e) {
        throw new StepFailed(`${(e as Error).message}; Certificate ${r.anchor.namespace}/${name}: ${certificateStatus(r, r.anchor.namespace, name)}`);
    }
}

/** --new-anchor: the user's root CA written into the anchor Secret (the CA issuer reading it signs with it from now on). */
function writeNewAnchor(r: Rotation): void {
    const { crt, key } = r.newAnchor!;
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const data: Record<string, string> = { "tls.crt": b64(crt), "tls.key": b64(key), [r.anchor.key]: b64(crt) };
    r.k.read([
        "-n",
        r.anchor.namespace,
        "patch",
        "secret",
        r.anchor.name,
        "--type=merge",
        `--field-manager=${FIELD_MANAGER}`,
        "-p",
        JSON.stringify({ data }),
    ]);
    r.io.out(`  Secret ${r.anchor.namespace}/${r.anchor.name}: the new anchor from --new-anchor`);
}

/** The previous anchor's Secret: its certificate only, never a private key (only the PEM certificate blocks of `pem` are written). */
function writePreviousSecret(r: Rotation, pem: string): void {
    const certificates = parseCertificates(pem, "the previous anchor")
        .map((c) => c.toString())
        .join("");
    const secret = {
        apiVersion: "v1",
        kind: "Secret",
        type: "Opaque",
        metadata: {
            name: r.previous.name,
            namespace: r.anchor.namespace,
            labels: { "app.kubernetes.io/managed-by": FIELD_MANAGER },
            annotations: {
                "picluster-linkerd/description":
                    "the previous Linkerd trust anchor (certificate only) while npm run rotate-anchor overlaps two anchors",
            },
        },
        data: { [r.previous.key]: Buffer.from(certificates).toString("base64") },
    };
    const res = r.k.run(["apply", "--server-side", "--force-conflicts", `--field-manager=${FIELD_MANAGER}`, "-f", "-"], JSON.stringify(secret));
    if (res.code !== 0) throw new StepFailed(`cannot write Secret ${r.anchor.namespace}/${r.previous.name}: ${res.stderr}`);
    r.io.out(`  Secret ${r.anchor.namespace}/${r.previous.name}: the current anchor's certificate, kept as the previous anchor`);
}

// ---------------------------------------------------------------- the steps

/** The stack file's identity.trustAnchor.previousSecret, set (the Bundle's second source) or removed. */
function setPreviousInStackFile(r: Rotation, on: boolean): void {
    editStackFile(r.stackFile, (doc, sectionKey) => {
        const at = ["config", sectionKey("identity"), "trustAnchor", "previousSecret"];
        if (on) doc.setIn(at, doc.createNode({ name: r.previous.name, key: r.previous.key }));
        else doc.deleteIn(at);
    });
    r.io.out(`  ${r.stackFile}: identity.trustAnchor.previousSecret ${on ? `set to ${r.previous.name} (${r.previous.key})` : "removed"}`);
}

type StepDecision = Extract<RotationDecision, { kind: "step" }>;

async function savePrevious(r: Rotation, d: StepDecision, facts: RotationFacts): Promise<void> {
    if (facts.previous !== d.previousPem) writePreviousSecret(r, d.previousPem!);
    if (!facts.previousConfigured) setPreviousInStackFile(r, true);
    if (!facts.bundleHasPreviousSource || !facts.previousConfigured) await up(r, "the Bundle gets the previous anchor as its second source");
    await waitForBundle(r, d.bundle!);
}

async function newAnchor(r: Rotation, facts: RotationFacts): Promise<void> {
    const previous = new X509Certificate(facts.previous!);
    await renewIssuerAheadOfTheRotation(r);
    if (r.anchorCertificate) await reissueAnchor(r, previous);
    else {
        if (sameKey(new X509Certificate(r.newAnchor!.crt), previous))
            throw new StepFailed(`--new-anchor carries the key of the anchor being rotated out: pass a root CA with a new key`);
        writeNewAnchor(r);
    }
    const after = readFacts(r);
    restoreRotationPolicy(r, after);
    await waitForBundle(r, [after.current!, after.previous!]);
}

async function restartAll(r: Rotation, d: StepDecision): Promise<void> {
    await waitForBundle(r, d.bundle!);
    const w = readWorkloads(r.k);
    for (const pod of w.unowned)
        r.io.err(`  ${pod} has no Deployment, DaemonSet or StatefulSet to roll: delete it so it is re-created (it keeps its trust roots until then)`);
    const why = STEP_RESTART_WHY[d.step];
    for (const x of [...w.controlPlane, ...w.meshed]) {
        const [namespace, kind, name] = x.ref.split("/");
        if (x.marker === d.marker) {
            r.k.read(["-n", namespace, "rollout", "status", `${kind}/${name}`, `--timeout=${r.timeoutSeconds}s`]);
            continue;
        }
        try {
            await restartOwner(r.k, `${namespace}/${kind}/${name}`, {
                timeoutSeconds: r.timeoutSeconds,
                io: r.io,
                templateAnnotations: { [RESTART_MARKER_ANNOTATION]: d.marker! },
                why,
                fieldManager: FIELD_MANAGER,
            });
        } catch (e) {
            throw new StepFailed(`restarting ${x.ref}: ${(e as Error).message}`);
        }
    }
}

const STEP_RESTART_WHY: Partial<Record<RotationStep, string>> = {
    "restart-both": "to load both anchors",
    "restart-issuer": "for certificates from the issuer of the new anchor",
    "restart-new": "to trust the new anchor only",
};

async function reissueIssuer(r: Rotation, facts: RotationFacts): Promise<void> {
    const anchor = new X509Certificate(facts.current!);
    r.io.out(`  cert-manager re-issues Certificate ${LINKERD_NAMESPACE}/${IDENTITY_ISSUER_NAME} from the new anchor`);
    triggerIssuance(r, LINKERD_NAMESPACE, IDENTITY_ISSUER_NAME);
    try {
        await waitFor(r, `Secret ${LINKERD_NAMESPACE}/${IDENTITY_ISSUER_NAME} signed by the new anchor`, () => {
            const issuer = certIn(r, LINKERD_NAMESPACE, IDENTITY_ISSUER_NAME, "tls.crt");
            return issuer !== undefined && signedByOneOf(issuer, [anchor]) !== undefined;
        });
    } catch (e) {
        throw new StepFailed(`${(e as Error).message}; Certificate: ${certificateStatus(r, LINKERD_NAMESPACE, IDENTITY_ISSUER_NAME)}`);
    }
}

async function dropPrevious(r: Rotation, facts: RotationFacts): Promise<void> {
    if (facts.previousConfigured) setPreviousInStackFile(r, false);
    if (facts.bundleHasPreviousSource) await up(r, "the Bundle loses its second source: the bundle holds the new anchor only");
    await waitForBundle(r, [facts.current!]);
    // Only now that no Bundle names it: trust-manager fails a Bundle whose source Secret is missing.
    r.k.read(["-n", r.anchor.namespace, "delete", "secret", r.previous.name, "--ignore-not-found"]);
    r.io.out(`  Secret ${r.anchor.namespace}/${r.previous.name} deleted`);
}

async function runStep(r: Rotation, d: StepDecision, facts: RotationFacts): Promise<void> {
    if (d.step === "save-previous") return savePrevious(r, d, facts);
    if (d.step === "new-anchor") return newAnchor(r, facts);
    if (d.step === "reissue-issuer") return reissueIssuer(r, facts);
    if (d.step === "drop-previous") return dropPrevious(r, facts);
    return restartAll(r, d);
}

// ---------------------------------------------------------------- the command

/** What each step does, for the plan. */
function stepTexts(r: Rotation): Record<RotationStep, string> {
    const p = `${r.anchor.namespace}/${r.previous.name}`;
    return {
        "save-previous": `the current anchor kept as the previous one (Secret ${p}, its certificate only), identity.trustAnchor.previousSecret in the stack file, pulumi up: the Bundle's second source`,
        "new-anchor": r.anchorCertificate
            ? `a new anchor with a new key: cert-manager re-issues Certificate ${r.anchor.namespace}/${r.anchorCertificate} (rotationPolicy Always for this issuance, then as it was); the bundle holds both`
            : `the new anchor from --new-anchor written into Secret ${r.anchor.namespace}/${r.anchor.name}; the bundle holds both`,
        "restart-both":
            "restart the control plane (linkerd-identity first), then the meshed workloads, one at a time: every proxy and identity trust both anchors",
        "reissue-issuer": `cert-manager re-issues the identity issuer (${LINKERD_NAMESPACE}/${IDENTITY_ISSUER_NAME}) from the new anchor`,
        "restart-issuer": "restart again: identity signs with the new issuer, proxies get certificates chaining to the new anchor",
        "drop-previous": `identity.trustAnchor.previousSecret removed, pulumi up: the bundle holds the new anchor only; Secret ${p} deleted`,
        "restart-new": "restart again: nothing trusts the previous anchor any more",
    };
}

/** `npm run check`'s checks on the cluster now, with the stack file as it is now; the failures. */
function check(r: Rotation, after: string): CheckResult[] {
    const cfg = loadCheckConfig({ stack: r.stackName, "stack-file": r.stackFile });
    const results = runChecks(readSnapshot(r.k, cfg), { config: cfg, stack: r.stackName, now: new Date() });
    r.io.out(`check ${after}:\n${formatTable(results)}`);
    return exitCodeOf(results) === 0 ? [] : results.filter((x) => x.status === "fail");
}

/** Where the anchor Secret comes from: the cert-manager Certificate whose secretName it is, if any. */
function anchorCertificateOf(k: Kubectl, anchor: SecretKeyRef): string | undefined {
    const certs = items(readJson(k, ["-n", anchor.namespace, "get", CERTIFICATES]));
    const found = certs.find((c) => get(c, "spec", "secretName") === anchor.name);
    return found ? nameOf(found) : undefined;
}

/**
 * The identity issuer must be signed by the CA in the anchor Secret (a cert-manager CA issuer reading it), or
 * re-issuing it would not chain to the new anchor.
 */
function issuerReadsTheAnchor(k: Kubectl, cfg: PiclusterConfig, anchor: SecretKeyRef): string | undefined {
    const ref = cfg.identity.issuer.issuerRef;
    const issuer = readJson(
        k,
        ref.kind === "ClusterIssuer"
            ? ["get", "clusterissuers.cert-manager.io", ref.name]
            : ["-n", LINKERD_NAMESPACE, "get", "issuers.cert-manager.io", ref.name],
    );
    const secret = str(get(issuer, "spec", "ca", "secretName"));
    if (secret === anchor.name && (ref.kind === "ClusterIssuer" || anchor.namespace === LINKERD_NAMESPACE)) return undefined;
    return (
        `the identity issuer is signed by cert-manager's ${ref.kind} ${ref.name} (identity.issuer.issuerRef), ` +
        `${secret ? `a CA issuer of Secret ${secret}` : "not a CA issuer"}, not of the anchor Secret ${anchor.namespace}/${anchor.name}: ` +
        `re-issuing the issuer would not chain to a new anchor. Point identity.issuer.issuerRef at a CA issuer whose spec.ca.secretName is ${anchor.name}`
    );
}

/** --new-anchor: tls.crt and tls.key of an ECDSA P-256 root CA, matching each other. */
function readNewAnchor(dir: string): { crt: string; key: string } {
    const read = (f: string) => {
        const file = path.join(dir, f);
        if (!fs.existsSync(file)) throw new CannotRun(`--new-anchor ${dir}: no ${f} (expected tls.crt and tls.key of the new root CA)`);
        return fs.readFileSync(file, "utf8");
    };
    const [crt, key] = [read("tls.crt"), read("tls.key")];
    let cert: X509Certificate;
    try {
        cert = parseCertificates(crt, `${dir}/tls.crt`)[0];
        const fromKey = createPublicKey(createPrivateKey(key)).export({ type: "spki", format: "der" });
        if (!fromKey.equals(cert.publicKey.export({ type: "spki", format: "der" }))) throw new Error("tls.key is not the key of tls.crt");
    } catch (e) {
        throw new CannotRun(`--new-anchor ${dir}: ${(e as Error).message}`);
    }
    const problem = keyProblem(cert) ?? (cert.ca ? undefined : "it is not a CA certificate");
    if (problem) throw new CannotRun(`--new-anchor ${dir}: ${problem}`);
    if (Date.parse(cert.validTo) < Date.now()) throw new CannotRun(`--new-anchor ${dir}: it expired on ${cert.validTo}`);
    return { crt, key };
}

function newAnchorHelp(anchor: SecretKeyRef): string {
    return (
        `Secret ${anchor.namespace}/${anchor.name} is not issued by a cert-manager Certificate, so the rotation cannot ask cert-manager for a new anchor ` +
        `and does not make keys itself: pass --new-anchor <dir>, a directory with tls.crt and tls.key of a new ECDSA P-256 root CA, e.g.\n` +
        `  openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out <dir>/tls.key\n` +
        `  openssl req -x509 -new -key <dir>/tls.key -subj /CN=root.linkerd.cluster.local -days 3650 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out <dir>/tls.crt\n` +
        `(or, better, make the anchor a cert-manager Certificate: docs/rotate-anchor.md)`
    );
}

interface Args {
    stack: string;
    "stack-file"?: string;
    "new-anchor"?: string;
    "dry-run": boolean;
    timeout: string;
}

/** Everything checked before anything is changed; CannotRun (exit 2) otherwise. */
function prepare(values: Args, io: Io): { r: Rotation; cfg: PiclusterConfig } {
    const timeoutSeconds = Number(values.timeout);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 10)
        throw new CannotRun(`--timeout: expected whole seconds >= 10, got "${values.timeout}"`);
    const projectDir = path.resolve(__dirname, "..");
    const stackFile = path.resolve(values["stack-file"] ?? path.join(projectDir, `Pulumi.${values.stack}.yaml`));
    const cfg = loadCheckConfig({ stack: values.stack, "stack-file": stackFile });
    const anchorCfg = cfg.identity.trustAnchor;
    if (anchorCfg.mode !== "bundle") {
        throw new CannotRun(
            `the stack's trust anchor is in mode "pem" (identityTrustAnchorsPEM in linkerd-config): the rotation needs mode "bundle", where trust-manager ` +
                `distributes the anchors and can hold the old and the new one side by side. Switch first (docs/rotate-anchor.md): set identity.trustAnchor.mode ` +
                `to "bundle" and identity.trustAnchor.secret to the Secret holding the anchor in use now (the guide's cert-manager/root-secret, key ca.crt), then ` +
                `\`pulumi up\`: linkerd-control-plane is upgraded with identity.externalCA, which rolls the control plane's Deployments; meshed workloads keep ` +
                `running and need no restart, the anchor staying the same`,
        );
    }
    if (!cfg.kubernetes.context) throw new CannotRun(`no Kubernetes context: set ${PROJECT}:kubernetes.context`);
    const k = new Kubectl(cfg.longhorn.kubectl, cfg.kubernetes.kubeconfigPath, cfg.kubernetes.context);
    const ready = k.run(["get", "--raw", "/readyz"]);
    if (ready.code !== 0) throw new CannotRun(`cannot reach the cluster (context ${cfg.kubernetes.context}): ${ready.stderr}`);
    const problem = issuerReadsTheAnchor(k, cfg, anchorCfg.secret);
    if (problem) throw new CannotRun(problem);
    const anchorCertificate = anchorCertificateOf(k, anchorCfg.secret);
    if (anchorCertificate && values["new-anchor"]) {
        throw new CannotRun(
            `--new-anchor: Secret ${anchorCfg.secret.namespace}/${anchorCfg.secret.name} is issued by cert-manager Certificate ` +
                `${anchorCfg.secret.namespace}/${anchorCertificate}, which would overwrite it: the rotation has cert-manager issue the new anchor; run it without --new-anchor`,
        );
    }
    if (anchorCertificate) {
        // cert-manager's new key changes the anchor only when the anchor key holds the Certificate's own (self-signed) certificate.
        const own = secretKey(k, anchorCfg.secret.namespace, anchorCfg.secret.name, "tls.crt");
        const anchor = secretKey(k, anchorCfg.secret.namespace, anchorCfg.secret.name, anchorCfg.secret.key);
        if (own && anchor && !sameKey(parseCertificates(own, "tls.crt")[0], parseCertificates(anchor, anchorCfg.secret.key)[0])) {
            throw new CannotRun(
                `Secret ${anchorCfg.secret.namespace}/${anchorCfg.secret.name}: its ${anchorCfg.secret.key} is not the certificate of Certificate ` +
                    `${anchorCertificate} (tls.crt; it is issued by another CA), so re-issuing that Certificate would not change the anchor. ` +
                    `The rotation needs the anchor to be a self-signed root CA Certificate (docs/rotate-anchor.md)`,
            );
        }
    }
    const r: Rotation = {
        stackName: values.stack,
        stackFile,
        resume: `npm run rotate-anchor -- --stack ${values.stack}${values["stack-file"] ? ` --stack-file ${values["stack-file"]}` : ""}`,
        k,
        io,
        timeoutSeconds,
        anchor: anchorCfg.secret,
        previous: anchorCfg.previous ?? { name: PREVIOUS_ANCHOR_SECRET, key: "ca.crt" },
        anchorCertificate,
        newAnchor: values["new-anchor"] ? readNewAnchor(values["new-anchor"]) : undefined,
    };
    return { r, cfg };
}

function describeAnchor(pem: string | undefined): string {
    if (!pem) return "(none)";
    const c = new X509Certificate(pem);
    return `"${subjectOf(c)}" ${c.fingerprint256.slice(0, 23)}…, valid until ${c.validTo}`;
}

/** --dry-run: the plan, and the next `pulumi up` previewed when the next step has one. */
async function dryRun(r: Rotation, d: StepDecision): Promise<number> {
    if (d.step !== "save-previous" && d.step !== "drop-previous") return 0;
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-rotate-"));
    try {
        const file = path.join(scratch, path.basename(r.stackFile));
        fs.copyFileSync(r.stackFile, file);
        setPreviousInStackFile({ ...r, stackFile: file, io: { out: () => undefined, err: () => undefined } }, d.step === "save-previous");
        const res = await (await selectStack(r.stackName)).preview({ configFile: file });
        const changes = Object.entries(res.changeSummary ?? {})
            .filter(([op, n]) => op !== "same" && n > 0)
            .map(([op, n]) => `${n} to ${op}`);
        r.io.out(`\npulumi preview of the next step's up against the cluster: ${changes.join(", ") || "no changes"}`);
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
    return 0;
}

/** Decides, prints and runs steps until the rotation is done; returns the exit code. */
async function rotate(r: Rotation, dry: boolean): Promise<number> {
    const texts = stepTexts(r);
    let ran = 0;
    let last: RotationStep | undefined;
    let repeats = 0;
    for (;;) {
        const facts = readFacts(r);
        if (!dry) restoreRotationPolicy(r, facts);
        const d = decideRotation(facts);
        if (d.kind === "problem") {
            r.io.err(`rotate-anchor: ${d.message}\nfix it, then resume: ${r.resume}`);
            return 1;
        }
        if (ran > 0 && d.step === "save-previous" && !d.resuming) {
            r.io.out(`\nrotated: the trust bundle holds ${describeAnchor(facts.current)} only; the previous anchor is gone from it.`);
            return 0;
        }
        const n = ROTATION_STEPS.indexOf(d.step) + 1;
        if (ran === 0 || dry) {
            r.io.out(`current anchor: ${describeAnchor(facts.current)}`);
            if (facts.previous) r.io.out(`previous anchor: ${describeAnchor(facts.previous)}`);
            r.io.out(`${d.resuming ? `resuming at step ${n}/${ROTATION_STEPS.length}` : "starting a rotation"}: ${d.reason}`);
            r.io.out(formatRotationPlan(d.step, texts));
        }
        if (dry) return dryRun(r, d);
        if (d.step === "save-previous" || d.step === "new-anchor") {
            if (!r.anchorCertificate && !r.newAnchor) throw new CannotRun(newAnchorHelp(r.anchor));
        }
        if (ran === 0 && !d.resuming) {
            const failures = check(r, "before the rotation");
            if (failures.length > 0) {
                r.io.err(`\nthe check fails before the rotation: fix it first (nothing was changed).`);
                for (const f of failures) r.io.err(`  ${f.id} (${f.name}): ${f.message}${f.fix ? `\n    fix: ${f.fix}` : ""}`);
                return 1;
            }
        }
        repeats = d.step === last ? repeats + 1 : 0;
        if (repeats >= 2) {
            r.io.err(
                `rotate-anchor: step ${n} (${d.step}) ran ${repeats + 1} times without the cluster showing it done: ${d.reason}\nresume: ${r.resume}`,
            );
            return 1;
        }
        last = d.step;
        r.io.out(`\nstep ${n}/${ROTATION_STEPS.length} (${d.step}): ${texts[d.step]}`);
        const started = Date.now();
        try {
            await runStep(r, d, facts);
            r.io.out(`step ${n}/${ROTATION_STEPS.length} (${d.step}) done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
        } catch (e) {
            const byInterrupt = await failedByInterrupt();
            if (!(e instanceof StepFailed) && !byInterrupt) throw e;
            r.io.err(`\nstep ${n} (${d.step}) ${byInterrupt ? "interrupted;" : `failed: ${(e as Error).message}\nfix it, then`} resume: ${r.resume}`);
            return 1;
        }
        if (wasInterrupted()) {
            r.io.err(`\ninterrupted after step ${n} (${d.step}); resume: ${r.resume}`);
            return 1;
        }
        ran++;
        const failures = check(r, `after step ${n} (${d.step})`);
        if (failures.length > 0) {
            r.io.err(`\nthe check failed after step ${n} (${d.step}):`);
            for (const f of failures) r.io.err(`  ${f.id} (${f.name}): ${f.message}${f.fix ? `\n    fix: ${f.fix}` : ""}`);
            r.io.err(`fix it, then resume: ${r.resume}`);
            return 1;
        }
    }
}

export async function main(argv: string[], io: Io): Promise<number> {
    const { values } = commandLine<Args>("rotate-anchor", ROTATE_COMMAND, argv);
    try {
        const { r } = prepare(values, io);
        io.out(
            `npm run rotate-anchor: stack ${r.stackName}; anchor Secret ${r.anchor.namespace}/${r.anchor.name} (${r.anchor.key}), ` +
                (r.anchorCertificate
                    ? `issued by cert-manager Certificate ${r.anchor.namespace}/${r.anchorCertificate}`
                    : "not a cert-manager Certificate's") +
                `; previous-anchor Secret ${r.anchor.namespace}/${r.previous.name}`,
        );
        return await rotate(r, values["dry-run"]);
    } catch (e) {
        if (e instanceof CannotRun) {
            io.err(`rotate-anchor: ${e.message}`);
            return 2;
        }
        throw e;
    }
}

if (require.main === module) runAsCommand("rotate-anchor", main);
