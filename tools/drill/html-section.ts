/**
 * The "last drill" section of the HTML report (`npm run check -- --format html`): per scenario, when it
 * ran, RTO and RPO measured against the runbook's rows, each step's duration and the validation's lines.
 * A pure function of the drill reports (tools/drill/report.ts).
 */
import type { DrillReport } from "./report";

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const seconds = (s: number) => (s >= 100 ? s.toFixed(0) : s.toFixed(2));
const target = (s: number) => (s >= 3600 ? `${s / 3600} h` : `${s / 60} min`);
const verdict = (met: boolean) => `<span class="badge badge-${met ? "met" : "missing"}">${met ? "met" : "not met"}</span>`;

function rpoBlock(r: DrillReport): string {
    const p = r.rpo;
    const items = [
        `failure at ${escapeHtml(p.failureAt)} (${escapeHtml(p.failureEvidence)}); recovery point ${escapeHtml(p.recoveryPoint ?? "none")}`,
        ...(p.afterFailure.notRecovered > 0 ? [`<span class="cost">${p.afterFailure.notRecovered} of ${p.afterFailure.acknowledged}</span> writes acknowledged after the failure not in the recovered database: the recovery point's cost, not a loss against the target`] : []),
        ...(p.shortfall ? [`<b class="shortfall">short of the target</b> by ${p.shortfall.lostRows} acknowledged writes over ${seconds(p.shortfall.windowSeconds)} s; what meets it: ${escapeHtml(p.shortfall.meetsIt)}`] : []),
        escapeHtml(p.note),
    ];
    return `<ul class="rpo">${items.map((i) => `<li>${i}</li>`).join("")}</ul>`;
}

function drillBlock(r: DrillReport): string {
    const steps = r.steps.map((s) => `<tr><td>${escapeHtml(s.name)}</td><td class="num">${seconds(s.seconds)}</td><td>${escapeHtml(s.detail)}</td></tr>`).join("");
    return `<article class="drill" data-scenario="${escapeHtml(r.scenario)}">
<h3>${escapeHtml(r.scenario)}: ${escapeHtml(r.objective.path)}</h3>
<p>${escapeHtml(r.finishedAt)} · runbook row "${escapeHtml(r.objective.row)}" ·
RTO <b>${seconds(r.rto.seconds)} s</b> (target ${target(r.rto.targetSeconds)}) ${verdict(r.rto.met)} ·
RPO <b>${r.rpo.lostRows} of ${r.rpo.acknowledged}</b> writes acknowledged before the failure lost, window ${seconds(r.rpo.windowSeconds)} s (target ${escapeHtml(r.rpo.target)}) ${verdict(r.rpo.met)}</p>
${rpoBlock(r)}
<table><thead><tr><th>step</th><th>seconds</th><th>detail</th></tr></thead><tbody>${steps}</tbody></table>
<ul class="validation">${r.validation.map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ul>
</article>`;
}

/** The section, or "" when no drill has run (no .drill/*.json). */
export function drillSection(reports: DrillReport[]): string {
    if (reports.length === 0) {
        return "";
    }
    return `<section id="drill"><h2>Last drill</h2>
<p>From <code>npm run drill -- --scenario corruption-pitr|corruption-dump|region</code> on real PostgreSQL 15, moto and an OpenID provider.</p>
${reports.map(drillBlock).join("\n")}
</section>`;
}
