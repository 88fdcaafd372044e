/**
 * The benchmark table in docs/development.md is generated from bench/results.json by `npm run bench`:
 * the two stay in step, and every figure keeps its samples, load and machine.
 */
import * as fs from "fs";
import * as path from "path";
import { DOCS_BEGIN, DOCS_END, Results, docsBlock, figure, median, replaceDocsBlock, table } from "../bench/figures";

const repo = path.resolve(__dirname, "..");
const results = JSON.parse(fs.readFileSync(path.join(repo, "bench", "results.json"), "utf8")) as Results;

describe("bench/results.json and docs/development.md", () => {
    test("the table in docs/development.md is the one generated from bench/results.json (run npm run bench to refresh both)", () => {
        const doc = fs.readFileSync(path.join(repo, "docs", "development.md"), "utf8");
        const block = doc.slice(doc.indexOf(DOCS_BEGIN), doc.indexOf(DOCS_END) + DOCS_END.length);
        expect(block).toBe(docsBlock(results));
    });

    test("every figure keeps its samples, its baseline's, a load per sample and the machine; the value is their median", () => {
        expect(results.figures.length).toBeGreaterThan(0);
        for (const f of results.figures) {
            expect([f.name, f.samples.length > 0, f.loads.length]).toEqual([f.name, true, f.samples.length]);
            expect(f.machine.cpus).toBeGreaterThan(0);
            expect(Math.abs(f.value - median(f.samples))).toBeLessThanOrEqual(Math.abs(f.value) * 0.01 + 0.5);
            if (f.baseline !== null) expect(f.baselineSamples.length).toBeGreaterThan(0);
            expect(typeof f.pass === "boolean" || f.target === "-").toBe(true);
        }
    });
});

describe("bench/figures", () => {
    test("a figure is the median of its samples against the median of its baseline's, with pass/fail on its target", () => {
        const f = figure({
            name: "x",
            unit: "s",
            samples: [3, 1, 2],
            baselineSamples: [1, 1, 4],
            loads: [1, 2, 3],
            target: { on: "ratio", op: "<=", limit: 1.3 },
        });
        expect([f.value, f.baseline, f.ratio, f.pass, f.target]).toEqual([2, 1, 2, false, "ratio <= 1.3"]);
        expect(median([4, 1, 3, 2])).toBe(2.5);
        expect(table([f])).toMatch(/\| x +\| 2 s +\| 1 s +\| 2 +\| ratio <= 1.3 \| NO +\| 2.0 \(1.0-3.0\) \| 3 \|/);
    });

    test("the docs block is replaced between its markers only", () => {
        const doc = `before\n${DOCS_BEGIN}\nold\n${DOCS_END}\nafter\n`;
        expect(replaceDocsBlock(doc, "NEW")).toBe("before\nNEW\nafter\n");
        expect(() => replaceDocsBlock("no markers", "NEW")).toThrow(/lacks the markers/);
    });
});
