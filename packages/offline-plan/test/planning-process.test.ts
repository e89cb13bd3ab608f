/**
 * src/planning-process.cjs: a planning child started early (the check CLI starts it before it loads anything
 * else) is the one that plans the next batch; one never adopted does not keep its parent alive and leaves
 * nothing behind; one that died before it was adopted is replaced, not waited on.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { planInOrder } from "../src/order";
import { TS_REGISTER } from "../src/runner";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startPlanningChildEarly } = require("../src/planning-process.cjs") as { startPlanningChildEarly(): number | undefined };
const PLANNING_PROCESS = path.resolve(__dirname, "..", "src", "planning-process.cjs");

/** A one-stack project whose program exports the pid of the process that plans it. */
function pidProject(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "offline-plan-early-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: early\nruntime: nodejs\n");
    fs.writeFileSync(path.join(dir, "Pulumi.solo.yaml"), "config: {}\n");
    fs.writeFileSync(path.join(dir, "index.ts"), "export const pid: number = process.pid;\n");
    return dir;
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** Waits (polling, not timing anything) until `pid` is gone. */
async function gone(pid: number): Promise<void> {
    while (alive(pid)) {
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}

describe("a planning child started early (src/planning-process.cjs)", function () {
    this.timeout(60_000);
    let dir: string;
    beforeEach(() => (dir = pidProject()));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("is the child that plans the next batch", async () => {
        const pid = startPlanningChildEarly();
        assert.ok(pid !== undefined && alive(pid));
        const [result] = await planInOrder(dir, ["solo"]);
        assert.equal(result.outputs.pid, pid);
        // Adopted: the next batch has no child waiting for it and starts its own.
        const [next] = await planInOrder(dir, ["solo"]);
        assert.notEqual(next.outputs.pid, pid);
        assert.equal(typeof next.outputs.pid, "number");
    });

    it("is replaced when it died before the batch came", async () => {
        const pid = startPlanningChildEarly()!;
        process.kill(pid, "SIGKILL");
        await gone(pid);
        const [result] = await planInOrder(dir, ["solo"]);
        assert.equal(typeof result.outputs.pid, "number");
        assert.notEqual(result.outputs.pid, pid);
    });

    it("never adopted, does not keep its parent alive and is stopped with its directory removed when the parent exits", async () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "offline-plan-early-tmp-"));
        try {
            const script = `process.stdout.write(String(require(${JSON.stringify(PLANNING_PROCESS)}).startPlanningChildEarly()));`;
            const parent = spawnSync(process.execPath, ["--require", TS_REGISTER, "-e", script], { encoding: "utf8", env: { ...process.env, TMPDIR: tmp }, timeout: 30_000 });
            assert.equal(parent.status, 0, parent.stderr);
            const pid = Number(parent.stdout);
            assert.ok(pid > 0);
            await gone(pid);
            assert.deepEqual(fs.readdirSync(tmp).filter((name) => name.startsWith("offline-plan-") && !name.startsWith("offline-plan-ts-") && !name.startsWith("offline-plan-v8-")), []);
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });
});
