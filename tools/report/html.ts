/**
 * `npm run check -- --format html --out FILE`: one standalone page (inline CSS and SVG, no scripts, no
 * external assets) with the DR design of the planned stacks as a diagram, the retention matrix and the
 * policy violations. A pure function of the checker's structured result and the planned stacks.
 */
import { drillSection } from "../drill/html-section";
import type { DrillReport } from "../drill/report";
import { PlanResult, shortType } from "offline-plan/model";
import { ReportCheck, unrunNote } from "./markdown";
import { UNKNOWN_IN_FULL_PLAN, unjudgedHeading } from "../check/format";
import { buildTopology, LANE_TITLES, LANES, Lane, pairStacks, Topology, TopologyNode } from "./topology";

export interface HtmlOptions {
    /** Shown in the header; omitted when not given (keeps the output deterministic for tests). */
    generatedAt?: string;
    title?: string;
    /** The last drill of each scenario (.drill/*.json), shown as the "last drill" section. */
    drills?: DrillReport[];
}

/** Status as a coloured text badge (no emoji: headless browsers and print often lack the font). */
function badge(status: string, text = status): string {
    return `<span class="badge badge-${esc(status)}">${esc(text)}</span>`;
}

/** The per-stack summary line, as in the Markdown report but without emoji. */
function summaryOf(check: ReportCheck): { ok: boolean; text: string } {
    const m = check.violations.filter((v) => v.enforcementLevel === "mandatory").length;
    const a = check.violations.length - m;
    const unmet = check.retention.filter((r) => r.status === "missing" || r.status === "unknown").length;
    return {
        ok: m === 0 && unmet === 0,
        text: `${m} mandatory, ${a} advisory violation${a === 1 ? "" : "s"}; ${check.retention.length - unmet}/${check.retention.length} retention rows met${unrunNote(check)}`,
    };
}

export function esc(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

// ---- diagram -----------------------------------------------------------------------------------------

const COLUMN_WIDTH = 340;
const COLUMN_GAP = 190;
const MARGIN = 24;
const NODE_PAD_X = 14;
const LINE = 15;
const TITLE_LINE = 18;
const NODE_GAP = 10;
const LANE_LABEL = 16;
const CHAR_WIDTH = 6.4;
const DNS_TOP = 16;
const DNS_HEIGHT = 54;

const KIND_STYLE: Record<string, { fill: string; stroke: string }> = {
    database: { fill: "#dbeafe", stroke: "#1d4ed8" },
    replica: { fill: "#e0e7ff", stroke: "#4338ca" },
    restore: { fill: "#fef3c7", stroke: "#b45309" },
    pitr: { fill: "#e0f2fe", stroke: "#0369a1" },
    vault: { fill: "#ede9fe", stroke: "#6d28d9" },
    bucket: { fill: "#dcfce7", stroke: "#15803d" },
    secret: { fill: "#fee2e2", stroke: "#b91c1c" },
    "secret-replica": { fill: "#ffe4e6", stroke: "#be123c" },
    logs: { fill: "#f1f5f9", stroke: "#475569" },
    cronjob: { fill: "#fef9c3", stroke: "#a16207" },
};

/** Order within a lane: what the stack itself runs first, then copies declared for it. */
const KIND_ORDER = ["database", "replica", "restore", "pitr", "vault", "bucket", "secret", "secret-replica", "logs", "cronjob"];

function fit(text: string, width: number, charWidth = CHAR_WIDTH): string {
    const max = Math.floor(width / charWidth);
    return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

interface Box {
    x: number;
    y: number;
    w: number;
    h: number;
}

function nodeHeight(node: TopologyNode): number {
    return 12 + TITLE_LINE + LINE * node.lines.length + (node.declaredBy ? LINE : 0);
}

/** Lays the topology out: columns left to right, lanes top to bottom, the DNS name on top. */
export function layout(topology: Topology) {
    const columnX = topology.columns.map((_, i) => MARGIN + i * (COLUMN_WIDTH + COLUMN_GAP));
    const width = MARGIN * 2 + topology.columns.length * COLUMN_WIDTH + (topology.columns.length - 1) * COLUMN_GAP;
    const regionTop = topology.dns ? DNS_TOP + DNS_HEIGHT + 56 : DNS_TOP;
    const headerHeight = 50;
    let y = regionTop + headerHeight + 8;
    const boxes = new Map<string, Box>();
    const lanes: { lane: Lane; y: number; h: number }[] = [];
    for (const lane of LANES) {
        const inLane = topology.nodes.filter((n) => n.lane === lane);
        if (inLane.length === 0) {
            continue;
        }
        const laneTop = y;
        y += LANE_LABEL;
        let laneHeight = 0;
        topology.columns.forEach((_, column) => {
            let cy = y;
            const here = inLane.filter((n) => n.column === column).sort((m, n) => KIND_ORDER.indexOf(m.kind) - KIND_ORDER.indexOf(n.kind));
            for (const node of here) {
                const h = nodeHeight(node);
                boxes.set(node.id, { x: columnX[column] + 12, y: cy, w: COLUMN_WIDTH - 24, h });
                cy += h + NODE_GAP;
            }
            laneHeight = Math.max(laneHeight, cy - y);
        });
        y += laneHeight + 4;
        lanes.push({ lane, y: laneTop, h: y - laneTop });
    }
    const regionBottom = y + 8;
    return { columnX, width, height: regionBottom + MARGIN, regionTop, regionBottom, headerHeight, boxes, lanes };
}

export function renderSvg(topology: Topology): string {
    const L = layout(topology);
    const out: string[] = [];
    out.push(
        `<svg xmlns="http://www.w3.org/2000/svg" class="topology" viewBox="0 0 ${L.width} ${L.height}" width="${L.width}" height="${L.height}" role="img" aria-label="${esc(`DR topology of ${topology.title}`)}" data-stacks="${esc(topology.columns.map((c) => c.stack).join(" "))}">`,
    );
    out.push(
        `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#334155"/></marker></defs>`,
    );

    // Region columns.
    topology.columns.forEach((c, i) => {
        const x = L.columnX[i];
        const standby = c.role !== "primary";
        out.push(
            `<g class="region" data-stack="${esc(c.stack)}" data-role="${esc(c.role)}"><rect x="${x}" y="${L.regionTop}" width="${COLUMN_WIDTH}" height="${L.regionBottom - L.regionTop}" rx="12" fill="${c.implied ? "#fafafa" : standby ? "#f8fafc" : "#f0f9ff"}" stroke="${standby ? "#64748b" : "#0369a1"}" stroke-width="1.5" ${c.implied ? 'stroke-dasharray="6 4"' : ""}/>`,
        );
        const heading = `${c.stack} · ${c.role}`;
        out.push(`<text x="${x + 14}" y="${L.regionTop + 22}" class="region-title">${esc(fit(heading, COLUMN_WIDTH - 28, 8.4))}</text>`);
        const where = `${c.cloud} ${c.region}${c.awsRegion ? ` · storage in aws ${c.awsRegion}` : ""}`;
        out.push(`<text x="${x + 14}" y="${L.regionTop + 40}" class="region-sub">${esc(fit(where, COLUMN_WIDTH - 28))}</text>`);
        out.push("</g>");
    });
    // Lane labels (left of the first column's content).
    for (const lane of L.lanes) {
        topology.columns.forEach((_, i) => {
            out.push(`<text x="${L.columnX[i] + 14}" y="${lane.y + 11}" class="lane">${esc(LANE_TITLES[lane.lane].toUpperCase())}</text>`);
        });
    }

    // DNS failover on top.
    if (topology.dns) {
        const w = Math.min(L.width - 2 * MARGIN, 420);
        const x = (L.width - w) / 2;
        out.push(
            `<g class="dns"><rect x="${x}" y="${DNS_TOP}" width="${w}" height="${DNS_HEIGHT}" rx="27" fill="#fff7ed" stroke="#c2410c" stroke-width="1.5"/>`,
        );
        out.push(`<text x="${x + w / 2}" y="${DNS_TOP + 23}" text-anchor="middle" class="node-title">${esc(fit(`Route 53 failover: ${topology.dns.name}`, w - 20, 7.2))}</text>`);
        out.push(`<text x="${x + w / 2}" y="${DNS_TOP + 41}" text-anchor="middle" class="node-line">${esc(fit(`${topology.dns.records.length} record${topology.dns.records.length === 1 ? "" : "s"}, health-checked`, w - 20))}</text></g>`);
        for (const record of topology.dns.records) {
            const cx = L.columnX[record.column] + COLUMN_WIDTH / 2;
            const fromX = x + w / 2 + (cx < x + w / 2 ? -w / 4 : cx > x + w / 2 ? w / 4 : 0);
            const primary = record.failover === "PRIMARY";
            out.push(
                `<g class="edge dns-edge" data-failover="${esc(record.failover)}"><path d="M${fromX},${DNS_TOP + DNS_HEIGHT} L${cx},${L.regionTop}" fill="none" stroke="${primary ? "#c2410c" : "#94a3b8"}" stroke-width="2" ${primary ? "" : 'stroke-dasharray="6 4"'} marker-end="url(#arrow)"/>`,
            );
            const lx = (fromX + cx) / 2 + (cx < fromX ? -8 : 8);
            const anchor = cx < fromX ? "end" : "start";
            const my = (DNS_TOP + DNS_HEIGHT + L.regionTop) / 2;
            out.push(`<text x="${lx}" y="${my - 4}" text-anchor="${anchor}" class="edge-label">${esc(record.failover)}</text>`);
            if (record.healthCheck) {
                out.push(`<text x="${lx}" y="${my + 10}" text-anchor="${anchor}" class="edge-sub">${esc(fit(record.healthCheck, 220))}</text>`);
            }
            out.push("</g>");
        }
    }

    // Nodes.
    for (const node of topology.nodes) {
        const b = L.boxes.get(node.id)!;
        const style = KIND_STYLE[node.kind] ?? KIND_STYLE.logs;
        const dashed = node.declaredBy ? ' stroke-dasharray="5 3"' : "";
        out.push(`<g class="node" data-kind="${node.kind}" data-id="${node.id}">`);
        out.push(`<title>${esc([node.title, ...node.lines, ...(node.declaredBy ? [`declared by stack ${node.declaredBy}`] : [])].join("\n"))}</title>`);
        out.push(`<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="8" fill="${style.fill}" stroke="${style.stroke}" stroke-width="1.5"${dashed}/>`);
        out.push(`<text x="${b.x + NODE_PAD_X}" y="${b.y + 22}" class="node-title">${esc(fit(node.title, b.w - 2 * NODE_PAD_X, 7.6))}</text>`);
        node.lines.forEach((line, i) => {
            out.push(`<text x="${b.x + NODE_PAD_X}" y="${b.y + 22 + TITLE_LINE + i * LINE}" class="node-line">${esc(fit(line, b.w - 2 * NODE_PAD_X))}</text>`);
        });
        if (node.declaredBy) {
            out.push(`<text x="${b.x + NODE_PAD_X}" y="${b.y + 22 + TITLE_LINE + node.lines.length * LINE}" class="node-note">${esc(`declared by stack ${node.declaredBy}`)}</text>`);
        }
        out.push("</g>");
    }

    // Edges: across columns a straight arrow between facing sides; within a column a curve on the right.
    const seen = new Map<string, number>();
    for (const edge of topology.edges) {
        const a = L.boxes.get(edge.from);
        const b = L.boxes.get(edge.to);
        if (!a || !b) {
            continue;
        }
        const pairKey = `${edge.from}>${edge.to}`;
        const nth = seen.get(pairKey) ?? 0;
        seen.set(pairKey, nth + 1);
        let path: string;
        let lx: number;
        let ly: number;
        let anchor = "middle";
        if (Math.abs(a.x - b.x) < 1) {
            const x1 = a.x + a.w;
            const y1 = a.y + a.h / 2;
            const y2 = b.y + b.h / 2;
            const bulge = x1 + 40;
            path = `M${x1},${y1} C${bulge},${y1} ${bulge},${y2} ${x1},${y2}`;
            lx = bulge - 6;
            ly = (y1 + y2) / 2;
            anchor = "start";
        } else {
            const leftToRight = a.x < b.x;
            const x1 = leftToRight ? a.x + a.w : a.x;
            const x2 = leftToRight ? b.x : b.x + b.w;
            const y1 = a.y + Math.min(a.h / 2, 26) + nth * 8;
            const y2 = b.y + Math.min(b.h / 2, 26) + nth * 8;
            path = `M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}`;
            // The curve's midpoint: labels of edges leaving one node at different heights do not collide.
            lx = (x1 + x2) / 2;
            ly = (y1 + y2) / 2 - 6;
        }
        out.push(
            `<g class="edge" data-from="${edge.from}" data-to="${edge.to}"><path d="${path}" fill="none" stroke="#334155" stroke-width="1.6" marker-end="url(#arrow)"/><text x="${lx}" y="${ly}" text-anchor="${anchor}" class="edge-label">${esc(fit(edge.label, COLUMN_GAP + 40))}</text></g>`,
        );
    }
    out.push("</svg>");
    return out.join("\n");
}

// ---- page --------------------------------------------------------------------------------------------

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #0f172a; background: #f8fafc; }
header { padding: 20px 32px; background: #0f172a; color: #f8fafc; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: #cbd5e1; }
main { padding: 8px 32px 40px; }
section { margin-top: 28px; }
h2 { font-size: 18px; margin: 0 0 10px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: #fff; border: 1px solid #e2e8f0; border-left: 5px solid #16a34a; border-radius: 8px; padding: 10px 14px; min-width: 240px; }
.card.fail { border-left-color: #dc2626; }
.card b { font-size: 15px; }
.card .line { display: block; color: #475569; font-size: 13px; }
figure { margin: 0 0 18px; background: #fff; border: 1px solid #e2e8f0; border-radius: 10px; padding: 12px; overflow-x: auto; }
figcaption { color: #475569; font-size: 13px; margin-bottom: 6px; }
svg.topology text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
svg .region-title { font-size: 15px; font-weight: 700; fill: #0f172a; }
svg .region-sub { font-size: 12px; fill: #475569; }
svg .lane { font-size: 10px; letter-spacing: .08em; fill: #94a3b8; font-weight: 600; }
svg .node-title { font-size: 12.5px; font-weight: 650; fill: #0f172a; }
svg .node-line { font-size: 11.5px; fill: #334155; }
svg .node-note { font-size: 11px; fill: #64748b; font-style: italic; }
svg .edge-label { font-size: 11.5px; font-weight: 600; fill: #0f172a; paint-order: stroke; stroke: #fff; stroke-width: 4px; }
svg .edge-sub { font-size: 11px; fill: #475569; paint-order: stroke; stroke: #fff; stroke-width: 4px; }
table { border-collapse: collapse; background: #fff; width: 100%; font-size: 13px; }
th, td { border: 1px solid #e2e8f0; padding: 6px 9px; text-align: left; vertical-align: top; }
th { background: #f1f5f9; }
td.status-met { background: #f0fdf4; }
td.status-missing, td.status-unknown { background: #fef2f2; }
td.status-waived { background: #f8fafc; color: #475569; }
ul.evidence { margin: 0; padding-left: 18px; }
.level-mandatory { color: #b91c1c; font-weight: 700; }
.level-advisory { color: #a16207; font-weight: 700; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.legend span { display: inline-block; margin-right: 14px; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 9px; font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: .04em; vertical-align: 1px; }
.badge-met { background: #16a34a; color: #fff; }
.badge-missing, .badge-unknown { background: #dc2626; color: #fff; }
.badge-waived { background: #94a3b8; color: #fff; }
header .badge { font-size: 12px; margin-left: 8px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; vertical-align: -1px; margin-right: 5px; border: 1.5px solid; }
`;

function matrixTable(checks: ReportCheck[]): string {
    const classes: ReportCheck["retention"] = [];
    for (const check of checks) {
        for (const row of check.retention) {
            if (!classes.some((c) => c.dataClass === row.dataClass)) {
                classes.push(row);
            }
        }
    }
    const rows = classes.map((row) => {
        const cells = checks.map((check) => {
            const r = check.retention.find((x) => x.dataClass === row.dataClass);
            if (!r) {
                return `<td>—</td>`;
            }
            const title = [...r.evidence.map((e) => `${e.name}: ${e.detail}`), ...(r.waiver ? [`waived: ${r.waiver}`] : []), ...r.shortfalls].join("\n");
            return `<td class="status-${esc(r.status)}" title="${esc(title)}">${badge(r.status)} ${esc(r.status === "waived" ? (r.waiver ?? "") : r.found)}</td>`;
        });
        return `<tr data-class="${esc(row.dataClass)}"><th scope="row">${esc(row.dataType)}</th><td>${esc(row.priority)}</td><td>${esc(row.required)}</td>${cells.join("")}</tr>`;
    });
    return [
        `<table id="retention-matrix">`,
        `<thead><tr><th>Data class</th><th>Priority</th><th>Required</th>${checks.map((c) => `<th data-stack="${esc(c.stack)}">${esc(c.stack)}</th>`).join("")}</tr></thead>`,
        `<tbody>${rows.join("\n")}</tbody>`,
        `</table>`,
    ].join("\n");
}

function evidenceTable(check: ReportCheck): string {
    const rows = check.retention.map((r) => {
        const items = [
            ...r.evidence.map((e) => `<li><code>${esc(e.name)}</code> (${esc(shortType(e.type))}): ${esc(e.detail)}</li>`),
            ...(r.waiver ? [`<li>waiver: ${esc(r.waiver)}</li>`] : []),
            ...(r.status !== "met" ? r.shortfalls.map((s) => `<li>✗ ${esc(s)}</li>`) : []),
        ];
        return `<tr><th scope="row">${esc(r.dataType)}</th><td>${esc(r.required)}</td><td>${esc(r.found)}</td><td class="status-${esc(r.status)}">${badge(r.status)}</td><td>${items.length > 0 ? `<ul class="evidence">${items.join("")}</ul>` : "—"}</td></tr>`;
    });
    return `<details><summary><b>${esc(check.stack)}</b>: what proves each row</summary><table class="evidence-table" data-stack="${esc(check.stack)}"><thead><tr><th>Data class</th><th>Required</th><th>Found</th><th>Status</th><th>Proven by</th></tr></thead><tbody>${rows.join("\n")}</tbody></table></details>`;
}

function violationsTable(checks: ReportCheck[]): string {
    const all = checks.flatMap((c) => c.violations.map((v) => ({ stack: c.stack, ...v })));
    all.sort((a, b) => Number(b.enforcementLevel === "mandatory") - Number(a.enforcementLevel === "mandatory"));
    if (all.length === 0) {
        return `<p id="violations-none">None: every policy of the pack passes on every stack.</p>`;
    }
    const rows = all.map(
        (v) =>
            `<tr><td>${esc(v.stack)}</td><td class="level-${esc(v.enforcementLevel)}">${esc(v.enforcementLevel)}</td><td><code>${esc(v.policy)}</code></td><td>${esc(v.message)}${v.urn ? `<br><code>${esc(v.urn)}</code>` : ""}</td></tr>`,
    );
    return `<table id="violations"><thead><tr><th>Stack</th><th>Level</th><th>Policy</th><th>Message</th></tr></thead><tbody>${rows.join("\n")}</tbody></table>`;
}

function notJudgedSection(checks: ReportCheck[]): string {
    const all = checks.flatMap((c) => (c.notJudged ?? []).map((n) => ({ stack: c.stack, ...n })));
    if (all.length === 0) {
        return "";
    }
    const rows = all.map((n) => `<tr><td>${esc(n.stack)}</td><td><code>${esc(n.name)}</code></td><td>${esc(n.kind)}</td><td>${esc(n.backups)}</td></tr>`);
    return `<section id="not-judged"><h2>Not judged</h2><p>Database-like engines the retention table does not cover; review their backups yourself.</p><table id="not-judged-table"><thead><tr><th>Stack</th><th>Resource</th><th>Engine</th><th>Backups declared</th></tr></thead><tbody>${rows.join("\n")}</tbody></table></section>
`;
}

function waitingSection(checks: ReportCheck[]): string {
    const all = checks.flatMap((c) => (c.waitingOnUnknowns ?? []).map((w) => ({ stack: c.stack, ...w })));
    if (all.length === 0) {
        return "";
    }
    const rows = all.map((w) => `<tr><td>${esc(w.stack)}</td><td><code>${esc(w.name)}</code> (${esc(shortType(w.type))})</td><td>${w.where ? `<code>${esc(w.where)}</code>` : "—"}</td><td>${esc(w.waitsOn.join(", ") || "—")}</td></tr>`);
    return `<section id="waiting-on-unknowns"><h2>Waiting on unknowns</h2><p>Registrations made inside <code>.apply</code> over values unknown in a preview: the preview does not show them and no policy judged them.</p><table><thead><tr><th>Stack</th><th>Resource</th><th>Where</th><th>Waits on</th></tr></thead><tbody>${rows.join("\n")}</tbody></table></section>
`;
}

function unjudgedSection(checks: ReportCheck[], preview: boolean): string {
    const all = checks.flatMap((c) => (c.notJudgedInPreview ?? []).map((u) => ({ stack: c.stack, ...u })));
    if (all.length === 0) {
        return "";
    }
    const rows = all.map((u) => `<tr><td>${esc(u.stack)}</td><td><code>${esc(u.name)}</code> (${esc(shortType(u.type))})</td><td>${esc(u.inputs)}${u.why ? ` (${esc(u.why)})` : ""}</td><td>${esc(u.policies.join(", "))}</td></tr>`);
    return `<section id="not-judged-in-preview"><h2>${esc(unjudgedHeading(preview))}</h2><p>Resources a policy would judge (and retention table rows the coverage policy would decide), with an input it decides on unknown until the update${preview ? "" : ` (not a preview: ${esc(UNKNOWN_IN_FULL_PLAN)})`}: judged when the value is known.</p><table><thead><tr><th>Stack</th><th>Resource</th><th>Unknown input</th><th>Policies</th></tr></thead><tbody>${rows.join("\n")}</tbody></table></section>
`;
}

function unknownAppliesSection(checks: ReportCheck[]): string {
    const all = checks.flatMap((c) => (c.unknownApplies ?? []).map((a) => ({ stack: c.stack, ...a })));
    if (all.length === 0) {
        return "";
    }
    const rows = all.map((a) => `<tr><td>${esc(a.stack)}</td><td><code>${esc(a.where)}</code></td><td>${esc(a.waitsOn.join(", ") || "—")}</td><td>${a.count}</td></tr>`);
    return `<section id="unknown-applies"><h2>Not judged: <code>.apply</code> callbacks that did not run</h2><p>Their value is unknown even in a full offline plan (a value only the cloud computes, or an outside stack's output not supplied). Whatever they create under <code>pulumi up</code> is in no plan and no policy judged it: the verdict above covers only what the plan holds.</p><table><thead><tr><th>Stack</th><th>Where</th><th>Waits on</th><th>Calls</th></tr></thead><tbody>${rows.join("\n")}</tbody></table></section>
`;
}

function legend(): string {
    const names: Record<string, string> = {
        database: "primary database",
        replica: "replica",
        restore: "restored database",
        pitr: "replicated automated backups",
        vault: "AWS Backup vault",
        bucket: "backup bucket",
        secret: "secrets",
        "secret-replica": "secret replicas",
        logs: "audit logs",
        cronjob: "CronJob",
    };
    return `<p class="legend">${Object.entries(names)
        .map(([kind, label]) => `<span><i class="swatch" style="background:${KIND_STYLE[kind].fill};border-color:${KIND_STYLE[kind].stroke}"></i>${esc(label)}</span>`)
        .join("")}<span>dashed: declared by the other stack</span></p>`;
}

export function renderHtml(checks: ReportCheck[], plans: PlanResult[], options: HtmlOptions = {}): string {
    const project = checks[0]?.project ?? plans[0]?.project ?? "";
    const title = options.title ?? `${project}: DR design and retention check`;
    const totalMandatory = checks.reduce((n, c) => n + c.violations.filter((v) => v.enforcementLevel === "mandatory").length, 0);
    const groups = pairStacks(plans.filter((p) => checks.length === 0 || checks.some((c) => c.stack === p.stack)));
    const figures = groups.map((group) => {
        const topology = buildTopology(group);
        const caption = group.length === 2 ? `${group[0].stack} (primary) and ${group[1].stack} (standby)` : `${group[0].stack}`;
        return `<figure data-stacks="${esc(group.map((p) => p.stack).join(" "))}"><figcaption>${esc(caption)}: ${topology.nodes.length} components, ${topology.edges.length} cross-region links${topology.dns ? `, DNS failover on ${esc(topology.dns.name)}` : ""}${group.some((p) => p.preview) ? " (preview: values computed by the cloud are unknown, so links through them are not drawn)" : ""}</figcaption>\n${renderSvg(topology)}\n</figure>`;
    });
    const cards = checks.map((c) => {
        const summary = summaryOf(c);
        return `<div class="card${summary.ok ? "" : " fail"}" data-stack="${esc(c.stack)}"><b>${esc(c.stack)}</b> ${badge(summary.ok ? "met" : "missing", summary.ok ? "pass" : "fail")}<span class="line">${esc(c.role)}${c.resourceCount !== undefined ? `, ${c.resourceCount} resources` : ""}</span><span class="line">${esc(summary.text)}</span></div>`;
    });
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${esc(title)} ${badge(totalMandatory === 0 ? "met" : "missing", totalMandatory === 0 ? "pass" : `${totalMandatory} mandatory violation${totalMandatory === 1 ? "" : "s"}`)}</h1><p>Offline plan of ${plans.length} stack${plans.length === 1 ? "" : "s"} under Pulumi mocks, checked against the policy pack${options.generatedAt ? ` · ${esc(options.generatedAt)}` : ""}</p></header>
<main>
<section id="summary"><h2>Stacks</h2><div class="cards">${cards.join("\n")}</div></section>
<section id="topology"><h2>DR topology</h2>
${legend()}
${figures.join("\n")}
</section>
<section id="matrix"><h2>Retention matrix</h2>
${matrixTable(checks)}
</section>
<section id="evidence"><h2>Evidence per stack</h2>
${checks.map(evidenceTable).join("\n")}
</section>
<section id="policy"><h2>Policy violations</h2>
${violationsTable(checks)}
</section>
${notJudgedSection(checks)}${waitingSection(checks)}${unjudgedSection(checks, plans.length === 0 || plans.some((p) => p.preview))}${unknownAppliesSection(checks)}${drillSection(options.drills ?? [])}
</main>
</body>
</html>
`;
}
