/**
 * aws-helper.py's start-up (bench/README.md section 5, h32-helperstart): the CPU every script run spends before
 * its first AWS call. The helper's module code runs here in a python3 of its own (the one the scripts use,
 * resolvedHelperPython), as lib.sh starts it but without serving: its S3 client made as warm_clients makes it.
 * No servers: the client is made for an endpoint nothing listens on, and no call is sent.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { resolvedHelperPython, SCRIPTS, tempDir } from "../../tools/sandbox/scripts";

/** Runs PROGRAM (python) after the helper's module code has run (not its main: no socket), with `helper` its globals; its last line of output is JSON. */
function afterStart(program: string, env: Record<string, string> = {}) {
    const python = resolvedHelperPython();
    assert.ok(python, "no python3 with botocore and s3transfer (.ci/setup installs python3-botocore)");
    const prelude = [
        "import gc, json, sys",
        `source = ${JSON.stringify(path.join(SCRIPTS, "aws-helper.py"))}`,
        // Compiled first (as python does before the module's first line): only the module's own code is watched.
        "code = compile(open(source).read(), source, 'exec')",
        "COLLECTIONS = []",
        "gc.callbacks.append(lambda phase, info: phase == 'stop' and COLLECTIONS.append(info['generation']))",
        "helper = {'__name__': 'aws_helper', '__file__': source}",
        "exec(code, helper)",
    ].join("\n");
    const result = spawnSync(python!, ["-c", `${prelude}\n${program}`], {
        encoding: "utf8",
        env: {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            HOME: process.env.HOME ?? "/tmp",
            AWS_ACCESS_KEY_ID: "AKIAHELPERSTART",
            AWS_SECRET_ACCESS_KEY: "not-a-secret",
            AWS_REGION: "us-east-1",
            AWS_ENDPOINT_URL: "http://127.0.0.1:9",
            AWS_CONFIG_FILE: "/dev/null",
            AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
            ...env,
        },
        timeout: 30_000,
    });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    return JSON.parse(result.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
}

describe("aws-helper.py start-up: no garbage collection over what the start-up loads", function () {
    this.timeout(60_000);

    it("imports, session and S3 client run no collection; afterwards the collector runs again, over new objects only", function () {
        const seen = afterStart(
            [
                "during = gc.isenabled()",
                "helper['warm_s3']()",
                "startup = list(COLLECTIONS)",
                "frozen = gc.get_freeze_count()",
                // What a run makes afterwards (Secrets Manager's and STS's clients: a few thousand objects) is collected
                // as before, and a full collection then walks those, not the start-up's.
                "helper['client']('secretsmanager'); helper['client']('sts')",
                "garbage = [[] for _ in range(3)]",
                "[g.append(g) for g in garbage]",
                "del garbage",
                "collected = gc.collect()",
                "print(json.dumps({'during': during, 'startup': startup, 'frozen': frozen, 'enabled': gc.isenabled(), 'collected': collected}))",
            ].join("\n"),
        );
        assert.equal(seen.during, false, "the collector runs during the start-up");
        assert.deepEqual(seen.startup, [], "collections during the start-up (generations listed)");
        assert.ok((seen.frozen as number) > 10_000, `the start-up's objects are not frozen: ${String(seen.frozen)}`);
        assert.equal(seen.enabled, true, "the collector is not running again after the start-up");
        assert.ok((seen.collected as number) >= 3, "a cycle made after the start-up is not collected");
    });

    it("an S3 client that cannot be made (an endpoint botocore refuses) still ends the pause: the collector runs again", function () {
        const seen = afterStart(
            [
                "try:",
                "    helper['warm_s3']()",
                "    error = ''",
                "except Exception as caught:",
                "    error = str(caught)",
                "print(json.dumps({'error': error, 'enabled': gc.isenabled()}))",
            ].join("\n"),
            { AWS_ENDPOINT_URL: "not a url" },
        );
        assert.match(String(seen.error), /not a url/);
        assert.equal(seen.enabled, true);
    });
});

describe("tools/sandbox/aws-rpc.py (the tests' own AWS calls) loads aws-helper.py's module code but not its warm_s3", function () {
    it("runs with the garbage collector enabled", function () {
        const python = resolvedHelperPython();
        assert.ok(python);
        const rpc = path.join(SCRIPTS, "..", "tools", "sandbox", "aws-rpc.py");
        const program = `import gc, runpy\nrunpy.run_path(${JSON.stringify(rpc)}, run_name="aws_rpc")\nprint(gc.isenabled())`;
        const result = spawnSync(python!, ["-c", program], { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" }, timeout: 30_000 });
        assert.equal(result.status, 0, result.stderr);
        assert.equal(result.stdout.trim(), "True");
    });
});

describe("aws-helper.py start-up: pyOpenSSL is not loaded for botocore's SSLContext", function () {
    this.timeout(60_000);
    let dir: string;
    before(() => (dir = tempDir("oauth2-dr-helper-start-")));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("urllib3.contrib.pyopenssl is never imported (a stand-in OpenSSL first on the path says so), and botocore's SSLContext is the standard library's", function () {
        // The stand-in records that it was imported, then fails as a python without pyOpenSSL does: botocore falls
        // back either way, so only the record tells whether the helper paid for the import.
        const stand_in = path.join(dir, "path", "OpenSSL");
        fs.mkdirSync(stand_in, { recursive: true });
        const record = path.join(dir, "openssl-imported");
        fs.writeFileSync(path.join(stand_in, "__init__.py"), `open(${JSON.stringify(record)}, "w").close()\nraise ImportError("a stand-in OpenSSL")\n`);
        const seen = afterStart(
            [
                "import ssl",
                "helper['warm_s3']()",
                "print(json.dumps({'same': sys.modules['botocore.httpsession'].SSLContext is ssl.SSLContext, 'openssl': 'OpenSSL' in sys.modules}))",
            ].join("\n"),
            { PYTHONPATH: path.dirname(stand_in) },
        );
        assert.equal(fs.existsSync(record), false, "the helper's start-up imported OpenSSL (urllib3.contrib.pyopenssl)");
        assert.equal(seen.openssl, false);
        assert.equal(seen.same, true, "botocore's SSLContext is not ssl.SSLContext");
    });
});
