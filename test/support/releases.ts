/**
 * The project's own releases (not Linkerd's: that is lib/release.ts). `releases.json` lists every
 * published release with the commit it was released at, oldest first; CHANGELOG.md names the same
 * commit in the release's entry; package.json's `version` is the release being worked on (released
 * once it is in releases.json). Read by the unit test that keeps the three in step
 * (test/changelog.test.ts) and by the upgrade e2e (test/e2e/previousRelease.e2e.ts), which deploys
 * the previous release's commit and upgrades it to HEAD.
 */
import * as fs from "fs";
import * as path from "path";

/** Root of this checkout (test/support/../..). */
const ROOT = path.resolve(__dirname, "..", "..");

export interface ProjectRelease {
    /** Semantic version, as in package.json (`0.1.0`). */
    readonly version: string;
    /** The full commit hash the release was made at. */
    readonly commit: string;
    /** Release date, `YYYY-MM-DD`. */
    readonly date: string;
}

/** `a` < `b` as semantic versions (major.minor.patch; no pre-release tags in this project). */
export function compareVersions(a: string, b: string): number {
    const parse = (v: string) => {
        const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
        if (!m) throw new Error(`not a major.minor.patch version: "${v}"`);
        return m.slice(1).map(Number);
    };
    const [x, y] = [parse(a), parse(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
}

/** releases.json, checked: versions ascending, a full commit hash and a date each. */
export function readReleases(root = ROOT): ProjectRelease[] {
    const file = path.join(root, "releases.json");
    const doc = JSON.parse(fs.readFileSync(file, "utf8")) as { releases?: unknown };
    if (!Array.isArray(doc.releases)) throw new Error(`${file}: expected {"releases": [{"version", "commit", "date"}, ...]}`);
    const releases = doc.releases as ProjectRelease[];
    releases.forEach((r, i) => {
        const where = `${file}: releases[${i}]`;
        compareVersions(r.version, r.version);
        if (!/^[0-9a-f]{40}$/.test(r.commit ?? ""))
            throw new Error(`${where} (${r.version}): "commit" must be the full 40-character hash, got "${r.commit}"`);
        if (!/^\d{4}-\d{2}-\d{2}$/.test(r.date ?? "")) throw new Error(`${where} (${r.version}): "date" must be YYYY-MM-DD, got "${r.date}"`);
        if (i > 0 && compareVersions(releases[i - 1].version, r.version) >= 0)
            throw new Error(`${where}: versions must ascend (${releases[i - 1].version}, ${r.version})`);
    });
    return releases;
}

/** package.json's version: the release being worked on. */
export function currentVersion(root = ROOT): string {
    return (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version;
}

/**
 * The release a user upgrades from: the newest in releases.json below package.json's version (at a
 * release's own commit, package.json still names that release, so the one before it).
 */
export function previousRelease(root = ROOT): ProjectRelease {
    const current = currentVersion(root);
    const older = readReleases(root).filter((r) => compareVersions(r.version, current) < 0);
    if (older.length === 0) throw new Error(`releases.json lists no release below package.json's version ${current}: nothing to upgrade from`);
    return older[older.length - 1];
}
