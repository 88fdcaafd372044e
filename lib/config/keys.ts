/** How configuration keys are named: `picluster-linkerd:<section>.<key>`, arrays as `[i]`. */
import { closest, distance } from "fastest-levenshtein";

/** The Pulumi project, and the namespace of every configuration key. */
export const PROJECT = "picluster-linkerd";

/** `["linkerd", "channel"]` -> `picluster-linkerd:linkerd.channel`; array indices as `[2]`. */
export function configKeyPath(path: readonly PropertyKey[]): string {
    let out = `${PROJECT}:`;
    path.forEach((segment, i) => {
        if (typeof segment === "number") out += `[${segment}]`;
        else out += (i === 0 ? "" : ".") + String(segment);
    });
    return out;
}

/** `"meshing.namespaces[0]"` -> `picluster-linkerd:meshing.namespaces[0]`. */
export function configKey(path: string): string {
    return `${PROJECT}:${path}`;
}

/** The closest known key to an unknown one, when it is close enough to be a typo (edit distance). */
export function didYouMean(unknown: string, known: readonly string[]): string | undefined {
    if (known.length === 0) return undefined;
    const best = closest(unknown, [...known]);
    return distance(unknown.toLowerCase(), best.toLowerCase()) <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}
