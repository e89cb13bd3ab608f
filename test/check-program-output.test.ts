/**
 * `npm run check -- --program DIR` and what the checked program prints (h35 residual 4): passed through to the check's
 * stderr as it comes (the report alone on stdout), whole, also when the program prints more than a pipe holds and
 * then ends the process itself. Until h35 the check dropped a program's output; a program that called process.exit
 * was reported with the first ~40 KB of what it printed and no word of the rest, or (the CLI's event loop emptied
 * before the child's exit was heard) not at all: exit 0, nothing printed.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TS_REGISTER } from "offline-plan/runner";

const REPO = path.resolve(__dirname, "..");

/** A one-stack program (`prod`) whose index.ts is `body`, in a temp dir. */
function program(body: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-program-output-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: loud\nruntime: nodejs\n");
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), "config: {}\n");
    fs.writeFileSync(path.join(dir, "index.ts"), body);
    return dir;
}

/** The check CLI as a process of its own, as `npm run check` runs it (bounded: a hang fails here, status null). */
function check(dir: string) {
    const child = spawnSync(process.execPath, ["--require", TS_REGISTER, path.join(REPO, "tools", "check", "check.ts"), "--program", dir], {
        cwd: REPO,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
        killSignal: "SIGKILL",
    });
    return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe("npm run check -- --program DIR: the program's output, whole, on stderr (h35)", function () {
    this.timeout(240_000);
    const dirs: string[] = [];
    after(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

    it("a program that prints 350 KB and then calls process.exit(3): exit 2 naming the stack and the exit, every line printed once", () => {
        const dir = program(
            [
                'import * as pulumi from "@pulumi/pulumi";',
                "new pulumi.ComponentResource(\"acme:loud:Thing\", \"loud\");",
                'for (let i = 0; i < 5000; i++) { console.log(`line ${i} ${"x".repeat(60)}`); }',
                'console.error("the last line, on stderr");',
                "process.exit(3);",
                "",
            ].join("\n"),
        );
        dirs.push(dir);
        const result = check(dir);
        assert.equal(result.status, 2, `exit ${result.status}\nstderr (end): ${result.stderr.slice(-2000)}`);
        const lines = result.stderr.split("\n").filter((line) => /^line \d+ x+$/.test(line));
        assert.equal(lines.length, 5000, `lines on stderr: ${lines.length}; its end: ${result.stderr.slice(-500)}`);
        assert.match(result.stderr, /^the last line, on stderr$/m);
        assert.match(result.stderr, /plan of stack prod failed:\nthe planning process exited with code 3 before the plan was complete; what it printed \(\d+ bytes\) is above/);
        assert.doesNotMatch(result.stdout, /^line \d+/m, "the program's lines are not the report's");
    });

    it("a program that prints and plans: its lines on stderr, the report alone on stdout, exit 0", () => {
        const dir = program(['import * as pulumi from "@pulumi/pulumi";', 'console.log("planning the loud program");', 'export const name = pulumi.getStack();', ""].join("\n"));
        dirs.push(dir);
        const result = check(dir);
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stderr, /^planning the loud program$/m);
        assert.doesNotMatch(result.stdout, /planning the loud program/);
        assert.match(result.stdout, /^Stack loud\/prod /m);
    });
});
