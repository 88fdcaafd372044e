/**
 * Rule — the viz dashboard with DNS-rebinding protection disabled.
 *
 * The viz `web` component only answers requests whose Host matches `dashboard.enforcedHostRegexp` (empty =
 * localhost, 127.0.0.1, [::1] and web.linkerd-viz.svc[.cluster.local]). The guide suggests `enforcedHostRegexp: ".*"`
 * for Traefik, which switches the protection off: any web page a cluster user visits can then drive the dashboard
 * (and its tap API) through DNS rebinding. Expose the dashboard with a Host-rewriting ingress instead, or set a
 * regexp that matches only the real hostname.
 */
import { Obj, containers, get, isWorkloadKind, isObj, listAt, podTemplate, str } from "../../lib/k8s";
import { Rule } from "./types";

export const VIZ_RULE = "linkerd-viz-dns-rebinding";

const PROBES = ["rebind.attacker.example", "evil.example.com:8084", "198.51.100.7"];

/** A host regexp that accepts hosts an attacker controls disables the protection. */
export function hostRegexpAcceptsAnyHost(re: string): boolean {
    if (re.trim() === "") return false; // chart default: protection on
    let r: RegExp;
    try {
        r = new RegExp(re);
    } catch {
        return false; // not a JS-compatible regexp; cannot judge
    }
    return PROBES.every((h) => r.test(h));
}

function message(where: string, re: string): string {
    return (
        `${where} sets the viz dashboard's enforcedHostRegexp to "${re}", which accepts any Host header and disables the ` +
        `dashboard's DNS-rebinding protection (guide: "Linkerd Viz", Step 2). Fix: leave dashboard.enforcedHostRegexp empty and ` +
        `rewrite the Host at the ingress (e.g. a Traefik Middleware setting Host to web.linkerd-viz.svc.cluster.local:8084), ` +
        `or use a regexp that matches only your dashboard hostname, e.g. "^linkerd\\.example\\.com(:\\d+)?$".`
    );
}

/** Helm values of a linkerd-viz release. */
export function checkVizValues(values: unknown, where: string): string[] {
    if (!isObj(values)) return [];
    const re = get(values, "dashboard", "enforcedHostRegexp");
    if (typeof re !== "string" || !hostRegexpAcceptsAnyHost(re)) return [];
    return [message(where, re)];
}

export function isVizChart(chart: unknown): boolean {
    const c = str(chart);
    return c !== undefined && /(^|\/)linkerd-viz(-[\d.]+\.tgz)?\/?$/.test(c.trim());
}

export const vizRule: Rule = {
    name: VIZ_RULE,
    description: 'The linkerd-viz dashboard with DNS-rebinding protection disabled (enforcedHostRegexp ".*").',
    defaultEnforcement: "advisory",
    check(o: Obj): string[] {
        // Rendered viz chart: the web container gets `-enforced-host=<regexp>`.
        if (!isWorkloadKind(o.kind)) return [];
        const t = podTemplate(o);
        const out: string[] = [];
        for (const { c } of containers(t?.spec)) {
            const args = [...listAt(c, "command"), ...listAt(c, "args")];
            for (const a of args) {
                const m = /^--?enforced-host=(.*)$/.exec(String(a));
                // On the command line an empty value switches the check off (the chart substitutes its default
                // regexp when the Helm value is empty, so there empty is safe).
                if (m && (m[1].trim() === "" || hostRegexpAcceptsAnyHost(m[1])))
                    out.push(message(`container ${str(c.name) ?? "?"} (-enforced-host)`, m[1]));
            }
        }
        return out;
    },
};
