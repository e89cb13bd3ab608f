/**
 * check.ts's first import: run as the check CLI (check.ts the process's main module), it starts the planning
 * child at once (offline-plan/planning-process.cjs), before the CLI loads its compile cache, its options and
 * the rest of the planner's client. The child's own start (Node, the loader, the planner, the SDK) is most of
 * what comes before the first stack's plan, and the child plans every stack the check waits for: started
 * first, it runs on the other core while this process loads. Imported for anything else (a test reading
 * check.ts), it starts nothing.
 */
import * as path from "path";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startPlanningChildEarly } = require("offline-plan/planning-process.cjs") as { startPlanningChildEarly(): number | undefined };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { usePlannerV8Flags } = require("offline-plan/v8-flags.cjs") as { usePlannerV8Flags(): string[] };

if (require.main?.filename === path.join(__dirname, "check.ts")) {
    startPlanningChildEarly();
    // The checker is a short process too, beside its planning child on two cores: V8's tiering as the planner's
    // (offline-plan's src/v8-flags.cjs; the checker's own CPU about 0.93x of the check's, bench/README.md section 1).
    usePlannerV8Flags();
}
