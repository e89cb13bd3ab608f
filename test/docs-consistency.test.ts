/**
 * Each fact has one source: where a document restates a value the code owns (the retention table, the jobs'
 * default schedules and resources, the scripts' exit codes, the namespace, the planner's supported SDK range),
 * this file reads both and fails on drift, naming the document, the value it states and the code's. A fact a
 * document can point to instead of restating is not checked here: point to it.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { formatRetention, RETENTION_TABLE, TABLE_RETENTION } from "../lib/retention";
import { objectRetainDays } from "../lib/object-lock";
import { DEFAULT_JOB_RESOURCES, DEFAULT_SCHEDULES, DEFAULT_SERVER_NAMESPACE, FIELDS, SECTION_DEFAULTS } from "../lib/config";
import { BACKUP_NAMESPACE } from "../components/backup-image-pods";
import { EXIT } from "../tools/recovery-points/points";
import { BACKUP_BUCKET_PREFIX } from "../lib/names";
import { SETTINGS_SCHEMA } from "../policy/settings";
import { PLAN_OPTIONS_HELP } from "offline-plan/cli";
import { CHECK_USAGE } from "../tools/check/check";
import { ALL_POLICIES } from "../policy/all";

const ROOT = path.resolve(__dirname, "..");
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), "utf8");

/** The rows of the markdown table whose header line starts with `header`, as cells (backticks kept). */
export function tableRows(markdown: string, header: string): string[][] {
    const lines = markdown.split("\n");
    const start = lines.findIndex((line) => line.startsWith(header));
    assert.ok(start >= 0, `no table headed "${header}"`);
    const rows: string[][] = [];
    for (const line of lines.slice(start + 2)) {
        if (!line.startsWith("|")) {
            break;
        }
        rows.push(line.replace(/^\|\s*|\s*\|$/g, "").split(/\s*(?<!\\)\|\s*/));
    }
    return rows;
}

/** "dbBackup" -> "db-backup": a job's configuration key as the CronJob's name. */
const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

describe("docs state what the code owns (one source, checked)", () => {
    const readme = read("README.md");

    it("finds a table's rows, and a drifted row (the check itself)", () => {
        const doc = "x\n| a | b |\n|---|---|\n| 1 | `2` |\n| 3 | 4 |\n\nafter";
        assert.deepEqual(tableRows(doc, "| a |"), [["1", "`2`"], ["3", "4"]]);
        assert.throws(() => tableRows(doc, "| z |"), /no table headed/);
    });

    it("README.md's retention table is RETENTION_TABLE (policy/retention.ts): rows, order, frequency, retention, priority", () => {
        const rows = tableRows(readme, "| Data class | Frequency | Retention | Priority |").map((cells) => cells.slice(0, 4));
        const code = RETENTION_TABLE.map((row) => [row.dataType, row.frequency, formatRetention(row.minimum, row.unit).replace(" (365 days)", ""), row.priority]);
        assert.deepEqual(rows, code);
    });

    it("every '<class> row ... N days' and 'minimum of N days for <data type>' the documents state is the table's", () => {
        const docs = ["README.md", "policy/README.md", "scripts/README.md", "bench/README.md", ...fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
        const drift: string[] = [];
        let seen = 0;
        for (const doc of docs) {
            const text = read(doc).replace(/\n/g, " ");
            for (const [phrase, dataClass, value, unit] of text.matchAll(/\b(database|clients|secrets|audit|config) (?:row|class)(?:'s)?[^.;|()]{0,20}?\(?(\d+) (days|versions)/gi)) {
                seen++;
                const row = RETENTION_TABLE.find((r) => r.dataClass === dataClass.toLowerCase())!;
                if (Number(value) !== row.minimum || unit !== row.unit) {
                    drift.push(`${doc}: "${phrase}": the table's ${row.dataClass} row is ${row.minimum} ${row.unit}`);
                }
            }
            for (const [phrase, value, unit, dataType] of text.matchAll(/minimum of (\d+) (days|versions) for ([A-Z][\w/ ]+(?:\([^)]*\))?)/g)) {
                seen++;
                const row = RETENTION_TABLE.find((r) => r.dataType === dataType.trim());
                if (!row || Number(value) !== row.minimum || unit !== row.unit) {
                    drift.push(`${doc}: "${phrase}": ${row ? `the table says ${row.minimum} ${row.unit}` : "no such row"}`);
                }
            }
        }
        assert.ok(seen >= 10, `only ${seen} statements found: the patterns no longer match the documents`);
        assert.deepEqual(drift, []);
    });

    it("README.md's job schedules (the backupJobs.schedules paragraph and the CronJob table) are DEFAULT_SCHEDULES (lib/config/schema.ts)", () => {
        const paragraph = /`backupJobs\.schedules` \(cron[\s\S]*?\n\n/.exec(readme)?.[0];
        assert.ok(paragraph, "README.md has no backupJobs.schedules paragraph");
        const stated = Object.fromEntries([...paragraph.replace(/\n/g, " ").matchAll(/`(\w+)` `([^`]+)`/g)].map((m) => [m[1], m[2]]));
        assert.deepEqual(stated, { ...DEFAULT_SCHEDULES });
        const table = Object.fromEntries(tableRows(readme, "| CronJob | default schedule (UTC) |").map(([job, schedule]) => [job.replace(/`/g, ""), /`([^`]+)`/.exec(schedule)?.[1]]));
        assert.deepEqual(table, Object.fromEntries(Object.entries(DEFAULT_SCHEDULES).map(([key, cron]) => [kebab(key), cron])));
    });

    it("README.md's job resources paragraph is DEFAULT_JOB_RESOURCES (lib/config/schema.ts)", () => {
        const paragraph = /`backupJobs\.resources` sets[\s\S]*?\n\n/.exec(readme)?.[0].replace(/\n/g, " ");
        assert.ok(paragraph, "README.md has no backupJobs.resources paragraph");
        const groups = [...paragraph.matchAll(/((?:`\w+`(?: and |, )?)+|the three exports) request `([^`]+)`\/`([^`]+)`,? (?:and are )?limited to `([^`]+)`\/`([^`]+)`/g)];
        assert.equal(groups.length, 2, paragraph);
        const stated: Record<string, unknown> = {};
        for (const [, who, cpu, memory, cpuLimit, memoryLimit] of groups) {
            const keys = who === "the three exports" ? ["clientConfigExport", "secretsExport", "appConfigExport"] : [...who.matchAll(/`(\w+)`/g)].map((m) => m[1]);
            for (const key of keys) {
                stated[key] = { requests: { cpu, memory }, limits: { cpu: cpuLimit, memory: memoryLimit } };
            }
        }
        assert.deepEqual(stated, JSON.parse(JSON.stringify(DEFAULT_JOB_RESOURCES)));
    });

    it("README.md's configuration table states each key's literal default as FIELDS does, and names every key", () => {
        const rows = tableRows(readme, "| key | default | meaning |");
        const named = new Set(rows.flatMap(([keys]) => [...keys.matchAll(/`(\w+)`/g)].map((m) => m[1])));
        assert.deepEqual(Object.keys(FIELDS).filter((key) => !named.has(key)), [], "keys of lib/config/schema.ts FIELDS missing from README.md's table");
        const drift: string[] = [];
        for (const [keys, defaults] of rows) {
            const names = [...keys.matchAll(/`(\w+)`/g)].map((m) => m[1]);
            const values = /^(`[^`]*`(, )?)+$/.test(defaults) ? [...defaults.matchAll(/`([^`]*)`/g)].map((m) => m[1]) : undefined;
            if (!values) {
                continue; // prose ("(required)", "see below", "the table"): nothing literal restated
            }
            names.forEach((name, i) => {
                const code = (FIELDS as Record<string, { default?: unknown }>)[name]?.default;
                const stated = values[Math.min(i, values.length - 1)];
                if (JSON.stringify(code) !== stated && String(code) !== stated) {
                    drift.push(`${name}: README.md says ${stated}, FIELDS ${JSON.stringify(code)}`);
                }
            });
        }
        assert.deepEqual(drift, []);
    });

    it("the scripts' exit codes: lib.sh's EX_ constants, its header, scripts/README.md and recovery-points' EXIT agree", () => {
        const lib = read("scripts/lib.sh");
        const constants = Object.fromEntries([.../readonly (EX_\w+=\d+(?: EX_\w+=\d+)*)/.exec(lib)![1].matchAll(/EX_(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
        const codes = Object.values(constants).sort((a, b) => a - b);
        assert.deepEqual(codes, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
        const header = [...lib.slice(0, lib.indexOf("readonly EX_")).matchAll(/^#\s{3}(\d+)\s{2,}/gm)].map((m) => Number(m[1]));
        assert.deepEqual(header.filter((code) => code < 100), codes, "scripts/lib.sh's header lists other codes than its EX_ constants");
        // scripts/README.md: "Exit codes: 0 ok, 1 unexpected, 2 configuration ..., 8 a source ..., 130/143 interrupted."
        const sentence = /Exit codes: ([\s\S]*?)130\/143 interrupted\./.exec(read("scripts/README.md"))?.[1].replace(/\([^()]*(?:\([^()]*\)[^()]*)*\)/g, "");
        assert.ok(sentence, "scripts/README.md has no 'Exit codes: ...' sentence");
        const words: Record<string, RegExp> = { OK: /^ok$/, FAILURE: /^unexpected$/, USAGE: /^configuration$/, DATABASE: /^database$/, STORAGE: /^storage$/, CRYPTO: /^encryption$/, VERIFY: /^verification failed$/, NO_BACKUP: /^nothing to restore$/, SOURCE: /source/ };
        const stated = Object.fromEntries([...sentence.matchAll(/(?:^|,)\s*(\d+) ([^,]+?)\s*(?=,|$)/g)].map((m) => [Number(m[1]), m[2].trim()]));
        for (const [name, code] of Object.entries(constants)) {
            assert.match(stated[code] ?? "(missing)", words[name], `scripts/README.md: exit ${code} should be EX_${name}'s`);
        }
        assert.deepEqual(EXIT, { ok: constants.OK, failure: constants.FAILURE, usage: constants.USAGE, database: constants.DATABASE, storage: constants.STORAGE });
    });

    it("the namespaces: the server's default (serverNamespace, appDatabaseSecret.namespace) is the jobs' BACKUP_NAMESPACE, the scripts' default and README.md's", () => {
        // The server's namespace defaults to the one the CronJobs run in; the scripts' NAMESPACE is the server's.
        assert.equal(DEFAULT_SERVER_NAMESPACE, BACKUP_NAMESPACE);
        assert.equal(SECTION_DEFAULTS.appDatabaseSecret.namespace, DEFAULT_SERVER_NAMESPACE);
        for (const script of fs.readdirSync(path.join(ROOT, "scripts")).filter((f) => f.endsWith(".sh"))) {
            for (const [, value] of read(`scripts/${script}`).matchAll(/NAMESPACE="\$\{NAMESPACE:-([^}]+)\}"/g)) {
                assert.equal(value, DEFAULT_SERVER_NAMESPACE, `scripts/${script}'s default NAMESPACE`);
            }
        }
        const stated = new Set([...readme.matchAll(/(?:in namespace|CronJobs in|Secret in) `([a-z0-9-]+)`/g)].map((m) => m[1]));
        assert.deepEqual([...stated], [BACKUP_NAMESPACE]);
        // README.md's configuration row and the docs name the server's default namespace as the code does.
        const row = readme.split("\n").find((l) => l.startsWith("| `serverNamespace` |"));
        assert.ok(row, "README.md's configuration table has no serverNamespace row");
        assert.match(row, new RegExp(`\\| \`appDatabaseSecret\\.namespace\`, else \`${DEFAULT_SERVER_NAMESPACE}\` \\|`));
        for (const doc of ["README.md", "docs/runbook.md"]) {
            for (const [, value] of read(doc).matchAll(/`serverNamespace`, default `([a-z0-9-]+)`/g)) {
                assert.equal(value, DEFAULT_SERVER_NAMESPACE, `${doc}: serverNamespace's default`);
            }
        }
    });

    it("the scripts' default prefixes are the table's bucketPrefix, and the per-class lock days docs state are objectRetainDays's defaults", () => {
        const prefixes: Record<string, string> = { database: "BACKUP_PREFIX", clients: "CLIENTS_PREFIX", config: "CONFIG_PREFIX", secrets: "SECRETS_PREFIX" };
        for (const script of fs.readdirSync(path.join(ROOT, "scripts")).filter((f) => f.endsWith(".sh"))) {
            for (const [dataClass, variable] of Object.entries(prefixes)) {
                for (const [, value] of read(`scripts/${script}`).matchAll(new RegExp(`${variable}="\\$\\{${variable}:-([^}]+)\\}"`, "g"))) {
                    assert.equal(value, RETENTION_TABLE.find((row) => row.dataClass === dataClass)!.bucketPrefix, `scripts/${script}'s default ${variable}`);
                }
            }
        }
        const days = objectRetainDays(TABLE_RETENTION, TABLE_RETENTION.database, SECTION_DEFAULTS.objectLock.secretRotationDays);
        // docs/runbook.md: "below the class's: `database/` 30 days, `clients/` and `config/` 90, `audit/` 365, `secrets/` 630 (...)".
        const runbook = /below the class's: ([^(]*)\(/.exec(read("docs/runbook.md").replace(/\n\s*/g, " "))?.[1];
        assert.ok(runbook, "docs/runbook.md has no per-class lock sentence");
        const stated: Record<string, number> = {};
        for (const [, classes, value] of runbook.matchAll(/((?:`\w+\/`(?: and )?)+) (\d+)/g)) {
            [...classes.matchAll(/`(\w+)\/`/g)].forEach(([, dataClass]) => (stated[dataClass] = Number(value)));
        }
        assert.deepEqual(stated, days, "docs/runbook.md's per-class lock days");
        // scripts/README.md: "database 30, clients 90, config 90, secrets 7 versions x `objectLock.secretRotationDays` = 630 days by default".
        const scripts = /`lib\/object-lock\.ts`:\s+(database[\s\S]*?days by\s+default)/.exec(read("scripts/README.md"))?.[1].replace(/\s+/g, " ");
        assert.ok(scripts, "scripts/README.md has no per-class lock sentence");
        const listed = Object.fromEntries([...scripts.matchAll(/(\w+) (\d+)(?=,)/g)].map((m) => [m[1], Number(m[2])]));
        assert.deepEqual({ ...listed, secrets: Number(/= (\d+) days/.exec(scripts)?.[1]), secretVersions: Number(/secrets (\d+) versions/.exec(scripts)?.[1]) }, {
            database: days.database,
            clients: days.clients,
            config: days.config,
            secrets: days.secrets,
            secretVersions: TABLE_RETENTION.secrets,
        });
    });

    it("docs/architecture.md's directory table names every directory of the tree (fixtures' insides aside), and none that is gone", () => {
        const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(listed.status, 0, listed.stderr);
        const dirs = new Set<string>();
        for (const file of listed.stdout.split("\0").filter((f) => f && fs.existsSync(path.join(ROOT, f)))) {
            const parts = file.split("/").slice(0, -1);
            const fixtures = parts.indexOf("fixtures");
            const kept = fixtures >= 0 ? parts.slice(0, fixtures + 1) : parts;
            kept.forEach((_, i) => dirs.add(`${kept.slice(0, i + 1).join("/")}/`));
        }
        const mapped = tableRows(read("docs/architecture.md"), "| directory | what it holds |").map(([dir]) => dir.replace(/`/g, ""));
        assert.deepEqual({ missing: [...dirs].filter((dir) => !mapped.includes(dir)).sort(), gone: mapped.filter((dir) => !dirs.has(dir)) }, { missing: [], gone: [] });
        assert.equal(new Set(mapped).size, mapped.length, "a directory has two rows");
    });

    it("the backup buckets' name prefix is written once in the program and its tools (lib/names.ts), and is the policy pack's default", () => {
        const listed = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "index.ts", "lib", "components", "stacks", "tools"], { cwd: ROOT, encoding: "utf8" });
        // The drill's sandbox buckets (tools/drill) are named for the drill, not for a stack.
        const files = listed.stdout.split("\n").filter((f) => f.endsWith(".ts") && !f.startsWith("tools/drill/") && fs.existsSync(path.join(ROOT, f)));
        assert.ok(files.includes("stacks/compose-storage.ts") && files.includes("components/vault-account.ts"), files.join(" "));
        const writers = files.filter((file) => read(file).split("\n").some((line) => !/^\s*(\*|\/\/|\/\*)/.test(line) && line.includes(BACKUP_BUCKET_PREFIX)));
        assert.deepEqual(writers, ["lib/names.ts"]);
        assert.deepEqual((SETTINGS_SCHEMA.properties.backupBucketPrefixes as { default: unknown }).default, [BACKUP_BUCKET_PREFIX]);
    });

    it("README.md's 'N files at a time' is the number of mocha workers .mocharc.js starts", () => {
        const jobs = Number(/^\s*jobs: (\d+),/m.exec(read(".mocharc.js"))?.[1]);
        assert.ok(jobs > 0, ".mocharc.js has no jobs");
        const stated = [...readme.matchAll(/\b(\d+|one|two|three|four) (?:files )?at a time/g)].map((m) => m[1]);
        assert.ok(stated.length >= 2, `README.md states the parallelism ${stated.length} times`);
        const words: Record<string, number> = { one: 1, two: 2, three: 3, four: 4 };
        assert.deepEqual(stated.map((n) => words[n] ?? Number(n)), stated.map(() => jobs));
    });

    it("every option README.md shows for npm run plan and npm run check is one their --help lists", () => {
        const flags = (text: string) => [...text.matchAll(/(?<![\w-])--[a-z][a-z-]+/g)].map((m) => m[0]);
        const planHelp = new Set(flags(PLAN_OPTIONS_HELP.join("\n")));
        const checkHelp = new Set(flags(CHECK_USAGE));
        // What follows `npm run <command> -- ` up to the end of its code span or comment, and the command's row in the table.
        const shown = (command: string) => [
            ...[...readme.matchAll(new RegExp(`npm run ${command} -- ([^\`#\\n]*)`, "g"))].flatMap((m) => flags(m[1])),
            ...readme.split("\n").filter((line) => line.startsWith(`| \`npm run ${command}\` |`)).flatMap(flags),
        ];
        const plan = shown("plan");
        const check = shown("check");
        assert.ok(plan.length >= 5 && check.length >= 5, `found ${plan.length} plan and ${check.length} check options in README.md`);
        assert.deepEqual({ plan: plan.filter((f) => !planHelp.has(f)), check: check.filter((f) => !checkHelp.has(f)) }, { plan: [], check: [] });
    });

    it("policy/README.md's policy table names every policy of the pack, with what it judges (resources, the stack) and its advisory level", () => {
        // A policy judges resources, the stack ("(stack)" in the README), or both ("... and the stack" in its Judges cell).
        const judges = (p: object) => ("validateStack" in p ? ("validateResource" in p ? "both" : "stack") : "resources");
        const code = new Map(ALL_POLICIES.map((p) => [p.name, { judges: judges(p), advisory: p.enforcementLevel === "advisory" }]));
        const documented = new Map<string, { judges: string; advisory: boolean }>();
        const unknown: string[] = [];
        for (const [cell, what] of tableRows(read("policy/README.md"), "| Policy | Judges |")) {
            const [names, notes = ""] = cell.split(/ \(/);
            const [first, ...suffixes] = names.split(" / ");
            const kind = { judges: /\bstack\b/.test(notes) ? "stack" : /\band the stack\b/.test(what) ? "both" : "resources", advisory: /\badvisory\b/.test(notes) };
            documented.set(first, kind);
            for (const suffix of suffixes) {
                // "s3-backup-versioning / -encryption": the suffix replaces the end of the first name.
                const parts = first.split("-");
                const name = parts.map((_, i) => `${parts.slice(0, i).join("-")}${suffix}`).find((candidate) => code.has(candidate));
                if (name) {
                    documented.set(name, kind);
                } else {
                    unknown.push(`${first} / ${suffix}`);
                }
            }
        }
        assert.deepEqual(unknown, [], "policy/README.md names policies the pack does not have");
        assert.deepEqual([...code.keys()].filter((name) => !documented.has(name)), [], "policies of policy/all.ts missing from policy/README.md");
        assert.deepEqual([...documented.keys()].filter((name) => !code.has(name)), [], "policy/README.md names policies the pack does not have");
        const drift = [...documented].filter(([name, kind]) => JSON.stringify(kind) !== JSON.stringify(code.get(name))).map(([name, kind]) => `${name}: README ${JSON.stringify(kind)}, pack ${JSON.stringify(code.get(name))}`);
        assert.deepEqual(drift, []);
    });

    it("the offline planner's supported SDK range is stated only where it is checked (package.json; its README, checked by its own test)", () => {
        const range = (JSON.parse(read("packages/offline-plan/package.json")) as { peerDependencies: Record<string, string> }).peerDependencies["@pulumi/pulumi"];
        const lower = /^>=(\d+\.\d+\.\d+)/.exec(range)![1];
        const docs = ["README.md", "docs/architecture.md", "docs/runbook.md", "docs/pipeline.md", "bench/README.md"];
        const restated = docs.filter((doc) => read(doc).includes(range) || new RegExp(`pulumi[^\\n]{0,40}>=\\s*${lower.replace(/\./g, "\\.")}`).test(read(doc)));
        assert.deepEqual(restated, [], "these documents restate the range: point to packages/offline-plan/package.json instead");
    });
});
