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
