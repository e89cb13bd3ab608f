/**
 * `npm run check -- --format markdown`: the retention matrix and the violations as GitHub-flavoured
 * Markdown, for the pull-request comment. A pure function of the checker's structured result.
 */
import type { StackCheck } from "../check/core";
import { shortType } from "offline-plan/model";
import { UNKNOWN_IN_FULL_PLAN, unjudgedHeading } from "../check/format";

/** What the renderers read of a stack's check (the `--json` shape, plus the resource count when known). */
export type ReportCheck = Pick<StackCheck, "stack" | "project" | "role" | "violations" | "retention"> & Partial<Pick<StackCheck, "notJudged" | "waitingOnUnknowns" | "notJudgedInPreview" | "unknownApplies">> & { resourceCount?: number };

/** GitHub refuses comments over 65,536 characters; keep room for the Pulumi action's own comment style. */
export const MAX_COMMENT_CHARS = 60_000;

export const STATUS_ICON: Record<string, string> = { met: "✅", missing: "❌", waived: "⚪", unknown: "❔", "not-applicable": "➖" };

/** One table cell: pipes escaped, newlines as <br>, HTML-significant characters neutralised. */
export function cell(text: string): string {
    return text
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/\|/g, "\\|")
        .replace(/\r?\n/g, "<br>");
}

function code(text: string): string {
    // Backticks inside inline code would end it; the text is shown as-is otherwise.
    return "`" + text.replace(/`/g, "'") + "`";
}

function mandatory(check: ReportCheck) {
    return check.violations.filter((v) => v.enforcementLevel === "mandatory");
}

function urnName(urn: string | undefined): string {
    if (!urn) {
        return "(stack)";
    }
    const [, typePath = "", name = urn] = /^urn:pulumi:[^:]*::[^:]*::(.*)::(.*)$/.exec(urn) ?? [];
    return `${name} (${shortType(typePath.split("$").pop() ?? typePath)})`;
}

export function stackSummary(check: ReportCheck): string {
    const m = mandatory(check).length;
    const a = check.violations.length - m;
    const unmet = check.retention.filter((r) => r.status === "missing" || r.status === "unknown").length;
    const applicable = check.retention.filter((r) => r.status !== "not-applicable").length;
    const ok = m === 0 && unmet === 0;
    // Passing on what the plan holds is not passing on what `.apply` callbacks that never ran would create.
    const icon = !ok ? "❌" : unrunCount(check) > 0 ? "⚠️" : "✅";
    return `${icon} ${m} mandatory, ${a} advisory violation${a === 1 ? "" : "s"}; ${applicable - unmet}/${applicable} retention rows met${applicable < check.retention.length ? ` (${check.retention.length - applicable} not applicable)` : ""}${unrunNote(check)}`;
}

function unrunCount(check: ReportCheck): number {
    return (check.unknownApplies ?? []).length;
}

/** "; 2 .apply callbacks did not run (what they create not judged)", or nothing. */
export function unrunNote(check: ReportCheck): string {
    const n = unrunCount(check);
    return n === 0 ? "" : `; ${n} .apply callback${n === 1 ? "" : "s"} did not run (what ${n === 1 ? "it creates" : "they create"} not judged)`;
}

/** Data classes in table order, from the first stack that lists them. */
function dataClasses(checks: ReportCheck[]) {
    const seen = new Map<string, { dataClass: string; dataType: string; priority: string; required: string }>();
    for (const check of checks) {
        for (const row of check.retention) {
            if (!seen.has(row.dataClass)) {
                seen.set(row.dataClass, row);
            }
        }
    }
    return [...seen.values()];
}

export function renderMarkdown(checks: ReportCheck[], options: { preview?: boolean } = {}): string {
    const lines: string[] = [];
    const project = checks[0]?.project ?? "";
    const totalMandatory = checks.reduce((n, c) => n + mandatory(c).length, 0);
    const unrun = checks.reduce((n, c) => n + unrunCount(c), 0);
    lines.push(`### ${totalMandatory > 0 ? "❌" : unrun > 0 ? "⚠️" : "✅"} ${project}: retention matrix and policy check (offline)`);
    lines.push("");
    lines.push("| Stack | Role | Result |");
    lines.push("|---|---|---|");
    for (const check of checks) {
        lines.push(`| ${code(check.stack)} | ${cell(check.role)} | ${cell(stackSummary(check))} |`);
    }
    lines.push("");

    // The matrix: one row per data class, one column per stack.
    lines.push("#### Retention matrix");
    lines.push("");
    lines.push(`| Data class | Priority | Required | ${checks.map((c) => code(c.stack)).join(" | ")} |`);
    lines.push(`|---|---|---|${checks.map(() => "---|").join("")}`);
    for (const row of dataClasses(checks)) {
        const cells = checks.map((check) => {
            const r = check.retention.find((x) => x.dataClass === row.dataClass);
            if (!r) {
                return "—";
            }
            const proof = r.evidence.length > 0 ? ` · ${r.evidence.length} resource${r.evidence.length === 1 ? "" : "s"}` : "";
            const text = r.status === "waived" ? "waived" : r.status === "not-applicable" ? "not applicable" : r.found;
            return cell(`${STATUS_ICON[r.status] ?? r.status} ${text}${proof}${r.waiver && r.status !== "waived" ? " · waiver" : ""}`);
        });
        lines.push(`| ${cell(row.dataType)} | ${cell(row.priority)} | ${cell(row.required)} | ${cells.join(" | ")} |`);
    }
    lines.push("");
    lines.push(`${Object.entries(STATUS_ICON).map(([s, i]) => `${i} ${s}`).join(" · ")}`);
    lines.push("");

    // Violations, mandatory first.
    const violations = checks.flatMap((check) =>
        [...mandatory(check), ...check.violations.filter((v) => v.enforcementLevel !== "mandatory")].map((v) => ({ stack: check.stack, ...v })),
    );
    lines.push(`#### Violations (${violations.length})`);
    lines.push("");
    if (violations.length === 0) {
        lines.push("None: every policy of the pack passes on every stack.");
    } else {
        lines.push("| Stack | Level | Policy | Resource | Message |");
        lines.push("|---|---|---|---|---|");
        for (const v of violations) {
            const level = v.enforcementLevel === "mandatory" ? "🛑 mandatory" : `⚠️ ${v.enforcementLevel}`;
            lines.push(`| ${code(v.stack)} | ${level} | ${code(v.policy)} | ${cell(urnName(v.urn))} | ${cell(v.message)} |`);
        }
    }
    lines.push("");

    // Database-like engines outside the table: listed, so that no reader takes the stack for one without a database.
    const notJudged = checks.flatMap((check) => (check.notJudged ?? []).map((n) => ({ stack: check.stack, ...n })));
    if (notJudged.length > 0) {
        lines.push(`#### Not judged (${notJudged.length})`);
        lines.push("");
        lines.push("Database-like engines the retention table does not cover; review their backups yourself.");
        lines.push("");
        lines.push("| Stack | Resource | Engine | Backups declared |");
        lines.push("|---|---|---|---|");
        for (const n of notJudged) {
            lines.push(`| ${code(n.stack)} | ${code(n.name)} | ${cell(n.kind)} | ${cell(n.backups)} |`);
        }
        lines.push("");
    }

    const waiting = checks.flatMap((check) => (check.waitingOnUnknowns ?? []).map((w) => ({ stack: check.stack, ...w })));
    if (waiting.length > 0) {
        lines.push(`#### Waiting on unknowns (${waiting.length})`);
        lines.push("");
        lines.push("Registrations made inside `.apply` over values unknown in a preview: the preview does not show them and no policy judged them.");
        lines.push("");
        lines.push("| Stack | Resource | Where | Waits on |");
        lines.push("|---|---|---|---|");
        for (const w of waiting) {
            lines.push(`| ${code(w.stack)} | ${cell(`${w.name} (${shortType(w.type)})`)} | ${w.where ? code(w.where) : "—"} | ${cell(w.waitsOn.join(", ") || "—")} |`);
        }
        lines.push("");
    }

    const unjudged = checks.flatMap((check) => (check.notJudgedInPreview ?? []).map((u) => ({ stack: check.stack, ...u })));
    if (unjudged.length > 0) {
        lines.push(`#### ${unjudgedHeading(options.preview ?? true)} (${unjudged.length})`);
        lines.push("");
        lines.push(`Resources a policy would judge (and retention table rows the coverage policy would decide), with an input it decides on unknown until the update${options.preview ?? true ? "" : ` (not a preview: ${UNKNOWN_IN_FULL_PLAN})`}: judged when the value is known.`);
        lines.push("");
        lines.push("| Stack | Resource | Unknown input | Policies |");
        lines.push("|---|---|---|---|");
        for (const u of unjudged) {
            lines.push(`| ${code(u.stack)} | ${cell(`${u.name} (${shortType(u.type)})`)} | ${cell(u.why ? `${u.inputs} (${u.why})` : u.inputs)} | ${cell(u.policies.join(", "))} |`);
        }
        lines.push("");
    }

    const unrunApplies = checks.flatMap((check) => (check.unknownApplies ?? []).map((a) => ({ stack: check.stack, ...a })));
    if (unrunApplies.length > 0) {
        lines.push(`#### Not judged: \`.apply\` callbacks that did not run (${unrunApplies.length})`);
        lines.push("");
        lines.push("Their value is unknown even in a full offline plan (a value only the cloud computes, or an outside stack's output not supplied). Whatever they create under `pulumi up` is in no plan and no policy judged it: the verdict above covers only what the plan holds.");
        lines.push("");
        lines.push("| Stack | Where | Waits on | Calls |");
        lines.push("|---|---|---|---|");
        for (const a of unrunApplies) {
            lines.push(`| ${code(a.stack)} | ${code(a.where)} | ${cell(a.waitsOn.join(", ") || "—")} | ${a.count} |`);
        }
        lines.push("");
    }

    // Evidence per stack, folded.
    for (const check of checks) {
        lines.push(`<details><summary>${cell(`${check.stack}: what proves each row`)}</summary>`);
        lines.push("");
        lines.push("| Data class | Required | Found | Status | Proven by |");
        lines.push("|---|---|---|---|---|");
        for (const r of check.retention) {
            const proof = [
                ...r.evidence.map((e) => `${e.name} (${shortType(e.type)}): ${e.detail}`),
                ...(r.waiver ? [`waiver: ${r.waiver}`] : []),
                ...(r.status === "not-applicable" ? [`not applicable: ${r.scope}`] : []),
                ...(r.status !== "met" && r.status !== "not-applicable" ? r.shortfalls.map((s) => `✗ ${s}`) : []),
            ];
            lines.push(`| ${cell(r.dataType)} | ${cell(r.required)} | ${cell(r.found)} | ${STATUS_ICON[r.status] ?? ""} ${r.status} | ${cell(proof.join("\n") || "—")} |`);
        }
        lines.push("");
        lines.push("</details>");
        lines.push("");
    }
    return truncate(lines.join("\n").trimEnd() + "\n");
}

/** Cuts an over-long comment at a line boundary, saying so (the full report is the job's artifact). */
export function truncate(markdown: string, max = MAX_COMMENT_CHARS): string {
    if (markdown.length <= max) {
        return markdown;
    }
    const note = "\n\n_…truncated: the full report is in the job summary and the `dr-report` artifact._\n";
    const cut = markdown.lastIndexOf("\n", max - note.length);
    return markdown.slice(0, cut > 0 ? cut : max - note.length) + note;
}
