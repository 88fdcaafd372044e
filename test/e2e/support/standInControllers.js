#!/usr/bin/env node
// STAND-IN cert-manager and trust-manager controllers for the e2e test (the local control plane has
// no kubelet, so the real controllers cannot run). Started by test/e2e as a child process:
//
//   node standInControllers.js <kubeconfig> <kubectl> <root CA dir with ca.crt/ca.key>
//
// Every second:
//   - each cert-manager Certificate whose Secret is missing or whose Ready condition is not True for
//     its generation gets a real certificate signed by the root CA (openssl: commonName, dnsNames,
//     isCA, duration, ECDSA/RSA key) in spec.secretName (tls.crt, tls.key, ca.crt), then
//     status.conditions Ready=True (status subresource);
//   - each trust-manager Bundle gets its ConfigMap (metadata.name, key target.configMap.key, the
//     concatenated sources) in every namespace matching target.namespaceSelector, then Synced=True.
// Exits when its parent (the test) is gone.
"use strict";

const { execFileSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const [kubeconfig, kubectlBin, caDir] = process.argv.slice(2);
if (!kubeconfig || !kubectlBin || !caDir) {
    console.error("usage: standInControllers.js <kubeconfig> <kubectl> <ca dir>");
    process.exit(2);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), "stand-in-controllers-"));
const caCrt = fs.readFileSync(path.join(caDir, "ca.crt"), "utf8");

function kubectl(args, input) {
    return execFileSync(kubectlBin, ["--kubeconfig", kubeconfig, ...args], { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}

function log(msg) {
    process.stderr.write(`[stand-in controllers] ${msg}\n`);
}

function durationDays(d) {
    // Go durations such as "48h", "2160h0m0s": whole days, at least 1.
    const m = /^([0-9]+)h/.exec(d || "");
    return m ? Math.max(1, Math.ceil(parseInt(m[1], 10) / 24)) : 90;
}

function conditionTrue(obj, type) {
    const conds = (obj.status && obj.status.conditions) || [];
    return conds.some(
        (c) => c.type === type && c.status === "True" && (c.observedGeneration === undefined || c.observedGeneration === obj.metadata.generation),
    );
}

function setCondition(kind, obj, type, reason, message) {
    const now = new Date().toISOString().replace(/\.[0-9]+Z$/, "Z");
    const status = { conditions: [{ type, status: "True", reason, message, lastTransitionTime: now, observedGeneration: obj.metadata.generation }] };
    if (kind === "certificate") {
        Object.assign(status, { notBefore: now, revision: 1 });
    }
    const nsArgs = obj.metadata.namespace ? ["-n", obj.metadata.namespace] : [];
    kubectl([...nsArgs, "patch", kind, obj.metadata.name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })]);
}

function issue(cert) {
    const ns = cert.metadata.namespace;
    const spec = cert.spec || {};
    const secretName = spec.secretName;
    let secretExists = true;
    try {
        kubectl(["-n", ns, "get", "secret", secretName, "-o", "name"]);
    } catch {
        secretExists = false;
    }
    if (secretExists && conditionTrue(cert, "Ready")) return;
    const dir = fs.mkdtempSync(path.join(work, "cert-"));
    const algo = ((spec.privateKey && spec.privateKey.algorithm) || "RSA").toUpperCase();
    if (algo === "ECDSA") {
        execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.sec1"], { cwd: dir, stdio: "ignore" });
        execFileSync("openssl", ["pkcs8", "-topk8", "-nocrypt", "-in", "key.sec1", "-out", "tls.key"], { cwd: dir, stdio: "ignore" });
    } else {
        execFileSync("openssl", ["genrsa", "-out", "tls.key", "2048"], { cwd: dir, stdio: "ignore" });
    }
    const cn = spec.commonName || cert.metadata.name;
    const ext = [
        spec.isCA ? "basicConstraints=critical,CA:TRUE" : "basicConstraints=critical,CA:FALSE",
        spec.isCA ? "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" : "keyUsage=critical,digitalSignature,keyEncipherment",
    ];
    const sans = [...(spec.dnsNames || []).map((d) => `DNS:${d}`)];
    if (sans.length > 0) ext.push(`subjectAltName=${sans.join(",")}`);
    fs.writeFileSync(path.join(dir, "ext.cnf"), ext.join("\n") + "\n");
    execFileSync("openssl", ["req", "-new", "-key", "tls.key", "-subj", `/CN=${cn}`, "-out", "tls.csr"], { cwd: dir, stdio: "ignore" });
    execFileSync(
        "openssl",
        [
            "x509",
            "-req",
            "-in",
            "tls.csr",
            "-CA",
            path.join(caDir, "ca.crt"),
            "-CAkey",
            path.join(caDir, "ca.key"),
            "-CAcreateserial",
            "-days",
            String(durationDays(spec.duration)),
            "-extfile",
            "ext.cnf",
            "-out",
            "tls.crt",
        ],
        { cwd: dir, stdio: "ignore" },
    );
    const secret = {
        apiVersion: "v1",
        kind: "Secret",
        type: "kubernetes.io/tls",
        metadata: {
            name: secretName,
            namespace: ns,
            annotations: { "cert-manager.io/certificate-name": cert.metadata.name, "cert-manager.io/common-name": cn },
        },
        data: {
            "tls.crt": Buffer.from(fs.readFileSync(path.join(dir, "tls.crt"))).toString("base64"),
            "tls.key": Buffer.from(fs.readFileSync(path.join(dir, "tls.key"))).toString("base64"),
            "ca.crt": Buffer.from(caCrt).toString("base64"),
        },
    };
    kubectl(["apply", "--server-side", "--force-conflicts", "--field-manager=stand-in-cert-manager", "-f", "-"], JSON.stringify(secret));
    fs.rmSync(dir, { recursive: true, force: true });
    setCondition("certificate", cert, "Ready", "Ready", "Certificate is up to date and has not expired (stand-in cert-manager)");
    log(`issued ${ns}/${secretName} for Certificate ${ns}/${cert.metadata.name}`);
}

function sync(bundle, trustNamespace) {
    const spec = bundle.spec || {};
    const parts = [];
    for (const src of spec.sources || []) {
        if (src.secret) {
            const s = JSON.parse(kubectl(["-n", trustNamespace, "get", "secret", src.secret.name, "-o", "json"]));
            parts.push(Buffer.from(s.data[src.secret.key], "base64").toString("utf8").trim());
        } else if (src.configMap) {
            const c = JSON.parse(kubectl(["-n", trustNamespace, "get", "configmap", src.configMap.name, "-o", "json"]));
            parts.push(String(c.data[src.configMap.key]).trim());
        } else if (src.inLine) {
            parts.push(String(src.inLine).trim());
        }
    }
    const key = spec.target && spec.target.configMap && spec.target.configMap.key;
    if (!key) return;
    const selector = (spec.target.namespaceSelector && spec.target.namespaceSelector.matchLabels) || {};
    const labelArg = Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
    const nss = JSON.parse(kubectl(["get", "namespaces", ...(labelArg ? ["-l", labelArg] : []), "-o", "json"])).items.map((n) => n.metadata.name);
    const data = parts.join("\n") + "\n";
    for (const ns of nss) {
        const cm = {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: bundle.metadata.name, namespace: ns, labels: { "trust.cert-manager.io/bundle": bundle.metadata.name } },
            data: { [key]: data },
        };
        kubectl(["apply", "--server-side", "--force-conflicts", "--field-manager=stand-in-trust-manager", "-f", "-"], JSON.stringify(cm));
    }
    if (!conditionTrue(bundle, "Synced")) {
        setCondition("bundle", bundle, "Synced", "Synced", `Successfully synced Bundle to ${nss.length} namespace(s) (stand-in trust-manager)`);
        log(`synced Bundle ${bundle.metadata.name} into ${nss.join(", ")}`);
    }
}

function tick() {
    try {
        const certs = JSON.parse(kubectl(["get", "certificates.cert-manager.io", "-A", "-o", "json"])).items;
        for (const c of certs) {
            try {
                issue(c);
            } catch (err) {
                log(`Certificate ${c.metadata.namespace}/${c.metadata.name}: ${String(err.stderr || err.message).trim()}`);
            }
        }
        const bundles = JSON.parse(kubectl(["get", "bundles.trust.cert-manager.io", "-o", "json"])).items;
        for (const b of bundles) {
            try {
                sync(b, process.env.TRUST_MANAGER_NAMESPACE || "cert-manager");
            } catch (err) {
                log(`Bundle ${b.metadata.name}: ${String(err.stderr || err.message).trim()}`);
            }
        }
    } catch (err) {
        log(String(err.stderr || err.message).trim());
    }
}

const parentPid = process.ppid;
function loop() {
    if (process.ppid !== parentPid) process.exit(0);
    tick();
    setTimeout(loop, 1000);
}
process.on("SIGTERM", () => {
    fs.rmSync(work, { recursive: true, force: true });
    process.exit(0);
});
loop();
