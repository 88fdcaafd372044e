/**
 * Derives the set of Helm value keys each Linkerd chart version accepts, from the chart's own
 * values.yaml (a reference copy kept outside the repo, see ../shared/reference/PROVENANCE.md).
 *
 * Output: test/fixtures/chart-keys/<chart>-<chartVersion>.json - derived facts (key paths), never a
 * copy of the values file: no default values are written.
 *
 * Usage: npm run fixtures   (or: ts-node --transpile-only scripts/derive-chart-keys.ts [refDir])
 *        refDir defaults to ../shared/reference/linkerd (relative to the repository root).
 *
 * Key model
 *  - keys:     dotted paths of every leaf and every object ("proxy", "proxy.resources",
 *              "proxy.resources.cpu.limit"); list element children as "path[].child".
 *  - openMaps: paths whose value accepts arbitrary keys (nothing below them is checked).
 *  - lists:    paths whose value is a list.
 * Commented-out options: values.yaml documents some options only as comments
 * (`#tolerations:`, `# heartbeatSchedule: ...`). They are real options, so every commented line
 * that looks like a YAML key must be classified below, by line number, either as a commented key
 * (added to the fixture) or as ignored (an example inside a free-form map/list). The script checks
 * the text at each cited line and fails on any unclassified candidate, so a new values file cannot
 * slip through silently.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import type { ChartKeys } from "../test/support/chartKeys";

type Kind = "leaf" | "openMap" | "list" | { like: string };

interface CommentedKey {
  path: string;
  line: number;
  /** Substring the cited line must contain (checked). */
  text: string;
  kind: Kind;
  why: string;
}

interface Source {
  chart: string;
  chartVersion: string;
  linkerdVersion: string;
  valuesFile: string; // relative to refDir
  chartFile?: string; // Chart yaml, relative to refDir
  source: string;
  note?: string;
  /** Explicit open maps (path -> justification). */
  openMaps?: Record<string, string>;
  /** Explicit lists whose default is null (path -> justification). */
  lists?: Record<string, string>;
  commented: CommentedKey[];
  /** Commented lines that look like keys but are examples inside open maps / lists. */
  ignored: { from: number; to: number; why: string }[];
}

/**
 * Keys whose values are Kubernetes objects or label/annotation maps rendered verbatim (toYaml) into
 * manifests: their content is checked by the Kubernetes schema of the rendered object, not by the
 * chart. Applied only when the default is an object or null (podMonitor.controller.namespaceSelector
 * is a template string, so it stays a leaf).
 */
const K8S_OPEN_MAP_NAMES = new Set([
  "nodeSelector",
  "namespaceSelector",
  "objectSelector",
  "securityContext",
  "nodeAffinity",
  "podAnnotations",
  "podLabels",
  "commonLabels",
  "annotations",
  "labels",
]);
/** Keys whose values are Kubernetes lists (tolerations default to null via a YAML anchor). */
const K8S_LIST_NAMES = new Set(["tolerations"]);

const STABLE = "stable-2.14.10 (1ea6b271)";
const MAIN = "main b24cd405";
const JAEGER_EDGE = "3b46333d (tag edge-25.9.4)";
const EDGE_NOTE =
  "values.yaml and Chart.yaml from linkerd/linkerd2 main b24cd405 (Aug 2026), just after tag edge-26.8.3. " +
  "Chart.yaml in git carries the placeholder version recorded in chartYamlVersion (CI stamps the real one " +
  "when publishing), so the fixture is named for 2026.8.3, the edge release just before that commit.";

const PULL_SECRET = (line: number): CommentedKey => ({
  path: "imagePullSecrets[].name",
  line,
  text: "# - name: my-private-docker-registry-login-secret",
  kind: "leaf",
  why: "commented example element of imagePullSecrets (LocalObjectReference: name)",
});

const SOURCES: Source[] = [
  // ---------------------------------------------------------------- linkerd-crds
  {
    chart: "linkerd-crds",
    chartVersion: "1.8.0",
    linkerdVersion: "stable-2.14.10",
    valuesFile: "linkerd-crds/values-stable-2.14.10.yaml",
    source: `linkerd/linkerd2 charts/linkerd-crds/values.yaml@${STABLE}`,
    commented: [],
    ignored: [],
  },
  {
    chart: "linkerd-crds",
    chartVersion: "2026.8.3",
    linkerdVersion: "edge-26.8.3",
    valuesFile: "linkerd-crds/values-main-2026-08.yaml",
    chartFile: "linkerd-crds/Chart-main-2026-08.yaml",
    source: `linkerd/linkerd2 charts/linkerd-crds/values.yaml@${MAIN}`,
    note: EDGE_NOTE,
    commented: [
      // values-main-2026-08.yaml:7 `# enableHttpRoutes: false` (also set for real on line 14)
      { path: "enableHttpRoutes", line: 7, text: "# enableHttpRoutes:", kind: "leaf", why: "documented default, also set on line 14" },
      // values-main-2026-08.yaml:10 `# enableTlsRoutes: false`
      { path: "enableTlsRoutes", line: 10, text: "# enableTlsRoutes:", kind: "leaf", why: "documented: falls back to installGatewayAPI if unset" },
      // values-main-2026-08.yaml:13 `# enableTcpRoutes: false`
      { path: "enableTcpRoutes", line: 13, text: "# enableTcpRoutes:", kind: "leaf", why: "documented: falls back to installGatewayAPI if unset" },
    ],
    ignored: [],
  },
  // ---------------------------------------------------------------- linkerd-control-plane
  {
    chart: "linkerd-control-plane",
    chartVersion: "1.16.11",
    linkerdVersion: "stable-2.14.10",
    valuesFile: "linkerd-control-plane/values-stable-2.14.10.yaml",
    source: `linkerd/linkerd2 charts/linkerd-control-plane/values.yaml@${STABLE}`,
    openMaps: {
      deploymentStrategy: "line 26: 'default kubernetes deployment strategy' - a Kubernetes DeploymentStrategy object",
    },
    commented: [
      PULL_SECRET(288),
      // line 314 `#destinationResources:` - "(see `proxy.resources` for sub-fields)"
      { path: "destinationResources", line: 314, text: "#destinationResources:", kind: { like: "proxy.resources" }, why: "line 313: see proxy.resources for sub-fields" },
      // line 317 `#destinationProxyResources:`
      { path: "destinationProxyResources", line: 317, text: "#destinationProxyResources:", kind: { like: "proxy.resources" }, why: "line 315-316: see proxy.resources for sub-fields" },
      // line 359 `#identityResources:`
      { path: "identityResources", line: 359, text: "#identityResources:", kind: { like: "proxy.resources" }, why: "line 358: see proxy.resources for sub-fields" },
      // line 361 `#identityProxyResources:`
      { path: "identityProxyResources", line: 361, text: "#identityProxyResources:", kind: { like: "proxy.resources" }, why: "line 360: see proxy.resources for sub-fields" },
      // line 367 `# heartbeatSchedule: "0 0 * * *"`
      { path: "heartbeatSchedule", line: 367, text: "# heartbeatSchedule:", kind: "leaf", why: "line 366: Config for the heartbeat cronjob" },
      // line 429 `#proxyInjectorResources:`
      { path: "proxyInjectorResources", line: 429, text: "#proxyInjectorResources:", kind: { like: "proxy.resources" }, why: "line 427-428: see proxy.resources for sub-fields" },
      // line 432 `#proxyInjectorProxyResources:`
      { path: "proxyInjectorProxyResources", line: 432, text: "#proxyInjectorProxyResources:", kind: { like: "proxy.resources" }, why: "line 430-431: see proxy.resources for sub-fields" },
      // line 525 `#policyControllerResources:` (gone in the 2026 values)
      { path: "policyControllerResources", line: 525, text: "#policyControllerResources:", kind: { like: "proxy.resources" }, why: "line 524: resources required by the policy controller" },
      // line 535 `#spValidatorResources:`
      { path: "spValidatorResources", line: 535, text: "#spValidatorResources:", kind: { like: "proxy.resources" }, why: "line 533-534: see proxy.resources for sub-fields" },
      // line 540 `#tolerations:`
      { path: "tolerations", line: 540, text: "#tolerations:", kind: "list", why: "line 537: Kubernetes tolerations list" },
      // line 545 `#nodeAffinity:`
      { path: "nodeAffinity", line: 545, text: "#nodeAffinity:", kind: "openMap", why: "line 542: Kubernetes NodeAffinity object" },
    ],
    ignored: [],
  },
  {
    chart: "linkerd-control-plane",
    chartVersion: "2026.8.3",
    linkerdVersion: "edge-26.8.3",
    valuesFile: "linkerd-control-plane/values-main-2026-08.yaml",
    chartFile: "linkerd-control-plane/Chart-main-2026-08.yaml",
    source: `linkerd/linkerd2 charts/linkerd-control-plane/values.yaml@${MAIN}`,
    note: EDGE_NOTE,
    openMaps: {
      deploymentStrategy: "line 24: 'default kubernetes deployment strategy' - a Kubernetes DeploymentStrategy object",
    },
    lists: {
      configReaders: "line 748-752: 'List of additional service accounts' (default null, example elements commented)",
    },
    commented: [
      PULL_SECRET(406),
      { path: "destinationResources", line: 434, text: "#destinationResources:", kind: { like: "proxy.resources" }, why: "line 433: see proxy.resources for sub-fields" },
      { path: "destinationProxyResources", line: 436, text: "#destinationProxyResources:", kind: { like: "proxy.resources" }, why: "line 435: see proxy.resources for sub-fields" },
      { path: "identityResources", line: 501, text: "#identityResources:", kind: { like: "proxy.resources" }, why: "line 500: see proxy.resources for sub-fields" },
      { path: "identityProxyResources", line: 503, text: "#identityProxyResources:", kind: { like: "proxy.resources" }, why: "line 502: see proxy.resources for sub-fields" },
      { path: "heartbeatSchedule", line: 509, text: "# heartbeatSchedule:", kind: "leaf", why: "line 508: Config for the heartbeat cronjob" },
      { path: "proxyInjectorResources", line: 582, text: "#proxyInjectorResources:", kind: { like: "proxy.resources" }, why: "line 580-581: see proxy.resources for sub-fields" },
      { path: "proxyInjectorProxyResources", line: 585, text: "#proxyInjectorProxyResources:", kind: { like: "proxy.resources" }, why: "line 583-584: see proxy.resources for sub-fields" },
      { path: "spValidatorResources", line: 692, text: "#spValidatorResources:", kind: { like: "proxy.resources" }, why: "line 690-691: see proxy.resources for sub-fields" },
      { path: "tolerations", line: 697, text: "#tolerations:", kind: "list", why: "line 694: Kubernetes tolerations list" },
      { path: "nodeAffinity", line: 702, text: "#nodeAffinity:", kind: "openMap", why: "line 699: Kubernetes NodeAffinity object" },
      { path: "configReaders[].name", line: 751, text: "#- name:", kind: "leaf", why: "line 748-751: commented example element of configReaders" },
      { path: "configReaders[].namespace", line: 752, text: "#  namespace:", kind: "leaf", why: "line 748-752: commented example element of configReaders" },
    ],
    ignored: [],
  },
  // ---------------------------------------------------------------- linkerd-viz
  {
    chart: "linkerd-viz",
    chartVersion: "30.12.11",
    linkerdVersion: "stable-2.14.10",
    valuesFile: "linkerd-viz/values-stable-2.14.10.yaml",
    source: `linkerd/linkerd2 viz/charts/linkerd-viz/values.yaml@${STABLE}`,
    openMaps: {
      "prometheus.args": "line 432: 'Command line options for Prometheus binary' (flag name -> value)",
      "prometheus.globalConfig": "line 437: Prometheus global configuration (Prometheus config format)",
    },
    lists: {
      "prometheus.alertRelabelConfigs": "line 444-449: list, example elements commented",
      "prometheus.alertmanagers": "line 451-458: list, example elements commented",
      "prometheus.remoteWrite": "line 460-462: Prometheus remote_write list",
      "prometheus.ruleConfigMapMounts": "line 464-473: list, example elements commented",
      "prometheus.scrapeConfigs": "line 475-488: list, example elements commented",
      "prometheus.sidecarContainers": "line 490-513: list of Kubernetes containers, example commented",
    },
    commented: [
      PULL_SECRET(41),
      { path: "nodeAffinity", line: 56, text: "# nodeAffinity:", kind: "openMap", why: "line 53: Kubernetes NodeAffinity object" },
      { path: "metricsAPI.proxy.resources", line: 114, text: "# resources:", kind: { like: "metricsAPI.resources" }, why: "line 112: overrides default proxy resources (cpu/memory/ephemeral-storage)" },
      { path: "tap.proxy.resources", line: 213, text: "# resources:", kind: { like: "tap.resources" }, why: "line 211: overrides default proxy resources" },
      { path: "tapInjector.proxy.resources", line: 276, text: "# resources:", kind: { like: "tapInjector.resources" }, why: "line 274: overrides default proxy resources" },
      { path: "dashboard.proxy.resources", line: 371, text: "# resources:", kind: { like: "dashboard.resources" }, why: "line 369: overrides default proxy resources" },
      { path: "prometheus.persistence", line: 518, text: "#persistence:", kind: "leaf", why: "line 514-517: experimental PVC for prometheus data" },
      { path: "prometheus.persistence.storageClass", line: 520, text: "#  storageClass:", kind: "leaf", why: "line 519" },
      { path: "prometheus.persistence.accessMode", line: 522, text: "#  accessMode:", kind: "leaf", why: "line 521" },
      { path: "prometheus.persistence.size", line: 524, text: "#  size:", kind: "leaf", why: "line 523" },
      { path: "prometheus.proxy.resources", line: 546, text: "# resources:", kind: { like: "prometheus.resources" }, why: "line 544: overrides default proxy resources" },
    ],
    ignored: [
      { from: 247, to: 253, why: "example LabelSelectors under tapInjector.namespaceSelector/objectSelector (open maps)" },
      { from: 447, to: 513, why: "example elements of the free-form Prometheus lists" },
      { from: 514, to: 514, why: "'### WARNING:' prose" },
    ],
  },
  {
    chart: "linkerd-viz",
    chartVersion: "2026.8.3",
    linkerdVersion: "edge-26.8.3",
    valuesFile: "linkerd-viz/values-main-2026-08.yaml",
    chartFile: "linkerd-viz/Chart-main-2026-08.yaml",
    source: `linkerd/linkerd2 viz/charts/linkerd-viz/values.yaml@${MAIN}`,
    note: EDGE_NOTE,
    openMaps: {
      "prometheus.args": "'Command line options for Prometheus binary' (flag name -> value)",
      "prometheus.globalConfig": "Prometheus global configuration (Prometheus config format)",
    },
    lists: {
      "prometheus.alertRelabelConfigs": "list, example elements commented",
      "prometheus.alertmanagers": "list, example elements commented",
      "prometheus.remoteWrite": "Prometheus remote_write list",
      "prometheus.ruleConfigMapMounts": "list, example elements commented",
      "prometheus.scrapeConfigs": "list, example elements commented",
      "prometheus.metricRelabelConfigs": "list, example elements commented",
      "prometheus.sidecarContainers": "list of Kubernetes containers, example commented",
    },
    commented: [
      PULL_SECRET(45),
      { path: "nodeAffinity", line: 63, text: "# nodeAffinity:", kind: "openMap", why: "line 60: Kubernetes NodeAffinity object" },
      { path: "metricsAPI.proxy.resources", line: 132, text: "# resources:", kind: { like: "metricsAPI.resources" }, why: "overrides default proxy resources" },
      { path: "tap.proxy.resources", line: 234, text: "# resources:", kind: { like: "tap.resources" }, why: "overrides default proxy resources" },
      { path: "tapInjector.proxy.resources", line: 304, text: "# resources:", kind: { like: "tapInjector.resources" }, why: "overrides default proxy resources" },
      { path: "dashboard.proxy.resources", line: 402, text: "# resources:", kind: { like: "dashboard.resources" }, why: "overrides default proxy resources" },
      { path: "prometheus.persistence", line: 566, text: "#persistence:", kind: "leaf", why: "experimental PVC for prometheus data" },
      { path: "prometheus.persistence.storageClass", line: 568, text: "#  storageClass:", kind: "leaf", why: "line 567" },
      { path: "prometheus.persistence.accessMode", line: 570, text: "#  accessMode:", kind: "leaf", why: "line 569" },
      { path: "prometheus.persistence.size", line: 572, text: "#  size:", kind: "leaf", why: "line 571" },
      { path: "prometheus.proxy.resources", line: 594, text: "# resources:", kind: { like: "prometheus.resources" }, why: "overrides default proxy resources" },
    ],
    ignored: [
      { from: 278, to: 279, why: "example LabelSelector under tapInjector.objectSelector (open map)" },
      { from: 483, to: 561, why: "example elements of the free-form Prometheus lists" },
      { from: 562, to: 562, why: "'### WARNING:' prose" },
    ],
  },
  // ---------------------------------------------------------------- linkerd-jaeger
  {
    chart: "linkerd-jaeger",
    chartVersion: "30.12.11",
    linkerdVersion: "stable-2.14.10",
    valuesFile: "linkerd-jaeger/values-stable-2.14.10.yaml",
    source: `linkerd/linkerd2 jaeger/charts/linkerd-jaeger/values.yaml@${STABLE}`,
    commented: [PULL_SECRET(21)],
    ignored: [{ from: 222, to: 228, why: "example LabelSelectors under webhook.namespaceSelector/objectSelector (open maps)" }],
  },
  {
    chart: "linkerd-jaeger",
    chartVersion: "2025.9.4",
    linkerdVersion: "edge-25.9.4",
    valuesFile: "linkerd-jaeger/values-edge-25.9.4.yaml",
    chartFile: "linkerd-jaeger/Chart-edge-25.9.4.yaml",
    source: `linkerd/linkerd2 jaeger/charts/linkerd-jaeger/values.yaml@${JAEGER_EDGE}`,
    note:
      "Chart.yaml at tag edge-25.9.4 carries the placeholder version recorded in chartYamlVersion (CI stamps the " +
      "real one when publishing); edge charts are published as YYYY.M.X, so this is chart 2025.9.4. " +
      "Last release with the jaeger extension (removed in edge-25.10.1 / 2.19).",
    openMaps: {
      "collector.config": "line 98-102: OpenTelemetry Collector config object (see collector configuration docs); a string in 2.14",
    },
    commented: [
      PULL_SECRET(18),
      { path: "nodeAffinity", line: 33, text: "#nodeAffinity:", kind: "openMap", why: "line 30: Kubernetes NodeAffinity object" },
    ],
    ignored: [
      { from: 122, to: 123, why: "commented lines inside collector.config (open map)" },
      { from: 319, to: 320, why: "example LabelSelector under webhook.objectSelector (open map)" },
    ],
  },
];

const CANDIDATE = /^\s*#+\s*(-\s+)?[A-Za-z_][A-Za-z0-9_.-]*:(\s|$)/;

/** The fixture as test/support/chartKeys.ts reads it, plus how it was derived. */
type Fixture = ChartKeys & { derived: string; commentedKeys: NonNullable<ChartKeys["commentedKeys"]> };

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function join(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

class Collector {
  keys = new Set<string>();
  openMaps = new Set<string>();
  lists = new Set<string>();
  constructor(private readonly src: Source) {}

  add(p: string): void {
    for (const seg of p.split(".")) {
      if (seg === "" || seg.includes("/")) throw new Error(`${this.src.valuesFile}: unexpected key segment in ${p}`);
    }
    // register every ancestor object too
    const parts = p.split(".");
    for (let i = 1; i <= parts.length; i++) this.keys.add(parts.slice(0, i).join("."));
  }

  walk(value: unknown, p: string): void {
    const last = p.split(".").pop()!.replace(/\[\]$/, "");
    if (p) this.add(p);
    if (p && (this.src.openMaps?.[p] !== undefined || (isMap(value) && Object.keys(value).length === 0) ||
      (K8S_OPEN_MAP_NAMES.has(last) && (isMap(value) || value === null)))) {
      this.openMaps.add(p);
      return;
    }
    if (p && (Array.isArray(value) || this.src.lists?.[p] !== undefined || (K8S_LIST_NAMES.has(last) && value === null))) {
      this.lists.add(p);
      for (const el of Array.isArray(value) ? value : []) {
        if (isMap(el)) this.walk(el, `${p}[]`);
      }
      return;
    }
    if (isMap(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (k.includes(".")) {
          throw new Error(`${this.src.valuesFile}: key "${k}" under "${p}" contains a dot; classify "${p}" as an open map`);
        }
        this.walk(v, join(p, k));
      }
    }
  }
}

function derive(refDir: string, src: Source): Fixture {
  const file = path.join(refDir, src.valuesFile);
  const text = fs.readFileSync(file, "utf8");
  const lines = text.split("\n");
  const values = parse(text) ?? {};
  const c = new Collector(src);
  c.walk(values, "");

  // Check and classify every commented line that looks like a key.
  const cited = new Set(src.commented.map((k) => k.line));
  lines.forEach((l, i) => {
    const n = i + 1;
    if (!CANDIDATE.test(l)) return;
    if (cited.has(n) || src.ignored.some((r) => n >= r.from && n <= r.to)) return;
    throw new Error(`${src.valuesFile}:${n}: unclassified commented key-like line: ${l.trim()}`);
  });
  for (const ck of src.commented) {
    const l = lines[ck.line - 1] ?? "";
    if (!l.includes(ck.text)) throw new Error(`${src.valuesFile}:${ck.line}: expected "${ck.text}", found "${l}"`);
    c.add(ck.path);
    const kind = ck.kind;
    if (kind === "openMap") c.openMaps.add(ck.path);
    else if (kind === "list") c.lists.add(ck.path);
    else if (typeof kind === "object") {
      const prefix = `${kind.like}.`;
      const children = [...c.keys].filter((k) => k.startsWith(prefix));
      if (children.length === 0) throw new Error(`${src.valuesFile}: ${kind.like} has no children to copy`);
      for (const k of children) c.add(`${ck.path}.${k.slice(prefix.length)}`);
    }
    // a commented list element child implies the list
    const m = /^(.*)\[\]\./.exec(ck.path);
    if (m) c.lists.add(m[1]);
  }
  // keys.add registers "a[]" ancestors too: they are valid element paths.
  for (const p of Object.keys(src.openMaps ?? {})) if (!c.keys.has(p)) throw new Error(`${src.valuesFile}: open map ${p} not in file`);
  for (const p of Object.keys(src.lists ?? {})) if (!c.keys.has(p)) throw new Error(`${src.valuesFile}: list ${p} not in file`);

  let chartYamlVersion: string | undefined;
  if (src.chartFile) {
    const chart = parse(fs.readFileSync(path.join(refDir, src.chartFile), "utf8"));
    if (chart.name !== src.chart) throw new Error(`${src.chartFile}: name ${chart.name} != ${src.chart}`);
    chartYamlVersion = String(chart.version);
  }
  const sort = (s: Set<string>) => [...s].sort();
  return {
    chart: src.chart,
    chartVersion: src.chartVersion,
    ...(chartYamlVersion !== undefined ? { chartYamlVersion } : {}),
    linkerdVersion: src.linkerdVersion,
    source: src.source,
    ...(src.note ? { note: src.note } : {}),
    derived:
      "Derived by scripts/derive-chart-keys.ts from the chart's values.yaml (key paths only, no values). " +
      "Commented-out options are included from an explicit, line-checked list in that script.",
    keys: sort(c.keys),
    openMaps: sort(c.openMaps),
    lists: sort(c.lists),
    commentedKeys: src.commented.map((k) => ({ path: k.path, line: k.line, why: k.why })),
  };
}

function main(): void {
  const root = path.resolve(__dirname, "..");
  const refDir = path.resolve(root, process.argv[2] ?? "../shared/reference/linkerd");
  const outDir = path.join(root, "test/fixtures/chart-keys");
  fs.mkdirSync(outDir, { recursive: true });
  for (const src of SOURCES) {
    const fx = derive(refDir, src);
    const out = path.join(outDir, `${fx.chart}-${fx.chartVersion}.json`);
    fs.writeFileSync(out, JSON.stringify(fx, null, 2) + "\n");
    console.log(`${path.relative(root, out)}: ${fx.keys.length} keys, ${fx.openMaps.length} open maps, ${fx.lists.length} lists`);
  }
}

main();
