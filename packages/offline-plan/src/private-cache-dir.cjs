/**
 * privateCacheDir(name): `<temp dir>/<name>-<uid>`, created mode 0700, when it is this user's alone; undefined
 * when it is not (another user made it first under the shared temp dir, or it is open to others) or cannot
 * be made. Both of the package's caches hold code this process runs (register.cjs: the compiled JavaScript;
 * compiled-modules.ts: V8 code cache and source maps), so neither reads nor writes a directory that
 * another user could have filled: without it, the process compiles again.
 */
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");

function privateCacheDir(name) {
    const dir = path.join(os.tmpdir(), `${name}-${typeof process.getuid === "function" ? process.getuid() : "user"}`);
    try {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const stat = fs.statSync(dir);
        const own = stat.isDirectory() && (typeof process.getuid !== "function" || stat.uid === process.getuid()) && (stat.mode & 0o077) === 0;
        return own ? dir : undefined;
    } catch {
        return undefined;
    }
}

module.exports = { privateCacheDir };
