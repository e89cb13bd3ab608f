/** Text and JSON renderings of `checkStacks` results for `npm run check`. */
import { shortType } from "offline-plan/model";
import { describeUnknownApply, formatExposedSecrets, formatLookups, formatWaiting } from "offline-plan/format";
import type { StackCheck, UnjudgedApply, UnjudgedInPreview } from "./core";
import type { NotJudged } from "../../policy/engines";

function pad(text: string, width: number): string {
    return text.length >= width ? text : text + " ".repeat(width - text.length);
}

export function formatCheck(check: StackCheck, preview = true): string {
    const lines: string[] = [];
    const mandatory = check.violations.filter((v) => v.enforcementLevel === "mandatory");
    const advisory = check.violations.filter((v) => v.enforcementLevel !== "mandatory");
    lines.push(`Stack ${check.project}/${check.stack} (role: ${check.role}, ${check.resourceCount} resources)`);
    // Planned with another version of a @pulumi package than the program declares: said before any verdict.
    lines.push(...(check.sdkVersions ?? []).map((n) => `  ${n.severity === "other-major" ? "WARNING" : "Notice"}: ${n.message}`));
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
    lines.push(`Violations: ${mandatory.length} mandatory, ${advisory.length} advisory${notJudgedSummary(check, preview)}`);
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
    lines.push(...formatUnknownAppliesNotJudged(check.unknownApplies ?? [], preview));
    return lines.join("\n");
}

/**
 * The summary's word on what was not judged (listed below it): "0 mandatory" covers only what was judged, so a
 * check the program could not run (its value unknown: an outside stack's outputs) is never read as a pass.
 */
export function notJudgedSummary(check: StackCheck, preview = true): string {
    const applies = (check.unknownApplies ?? []).length;
    const unjudged = (check.notJudgedInPreview ?? []).length;
    const waiting = (check.waitingOnUnknowns ?? []).length;
    const parts = [
        applies > 0 ? `${applies} .apply callback${applies === 1 ? "" : "s"} of the program (its own checks among them)` : "",
        unjudged > 0 ? countOf(check.notJudgedInPreview) : "",
        waiting > 0 ? `${waiting} registration${waiting === 1 ? "" : "s"} waiting on unknowns` : "",
    ].filter(Boolean);
    return parts.length > 0 ? `; NOT JUDGED in this ${preview ? "preview" : "check"}: ${parts.join(", ")} (values unknown: listed below)` : "";
}

/**
 * The program's `.apply` callbacks that never ran, their value unknown even in a full offline plan: what
 * they create was not judged. Said plainly, since the verdict above covers only what the plan holds.
 */
export function formatUnknownAppliesNotJudged(applies: UnjudgedApply[], preview = false): string[] {
    if (applies.length === 0) {
        return [];
    }
    const n = applies.length;
    return [
        "",
        `Not judged: ${n} .apply callback${n === 1 ? "" : "s"} in the program did not run, ${n === 1 ? "its" : "their"} value unknown even in a full offline plan (a value only the cloud computes, or an outside stack's output not supplied). Whatever ${n === 1 ? "it creates" : "they create"} under \`pulumi up\` (buckets, secrets, databases) is in no plan and no policy judged it, nor any check the program makes in ${n === 1 ? "it" : "them"}; the verdict above covers only what the plan holds (--strict-unknowns fails the check on this):`,
        // The source line and the remedy where the value is an outside stack's outputs (a check of the program
        // over them, such as the standby's vault-writer check, gave no verdict); the others as they were.
        ...applies.map((a) => `  ${describeUnknownApply(a)}${a.stackReferences?.length && a.code ? `: \`${a.code}\`` : ""}${unjudgedApplyWhy(a, preview)}`),
    ];
}

/** Why an apply that waits on outside stacks gave no verdict, and how to have it judged. */
function unjudgedApplyWhy(a: UnjudgedApply, preview: boolean): string {
    const stacks = a.stackReferences ?? [];
    if (stacks.length === 0) {
        return "";
    }
    const [one] = stacks;
    return ` NOT JUDGED: the outputs of the stack${stacks.length === 1 ? "" : "s"} ${stacks.join(", ")} are unknown in this ${preview ? "preview" : "check"}: ` +
        `run a full check with ${stacks.length === 1 ? "that stack" : "those stacks"} in the program, or supply ${stacks.length === 1 ? "its" : "their"} outputs with --stack-outputs ${one}=FILE.json ` +
        `(FILE.json from \`pulumi stack output --json -s ${one}\`)`;
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
        ...(check.sdkVersions?.length ? { sdkVersions: check.sdkVersions } : {}),
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
