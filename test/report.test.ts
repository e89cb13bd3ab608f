/**
 * The readable reports of `npm run check`: the Markdown matrix for the PR comment, the DR topology read
 * from the planned resources, and the standalone HTML page rendered in a real headless Chromium
 * (Debian's /usr/bin/chromium, driven by playwright-core; .ci/setup, which npm test runs first, installs it).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { chromium, Browser } from "playwright-core";
import { RETENTION_TABLE } from "../lib/retention";
import { checkPlans, StackCheck } from "../tools/check/core";
import { parseArgs } from "../tools/check/check";
import { PlannedResource, PlanResult } from "offline-plan/model";
import { renderHtml } from "../tools/report/html";
import { cell, renderMarkdown, truncate } from "../tools/report/markdown";
import { buildTopology, pairStacks, Topology } from "../tools/report/topology";
import { runCli } from "./support/cli";
import { plannedResource, planRepo, REPO } from "./support/plans";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const CLASSES = RETENTION_TABLE.map((r) => r.dataClass);

function clone<T>(value: T): T {
    return JSON.parse(JSON.stringify(value)) as T;
}

function nodeTitles(t: Topology, kind: string): string[] {
    return t.nodes.filter((n) => n.kind === kind).map((n) => n.title);
}

function edgeLabels(t: Topology): string[] {
    return t.edges.map((e) => {
        const from = t.nodes.find((n) => n.id === e.from)!;
        const to = t.nodes.find((n) => n.id === e.to)!;
        return `${from.title} -> ${to.title}: ${e.label}`;
    });
}

describe("reports: markdown, topology, HTML", function () {
    let plans: PlanResult[];
    let checks: StackCheck[];

    before(async function () {
        plans = await planRepo(["prod", "dr"]);
        checks = await checkPlans(plans);
    });

    describe("markdown (the PR comment)", () => {
        it("has one matrix row per data class and one column per stack, and says there are no violations", () => {
            const md = renderMarkdown(checks);
            const lines = md.split("\n");
            const header = lines.findIndex((l) => l.startsWith("| Data class | Priority | Required |"));
            assert.ok(header > 0, md);
            assert.match(lines[header], /\| `prod` \| `dr` \|$/);
            const rows = lines.slice(header + 2, header + 2 + CLASSES.length);
            assert.deepStrictEqual(
                rows.map((r) => r.split(" | ")[0].replace(/^\| /, "")),
                RETENTION_TABLE.map((r) => r.dataType.replace(/\|/g, "\\|")),
            );
            for (const row of rows) {
                assert.strictEqual(row.split(" | ").length, 5, row);
                assert.match(row, /✅/);
            }
            assert.match(md, /#### Violations \(0\)/);
            assert.match(md, /^### ✅ oauth2-dr/);
        });

        it("lists violations mandatory first, escapes table syntax, and marks unmet rows", () => {
            const broken = clone(checks);
            broken[1].violations.push(
                { policy: "s3-backup-bucket-lifecycle", urn: "urn:pulumi:dr::oauth2-dr::oauth2-dr:storage:BackupBucket$aws:s3/bucket:Bucket::b", message: "prefix a|b <kept> 1 day", enforcementLevel: "advisory" },
                { policy: "rds-backup-retention", urn: "urn:pulumi:dr::oauth2-dr::aws:rds/instance:Instance::oauth2-postgres-replica", message: "backupRetentionPeriod 7\nbelow 30", enforcementLevel: "mandatory" },
            );
            broken[1].retention[0] = { ...broken[1].retention[0], status: "missing", found: "7 days", shortfalls: ["7 < 30"] };
            const md = renderMarkdown(broken);
            const violationRows = md.split("\n").filter((l) => l.startsWith("| `dr` | 🛑") || l.startsWith("| `dr` | ⚠️"));
            assert.strictEqual(violationRows.length, 2);
            assert.match(violationRows[0], /🛑 mandatory \| `rds-backup-retention` \| oauth2-postgres-replica \(Instance\) \| backupRetentionPeriod 7<br>below 30 \|$/);
            assert.match(violationRows[1], /prefix a\\\|b &lt;kept&gt; 1 day/);
            assert.match(md, /^### ❌/);
            assert.match(md, /❌ 7 days/);
            assert.match(md, /✗ 7 &lt; 30/);
            assert.strictEqual(cell("a|b\nc"), "a\\|b<br>c");
        });

        it("stays under GitHub's comment limit", () => {
            const long = "| row |\n".repeat(20_000);
            const cut = truncate(long, 1000);
            assert.ok(cut.length <= 1000, String(cut.length));
            assert.match(cut, /truncated/);
            assert.strictEqual(truncate("short\n"), "short\n");
        });
    });

    describe("topology (read from the planned resources)", () => {
        it("pairs each standby with the primary it references", () => {
            assert.deepStrictEqual(pairStacks(plans).map((g) => g.map((p) => p.stack)), [["prod", "dr"]]);
            assert.deepStrictEqual(pairStacks([plans[1]]).map((g) => g.map((p) => p.stack)), [["dr"]]);
        });

        it("prod and dr: regions, database and replica, backups, buckets, secrets, logs, links and DNS failover", () => {
            const t = buildTopology(plans);
            assert.deepStrictEqual(t.columns.map((c) => [c.stack, c.role, c.region]), [["prod", "primary", "us-east-1"], ["dr", "standby", "us-west-2"]]);
            assert.deepStrictEqual(nodeTitles(t, "database"), ["RDS oauth2-postgres"]);
            assert.deepStrictEqual(nodeTitles(t, "replica"), ["RDS oauth2-postgres-replica"]);
            assert.strictEqual(t.nodes.find((n) => n.kind === "replica")!.column, 1);
            assert.deepStrictEqual(nodeTitles(t, "bucket").sort(), ["S3 oauth2-audit-dr", "S3 oauth2-audit-prod", "S3 oauth2-backups-dr", "S3 oauth2-backups-prod"]);
            // prod declares the DR vault and the secret replicas: they are drawn in the DR region.
            const drVault = t.nodes.find((n) => n.title === "AWS Backup vault oauth2-dr-vault-dr")!;
            assert.deepStrictEqual([drVault.column, drVault.declaredBy], [1, "prod"]);
            const replicas = t.nodes.find((n) => n.kind === "secret-replica")!;
            assert.deepStrictEqual([replicas.column, replicas.declaredBy], [1, "prod"]);
            assert.deepStrictEqual(edgeLabels(t).sort(), [
                "AWS Backup vault oauth2-dr-vault -> AWS Backup vault oauth2-dr-vault-dr: AWS Backup copy, 30 days",
                "RDS oauth2-postgres -> Automated backups copy: backups replicated, 30 days",
                "RDS oauth2-postgres -> RDS oauth2-postgres-replica: streaming replication",
                "S3 oauth2-audit-prod -> S3 oauth2-audit-dr: S3 replication, RTC 15 min",
                "S3 oauth2-backups-prod -> S3 oauth2-backups-dr: S3 replication, RTC 15 min",
                "Secrets Manager (4) -> Secret replicas (4): replicated",
            ]);
            assert.strictEqual(t.dns?.name, "auth.example.com");
            assert.deepStrictEqual(t.dns?.records.map((r) => [r.column, r.failover]), [[0, "PRIMARY"], [1, "SECONDARY"]]);
            assert.match(t.dns!.records[0].healthCheck!, /HTTPS \/actuator\/health/);
        });

        it("follows the plan: no replica declared, no replica drawn; CronJobs appear when planned", () => {
            // The real plans: one CronJobs node per stack that declares CronJobs, listing each.
            const real = buildTopology(plans);
            plans.forEach((plan, column) => {
                const jobs = plan.resources.filter((r) => r.type === "kubernetes:batch/v1:CronJob").length;
                const nodes = real.nodes.filter((n) => n.kind === "cronjob" && n.column === column);
                assert.deepStrictEqual(nodes.map((n) => n.lines.length), jobs > 0 ? [jobs] : [], plan.stack);
            });

            const [prod, dr] = clone(plans);
            dr.resources = dr.resources.filter((r) => !(r.type === "aws:rds/instance:Instance"));
            prod.resources = prod.resources.filter((r) => r.type !== "kubernetes:batch/v1:CronJob");
            const cron: PlannedResource = {
                ...prod.resources[0],
                urn: "urn:pulumi:prod::oauth2-dr::kubernetes:batch/v1:CronJob::db-backup",
                type: "kubernetes:batch/v1:CronJob",
                name: "db-backup",
                custom: true,
                inputs: { metadata: { name: "oauth2-db-backup", namespace: "oauth2-system" }, spec: { schedule: "15 3 * * *", suspend: false } },
            };
            prod.resources.push(cron);
            const t = buildTopology([prod, dr]);
            assert.deepStrictEqual(nodeTitles(t, "replica"), []);
            assert.ok(!edgeLabels(t).some((e) => e.includes("streaming replication")));
            const cronNode = t.nodes.find((n) => n.kind === "cronjob")!;
            assert.deepStrictEqual([cronNode.title, cronNode.column, cronNode.lines], ["CronJobs (1) · oauth2-system", 0, ["oauth2-db-backup: 15 3 * * *"]]);
        });

        it("prod alone: resources it declares in the DR region get a dashed column of their own", () => {
            const t = buildTopology([plans[0]]);
            assert.deepStrictEqual(t.columns.map((c) => [c.stack, !!c.implied]), [["prod", false], ["(us-west-2)", true]]);
        });

        it("buckets of every S3 family appear as the policy pack reads them: v6 *V2 resources and legacy inline arguments", () => {
            const plan: PlanResult = {
                project: "estate", stack: "prod", organization: "organization", preview: false, outputs: {}, lookups: [],
                config: { "aws:region": "eu-west-1" },
                resources: [
                    plannedResource("urn:v2", "aws:s3/bucketV2:BucketV2", "archive", { bucket: "team-archive" }),
                    plannedResource("urn:v2-versioning", "aws:s3/bucketVersioningV2:BucketVersioningV2", "archive-versioning", { bucket: "team-archive", versioningConfiguration: { status: "Enabled" } }),
                    plannedResource("urn:v2-lifecycle", "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "archive-lifecycle", {
                        bucket: "team-archive",
                        rules: [{ id: "db", status: "Enabled", filter: { prefix: "database/" }, expiration: { days: 35 } }],
                    }),
                    plannedResource("urn:inline", "aws:s3/bucket:Bucket", "legacy", {
                        bucket: "team-legacy",
                        versioning: { enabled: true },
                        serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } } },
                        lifecycleRules: [{ id: "secrets", enabled: true, prefix: "secrets/", noncurrentVersionExpiration: { days: 30 } }, { id: "audit", enabled: true, prefix: "audit/", expiration: { days: 400 } }],
                        replicationConfiguration: { role: "arn:aws:iam::123456789012:role/r", rules: [{ status: "Enabled", destination: { bucket: "arn:aws:s3:::team-archive", replicationTime: { status: "Enabled", minutes: 15 } } }] },
                    }),
                ],
            };
            const t = buildTopology([plan]);
            const buckets = t.nodes.filter((n) => n.kind === "bucket").map((n) => [n.title, n.lines]);
            assert.deepStrictEqual(buckets, [
                ["S3 team-legacy", ["versioned, SSE-S3", "secrets/, audit/ 400d"]],
                ["S3 team-archive", ["versioned", "database/ 35d"]],
            ]);
            assert.deepStrictEqual(edgeLabels(t), ["S3 team-legacy -> S3 team-archive: S3 replication, RTC 15 min"]);
        });

        it("each failover record shows its own health check, not the plan's first", () => {
            const [prod] = clone(plans);
            const health = prod.resources.find((r) => r.type === "aws:route53/healthCheck:HealthCheck")!;
            const record = prod.resources.find((r) => r.type === "aws:route53/record:Record" && JSON.stringify(r.inputs).includes("PRIMARY"))!;
            const other: PlannedResource = { ...health, urn: `${health.urn}-other`, id: "other-health-check", inputs: { ...health.inputs, resourcePath: "/other" } };
            const unchecked: PlannedResource = { ...record, urn: `${record.urn}-unchecked`, inputs: { ...record.inputs, healthCheckId: undefined }, propertyDependencies: {} };
            const otherRecord: PlannedResource = { ...record, urn: `${record.urn}-other`, inputs: { ...record.inputs, healthCheckId: "other-health-check" }, propertyDependencies: {} };
            prod.resources.push(other, unchecked, otherRecord);
            const checks = buildTopology([prod]).dns!.records.map((r) => r.healthCheck);
            assert.deepStrictEqual(checks, ["HTTPS /actuator/health every 10s", undefined, "HTTPS /other every 10s"]);
        });
    });

    describe("HTML page in headless Chromium", function () {
        let browser: Browser;
        const dir = path.join(REPO, ".tmp", "report-test");

        before(async function () {
            assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: bash .ci/setup installs it (npm test runs it first)`);
            browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
            fs.mkdirSync(dir, { recursive: true });
        });

        after(async function () {
            await browser?.close();
            fs.rmSync(dir, { recursive: true, force: true });
        });

        async function open(file: string) {
            const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
            const requests: string[] = [];
            const errors: string[] = [];
            page.on("request", (r) => requests.push(r.url()));
            page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
            page.on("pageerror", (e) => errors.push(e.message));
            await page.goto(`file://${file}`, { waitUntil: "load" });
            return { page, requests, errors };
        }

        it("renders the diagram and one matrix row per data class, with no external assets", async () => {
            const file = path.join(dir, "report.html");
            fs.writeFileSync(file, renderHtml(checks, plans));
            const { page, requests, errors } = await open(file);
            try {
                assert.deepStrictEqual(requests, [`file://${file}`], "the page loads nothing but itself");
                assert.deepStrictEqual(errors, []);
                assert.strictEqual(await page.locator("svg.topology").count(), 1);
                const svg = page.locator("svg.topology").first();
                const box = await svg.boundingBox();
                assert.ok(box && box.width > 600 && box.height > 400, JSON.stringify(box));
                assert.ok((await svg.locator("g.node").count()) >= 10);
                assert.ok((await svg.locator("g.edge").count()) >= 7, "5 cross-region links and 2 DNS records");
                assert.deepStrictEqual(await svg.locator("g.region").evaluateAll((gs) => gs.map((g) => g.getAttribute("data-stack"))), ["prod", "dr"]);
                assert.deepStrictEqual(await svg.locator("g.dns-edge").evaluateAll((gs) => gs.map((g) => g.getAttribute("data-failover"))), ["PRIMARY", "SECONDARY"]);
                const svgText = await svg.textContent();
                for (const expected of ["oauth2-postgres-replica", "oauth2-backups-dr", "streaming replication", "S3 replication", "auth.example.com"]) {
                    assert.ok(svgText?.includes(expected), expected);
                }
                // Every node's box lies inside the SVG and its text is drawn (non-zero size).
                const sizes = await svg.locator("g.node text").evaluateAll((ts) => ts.map((t) => (t as unknown as { getBBox(): { width: number } }).getBBox().width));
                assert.ok(sizes.every((w) => w > 0));

                const rows = page.locator("#retention-matrix tbody tr");
                assert.strictEqual(await rows.count(), CLASSES.length);
                assert.deepStrictEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-class"))), CLASSES);
                assert.deepStrictEqual(await page.locator("#retention-matrix thead th[data-stack]").allTextContents(), ["prod", "dr"]);
                assert.strictEqual(await page.locator("#retention-matrix td.status-met").count(), CLASSES.length * 2);
                assert.strictEqual(await page.locator("#violations-none").count(), 1);
                assert.strictEqual(await page.title(), "oauth2-dr: DR design and retention check");
            } finally {
                await page.close();
            }
        });

        it("shows violations and unmet rows", async () => {
            const broken = clone(checks);
            broken[0].violations.push({ policy: "rds-backup-retention", urn: "urn:x", message: "<script>alert(1)</script> 7 < 30", enforcementLevel: "mandatory" });
            broken[0].retention[0] = { ...broken[0].retention[0], status: "missing", found: "7 days" };
            const file = path.join(dir, "broken.html");
            fs.writeFileSync(file, renderHtml(broken, plans));
            const { page, errors } = await open(file);
            try {
                assert.deepStrictEqual(errors, []);
                assert.strictEqual(await page.locator("script").count(), 0, "messages are escaped");
                assert.strictEqual(await page.locator("#violations tbody tr").count(), 1);
                assert.match((await page.locator("#violations").textContent()) ?? "", /<script>alert\(1\)<\/script> 7 < 30/);
                assert.strictEqual(await page.locator('#retention-matrix tr[data-class="database"] td.status-missing').count(), 1);
                assert.strictEqual(await page.locator(".card.fail").count(), 1);
            } finally {
                await page.close();
            }
        });

        it("npm run check -- --format html --out FILE writes the page (prod and dr)", async () => {
            // The CLI's main in this process (support/cli.ts), on the prod and dr plans of this file's before():
            // not a process and a planning child of its own (0.7 CPU-s) for what main writes. The process's exit
            // status is programs.test.ts's (the check CLI's exit 1 as a process).
            const file = path.join(dir, "cli.html");
            const child = await runCli("check", ["--stack", "prod", "--stack", "dr", "--format", "html", "--out", file]);
            assert.strictEqual(child.status, 0, child.stderr + child.stdout);
            assert.match(child.stdout, /wrote .*cli\.html \(2 stacks, 0 mandatory violations\)/);
            const { page } = await open(file);
            try {
                assert.strictEqual(await page.locator("#retention-matrix tbody tr").count(), CLASSES.length);
                assert.strictEqual(await page.locator("svg.topology g.node").count() > 0, true);
            } finally {
                await page.close();
            }
        });
    });

    describe("check CLI flags", () => {
        it("--format markdown|html|json|text, --out only with a file format", () => {
            assert.strictEqual(parseArgs(["--format", "markdown"]).format, "markdown");
            assert.strictEqual(parseArgs(["--format=html", "--out", "r.html"]).out, "r.html");
            assert.strictEqual(parseArgs(["--format", "json"]).json, true);
            assert.throws(() => parseArgs(["--format", "pdf"]), /expected one of text, json, markdown, html/);
            assert.throws(() => parseArgs(["--format", "html"]), /needs --out/);
            assert.throws(() => parseArgs(["--out", "x.txt"]), /--out is for/);
        });
    });
});
