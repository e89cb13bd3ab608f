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

if (require.main?.filename === path.join(__dirname, "check.ts")) {
    startPlanningChildEarly();
}
