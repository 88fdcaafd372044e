/**
 * Releases kept in step: package.json's version, CHANGELOG.md's entries and the commits in
 * releases.json (which the upgrade e2e reads), and the LICENSE package.json names.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compareVersions, currentVersion, previousRelease, readReleases } from "./support/releases";

const ROOT = path.join(__dirname, "..");
const changelog = fs.readFileSync(path.join(ROOT, "CHANGELOG.md"), "utf8");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string; license: string };

interface Entry {
    version: string;
    /** `unreleased` or YYYY-MM-DD. */
    date: string;
    /** The full hash on the entry's `Commit:` line, or `unreleased`. */
    commit: string;
}

/** `## <version> - <date|unreleased>` headings, each followed by a `Commit:` line. */
function entries(): Entry[] {
    const out: Entry[] = [];
    const sections = changelog.split(/^## /m).slice(1);
    for (const section of sections) {
        const heading = /^(\d+\.\d+\.\d+) - (unreleased|\d{4}-\d{2}-\d{2})\n/.exec(section);
        if (!heading)
            throw new Error(`CHANGELOG.md: a release heading must read "## <x.y.z> - <YYYY-MM-DD|unreleased>", got "## ${section.split("\n")[0]}"`);
        const commit = /^Commit: (?:`([0-9a-f]{40})`|(unreleased))/m.exec(section);
        if (!commit) throw new Error(`CHANGELOG.md ${heading[1]}: no "Commit: \`<full hash>\`" (or "Commit: unreleased") line`);
        out.push({ version: heading[1], date: heading[2], commit: commit[1] ?? commit[2] });
    }
    return out;
}

test("CHANGELOG.md has an entry per version, newest first, the newest being package.json's version", () => {
    const versions = entries().map((e) => e.version);
    expect(versions.length).toBeGreaterThanOrEqual(2);
    expect(versions[0]).toBe(pkg.version);
    expect([...versions].sort((a, b) => compareVersions(b, a))).toEqual(versions);
    expect(new Set(versions).size).toBe(versions.length);
});

test("every release in releases.json has its CHANGELOG entry with the same date and commit", () => {
    const byVersion = new Map(entries().map((e) => [e.version, e]));
    for (const r of readReleases()) {
        expect([r.version, byVersion.get(r.version)]).toEqual([r.version, { version: r.version, date: r.date, commit: r.commit }]);
    }
});

test("a CHANGELOG entry is either released (in releases.json) or unreleased (package.json's version only)", () => {
    const released = new Set(readReleases().map((r) => r.version));
    for (const e of entries()) {
        if (released.has(e.version)) continue;
        expect([e.version, e.date, e.commit]).toEqual([pkg.version, "unreleased", "unreleased"]);
    }
});

test("the upgrade e2e starts from the newest release below package.json's version", () => {
    const previous = previousRelease();
    expect(compareVersions(previous.version, currentVersion())).toBeLessThan(0);
    const newer = readReleases().filter((r) => compareVersions(r.version, previous.version) > 0 && compareVersions(r.version, currentVersion()) < 0);
    expect(newer).toEqual([]);
});

test("releases.json refuses what the e2e could not check out", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-releases-"));
    try {
        fs.writeFileSync(
            path.join(dir, "releases.json"),
            JSON.stringify({ releases: [{ version: "0.1.0", commit: "6b73e1c", date: "2026-12-01" }] }),
        );
        expect(() => readReleases(dir)).toThrow(/full 40-character hash/);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("LICENSE is the Apache License 2.0 text package.json names, word for word", () => {
    expect(pkg.license).toBe("Apache-2.0");
    const text = fs.readFileSync(path.join(ROOT, "LICENSE"));
    // sha256 of https://www.apache.org/licenses/LICENSE-2.0.txt
    expect(crypto.createHash("sha256").update(text).digest("hex")).toBe("cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30");
});
