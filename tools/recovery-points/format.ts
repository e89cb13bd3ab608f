/**
 * The report as text (a table readable at 100 columns, each point followed by the commands that restore
 * it, long commands continued with `\` so they still paste into a shell) or as JSON.
 */
import { PICK_TIME, pickGuidance, type RecoveryPoint, type Report } from "./points";

export const WIDTH = 100;
const TIME = 20;
const LABEL = 23;

/**
 * Words of `text` in lines of at most `width` columns, the first starting at `first`, the others at `next`.
 * A word longer than a line starts its own line at column 0 (an ARN stays whole, so it can be copied). With
 * `continuation`, every line but the last ends in " \" (a shell command).
 */
export function wrap(text: string, width: number, first: number, next: number, continuation = false): string[] {
    const words = continuation ? shellWords(text) : text.split(" ").filter((w) => w !== "");
    const reserve = continuation ? 2 : 0;
    const lines: string[] = [];
    let indent = first;
    let line = "";
    for (const word of words) {
        if (line !== "" && indent + line.length + 1 + word.length + reserve > width) {
            lines.push(" ".repeat(indent) + line + (continuation ? " \\" : ""));
            indent = next + word.length + reserve > width ? 0 : next;
            line = word;
        } else {
            line = line === "" ? word : `${line} ${word}`;
        }
    }
    lines.push(" ".repeat(indent) + line);
    return lines;
}

/**
 * A command's words as a shell reads them: a quoted key with spaces ('oauth2db copy (1).json') is one word, so
 * that no line break (" \\" and a newline, which inside quotes is two characters of the key) falls in it. A text
 * that is not one the shell would read whole (an unpaired quote) is split at spaces, as any text.
 */
function shellWords(text: string): string[] {
    const word = /(?:'[^']*'|"(?:[^"\\]|\\.)*"|\\.|[^ '"\\])+/g;
    return text.replace(word, "").trim() === "" ? text.match(word) ?? [] : text.split(" ").filter((w) => w !== "");
}

function header(report: Report): string[] {
    const dr = report.standbyStack ? `${report.drRegion} (stack ${report.standbyStack})` : report.drRegion;
    return [
        ...wrap(`Recovery points of ${report.database}, stack ${report.stack}: ${report.primaryRegion}, DR ${dr}. Newest first, listed ${report.listedAt}.`, WIDTH, 0, 0),
        ...wrap(
            "Time is the newest state a point restores. A point in time is a window: its commands hold " + PICK_TIME + ", to replace " +
                "with the last second before the damage (its latest time would restore the damage too). " +
                "Under each point, the commands that restore it: `pulumi up` declares oauth2-postgres-restored beside the running " +
                "instance (docs/runbook.md); restore.sh restores into the PG* target database.",
            WIDTH, 0, 0,
        ),
    ];
}

function pointLines(point: RecoveryPoint, n: number, numberWidth: number, regionWidth: number): string[] {
    const detailColumn = numberWidth + 2 + TIME + 2 + LABEL + 2 + regionWidth + 2;
    const lead = `${String(n).padStart(numberWidth)}  ${(point.time ?? "unknown").padEnd(TIME)}  ${point.label.padEnd(LABEL)}  ${point.region.padEnd(regionWidth)}  `;
    const detail = wrap(point.detail, WIDTH, detailColumn, detailColumn);
    const lines = [lead + detail[0].trimStart(), ...detail.slice(1)];
    const indent = numberWidth + 2;
    if (point.restore.blocked) {
        lines.push(...wrap(`not restorable now: ${point.restore.blocked}`, WIDTH, indent, indent + 2));
    }
    if (point.restore.pick) {
        lines.push(...wrap(pickGuidance(point.restore.pick), WIDTH, indent, indent + 2));
    }
    for (const command of point.restore.commands) {
        lines.push(...wrap(command, WIDTH, indent, indent + 4, true));
    }
    return lines;
}

export function formatText(report: Report): string {
    const lines = header(report);
    lines.push("");
    const numberWidth = Math.max(1, String(report.points.length).length);
    const regionWidth = Math.max(6, ...report.points.map((p) => p.region.length));
    if (report.points.length === 0) {
        lines.push("No recovery point found.");
    } else {
        lines.push(`${"#".padStart(numberWidth)}  ${"Time (UTC)".padEnd(TIME)}  ${"Point".padEnd(LABEL)}  ${"Region".padEnd(regionWidth)}  Detail`);
        report.points.forEach((point, i) => lines.push(...pointLines(point, i + 1, numberWidth, regionWidth)));
    }
    if (report.unlisted.length > 0) {
        lines.push("", `Not listed by this tool (${report.cloud}'s own recovery points): the command that lists them, and the restore:`);
        for (const u of report.unlisted) {
            lines.push(...wrap(`- ${u.what}: ${u.why}`, WIDTH, 0, 2));
            for (const command of [...u.list, ...u.restore.commands]) {
                lines.push(...wrap(command, WIDTH, 4, 8, true));
            }
        }
    }
    if (report.notes.length > 0) {
        lines.push("", "Notes:");
        for (const note of report.notes) {
            lines.push(...wrap(`- ${note}`, WIDTH, 0, 2));
        }
    }
    if (report.errors.length > 0) {
        lines.push("", "Errors (these sources are missing from the list above):");
        for (const error of report.errors) {
            lines.push(...wrap(`- ${error.source}: ${error.message}`, WIDTH, 0, 2));
        }
    }
    return `${lines.map((l) => l.trimEnd()).join("\n")}\n`;
}

export function formatJson(report: Report): string {
    return `${JSON.stringify(report, null, 2)}\n`;
}
