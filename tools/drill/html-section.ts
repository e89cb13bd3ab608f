/**
 * The "last drill" section of the HTML report (`npm run check -- --format html`): per scenario, when it
 * ran, RTO and RPO measured against the runbook's rows, each step's duration and the validation's lines.
 * A pure function of the drill reports (tools/drill/report.ts).
 */
import { namedWritesText, rpoVerdict, rtoVerdict, secondsText as seconds, vaultVerdict, type CompromiseFindings, type DrillReport, type Verdict } from "./report";

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const target = (s: unknown) => (typeof s !== "number" || !Number.isFinite(s) ? "?" : s >= 3600 ? `${s / 3600} h` : `${s / 60} min`);
const count = (n: unknown) => (typeof n === "number" && Number.isFinite(n) ? String(n) : "?");
/** The badge computed from the measured figures (report.ts), never the stored `met`. */
const verdict = (v: Verdict) => v.state === "not measured"
    ? `<span class="badge badge-missing" title="${escapeHtml(v.why)}">not measured</span>`
    : `<span class="badge badge-${v.state === "met" ? "met" : "missing"}">${v.state}</span>`;

/** The vault copy's badge, from the figures (report.ts vaultVerdict), never the stored boolean alone. */
const vaultBadge = (v: Verdict) => v.state === "not measured"
    ? verdict(v)
    : `<span class="badge badge-${v.state === "met" ? "met" : "missing"}">${v.state === "met" ? "yes" : "NO"}</span>`;

function rpoBlock(r: DrillReport): string {
    const p = r.rpo;
    const items = [
        `failure at ${escapeHtml(p.failureAt)} (${escapeHtml(p.failureEvidence)}); recovery point ${escapeHtml(p.recoveryPoint ?? "none")}`,
        ...(p.afterFailure.notRecovered > 0 ? [`<span class="cost">${p.afterFailure.notRecovered} of ${p.afterFailure.acknowledged}</span> writes acknowledged after the failure not in the recovered database: the recovery point's cost, not a loss against the target${p.afterFailure.missing ? `; ${escapeHtml(namedWritesText(p.afterFailure.missing, "rpo.afterFailure.missing"))}` : ""}`] : []),
        ...(p.shortfall ? [`<b class="shortfall">short of the target</b> by ${p.shortfall.lostRows} acknowledged writes over ${seconds(p.shortfall.windowSeconds)} s; what meets it: ${escapeHtml(p.shortfall.meetsIt)}`] : []),
        ...(p.lost && p.lostRows > 0 ? [`the ${p.lostRows} writes lost: ${escapeHtml(namedWritesText(p.lost, "rpo.lost"))}`] : []),
        escapeHtml(p.note),
    ];
    return `<ul class="rpo">${items.map((i) => `<li>${i}</li>`).join("")}</ul>`;
}

/** The compromise drill's attack: each attempt with moto's measured answer and AWS's, the copies before and after. */
function compromiseBlock(c: CompromiseFindings): string {
    const attempts = c.attempts.map((a) => {
        const moto = a.refused === a.tried ? "refused" : a.refused === 0 ? "accepted" : `${a.refused} of ${a.tried} refused`;
        const disagree = (a.refused === a.tried) !== a.aws.refuses;
        return `<tr${disagree ? ' class="moto-gap"' : ""}><td>${escapeHtml(a.action)}</td><td>${escapeHtml(a.target)}</td><td class="num">${a.tried}</td><td>${escapeHtml(moto)}${a.refused > 0 ? ` <small>${escapeHtml(a.motoAnswer)}</small>` : ""}</td><td>${a.aws.refuses ? "refuses" : "allows"}: ${escapeHtml(a.aws.basis)}${disagree ? " <b>(moto differs from AWS: see the limits)</b>" : ""}</td></tr>`;
    }).join("");
    const copies = c.copies.map((s) => `<tr><td>${escapeHtml(s.name)}</td><td>${s.account}</td><td class="num">${s.before}</td><td class="num">${s.after}</td><td>${escapeHtml(s.detail)}</td></tr>`).join("");
    const list = (items: string[]) => `<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join("")}</ul>`;
    return `<div class="compromise">
<p>Vault copy intact: ${vaultBadge(vaultVerdict(c))} · replication after the attack: ${escapeHtml(c.replicationAfterAttack)}</p>
<p><b>Destroyed:</b> ${escapeHtml(c.destroyed.join("; ") || "nothing")} · <b>survived:</b> ${escapeHtml(c.survived.join("; ") || "nothing")}</p>
<table class="attack"><thead><tr><th>attack (production credentials)</th><th>target</th><th>calls</th><th>moto (measured)</th><th>AWS</th></tr></thead><tbody>${attempts}</tbody></table>
<table class="copies"><thead><tr><th>copy</th><th>account</th><th>versions before</th><th>after</th><th>detail</th></tr></thead><tbody>${copies}</tbody></table>
<p>Declared deletion guards, evaluated as data (moto does not evaluate resource policies):</p>
${list(c.declaredGuards.map((g) => `${g.resource}: ${g.declared ? `attacker ${g.attacker}, break-glass role ${g.breakGlass}` : g.attacker}`))}
<p>Limits:</p>
${list(c.limits)}
</div>`;
}

function drillBlock(r: DrillReport): string {
    const steps = r.steps.map((s) => `<tr><td>${escapeHtml(s.name)}</td><td class="num">${seconds(s.seconds)}</td><td>${escapeHtml(s.detail)}</td></tr>`).join("");
    return `<article class="drill" data-scenario="${escapeHtml(r.scenario)}">
<h3>${escapeHtml(r.scenario)}: ${escapeHtml(r.objective.path)}</h3>
${r.newerFailure ? `<p class="superseded"><span class="badge badge-missing">newest run FAILED</span> ${escapeHtml(r.newerFailure.failedAt)}: ${escapeHtml(r.newerFailure.error.split("\n")[0])}. Below: the last run that completed (${escapeHtml(r.finishedAt)}); its verdicts are not the newest run's.</p>` : ""}
<p>${escapeHtml(r.finishedAt)} · runbook row "${escapeHtml(r.objective.row)}" ·
RTO <b>${seconds(r.rto?.seconds)} s</b> (target ${target(r.rto?.targetSeconds)}) ${verdict(rtoVerdict(r.rto))} ·
RPO <b>${count(r.rpo.lostRows)} of ${count(r.rpo.acknowledged)}</b> writes acknowledged before the failure lost, window ${seconds(r.rpo.windowSeconds)} s (target ${escapeHtml(String(r.rpo.target ?? "?"))}) ${verdict(rpoVerdict(r.rpo))}</p>
${r.rto?.covers ? `<p class="rto-covers">RTO covers ${escapeHtml(r.rto.covers)}</p>` : ""}
${rpoBlock(r)}
${r.compromise ? compromiseBlock(r.compromise) : ""}
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
<p>From <code>npm run drill -- --scenario corruption-pitr|corruption-dump|region|compromise</code> on real PostgreSQL 15, moto (two servers, two accounts, for compromise) and an OpenID provider.</p>
${reports.map(drillBlock).join("\n")}
</section>`;
}
