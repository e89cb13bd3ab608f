#!/usr/bin/env node
/**
 * The `offline-plan` command (package.json `bin`): the plan CLI (src/plan.ts), its TypeScript compiled on load
 * by the package's own loader (register.cjs), as `node --require offline-plan/register.cjs src/plan.ts` runs it.
 * `offline-plan --help` lists the options.
 */
"use strict";
require("../register.cjs");
require("../src/plan.ts").runPlanCli();
