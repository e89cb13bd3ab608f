/**
 * V8's tiering for the planning processes (the plan CLI, bin/offline-plan.cjs, and the planning child,
 * planning-process.cjs): a function is optimized by TurboFan after about 15 times the bytecode run that V8's
 * default asks (`--interrupt-budget`, 67,584 in Node 20's V8 11.3).
 *
 * A plan is a short process (half a second for our three stacks) that runs most of its code a few times:
 * TurboFan compiled 84 functions in plan prod+dr, on V8's background threads, about 220 ms of CPU of the
 * process's 760, and the main thread's own CPU was the same with or without it (380-400 ms: the optimized code
 * came too late to pay back). On two shared cores those threads compete with the main thread of the same plan,
 * with the checker beside the planning child, and with everyone else. Delayed rather than turned off
 * (`--no-opt` measured the same here): a long plan (a program of thousands of resources) still gets its hot
 * functions optimized. bench/README.md section 1 (h31-plan) has the figures.
 *
 * Only tiering: nothing a program can observe changes but its speed. The plan CLI run by a node given the flag
 * on its command line keeps that value (Node refuses these V8 flags in NODE_OPTIONS).
 */
"use strict";

const PLANNER_V8_FLAGS = ["--interrupt-budget=1000000"];

/** The flags of PLANNER_V8_FLAGS that `given` (a process's node options, as words) does not set itself. */
function plannerV8FlagsBeside(given) {
    return PLANNER_V8_FLAGS.filter((flag) => {
        const name = flag.split("=")[0];
        return !given.some((arg) => arg === name || arg.startsWith(`${name}=`));
    });
}

/**
 * Sets the planner's flags in this process (the plan CLI, before it loads anything: V8 reads the budget when
 * it sets up a function's feedback, so code compiled after this tiers by it). Returns the flags set.
 */
function usePlannerV8Flags() {
    const flags = plannerV8FlagsBeside(process.execArgv);
    if (flags.length > 0) {
        require("v8").setFlagsFromString(flags.join(" "));
    }
    return flags;
}

module.exports = { PLANNER_V8_FLAGS, plannerV8FlagsBeside, usePlannerV8Flags };
