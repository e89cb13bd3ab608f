/**
 * The drill report: each step's duration, the measured RTO and RPO against the runbook's rows, the
 * validation's lines. Printed by `npm run drill` and written as JSON (default `.drill/<scenario>.json`),
 * which `npm run check -- --format html` shows as its "last drill" section.
 */
import * as fs from "fs";
import * as path from "path";

export type Scenario = "corruption" | "region";
export const SCENARIOS: readonly Scenario[] = ["corruption", "region"];

/** The runbook's RTO/RPO rows (docs/runbook.md §4) for the two drilled scenarios. */
export const OBJECTIVES: Record<Scenario, { row: string; rtoSeconds: number; rpo: string; rpoSeconds?: number; path: string }> = {
    region: { row: "Region failure", rtoSeconds: 3600, rpo: "1 h", rpoSeconds: 3600, path: "stop the primary, promote the streaming replica, switch DATABASE_URL, validate" },
    corruption: { row: "Data corruption", rtoSeconds: 4 * 3600, rpo: "point in time", path: "restore the newest dump into a new database (restore.sh), switch DATABASE_URL, validate" },
};

export const DRILL_DIR = path.resolve(__dirname, "..", "..", ".drill");

export interface DrillStep {
    name: string;
    seconds: number;
    detail: string;
}

export interface DrillReport {
    scenario: Scenario;
    startedAt: string;
    finishedAt: string;
    objective: (typeof OBJECTIVES)[Scenario];
    database: { rows: Record<string, number> };
    steps: DrillStep[];
    /** From the failure (primary stopped, table corrupted) to the validation's last PASS. */
    rto: { seconds: number; targetSeconds: number; met: boolean };
    rpo: {
        /** Acknowledged writes (tokens the server returned) before the failure. */
        acknowledged: number;
        /** Of those, written after the recovery point (the dump's snapshot; the replica's last replayed write). */
        writtenAfterRecoveryPoint: number;
        /** Acknowledged writes missing from the database the server uses after the recovery. */
        lostRows: number;
        /** Lost writes from before the recovery point: must be 0. */
        lostBeforeRecoveryPoint: number;
        /** The recovery point: the newest acknowledged write that survived (ISO time), if any. */
        recoveryPoint?: string;
        /** From the recovery point to the failure: the data-loss window. */
        windowSeconds: number;
        target: string;
        met: boolean;
        note: string;
    };
    validation: string[];
}

const fmt = (s: number) => (s >= 100 ? s.toFixed(0) : s.toFixed(2));

function duration(seconds: number): string {
    return seconds >= 3600 ? `${seconds / 3600} h` : seconds >= 60 ? `${seconds / 60} min` : `${seconds} s`;
}

export function formatReport(r: DrillReport): string {
    const width = Math.max(...r.steps.map((s) => s.name.length), 4);
    const lines = [
        `drill ${r.scenario}: ${r.objective.path}`,
        `runbook row "${r.objective.row}": RTO ${duration(r.objective.rtoSeconds)}, RPO ${r.objective.rpo}`,
        `database: ${Object.entries(r.database.rows).map(([t, n]) => `${t} ${n}`).join(", ")} rows`,
        "",
        `${"step".padEnd(width)}  seconds  detail`,
        ...r.steps.map((s) => `${s.name.padEnd(width)}  ${fmt(s.seconds).padStart(7)}  ${s.detail}`),
        "",
        `RTO ${fmt(r.rto.seconds)} s (target ${duration(r.rto.targetSeconds)}): ${r.rto.met ? "met" : "NOT MET"}`,
        `RPO ${r.rpo.lostRows} of ${r.rpo.acknowledged} acknowledged writes lost (${r.rpo.writtenAfterRecoveryPoint} written after the recovery point, ${r.rpo.lostBeforeRecoveryPoint} lost from before it); window ${fmt(r.rpo.windowSeconds)} s (target ${r.rpo.target}): ${r.rpo.met ? "met" : "NOT MET"}`,
        `    ${r.rpo.note}`,
        "validation after recovery:",
        ...r.validation.map((l) => `    ${l}`),
    ];
    return lines.join("\n");
}

export function writeReport(report: DrillReport, file = path.join(DRILL_DIR, `${report.scenario}.json`)): string {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    return file;
}

/** The last report of each scenario found in `dir`, newest first; unreadable files are skipped. */
export function readReports(dir = DRILL_DIR): DrillReport[] {
    const reports: DrillReport[] = [];
    for (const scenario of SCENARIOS) {
        const file = path.join(dir, `${scenario}.json`);
        try {
            const report = JSON.parse(fs.readFileSync(file, "utf8")) as DrillReport;
            if (report.scenario === scenario && Array.isArray(report.steps)) {
                reports.push(report);
            }
        } catch {
            // no drill of this scenario yet
        }
    }
    return reports.sort((a, b) => b.finishedAt.localeCompare(a.finishedAt));
}
