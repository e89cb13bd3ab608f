/**
 * `npm run test:sdk-range -- CORPUS_DIR` (opt-in: it installs from the registry, minutes and network; not part
 * of npm test). Plans the program corpus (the directory given: a directory of programs, each with its Pulumi.yaml;
 * the source repository's npm run test:sdk-range passes its test/fixtures/programs) with SDK sets installed into a temp
 * dir, and compares each plan with the plan made with the repository's own packages:
 *
 *   oldest   @pulumi/pulumi at the bottom of the supported range, @pulumi/aws v6
 *   newest   @pulumi/pulumi, @pulumi/aws and @pulumi/random at their latest versions
 *
 * Each program is copied under the temp dir, so that it resolves the temp dir's node_modules (its "own"
 * packages, as the language host would load them). Programs that import packages outside the set
 * (@pulumi/awsx, @pulumi/azure-native, @pulumi/kubernetes) are listed as not planned. A plan is "same" when
 * every resource (type, name) and its inputs match, "differs" otherwise (the providers disagree: v6 and v7
 * do not register the same inputs), "the program's own error" when the program fails at its own file:line
 * with the set only (it uses what the set's provider does not have: a v7 resource under v6), "FAILED" when
 * a plan that succeeds with ours fails otherwise with the set (the planner's failure), or the reverse.
 * Exit 1 on any FAILED.
 *
 *   node --require ./register.cjs test/sdk-range.ts CORPUS_DIR       (in the package's directory)
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PlanResult } from "../src/model";
import { PlanningServer } from "../src/server";
import { supportedRange } from "../src/sdk-contract";

if (!process.argv[2]) {
    console.error("usage: sdk-range.ts CORPUS_DIR (a directory of Pulumi programs, each with its Pulumi.yaml)");
    process.exit(2);
}
const CORPUS = path.resolve(process.argv[2]);
const SET_PACKAGES = new Set(["@pulumi/pulumi", "@pulumi/aws", "@pulumi/random"]);
const OLDEST = supportedRange().match(/>=(\S+)/)![1];

const SETS: Record<string, Record<string, string>> = {
    oldest: { "@pulumi/pulumi": OLDEST, "@pulumi/aws": "^6", "@pulumi/random": "^4" },
    newest: { "@pulumi/pulumi": "latest", "@pulumi/aws": "latest", "@pulumi/random": "latest" },
};

interface Program {
    name: string;
    dir: string;
    stack: string;
}

function programs(): { planned: Program[]; skipped: string[] } {
    const planned: Program[] = [];
    const skipped: string[] = [];
    for (const name of fs.readdirSync(CORPUS).sort()) {
        const dir = path.join(CORPUS, name);
        if (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
            continue;
        }
        const sources = fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.includes("node_modules"));
        const imported = new Set(sources.flatMap((f) => [...fs.readFileSync(path.join(dir, f), "utf8").matchAll(/["'](@pulumi\/[a-z-]+)/g)].map((m) => m[1])));
        const outside = [...imported].filter((p) => !SET_PACKAGES.has(p));
        const expected = path.join(dir, "expected.json");
        const stack = fs.existsSync(expected) ? (JSON.parse(fs.readFileSync(expected, "utf8")) as { stack: string }).stack : fs.readdirSync(dir).find((f) => /^Pulumi\.(.+)\.yaml$/.test(f))!.replace(/^Pulumi\.|\.yaml$/g, "");
        if (outside.length > 0) {
            skipped.push(`${name} (${outside.join(", ")})`);
        } else {
            planned.push({ name, dir, stack });
        }
    }
    return { planned, skipped };
}

type Outcome = { ok: true; plan: PlanResult } | { ok: false; error: string };

async function planEach(server: PlanningServer, list: Program[], dirOf: (p: Program) => string): Promise<Map<string, Outcome>> {
    const out = new Map<string, Outcome>();
    for (const program of list) {
        try {
            const [plan] = await server.plan({ programDir: dirOf(program), stacks: [program.stack], inDependencyOrder: true, preview: false });
            out.set(program.name, { ok: true, plan });
        } catch (err) {
            out.set(program.name, { ok: false, error: (err as Error).message.split("\n").slice(0, 3).join(" | ") });
        }
    }
    return out;
}

function compare(ours: Outcome, theirs: Outcome): string {
    if (!ours.ok || !theirs.ok) {
        if (!ours.ok && !theirs.ok) {
            return "same (both fail)";
        }
        if (!theirs.ok && /^[\w./-]+\.(ts|js|mjs):\d+:\d+: /.test(theirs.error)) {
            return `the program's own error with this set (the providers disagree): ${theirs.error}`;
        }
        return `FAILED: ${!theirs.ok ? theirs.error : "planned with the set, fails with ours: " + (ours as { error: string }).error}`;
    }
    const key = (plan: PlanResult) => new Map(plan.resources.map((r) => [`${r.type} ${r.name}`, JSON.stringify(r.inputs)]));
    const a = key(ours.plan);
    const b = key(theirs.plan);
    const missing = [...a.keys()].filter((k) => !b.has(k));
    const extra = [...b.keys()].filter((k) => !a.has(k));
    const changed = [...a.keys()].filter((k) => b.has(k) && a.get(k) !== b.get(k));
    if (missing.length + extra.length + changed.length === 0) {
        return `same (${a.size} resources)`;
    }
    return `differs: ${missing.length} only with ours, ${extra.length} only with the set, ${changed.length} with other inputs (${[...missing, ...extra, ...changed].slice(0, 3).join("; ")})`;
}

async function main(): Promise<number> {
    const { planned, skipped } = programs();
    console.log(`corpus: ${CORPUS}: ${planned.length} programs planned, ${skipped.length} not planned (packages outside the set): ${skipped.join(", ")}`);
    // Planned with ours, a program pinning another major version (test/fixtures/programs/queues-aws-6-pin) fails
    // by design (src/sdk-versions.ts); this tool compares the versions itself, so it plans it, with a notice.
    process.env.OFFLINE_PLAN_SDK_MISMATCH = "warn";
    // A corpus program that waits for ever on purpose (rollout-poll-ready: its expected.json gives the corpus
    // test a 2 s limit) would hold each set for the default 300 s; every other program plans in a second or two.
    process.env.OFFLINE_PLAN_PROGRAM_TIMEOUT ??= "30";
    const oursServer = new PlanningServer();
    const ours = await planEach(oursServer, planned, (p) => p.dir);
    oursServer.close();
    let failed = 0;
    for (const [set, packages] of Object.entries(SETS)) {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), `offline-plan-sdk-${set}-`));
        try {
            fs.writeFileSync(path.join(root, "package.json"), JSON.stringify({ name: `sdk-${set}`, private: true, dependencies: packages }, null, 2));
            const install = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
            if (install.status !== 0) {
                console.log(`${set}: npm install failed:\n${install.stderr}`);
                failed++;
                continue;
            }
            const versions = Object.keys(packages).map((p) => `${p}@${(JSON.parse(fs.readFileSync(path.join(root, "node_modules", p, "package.json"), "utf8")) as { version: string }).version}`);
            console.log(`\n${set}: ${versions.join(", ")}`);
            for (const program of planned) {
                fs.cpSync(program.dir, path.join(root, "programs", program.name), { recursive: true });
            }
            const server = new PlanningServer();
            const theirs = await planEach(server, planned, (p) => path.join(root, "programs", p.name));
            server.close();
            for (const program of planned) {
                const verdict = compare(ours.get(program.name)!, theirs.get(program.name)!);
                failed += verdict.startsWith("FAILED") ? 1 : 0;
                console.log(`  ${program.name.padEnd(32)} ${verdict}`);
            }
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    }
    return failed > 0 ? 1 : 0;
}

void main().then((code) => process.exit(code));
