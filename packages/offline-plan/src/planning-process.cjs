/**
 * How a planning child (child.ts) is started, in one place: runner.ts PlanningChild starts one when its first
 * batch comes, and a CLI may start it earlier (startPlanningChildEarly), before it loads anything else, so that
 * the child's own start (Node, the loader, the planner, the SDK) runs on the other core while the CLI loads its
 * modules and reads its arguments. The next PlanningChild of the process adopts the child started early
 * (takeEarlyPlanningChild); one never adopted (--help, a usage error) is stopped, and its directory removed,
 * when the process exits.
 *
 * A .cjs file with Node's modules only: the check CLI loads it before the compile cache (compiled-modules.ts)
 * and the rest of the planner.
 */
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { PLANNER_V8_FLAGS } = require("./v8-flags.cjs");

const CHILD = path.join(__dirname, "child.ts");
/**
 * The TypeScript loader every process of ours runs under (`node --require TS_REGISTER file.ts`), by absolute
 * path: the planning child runs in the program's directory, which may have no loader of its own.
 */
const TS_REGISTER = path.resolve(__dirname, "..", "register.cjs");
/**
 * The node_modules our own @pulumi/pulumi is installed in (the workspace's, or the package's own when it is
 * installed alone): where a program without node_modules finds the SDK and its providers.
 */
const OUR_NODE_MODULES = path.resolve(path.dirname(require.resolve("@pulumi/pulumi/package.json")), "..", "..");

/** A temp directory for one child: its stack file (the stack it is planning) and its results. */
function childDirectory() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "offline-plan-"));
    return { dir, stackFile: path.join(dir, "current-stack") };
}

/**
 * Starts child.ts with an IPC channel. Idle, it does not keep this process alive: neither the process, its
 * pipes nor its channel (PlanningChild refs the channel while a batch runs).
 */
function spawnPlanningChild(stackFile) {
    // V8's tiering for a short planning process (v8-flags.cjs), on the command line: before the child compiles anything.
    const child = spawn(process.execPath, [...PLANNER_V8_FLAGS, "--require", TS_REGISTER, CHILD, stackFile], {
        // A program without its own node_modules (another team's, checked with --program) resolves
        // @pulumi/* from ours; its own node_modules, when present, still come first.
        env: { ...process.env, NODE_PATH: [process.env.NODE_PATH, OUR_NODE_MODULES].filter(Boolean).join(path.delimiter) },
        stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    // A request sent as the child dies fails on its channel; the exit fails what was pending.
    child.on("error", () => undefined);
    child.unref();
    for (const stream of [child.stdout, child.stderr]) {
        stream.unref?.();
    }
    child.channel?.unref?.();
    return child;
}

/** The child started early and not adopted yet: { child, dir, stackFile, output, onOutput, stop }. */
let early;

/** Starts a planning child now, for the next PlanningChild of this process to adopt (at most one waits); its pid. */
function startPlanningChildEarly() {
    if (early !== undefined) {
        return early.child.pid;
    }
    const { dir, stackFile } = childDirectory();
    const child = spawnPlanningChild(stackFile);
    const waiting = { child, dir, stackFile, output: "" };
    // What it prints before it is adopted is kept for PlanningChild (it names a child that died).
    waiting.onOutput = (chunk) => void (waiting.output += chunk.toString("utf8"));
    child.stdout.on("data", waiting.onOutput);
    child.stderr.on("data", waiting.onOutput);
    waiting.stop = () => {
        child.kill("SIGTERM");
        fs.rmSync(dir, { recursive: true, force: true });
    };
    process.once("exit", waiting.stop);
    early = waiting;
    return child.pid;
}

/**
 * The child started early, handed over once ({ child, dir, stackFile, output }): undefined when none was
 * started or it has already ended (its directory is then removed, and the caller starts a child of its own).
 */
function takeEarlyPlanningChild() {
    const waiting = early;
    early = undefined;
    if (waiting === undefined) {
        return undefined;
    }
    process.off("exit", waiting.stop);
    waiting.child.stdout.off("data", waiting.onOutput);
    waiting.child.stderr.off("data", waiting.onOutput);
    if (waiting.child.exitCode !== null || waiting.child.signalCode !== null || !waiting.child.connected) {
        waiting.stop();
        return undefined;
    }
    return { child: waiting.child, dir: waiting.dir, stackFile: waiting.stackFile, output: waiting.output };
}

module.exports = { CHILD, TS_REGISTER, OUR_NODE_MODULES, childDirectory, spawnPlanningChild, startPlanningChildEarly, takeEarlyPlanningChild };
