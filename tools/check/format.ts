/** Text and JSON renderings of `checkStacks` results for `npm run check`. */
import { shortType } from "offline-plan/model";
import { describeUnknownApply, formatExposedSecrets, formatLookups, formatWaiting } from "offline-plan/format";
import type { UnknownApply } from "offline-plan/model";
import type { StackCheck, UnjudgedInPreview } from "./core";
import type { NotJudged } from "../../policy/engines";

function pad(text: string, width: number): string {
    return text.length >= width ? text : text + " ".repeat(width - text.length);
}

export function formatCheck(check: StackCheck, preview = true): string {
    const lines: string[] = [];
    const mandatory = check.violations.filter((v) => v.enforcementLevel === "mandatory");
    const advisory = check.violations.filter((v) => v.enforcementLevel !== "mandatory");
    lines.push(`Stack ${check.project}/${check.stack} (role: ${check.role}, ${check.resourceCount} resources)`);
    lines.push("");
    lines.push("Retention table");
    const header = ["Data class", "Required", "Found", "Status", "Proven by"];
    const rows = check.retention.map((row) => [
        `${row.dataType} [${row.dataClass}]`,
        row.required,
        row.found,
        row.status === "not-applicable" ? "N/A" : row.status.toUpperCase(),
        row.evidence.length > 0 ? `${row.evidence.length} resource${row.evidence.length === 1 ? "" : "s"}` : "-",
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    lines.push("  " + header.map((h, i) => pad(h, widths[i])).join("  "));
    lines.push("  " + widths.map((w) => "-".repeat(w)).join("  "));
    check.retention.forEach((row, i) => {
        lines.push("  " + rows[i].map((cell, j) => pad(cell, widths[j])).join("  ").trimEnd());
        for (const e of row.evidence) {
            lines.push(`      + ${e.name} (${shortType(e.type)}): ${e.detail}`);
        }
        if (row.waiver) {
            lines.push(`      waiver: ${row.waiver}`);
        }
        if (row.status === "not-applicable") {
            lines.push(`      not applicable: ${row.scope}`);
            return;
        }
        if (row.status !== "met") {
            for (const s of row.shortfalls) {
                lines.push(`      - ${s}`);
            }
        }
    });
    for (const waiver of check.waivers) {
        lines.push(`  Waiver in force: ${waiver}`);
    }
    lines.push(...formatNotJudged(check.notJudged ?? []));
    if (check.organizationGuard) {
        lines.push("", `Organization SCP (key guards, break-glass roles): ${check.organizationGuard}`);
    }
    lines.push("");
    lines.push(`Violations: ${mandatory.length} mandatory, ${advisory.length} advisory`);
    for (const v of [...mandatory, ...advisory]) {
        lines.push(`  [${v.enforcementLevel}] ${v.policy}: ${v.message}`);
        if (v.urn) {
            lines.push(`      ${v.urn}`);
        }
    }
    const lookups = formatLookups(check.lookups ?? [], "");
    if (lookups.length > 0) {
        lines.push("", ...lookups);
    }
    lines.push(...formatExposedSecrets(check.exposedSecrets ?? [], ""));
    const waiting = formatWaiting(check.waitingOnUnknowns ?? [], "");
    if (waiting.length > 0) {
        lines.push("", ...waiting);
    }
    lines.push(...formatUnjudged(check.notJudgedInPreview ?? [], preview));
    lines.push(...formatUnknownAppliesNotJudged(check.unknownApplies ?? []));
    return lines.join("\n");
}

/**
 * The program's `.apply` callbacks that never ran, their value unknown even in a full offline plan: what
 * they create was not judged. Said plainly, since the verdict above covers only what the plan holds.
 */
export function formatUnknownAppliesNotJudged(applies: UnknownApply[]): string[] {
    if (applies.length === 0) {
        return [];
    }
    const n = applies.length;
    return [
        "",
        `Not judged: ${n} .apply callback${n === 1 ? "" : "s"} in the program did not run, ${n === 1 ? "its" : "their"} value unknown even in a full offline plan (a value only the cloud computes, or an outside stack's output not supplied). Whatever ${n === 1 ? "it creates" : "they create"} under \`pulumi up\` (buckets, secrets, databases) is in no plan and no policy judged it; the verdict above covers only what the plan holds (--strict-unknowns fails the check on this):`,
        ...applies.map((a) => `  ${describeUnknownApply(a)}`),
    ];
}

/** The type of a "not judged in this preview" entry that is a row of the retention matrix (a stack policy's), not a resource. */
export const RETENTION_ROW = "retention table row";

/** "2 resources", "1 resource and 1 retention table row". */
function countOf(unjudged: UnjudgedInPreview[]): string {
    const rows = unjudged.filter((u) => u.type === RETENTION_ROW).length;
    const resources = unjudged.length - rows;
    const parts = [
        resources > 0 ? `${resources} resource${resources === 1 ? "" : "s"}` : "",
        rows > 0 ? `${rows} ${RETENTION_ROW}${rows === 1 ? "" : "s"}` : "",
    ];
    return parts.filter(Boolean).join(" and ");
}

/** Why a value is unknown in a full plan (not a preview): what the offline plan cannot know. */
export const UNKNOWN_IN_FULL_PLAN = "a value only the cloud or an outside stack knows: a StackReference not supplied with --stack-outputs, a lookup or computed value the offline plan does not model";

/** The heading of the not-judged list: "in this preview" only for a preview (a full plan has its own unknowns). */
export function unjudgedHeading(preview: boolean): string {
    return preview ? "Not judged in this preview" : "Not judged (values unknown in this plan)";
}

/**
 * Resources (and retention table rows) a policy could not judge, an input it decides on being unknown until the
 * update; `preview` false for a full plan, whose unknowns are not the preview's.
 */
export function formatUnjudged(unjudged: UnjudgedInPreview[], preview = true): string[] {
    if (unjudged.length === 0) {
        return [];
    }
    return [
        "",
        preview
            ? `Not judged in this preview: ${countOf(unjudged)} with an input a policy decides on unknown until the update (judged when the value is known: \`pulumi up\`, or check without --preview):`
            : `Not judged: ${countOf(unjudged)} with an input a policy decides on unknown in this plan, not a preview (${UNKNOWN_IN_FULL_PLAN}; judged when the value is known: \`pulumi up\`):`,
        ...unjudged.map((u) => `  ${u.name} (${shortType(u.type)}): ${u.inputs} unknown${u.why ? `, so not known: ${u.why}` : ""} [${u.policies.join(", ")}]`),
    ];
}

/** Database-like engines the retention table does not cover: listed, never read as "no database". */
export function formatNotJudged(notJudged: NotJudged[]): string[] {
    if (notJudged.length === 0) {
        return [];
    }
    return ["", "Not judged (database-like engines the retention table does not cover; review their backups yourself):", ...notJudged.map((n) => `  ${n.name} (${n.kind}): ${n.backups}`)];
}

export function toJson(check: StackCheck): Record<string, unknown> {
    return {
        stack: check.stack,
        project: check.project,
        role: check.role,
        violations: check.violations.map(({ policy, urn, message, enforcementLevel }) => ({ policy, urn, message, enforcementLevel })),
        retention: check.retention,
        waivers: check.waivers,
        ...(check.organizationGuard ? { organizationGuard: check.organizationGuard } : {}),
        lookups: check.lookups ?? [],
        ...(check.exposedSecrets?.length ? { exposedSecrets: check.exposedSecrets } : {}),
        ...(check.notJudged?.length ? { notJudged: check.notJudged } : {}),
        ...(check.waitingOnUnknowns?.length ? { waitingOnUnknowns: check.waitingOnUnknowns } : {}),
        ...(check.notJudgedInPreview?.length ? { notJudgedInPreview: check.notJudgedInPreview } : {}),
        ...(check.unknownApplies?.length ? { unknownApplies: check.unknownApplies } : {}),
    };
}
