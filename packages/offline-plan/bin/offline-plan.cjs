#!/usr/bin/env node
/**
 * The `offline-plan` command (package.json `bin`): the plan CLI (src/plan.ts), its TypeScript compiled on load
 * by the package's own loader (register.cjs), as `node --require offline-plan/register.cjs src/plan.ts` runs it.
 * `offline-plan --help` lists the options.
 */
"use strict";
// First: V8's tiering for a short planning process (src/v8-flags.cjs says why), before anything is compiled.
require("../src/v8-flags.cjs").usePlannerV8Flags();
// The program runs in this process: its stdin is empty, as under the Pulumi language host (src/empty-stdin.cjs).
require("../src/empty-stdin.cjs").emptyStdin();
require("../register.cjs");
require("../src/plan.ts").runPlanCli();
