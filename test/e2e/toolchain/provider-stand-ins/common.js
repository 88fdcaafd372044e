// Shared helpers of the provider stand-ins (see pulumi-resource-random.js / pulumi-resource-command.js).
// They run on @pulumi/pulumi's own provider server (`@pulumi/pulumi/provider` main()), which speaks
// pulumirpc.ResourceProvider, tells the engine it accepts secrets, and hands us plain JS objects in
// which secret values are wrapped as { [SIG]: SECRET_SIG, value } and unknown values (preview) are
// the UNKNOWN sentinel string.
"use strict";

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function isSecret(v) {
    return v !== null && typeof v === "object" && v[SIG] === SECRET_SIG;
}

/** Deep copy with every secret wrapper removed. */
function unwrap(v) {
    if (isSecret(v)) return unwrap(v.value);
    if (Array.isArray(v)) return v.map(unwrap);
    if (v !== null && typeof v === "object") {
        const out = {};
        for (const [k, x] of Object.entries(v)) out[k] = unwrap(x);
        return out;
    }
    return v;
}

function secret(v) {
    return isSecret(v) ? v : { [SIG]: SECRET_SIG, value: v };
}

function containsSecret(v) {
    if (isSecret(v)) return true;
    if (Array.isArray(v)) return v.some(containsSecret);
    if (v !== null && typeof v === "object") return Object.values(v).some(containsSecret);
    return false;
}

function containsUnknown(v) {
    if (v === UNKNOWN) return true;
    if (Array.isArray(v)) return v.some(containsUnknown);
    if (v !== null && typeof v === "object") return Object.values(v).some(containsUnknown);
    return false;
}

/** Canonical JSON (sorted keys) of the unwrapped value, for comparisons. */
function canon(v) {
    const u = unwrap(v);
    const sort = (x) => {
        if (Array.isArray(x)) return x.map(sort);
        if (x !== null && typeof x === "object") {
            const o = {};
            for (const k of Object.keys(x).sort()) o[k] = sort(x[k]);
            return o;
        }
        return x;
    };
    return JSON.stringify(sort(u === undefined ? null : u));
}

/** Input keys whose value differs (unknown counts as changed). */
function changedKeys(olds, news, keys) {
    return keys.filter((k) => containsUnknown(news[k]) || canon(olds[k]) !== canon(news[k]));
}

/** The type token from a URN: urn:pulumi:stack::project::parent$type::name. */
function typeOf(urn) {
    const parts = urn.split("::");
    return parts[2].split("$").pop();
}

function wantedVersion(pkg, fallback) {
    try {
        return require(`${pkg}/package.json`).version;
    } catch {
        return fallback;
    }
}

/** Like the language host stand-in: exit when the engine that started us is gone. */
function exitWithParent() {
    const parentPid = process.ppid;
    setInterval(() => {
        if (process.ppid !== parentPid) process.exit(0);
    }, 2000).unref();
}

module.exports = {
    SIG,
    SECRET_SIG,
    UNKNOWN,
    isSecret,
    unwrap,
    secret,
    containsSecret,
    containsUnknown,
    canon,
    changedKeys,
    typeOf,
    wantedVersion,
    exitWithParent,
};
