/**
 * The drill report: each step's duration, the measured RTO and RPO against the runbook's rows, the
 * validation's lines. Printed by `npm run drill` and written as JSON (default `.drill/<scenario>.json`),
 * which `npm run check -- --format html` shows as its "last drill" section.
 */
import * as fs from "fs";
import * as path from "path";

export type Scenario = "corruption-pitr" | "corruption-dump" | "region" | "compromise";
export const SCENARIOS: readonly Scenario[] = ["corruption-pitr", "corruption-dump", "region", "compromise"];

export interface Objective {
    row: string;
    rtoSeconds: number;
    rpo: string;
    /** The data-loss window the row allows; 0 for "point in time" (no acknowledged write from before the failure lost). */
    rpoSeconds: number;
    path: string;
}

/** The path that meets the "point in time" RPO, named when a drill of another path falls short of it. */
export const POINT_IN_TIME_PATH = "point-in-time recovery: restore.pointInTime on the cloud stacks; offline, scripts/wal-archive.sh (npm run drill -- --scenario corruption-pitr)";

/** The runbook's RTO/RPO rows (docs/runbook.md §4) for the drilled scenarios. */
export const OBJECTIVES: Record<Scenario, Objective> = {
    region: { row: "Region failure", rtoSeconds: 3600, rpo: "1 h", rpoSeconds: 3600, path: "stop the primary, promote the streaming replica, switch DATABASE_URL, validate" },
    "corruption-pitr": {
        row: "Data corruption",
        rtoSeconds: 4 * 3600,
        rpo: "point in time",
        rpoSeconds: 0,
        path: "point-in-time recovery to just before the corruption (archived base backup + WAL, scripts/wal-archive.sh: the offline analogue of restore.pointInTime) into a new instance, switch DATABASE_URL, validate",
    },
    "corruption-dump": {
        row: "Data corruption",
        rtoSeconds: 4 * 3600,
        rpo: "point in time",
        rpoSeconds: 0,
        path: "restore the newest dump into a new database (restore.sh), switch DATABASE_URL, validate",
    },
    compromise: {
        row: "Compromised account / ransomware",
        rtoSeconds: 4 * 3600,
        rpo: "24 h",
        rpoSeconds: 24 * 3600,
        path: "an attacker with the production credentials destroys what it can; restore the newest dump from the vault account's copy with the vault's key material into a new database (restore.sh), switch DATABASE_URL, validate",
    },
};

/** One thing the attacker tried, what moto answered (measured) and what AWS does (documented or declared). */
export interface AttackAttempt {
    action: string;
    target: string;
    /** Calls made (one per object version, bucket or secret). */
    tried: number;
    /** Of those, refused by moto (measured). */
    refused: number;
    /** moto's answer, e.g. "AccessDenied: Access Denied" or "accepted". */
    motoAnswer: string;
    /** What AWS does with this call, and why (the S3 Object Lock rules, the declared resource policy). */
    aws: { refuses: boolean; basis: string };
}

/** A copy of the backups (a bucket or the key material), before and after the attack, measured. */
export interface CopyState {
    name: string;
    account: "production" | "vault";
    before: number;
    after: number;
    /** Versions whose retain-until date moved earlier. */
    shortened: number;
    detail: string;
}

export interface CompromiseFindings {
    attempts: AttackAttempt[];
    copies: CopyState[];
    /** What the attacker destroyed and what survived, each a line computed from `copies`. */
    destroyed: string[];
    survived: string[];
    /** The vault copy is what the restore used: it must be whole (every version replicated before the attack, same retain-until). */
    vaultIntact: boolean;
    /** After the replication was cut: whether a new backup still reached the vault (measured with the stand-in). */
    replicationAfterAttack: string;
    /** The deletion guards as declared (policy documents evaluated as data), since moto does not evaluate resource policies. */
    declaredGuards: { resource: string; attacker: string; breakGlass: string; declared: boolean }[];
    /** What this drill does not prove. */
    limits: string[];
}

export const DRILL_DIR = path.resolve(__dirname, "..", "..", ".drill");

/** A scenario's report file when no --out names one: .drill/<scenario>.json. */
export function defaultReportFile(scenario: Scenario): string {
    return path.join(DRILL_DIR, `${scenario}.json`);
}

export interface DrillStep {
    name: string;
    seconds: number;
    detail: string;
}

export interface DrillReport {
    scenario: Scenario;
    startedAt: string;
    finishedAt: string;
    objective: Objective;
    database: { rows: Record<string, number> };
    steps: DrillStep[];
    /**
     * From the failure (primary stopped, table corrupted) to the validation's last PASS; `covers` says what that
     * spans (the steps and their seconds) and what it leaves out (reports before it have none).
     */
    rto: { seconds: number; targetSeconds: number; met: boolean; covers?: string };
    rpo: {
        /** When the failure happened (ISO): the corruption's commit time, the primary's stop. */
        failureAt: string;
        /** How that time was established (the database's evidence, or the drill's clock). */
        failureEvidence: string;
        /** The recovery point (ISO): the PITR target, the dump's snapshot, the replica's newest surviving write. */
        recoveryPoint?: string;
        /** Acknowledged writes (tokens the server returned) committed before the failure. */
        acknowledged: number;
        /** Of those, missing from the database the server uses after the recovery: the loss the target counts. */
        lostRows: number;
        /** The data-loss window: from the recovery point to the failure when writes were lost, else 0. */
        windowSeconds: number;
        /** Writes acknowledged after the failure (until the switch) that the recovered database does not hold: the recovery point's cost, not a loss against the target. */
        afterFailure: { acknowledged: number; notRecovered: number; missing?: NamedWrites };
        /** The lost writes (lostRows of them) named: when they were acknowledged, whose, which rows. */
        lost?: NamedWrites;
        target: string;
        targetSeconds: number;
        /** Only when the measurement meets the target: lostRows 0 for "point in time", the window within the target otherwise. */
        met: boolean;
        /** When not met: by how much, and the path that meets the target. */
        shortfall?: { lostRows: number; windowSeconds: number; meetsIt: string };
        note: string;
    };
    validation: string[];
    /** The compromise drill's attack and its outcome. */
    compromise?: CompromiseFindings;
    /**
     * Set by readReports, never written: a later run of this scenario failed (`<scenario>.failed.json`), so this
     * report's verdicts are not the newest run's.
     */
    newerFailure?: DrillFailure;
}

/** A drill run that did not complete (a step failed): written beside the report as `<name>.failed.json`. */
export interface DrillFailure {
    scenario: Scenario;
    failedAt: string;
    error: string;
}

/** Where the failure record of the report at `reportFile` goes. */
export function failureFileOf(reportFile: string): string {
    return `${reportFile.replace(/\.json$/, "")}.failed.json`;
}

/** Records a failed run (the report of the last completed run, if any, stays, and is shown as superseded). */
export function writeFailure(scenario: Scenario, error: string, reportFile = defaultReportFile(scenario), at: Date = new Date()): string {
    const file = failureFileOf(reportFile);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const failure: DrillFailure = { scenario, failedAt: at.toISOString(), error: error.split("\n").slice(0, 5).join("\n") };
    fs.writeFileSync(file, `${JSON.stringify(failure, null, 2)}\n`);
    return file;
}

/**
 * Writes named so that an operator can tell who must act on them: the span of their acknowledgements, the
 * clients they were issued to, and the rows (oauth2_authorization by md5(access_token_value)), at most
 * NAMED_WRITES_MAX of them (`more`: how many beyond).
 */
export interface NamedWrites {
    from: string;
    to: string;
    clients: string[];
    table: string;
    md5: string[];
    more: number;
}

export const NAMED_WRITES_MAX = 1000;

/** The text of named writes: "acknowledged from A to B, client(s) X: oauth2_authorization rows by md5(...) in the JSON (KEY)". */
export function namedWritesText(w: NamedWrites, jsonKey: string): string {
    return `acknowledged from ${w.from} to ${w.to}${w.clients.length > 0 ? ` (client ${w.clients.join(", ")})` : ""}; the tokens, as ${w.table} rows by md5(access_token_value), are in the JSON report's ${jsonKey}${w.more > 0 ? ` (the first ${w.md5.length}; ${w.more} more)` : ""}`;
}

/** Whether a measured RPO meets its target: "point in time" (0 s) allows no lost acknowledged write, "1 h" a window up to 1 h. */
export function rpoMet(objective: Pick<Objective, "rpoSeconds">, lostRows: number, windowSeconds: number): boolean {
    return objective.rpoSeconds === 0 ? lostRows === 0 : windowSeconds <= objective.rpoSeconds;
}

/** A verdict from what was measured: met, not met, or not measured (nothing to judge: never "met"). */
export type Verdict = { state: "met" | "not met" } | { state: "not measured"; why: string };

const measured = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0;

/** The RTO's verdict from its seconds and target, as stored: a report without them (partial, hand-edited) is not measured. */
export function rtoVerdict(rto: Partial<DrillReport["rto"]> | undefined): Verdict {
    if (!measured(rto?.seconds) || !measured(rto?.targetSeconds)) {
        return { state: "not measured", why: "the report has no RTO seconds or target" };
    }
    return { state: rto.seconds <= rto.targetSeconds ? "met" : "not met" };
}

/**
 * The RPO's verdict from its counts: "0 of 0 writes lost" measured nothing (the traffic acknowledged no write
 * before the failure: a server that refused every request, a run too short), so it is not measured, never met.
 */
export function rpoVerdict(rpo: Partial<DrillReport["rpo"]> | undefined): Verdict {
    if (!measured(rpo?.acknowledged) || !measured(rpo?.lostRows) || !measured(rpo?.windowSeconds) || !measured(rpo?.targetSeconds)) {
        return { state: "not measured", why: "the report has no acknowledged, lost or window figures" };
    }
    if (rpo.acknowledged === 0) {
        return { state: "not measured", why: "no write was acknowledged before the failure, so none could be lost: the traffic measured nothing" };
    }
    return { state: rpoMet({ rpoSeconds: rpo.targetSeconds }, rpo.lostRows, rpo.windowSeconds) ? "met" : "not met" };
}

/**
 * Whether the vault copy survived, from the report's figures as the RTO and RPO verdicts are: the stored `vaultIntact`
 * (every version there before the attack still there, same retain-until) only where the vault bucket's own counts
 * agree (versions before, none fewer after, none shortened). A stored "intact" beside a vault copy that lost
 * versions (hand-edited, partial) is not shown as "yes"; a report without the vault copy's figures is not measured.
 */
export function vaultVerdict(c: Partial<CompromiseFindings> | undefined): Verdict {
    const vault = Array.isArray(c?.copies) ? c.copies.find((s) => s.account === "vault" && s.name.startsWith("s3://")) : undefined;
    if (typeof c?.vaultIntact !== "boolean" || !vault || !measured(vault.before) || !measured(vault.after) || !measured(vault.shortened)) {
        return { state: "not measured", why: "the report has no vault copy figures" };
    }
    return { state: c.vaultIntact && vault.before > 0 && vault.after >= vault.before && vault.shortened === 0 ? "met" : "not met" };
}

/** The vault copy's text: "yes", "NO", "NOT MEASURED (why)". */
export function vaultText(v: Verdict): string {
    return v.state === "met" ? "yes" : v.state === "not met" ? "NO" : verdictText(v);
}

/** The text verdict: "met", "NOT MET", "NOT MEASURED (why)". */
export function verdictText(v: Verdict): string {
    return v.state === "not measured" ? `NOT MEASURED (${v.why})` : v.state === "met" ? "met" : "NOT MET";
}

/** Seconds as the reports print them; "?" for a figure a report lacks (partial, hand-edited) rather than a crash. */
export const secondsText = (s: unknown) => (typeof s !== "number" || !Number.isFinite(s) ? "?" : s >= 100 ? s.toFixed(0) : s.toFixed(2));

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
        ...r.steps.map((s) => `${s.name.padEnd(width)}  ${secondsText(s.seconds).padStart(7)}  ${s.detail}`),
        "",
        `RTO ${secondsText(r.rto.seconds)} s (target ${duration(r.rto.targetSeconds)}): ${verdictText(rtoVerdict(r.rto))}`,
        ...(r.rto.covers ? [`    covers ${r.rto.covers}`] : []),
        ...rpoLines(r).map((l, i) => (i === 0 ? l : `    ${l}`)),
        "validation after recovery:",
        ...r.validation.map((l) => `    ${l}`),
        ...(r.compromise ? compromiseLines(r.compromise) : []),
    ];
    return lines.join("\n");
}

/** The compromise drill's findings as text: the same facts as the JSON and the HTML report. */
export function compromiseLines(c: CompromiseFindings): string[] {
    return [
        "",
        "attack with the production credentials (moto's answer, measured; AWS's, from the S3 Object Lock rules or the declared policy):",
        ...c.attempts.map((a) => `    ${a.action} on ${a.target}: ${a.refused} of ${a.tried} refused by moto (${a.motoAnswer}); AWS ${a.aws.refuses ? "refuses" : "allows"}: ${a.aws.basis}`),
        "copies (versions before -> after the attack):",
        ...c.copies.map((s) => `    ${s.name} (${s.account} account): ${s.before} -> ${s.after}${s.shortened ? `, ${s.shortened} retain-until dates shortened` : ""}; ${s.detail}`),
        `destroyed: ${c.destroyed.length ? c.destroyed.join("; ") : "nothing"}`,
        `survived: ${c.survived.length ? c.survived.join("; ") : "nothing"}`,
        `vault copy intact: ${vaultText(vaultVerdict(c))}`,
        `replication after the attack: ${c.replicationAfterAttack}`,
        "declared deletion guards (evaluated as data; moto does not evaluate resource policies):",
        ...c.declaredGuards.map((g) => `    ${g.resource}: ${g.declared ? `attacker ${g.attacker}, break-glass role ${g.breakGlass}` : g.attacker}`),
        "limits:",
        ...c.limits.map((l) => `    ${l}`),
    ];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The RPO as text lines (the first is the verdict): the same facts as the JSON and the HTML report. */
export function rpoLines(r: DrillReport): string[] {
    const p = r.rpo;
    const lines = [
        `RPO ${p.lostRows} of ${p.acknowledged} writes acknowledged before the failure lost; window ${secondsText(p.windowSeconds)} s (target ${p.target}): ${verdictText(rpoVerdict(p))}`,
        `failure at ${p.failureAt} (${p.failureEvidence}); recovery point ${p.recoveryPoint ?? "none"}`,
    ];
    if (p.afterFailure.notRecovered > 0) {
        lines.push(`${plural(p.afterFailure.notRecovered, "write")} acknowledged after the failure (of ${p.afterFailure.acknowledged} acknowledged after it) not in the recovered database: the recovery point's cost, not a loss against the target`);
        if (p.afterFailure.missing) {
            lines.push(`    ${namedWritesText(p.afterFailure.missing, "rpo.afterFailure.missing")}`);
        }
    }
    if (p.shortfall) {
        lines.push(`short of the target by ${plural(p.shortfall.lostRows, "acknowledged write")} over ${secondsText(p.shortfall.windowSeconds)} s; what meets it: ${p.shortfall.meetsIt}`);
    }
    if (p.lost && p.lostRows > 0) {
        lines.push(`the ${plural(p.lostRows, "write")} lost: ${namedWritesText(p.lost, "rpo.lost")}`);
    }
    lines.push(p.note);
    return lines;
}

export function writeReport(report: DrillReport, file = defaultReportFile(report.scenario)): string {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const { newerFailure: _computed, ...stored } = report;
    fs.writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`);
    // This run completed: an earlier failure no longer describes the newest run.
    fs.rmSync(failureFileOf(file), { force: true });
    return file;
}

function readFailure(file: string): DrillFailure | undefined {
    try {
        const failure = JSON.parse(fs.readFileSync(file, "utf8")) as DrillFailure;
        return typeof failure.failedAt === "string" && typeof failure.error === "string" ? failure : undefined;
    } catch {
        return undefined;
    }
}

/**
 * The last completed report of each scenario found in `dir`, newest first; unreadable files are skipped. When
 * a later run of the scenario failed, the report carries it (`newerFailure`).
 */
export function readReports(dir = DRILL_DIR): DrillReport[] {
    const reports: DrillReport[] = [];
    for (const scenario of SCENARIOS) {
        const file = path.join(dir, `${scenario}.json`);
        try {
            const report = JSON.parse(fs.readFileSync(file, "utf8")) as DrillReport;
            // A report of an older format (before the RPO's failure time and cost) is skipped, not misread.
            if (report.scenario === scenario && Array.isArray(report.steps) && typeof report.rpo?.failureAt === "string" && report.rpo.afterFailure) {
                delete report.newerFailure;
                const failure = readFailure(failureFileOf(file));
                if (failure && failure.failedAt > report.finishedAt) {
                    report.newerFailure = failure;
                }
                reports.push(report);
            }
        } catch {
            // no drill of this scenario yet
        }
    }
    return reports.sort((a, b) => b.finishedAt.localeCompare(a.finishedAt));
}
