/**
 * The planning child as its callers see it (packages/offline-plan/src/runner.ts): results streamed one stack at a time in
 * dependency order, a failing stack named after the stacks already planned, and a program that ends the
 * process itself (process.exit) named with its stack and exit code, in both the streaming and the file mode.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PlanResult } from "../src/model";
import { planInOrder, startPlanInOrder } from "../src/order";
import { OUR_NODE_MODULES, PlanError, TS_REGISTER } from "../src/runner";
import { PlanningServer } from "../src/server";

/** A project of three stacks; `edge` references `core`; a stack's `failure` config makes the program fail. */
function project(failures: Record<string, "throw" | "exit" | "loud-exit">): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "offline-plan-runner-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: relay\nruntime: nodejs\n");
    const stackFile = (stack: string, config: Record<string, string>) =>
        fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), `config:\n${Object.entries(config).map(([k, v]) => `  relay:${k}: ${v}\n`).join("") || "  {}\n"}`);
    stackFile("core", failures.core ? { failure: failures.core } : {});
    stackFile("docs", failures.docs ? { failure: failures.docs } : {});
    stackFile("edge", { origin: "relay/core", ...(failures.edge ? { failure: failures.edge } : {}) });
    fs.writeFileSync(
        path.join(dir, "index.ts"),
        [
            'import * as pulumi from "@pulumi/pulumi";',
            "const config = new pulumi.Config();",
            'if (config.get("failure") === "throw") { throw new Error(`stack ${pulumi.getStack()} refuses`); }',
            'if (config.get("failure") === "exit") { process.exit(3); }',
            // More than a pipe holds (350 KB), then the process ended at once: none of it may be lost.
            'if (config.get("failure") === "loud-exit") { for (let i = 0; i < 5000; i++) { console.log(`line ${i} ${"x".repeat(60)}`); } console.error("the last line, on stderr"); process.exit(3); }',
            'export const origin = config.get("origin") ?? "none";',
            "export const stack = pulumi.getStack();",
            "",
        ].join("\n"),
    );
    return dir;
}

async function collect(results: AsyncIterable<PlanResult>): Promise<{ stacks: string[]; error?: unknown }> {
    const stacks: string[] = [];
    try {
        for await (const result of results) {
            stacks.push(result.stack);
        }
        return { stacks };
    } catch (error) {
        return { stacks, error };
    }
}

describe("the planning child", () => {
    const dirs: string[] = [];
    const make = (failures: Record<string, "throw" | "exit" | "loud-exit"> = {}) => {
        const dir = project(failures);
        dirs.push(dir);
        return dir;
    };
    after(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

    it("streams each stack's result in dependency order, the same results as the whole batch", async () => {
        const started = startPlanInOrder(make(), ["edge", "docs"]);
        const streamed = await collect(started.each());
        assert.equal(streamed.error, undefined);
        // core is planned first (edge references it) but was not asked for.
        assert.deepEqual(streamed.stacks, ["edge", "docs"]);
        const all = await started.results;
        assert.deepEqual(all.map((r) => [r.stack, r.outputs.origin]), [["edge", "relay/core"], ["docs", "none"]]);
    });

    it("yields the stacks planned before the one whose program ends the process, then names it and its exit code", async () => {
        const streamed = await collect(startPlanInOrder(make({ edge: "exit" }), []).each());
        assert.deepEqual(streamed.stacks, ["core", "docs"]);
        assert.ok(streamed.error instanceof PlanError, String(streamed.error));
        assert.equal(streamed.error.stack, "edge");
        assert.match(streamed.error.message, /exited with code 3 before the plan was complete, printing nothing/);
    });

    it("a program that prints more than a pipe holds, then ends the process: its failure holds all it printed, nothing cut (h35)", async () => {
        // Was: the child's writes to its pipes were asynchronous and process.exit dropped what the pipe had not
        // taken: of these 5,000 lines the message held the first 547 or so, without a word that the rest was cut.
        const streamed = await collect(startPlanInOrder(make({ docs: "loud-exit" }), ["docs"]).each());
        assert.ok(streamed.error instanceof PlanError, String(streamed.error));
        assert.equal(streamed.error.stack, "docs");
        const message = streamed.error.message;
        assert.match(message, /exited with code 3 before the plan was complete; it printed:\n/);
        const lines = message.split("\n").filter((line) => /^line \d+ x+$/.test(line));
        assert.equal(lines.length, 5000, `lines in the message: ${lines.length}; its end: ${message.slice(-300)}`);
        assert.match(message, /^line 4999 x+$/m);
        assert.match(message, /^the last line, on stderr$/m);
    });

    it("a planning child that stays up: batch after batch, a program ending the process fails only its batch", async () => {
        const server = new PlanningServer();
        try {
            const healthy = make();
            const [edge] = await server.plan({ programDir: healthy, stacks: ["edge"], inDependencyOrder: true });
            assert.equal(edge.outputs.origin, "relay/core");
            await assert.rejects(
                server.plan({ programDir: make({ docs: "exit" }), stacks: ["docs"], inDependencyOrder: true }),
                (err: Error) => err instanceof PlanError && err.stack === "docs" && /exited with code 3/.test(err.message),
            );
            // The next batch starts a new child; a program's own error is its batch's, and the child stays up.
            await assert.rejects(server.plan({ programDir: make({ core: "throw" }), stacks: ["core"], inDependencyOrder: true }), /stack core refuses/);
            await assert.rejects(server.plan({ programDir: path.join(healthy, "missing"), stacks: [], inDependencyOrder: true }), /ENOENT|no such file/);
            const again = await server.plan({ programDir: healthy, stacks: [], inDependencyOrder: true });
            assert.deepEqual(again.map((r) => r.stack), ["core", "docs", "edge"]);
        } finally {
            server.close();
        }
    });

    it("hands over a large plan while the child plans the next stack, not when the batch is done", async () => {
        // `big` exports 1 MB (more than an IPC socket holds); `after`'s program then holds the child's event loop
        // (a synchronous wait, as a long program does) until the caller has seen big's result, for 20 s at most.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "offline-plan-runner-"));
        dirs.push(dir);
        const marker = path.join(dir, "big-received");
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: relay\nruntime: nodejs\n");
        fs.writeFileSync(path.join(dir, "Pulumi.big.yaml"), "config: {}\n");
        fs.writeFileSync(path.join(dir, "Pulumi.after.yaml"), `config:\n  relay:marker: ${JSON.stringify(marker)}\n`);
        fs.writeFileSync(
            path.join(dir, "index.ts"),
            [
                'import * as fs from "fs";',
                'import * as pulumi from "@pulumi/pulumi";',
                'const marker = new pulumi.Config().get("marker");',
                "const cell = new Int32Array(new SharedArrayBuffer(4));",
                "const deadline = Date.now() + 20000;",
                "while (marker && !fs.existsSync(marker) && Date.now() < deadline) { Atomics.wait(cell, 0, 0, 10); }",
                "export const sawBigReceived = marker ? fs.existsSync(marker) : undefined;",
                'export const payload = marker ? "" : "x".repeat(1024 * 1024);',
                "",
            ].join("\n"),
        );
        const started = startPlanInOrder(dir, ["big", "after"]);
        const seen: Record<string, unknown> = {};
        for await (const result of started.each()) {
            if (result.stack === "big") {
                fs.writeFileSync(marker, "");
            }
            seen[result.stack] = result.outputs.sawBigReceived ?? (result.outputs.payload as string).length;
        }
        assert.deepEqual(seen, { big: 1024 * 1024, after: true });
    });

    it("hands each result over with the JSON text it was parsed from (the child writes that text, not a second serialization), and none behind a preview", () => {
        const dir = make();
        const mockRuntime = path.resolve(__dirname, "..", "src", "mock-runtime.ts");
        const script = [
            `const { runBatch } = require(${JSON.stringify(mockRuntime)});`,
            "process.on('unhandledRejection', () => undefined);",
            "(async () => {",
            "    const seen = [];",
            "    for (const preview of [false, true]) {",
            `        await runBatch({ programDir: ${JSON.stringify(dir)}, stacks: ["edge"], inDependencyOrder: true, preview }, { onResult: (result, json) => seen.push([result.stack, preview, json === undefined ? "none" : json === JSON.stringify(result) ? "same" : "differs"]) });`,
            "    }",
            "    process.stdout.write(JSON.stringify(seen));",
            "    process.exit(0);",
            "})();",
        ].join("\n");
        // As the planning child runs: @pulumi/* from our node_modules for a program without its own.
        const child = spawnSync(process.execPath, ["--require", TS_REGISTER, "-e", script], { cwd: dir, encoding: "utf8", env: { ...process.env, NODE_PATH: OUR_NODE_MODULES } });
        assert.equal(child.status, 0, child.stderr);
        assert.deepEqual(JSON.parse(child.stdout), [["edge", false, "same"], ["edge", true, "none"]]);
    });

    it("names the failing stack and the program's own error when planned without streaming", async () => {
        await assert.rejects(
            planInOrder(make({ docs: "throw" }), []),
            (err: Error) => err instanceof PlanError && err.stack === "docs" && err.message.includes("stack docs refuses"),
        );
    });
});
