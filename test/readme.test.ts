import * as fs from "fs";
import * as path from "path";
import { configKeyPaths } from "../lib/config";

const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");

test.each(configKeyPaths())("README documents the config key %s", (key) => {
    expect(readme).toContain(`| \`${key}\``);
});

test("README gives the two set-up commands", () => {
    expect(readme).toMatch(/npm ci\s/);
    expect(readme).toMatch(/npm test\s/);
});

test("README documents npm run check beside pulumi up: --json, --restart and the exit codes", () => {
    const deploy = readme.slice(readme.indexOf("## Preview and deploy"), readme.indexOf("## Configuration"));
    expect(deploy).toMatch(/pulumi up --policy-pack policy[\s\S]*npm run check -- --stack picluster/);
    expect(deploy).toContain("--json");
    expect(deploy).toContain("--restart");
    expect(deploy).toMatch(/`0` every check passed.*`1` a check failed.*`2` it cannot run/s);
});
