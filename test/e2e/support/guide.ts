/**
 * Linkerd installed the guide's way, by hand (installation steps 3-8): `kubectl create namespace`,
 * the guide's Certificate, `helm install` of linkerd-crds and linkerd-control-plane from the Helm
 * repository with the guide's flags, and the implicit annotation of `monitoring`. For the e2e files
 * that take such an install over (adoption) or upgrade it.
 */
import * as fs from "fs";
import * as path from "path";
import type { LinkerdRelease } from "../../../lib/release";
import { binDir, kubectl, kubectlJson, sh } from "./env";
import type { E2e } from "./suite";
import { GUIDE_ISSUER_CERTIFICATE } from "../../support/guideObjects";

export const HELM = path.join(binDir, "helm");

export function helm(e2e: E2e, args: string[]): string {
    if (!fs.existsSync(HELM)) throw new Error(`helm is not in the toolchain (${HELM}): run \`npm run toolchain\``);
    return sh(HELM, [...args, "--kubeconfig", e2e.cluster.kubeconfig, "--kube-context", e2e.cluster.context]);
}

export function guideInstall(e2e: E2e, release: LinkerdRelease): void {
    const { cluster, work, chartRepo } = e2e;
    kubectl(cluster, ["create", "namespace", "linkerd"]);
    kubectl(cluster, ["apply", "-f", "-"], JSON.stringify(GUIDE_ISSUER_CERTIFICATE));
    kubectl(cluster, ["-n", "linkerd", "wait", "certificate/linkerd-identity-issuer", "--for=condition=Ready", "--timeout=180s"]);
    const caCrt = path.join(work, `ca-${release.minor}.crt`);
    fs.writeFileSync(
        caCrt,
        Buffer.from(kubectlJson(cluster, ["-n", "linkerd", "get", "secret", "linkerd-identity-issuer"]).data["ca.crt"], "base64").toString(),
    );
    const repo = ["--repo", chartRepo!.url];
    helm(e2e, ["install", "linkerd-crds", "linkerd-crds", ...repo, "--version", release.charts.crds.version, "-n", "linkerd"]);
    helm(e2e, [
        "install",
        "linkerd-control-plane",
        "linkerd-control-plane",
        ...repo,
        "--version",
        release.charts.controlPlane.version,
        "-n",
        "linkerd",
        "--set-file",
        `identityTrustAnchorsPEM=${caCrt}`,
        "--set",
        "identity.issuer.scheme=kubernetes.io/tls",
        "--wait",
    ]);
    // Guide, "Meshing a service": implicit annotation by hand.
    kubectl(cluster, ["annotate", "--overwrite", "namespace", "monitoring", "linkerd.io/inject=enabled"]);
}
