#!/usr/bin/env node
// STAND-IN for the Pulumi random provider (pulumi-resource-random), for the e2e tests only.
//
// Why it exists: the real provider is the Go module github.com/pulumi/pulumi-random/provider/v4,
// and the Go module proxy reachable from our machines refuses every version of it (403). The engine
// only needs a gRPC pulumirpc.ResourceProvider, so this file implements, on @pulumi/pulumi's own
// provider server, the two resources this program uses, with the input/output names of
// @pulumi/random 4.21.2:
//   random:index/randomPassword:RandomPassword  length, special, upper, lower, numeric, number,
//       minLower, minUpper, minNumeric, minSpecial, overrideSpecial, keepers
//       -> result, bcryptHash (both secret)
//   random:index/randomBytes:RandomBytes        length, keepers -> base64, hex (both secret)
// Any input change replaces the resource (as in the real provider: every input is ForceNew).
// Randomness: crypto.randomInt / crypto.randomBytes; bcrypt: bcryptjs, cost 10 (Go's DefaultCost).
//
// test/e2e/toolchain/toolchain.ts installs it as `pulumi-resource-random` in the toolchain bin dir when the
// real provider cannot be built. Runs under Node >= 22 from this repository's node_modules.
"use strict";

// Node's compile cache, as the program has it (lib/compileCache.js): a stand-in written in JavaScript
// starts in less time, nearer the Go binary it stands in for.
require("../../../../lib/compileCache.js");

const crypto = require("crypto");
const bcrypt = require("bcryptjs");
const provider = require("@pulumi/pulumi/provider");
const { unwrap, secret, changedKeys, typeOf, wantedVersion, exitWithParent } = require("./common");

const PASSWORD = "random:index/randomPassword:RandomPassword";
const BYTES = "random:index/randomBytes:RandomBytes";

const PASSWORD_DEFAULTS = {
    special: true,
    upper: true,
    lower: true,
    numeric: true,
    number: true,
    minLower: 0,
    minUpper: 0,
    minNumeric: 0,
    minSpecial: 0,
};
const PASSWORD_INPUTS = ["length", ...Object.keys(PASSWORD_DEFAULTS), "overrideSpecial", "keepers"];
const BYTES_INPUTS = ["length", "keepers"];

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NUMERIC = "0123456789";
const SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

function pick(chars, n) {
    let s = "";
    for (let i = 0; i < n; i++) s += chars[crypto.randomInt(chars.length)];
    return s;
}

function shuffle(s) {
    const a = [...s];
    for (let i = a.length - 1; i > 0; i--) {
        const j = crypto.randomInt(i + 1);
        [a[i], a[j]] = [a[j], a[i]];
    }
    return a.join("");
}

/** terraform-provider-random's algorithm: the minimums first, the rest from every enabled class, shuffled. */
function generatePassword(p) {
    const numeric = p.numeric !== false && p.number !== false;
    const special = p.overrideSpecial !== undefined && p.overrideSpecial !== null && p.overrideSpecial !== "" ? p.overrideSpecial : SPECIAL;
    const classes = [
        [p.upper, UPPER, p.minUpper],
        [p.lower, LOWER, p.minLower],
        [numeric, NUMERIC, p.minNumeric],
        [p.special, special, p.minSpecial],
    ];
    let all = "";
    let result = "";
    for (const [on, chars, min] of classes) {
        if (!on) continue;
        all += chars;
        result += pick(chars, min || 0);
    }
    if (all === "") throw new Error("at least one of upper, lower, numeric or special must be true");
    result += pick(all, Math.max(0, p.length - result.length));
    return shuffle(result);
}

function checkPassword(news) {
    const inputs = { ...PASSWORD_DEFAULTS, ...news };
    const failures = [];
    const p = unwrap(inputs);
    if (typeof p.length !== "number" || !Number.isInteger(p.length) || p.length < 1) {
        failures.push({ property: "length", reason: "length must be an integer >= 1" });
    } else {
        const mins = (p.minUpper || 0) + (p.minLower || 0) + (p.minNumeric || 0) + (p.minSpecial || 0);
        if (mins > p.length) failures.push({ property: "length", reason: `length (${p.length}) must be >= the sum of the min* values (${mins})` });
    }
    // `number` is the deprecated alias of `numeric`: keep them in step as the real provider does.
    if (news.numeric === undefined && news.number !== undefined) inputs.numeric = news.number;
    if (news.number === undefined && news.numeric !== undefined) inputs.number = news.numeric;
    return { inputs, failures };
}

function checkBytes(news) {
    const p = unwrap(news);
    const failures = [];
    if (typeof p.length !== "number" || !Number.isInteger(p.length) || p.length < 1) {
        failures.push({ property: "length", reason: "length must be an integer >= 1" });
    }
    return { inputs: news, failures };
}

const randomProvider = {
    version: wantedVersion("@pulumi/random", "4.21.2"),
    async check(urn, _olds, news) {
        switch (typeOf(urn)) {
            case PASSWORD:
                return checkPassword(news);
            case BYTES:
                return checkBytes(news);
            default:
                return { inputs: news, failures: [{ property: "", reason: `unknown resource type ${typeOf(urn)} (random stand-in)` }] };
        }
    },
    async diff(_id, urn, olds, news) {
        const keys = typeOf(urn) === PASSWORD ? PASSWORD_INPUTS : BYTES_INPUTS;
        const changed = changedKeys(olds, news, keys);
        return { changes: changed.length > 0, replaces: changed, deleteBeforeReplace: false };
    },
    async create(urn, inputs) {
        const p = unwrap(inputs);
        switch (typeOf(urn)) {
            case PASSWORD: {
                const result = generatePassword(p);
                const bcryptHash = bcrypt.hashSync(result, 10);
                return { id: "none", outs: { ...inputs, result: secret(result), bcryptHash: secret(bcryptHash) } };
            }
            case BYTES: {
                const bytes = crypto.randomBytes(p.length);
                return { id: "none", outs: { ...inputs, base64: secret(bytes.toString("base64")), hex: secret(bytes.toString("hex")) } };
            }
            default:
                throw new Error(`unknown resource type ${typeOf(urn)} (random stand-in)`);
        }
    },
    async read(id, _urn, props) {
        return { id, props };
    },
    async update() {
        throw new Error("random stand-in: every input change replaces the resource; update is never expected");
    },
    async delete() {
        // Nothing outside the state to delete.
    },
};

exitWithParent();
provider.main(randomProvider, process.argv.slice(2));
