/**
 * The plan CLI runs the program in its own process: the program's stdin is empty, as under the Pulumi language
 * host, whatever the CLI was given (a terminal it would wait on, a pipe with text in it). src/empty-stdin.cjs.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { unwrapSecrets } from "../src/model";

const BIN = path.resolve(__dirname, "..", "bin", "offline-plan.cjs");
const PROGRAM = path.join(__dirname, "fixtures", "stdin-program");

describe("the plan CLI's stdin (src/empty-stdin.cjs)", function () {
    this.timeout(120000);

    it("a program that reads stdin reads nothing, though the CLI was given text on a pipe", () => {
        const run = spawnSync(process.execPath, [BIN, "--program", PROGRAM, "--stack", "dev", "--json"], { input: "typed at the terminal\n", encoding: "utf8" });
        assert.equal(run.status, 0, run.stderr);
        const plan = JSON.parse(run.stdout) as { resources: { type: string; inputs: unknown }[] };
        const resources = plan.resources;
        const parameter = resources.find((r) => r.type === "aws:ssm/parameter:Parameter");
        assert.ok(parameter, run.stdout.slice(0, 500));
        assert.equal((unwrapSecrets(parameter.inputs) as { description: string }).description, "stdin: []");
    });

    it("--stack-outputs NAME=/dev/stdin is refused naming why, not read as the empty file it now is", () => {
        // Piped outputs were read before stdin was emptied for the program; since, /dev/stdin is /dev/null here.
        for (const file of ["/dev/stdin", "/dev/fd/0"]) {
            const run = spawnSync(process.execPath, [BIN, "--program", PROGRAM, "--stack", "dev", "--stack-outputs", `org/project/other=${file}`], { input: "{\"vpcId\": \"vpc-1\"}\n", encoding: "utf8" });
            assert.equal(run.status, 2, run.stdout + run.stderr);
            assert.match(run.stderr, new RegExp(`--stack-outputs org/project/other: ${file} is this CLI's standard input, which is empty .*: give the outputs as a file \\(pulumi stack output --json --stack STACK > outputs\\.json\\) or as <\\(pulumi stack output --json --stack STACK\\)`));
            assert.doesNotMatch(run.stderr, /Unexpected end of JSON input/);
        }
    });
});
