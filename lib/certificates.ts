/**
 * Certificates as PEM text: parsing a bundle, naming a certificate, and which CA signed one. Pure; shared by the
 * check (check/certificates.ts) and the trust-anchor rotation (lib/rotate).
 */
import { X509Certificate } from "crypto";

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle; throws naming `where` when a block does not parse. */
export function parseCertificates(pem: string, where: string): X509Certificate[] {
    const blocks = pem.match(PEM_BLOCK) ?? [];
    if (blocks.length === 0) throw new Error(`${where} holds no PEM certificate`);
    return blocks.map((b, i) => {
        try {
            return new X509Certificate(b);
        } catch (e) {
            throw new Error(`${where}: certificate ${i + 1} does not parse (${(e as Error).message})`, { cause: e });
        }
    });
}

export function subjectOf(cert: X509Certificate): string {
    return cert.subject.replace(/\n/g, ", ");
}

/** Whether `issuer` was signed by one of `anchors` (names match and the signature verifies). */
export function signedByOneOf(issuer: X509Certificate, anchors: readonly X509Certificate[]): X509Certificate | undefined {
    return anchors.find((a) => issuer.checkIssued(a) && issuer.verify(a.publicKey));
}

/** Whether two certificates carry the same public key (a renewal that kept the key, or the same certificate). */
export function sameKey(a: X509Certificate, b: X509Certificate): boolean {
    const der = (c: X509Certificate) => c.publicKey.export({ type: "spki", format: "der" });
    return der(a).equals(der(b));
}
