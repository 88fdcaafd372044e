/** Renders the program under mocks with a configuration given as plain objects. */
import * as path from "path";
import { PROJECT } from "../../lib/config";
import { RenderResult, RenderedResource, renderProgram } from "../../lib/render";

export const REPO = path.resolve(__dirname, "../..");

export async function renderWith(
    values: Record<string, unknown>,
    secrets: Record<string, string> = {},
    registered: RenderedResource[] = [],
): Promise<RenderResult> {
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) config[`${PROJECT}:${key}`] = JSON.stringify(value);
    for (const [key, value] of Object.entries(secrets)) config[`${PROJECT}:${key}`] = value;
    return renderProgram(
        path.join(REPO, "index.ts"),
        { config, secretKeys: Object.keys(secrets).map((k) => `${PROJECT}:${k}`) },
        "picluster",
        registered,
    );
}

export function byName(resources: readonly RenderedResource[], type: string, name: string): RenderedResource {
    const found = resources.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`no ${type} named ${name}; have: ${resources.map((r) => `${r.type} ${r.name}`).join(", ")}`);
    return found;
}
