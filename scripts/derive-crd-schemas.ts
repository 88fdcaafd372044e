/**
 * Derives JSON schemas for custom resources that no installed @kubernetes-models package covers at
 * the version we deploy, from reference CRDs kept outside the repo (../shared/reference/crds, see
 * ../shared/reference/PROVENANCE.md).
 *
 * Output: test/fixtures/crd-schemas/<group>_<kind>_<version>.json, each a derivation: the
 * `openAPIV3Schema` of the one served version only, wrapped in a header naming the source. The CRD
 * files themselves are never copied into the repo.
 *
 * test/fixtures/crd-schemas/helm.cattle.io_HelmChartConfig_v1.json is NOT generated here: there is
 * no reference CRD for it, so it is hand-written in the same format (see its `source` field).
 *
 * Usage: npm run fixtures   (or: ts-node --transpile-only scripts/derive-crd-schemas.ts [crdDir])
 */
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";

interface Target {
  file: string; // relative to crdDir
  group: string;
  kind: string;
  version: string;
  source: string;
}

const TARGETS: Target[] = [
  {
    file: "trust-manager/trust.cert-manager.io_bundles.yaml",
    group: "trust.cert-manager.io",
    kind: "Bundle",
    version: "v1alpha1",
    source: "cert-manager/trust-manager deploy/crds/trust.cert-manager.io_bundles.yaml@v0.24.0",
  },
  {
    file: "traefik/traefik.io_middlewares.yaml",
    group: "traefik.io",
    kind: "Middleware",
    version: "v1alpha1",
    source: "traefik/traefik-helm-chart traefik/crds/traefik.io_middlewares.yaml@v41.3.0 (Traefik v3.7)",
  },
  {
    file: "traefik/traefik.io_ingressroutes.yaml",
    group: "traefik.io",
    kind: "IngressRoute",
    version: "v1alpha1",
    source: "traefik/traefik-helm-chart traefik/crds/traefik.io_ingressroutes.yaml@v41.3.0 (Traefik v3.7)",
  },
];

export interface CrdSchemaFixture {
  $comment: string;
  source: string;
  group: string;
  kind: string;
  version: string;
  apiVersion: string;
  scope: string;
  openAPIV3Schema: Record<string, unknown>;
}

function derive(crdDir: string, t: Target): CrdSchemaFixture {
  const text = fs.readFileSync(path.join(crdDir, t.file), "utf8");
  const crds = parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((d) => d && d.kind === "CustomResourceDefinition" && d.spec?.group === t.group && d.spec?.names?.kind === t.kind);
  if (crds.length !== 1) throw new Error(`${t.file}: expected one CRD for ${t.group}/${t.kind}, found ${crds.length}`);
  const crd = crds[0];
  const served = (crd.spec.versions as { name: string; served: boolean; schema?: { openAPIV3Schema: Record<string, unknown> } }[])
    .filter((v) => v.served);
  const v = served.find((x) => x.name === t.version);
  if (!v || !v.schema?.openAPIV3Schema) throw new Error(`${t.file}: version ${t.version} not served or has no schema`);
  return {
    $comment:
      "Derived by scripts/derive-crd-schemas.ts: the openAPIV3Schema of the served version of the CRD named in " +
      "`source`, unchanged. Regenerate with `npm run fixtures`; do not edit by hand.",
    source: t.source,
    group: t.group,
    kind: t.kind,
    version: t.version,
    apiVersion: `${t.group}/${t.version}`,
    scope: crd.spec.scope,
    openAPIV3Schema: v.schema.openAPIV3Schema,
  };
}

function main(): void {
  const root = path.resolve(__dirname, "..");
  const crdDir = path.resolve(root, process.argv[2] ?? "../shared/reference/crds");
  const outDir = path.join(root, "test/fixtures/crd-schemas");
  fs.mkdirSync(outDir, { recursive: true });
  for (const t of TARGETS) {
    const fx = derive(crdDir, t);
    const out = path.join(outDir, `${t.group}_${t.kind}_${t.version}.json`);
    fs.writeFileSync(out, JSON.stringify(fx, null, 2) + "\n");
    console.log(`${path.relative(root, out)} <- ${t.file}`);
  }
}

if (require.main === module) main();
