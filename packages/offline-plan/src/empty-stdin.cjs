/**
 * The plan CLI (bin/offline-plan.cjs) runs the program in its own process, so the program's standard input was
 * the CLI's: the terminal `npm run plan` was typed at, or whatever pipe a script left open. A program that reads
 * it (`fs.readFileSync(0)`, `process.stdin`) waited on the terminal, and one given a pipe planned with what the pipe
 * held. The Pulumi language host runs a program with an empty stdin, as the check's planning child does
 * (planning-process.cjs, `stdio: ["ignore", ...]`); the CLI itself reads none. So the CLI's fd 0 is made
 * /dev/null before anything runs: POSIX `open` returns the lowest free descriptor, so closing 0 and opening
 * /dev/null at once gives fd 0 (nothing else runs between the two: no thread of this process opens files at
 * this point). Not on Windows (no /dev/null; Node there keeps the console).
 */
"use strict";

const fs = require("fs");

/** Makes this process's fd 0 /dev/null; true when it changed it, false when it already was or cannot be. */
function emptyStdin() {
    if (process.platform === "win32") {
        return false;
    }
    const devNull = fs.statSync("/dev/null");
    let current;
    try {
        current = fs.fstatSync(0);
    } catch {
        current = undefined; // fd 0 closed: the open below takes it.
    }
    if (current && current.isCharacterDevice() && current.rdev === devNull.rdev) {
        return false;
    }
    if (current) {
        fs.closeSync(0);
    }
    const fd = fs.openSync("/dev/null", "r");
    if (fd !== 0) {
        // Not reachable in a single-threaded start; never leave a stray descriptor if it were.
        fs.closeSync(fd);
        return false;
    }
    return true;
}

module.exports = { emptyStdin };
