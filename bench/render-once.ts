/**
 * One offline render in a fresh process, for the benchmark: prints {"resources": n, "maxRssKb": k}.
 * ts-node bench/render-once.ts <program.ts> [<stack file>]
 */
import * as path from "path";

// Pulumi records a full stack trace for every resource it registers (its source position); with
// ts-node's source-map rewriting installed, each costs milliseconds. The render reports errors by
// message, so it does without the rewriting (profiled: ~20% of a render of the picluster stack).
delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
import { readStackConfigFiles, renderProgram } from "../lib/render";

async function main() {
    const [program, stackFile] = process.argv.slice(2);
    const repo = path.resolve(__dirname, "..");
    const config = stackFile ? readStackConfigFiles(repo, "bench", path.resolve(stackFile)) : { config: {}, secretKeys: [] };
    const result = await renderProgram(path.resolve(program), config);
    process.stdout.write(JSON.stringify({ resources: result.resources.length, maxRssKb: process.resourceUsage().maxRSS }) + "\n");
}

main().then(
    () => process.exit(0),
    (e) => {
        console.error(e);
        process.exit(1);
    },
);
