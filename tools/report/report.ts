/**
 * The readable reports of `npm run check`: `--format markdown` (the pull-request comment) and
 * `--format html --out FILE` (a standalone page with the DR diagram). Plans the stacks once, checks them,
 * and hands both to the pure renderers (report-markdown.ts, report-html.ts).
 */
import * as fs from "fs";
import * as path from "path";
import { checkPlans, CheckOptions, planInputsOf, REPO_ROOT, StackCheck } from "../check/core";
import { PlanResult } from "offline-plan/model";
import { planInOrder } from "offline-plan";
import { renderHtml } from "./html";
import { readReports } from "../drill/report";
import { renderMarkdown } from "./markdown";

export { REPORT_FORMATS } from "./formats";
export type { ReportFormat } from "./formats";

export interface ReportResult {
    checks: StackCheck[];
    plans: PlanResult[];
    /** The rendered report (also written to `out` when given). */
    text: string;
}

/** Plans the stacks of `options` (referenced stacks first): by default in a planning child of this call's own. */
export type ReportPlanner = (options: CheckOptions) => Promise<PlanResult[]>;

export async function planAndCheck(options: CheckOptions = {}, plan?: ReportPlanner): Promise<{ plans: PlanResult[]; checks: StackCheck[] }> {
    const programDir = path.resolve(options.programDir ?? REPO_ROOT);
    const plans = plan ? await plan(options) : await planInOrder(programDir, options.stacks ?? [], planInputsOf(options));
    const checks = await checkPlans(plans, { ...options, programDir });
    return { plans, checks };
}

export async function writeReport(format: "markdown" | "html", options: CheckOptions, out?: string, plan?: ReportPlanner): Promise<ReportResult> {
    const { plans, checks } = await planAndCheck(options, plan);
    const text = format === "html" ? renderHtml(checks, plans, { generatedAt: new Date().toISOString(), drills: readReports() }) : renderMarkdown(checks, { preview: plans.some((p) => p.preview) });
    if (out) {
        fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
        fs.writeFileSync(out, text);
    }
    return { checks, plans, text };
}
