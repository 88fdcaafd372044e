/** Certificates made in the test with openssl: CAs and issuers with the key types and lifetimes a test needs. */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface MadeCert {
    readonly crt: string;
    readonly keyFile: string;
    readonly crtFile: string;
}

let counter = 0;

function openssl(dir: string, args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function key(dir: string, base: string, type: "p256" | "p384" | "rsa"): string {
    const file = `${base}.key`;
    if (type === "rsa") openssl(dir, ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", file]);
    else openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", `ec_paramgen_curve:${type === "p256" ? "P-256" : "P-384"}`, "-out", file]);
    return file;
}

/** A self-signed root CA (ten years unless `days` says otherwise, as long-lived as a trust anchor should be). */
export function makeRoot(dir: string, opts: { cn?: string; key?: "p256" | "p384" | "rsa"; days?: number; ca?: boolean } = {}): MadeCert {
    fs.mkdirSync(dir, { recursive: true });
    const base = `root${++counter}`;
    const keyFile = key(dir, base, opts.key ?? "p256");
    const ext = opts.ca === false ? "basicConstraints=critical,CA:FALSE" : "basicConstraints=critical,CA:TRUE";
    openssl(dir, [
        "req",
        "-x509",
        "-new",
        "-key",
        keyFile,
        "-subj",
        `/CN=${opts.cn ?? "root.test"}`,
        "-days",
        String(opts.days ?? 3650),
        "-addext",
        ext,
        "-out",
        `${base}.crt`,
    ]);
    return { crt: fs.readFileSync(path.join(dir, `${base}.crt`), "utf8"), keyFile: path.join(dir, keyFile), crtFile: path.join(dir, `${base}.crt`) };
}

/**
 * An intermediate CA (the Linkerd issuer) signed by `signer`, valid for `days` days from now
 * (`-1`: it expired a day ago, as after a cluster was off past the expiry).
 */
export function makeIssuer(dir: string, signer: MadeCert, opts: { cn?: string; key?: "p256" | "p384" | "rsa"; days?: number } = {}): MadeCert {
    const base = `issuer${++counter}`;
    const keyFile = key(dir, base, opts.key ?? "p256");
    const cn = opts.cn ?? "identity.linkerd.cluster.local";
    fs.writeFileSync(
        path.join(dir, `${base}.ext`),
        `basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectAltName=DNS:${cn}\n`,
    );
    openssl(dir, ["req", "-new", "-key", keyFile, "-subj", `/CN=${cn}`, "-out", `${base}.csr`]);
    openssl(dir, [
        "x509",
        "-req",
        "-in",
        `${base}.csr`,
        "-CA",
        signer.crtFile,
        "-CAkey",
        signer.keyFile,
        "-CAcreateserial",
        "-days",
        String(opts.days ?? 2),
        "-extfile",
        `${base}.ext`,
        "-out",
        `${base}.crt`,
    ]);
    return { crt: fs.readFileSync(path.join(dir, `${base}.crt`), "utf8"), keyFile: path.join(dir, keyFile), crtFile: path.join(dir, `${base}.crt`) };
}
