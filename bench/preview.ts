/**
 * Figure 3: `pulumi preview` of the picluster stack against a one-resource program, on the same
 * engine (the toolchain's CLI and providers) and the same local file backend.
 */
import type { Figure } from "./run";

export async function realPreviewFigures(_runs: number): Promise<{ figures: Figure[] } | { skipped: string }> {
    return { skipped: "not wired yet" };
}
