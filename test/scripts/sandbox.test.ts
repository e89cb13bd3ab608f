/**
 * The test servers' own lifecycle (tools/sandbox): a mocha worker runs many test files in one process, so
 * what a file starts for its servers must stop with them, not with the worker.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { awsCall, createBucket, createSecret, putObject, sharedMoto } from "../../tools/sandbox/scripts";
import { MotoServer } from "../../tools/sandbox/servers";

/** The pids of aws-rpc.py processes serving `endpoint`. */
function rpcProcesses(endpoint: string): string {
    return spawnSync("pgrep", ["-f", `aws-rpc\\.py \\S+ ${endpoint.replace(/\./g, "\\.")} `], { encoding: "utf8" }).stdout.trim();
}

describe("tools/sandbox: the tests' servers", function () {
    this.timeout(60_000);

    it("a moto server's aws-rpc.py stops with the server, and the next server gets its own", async function () {
        const moto = await MotoServer.start();
        try {
            createBucket(moto, "sandbox-rpc");
            assert.notEqual(rpcProcesses(moto.endpoint), "", "awsCall started no aws-rpc.py");
        } finally {
            await moto.stop();
        }
        assert.equal(rpcProcesses(moto.endpoint), "", "aws-rpc.py outlived its moto server");
        const again = await MotoServer.start();
        try {
            createBucket(again, "sandbox-rpc-again");
            assert.deepEqual(awsCall(again, "s3", "list_buckets").Buckets.map((b: { Name: string }) => b.Name), ["sandbox-rpc-again"]);
        } finally {
            await again.stop();
        }
    });

    it("the process's shared moto (useScriptServers) is handed to each file empty: no bucket, object or secret of the file before", async function () {
        const first = await sharedMoto();
        createBucket(first, "sandbox-shared");
        putObject(first, "sandbox-shared", "k", "v");
        createSecret(first, "sandbox/shared", "value");
        assert.equal(awsCall(first, "secretsmanager", "list_secrets").SecretList.length, 1);
        const next = await sharedMoto();
        assert.equal(next, first, "the same server");
        assert.deepEqual(awsCall(next, "s3", "list_buckets").Buckets, []);
        assert.deepEqual(awsCall(next, "secretsmanager", "list_secrets").SecretList, []);
        // The same names again, as the next file may use them.
        createBucket(next, "sandbox-shared");
        createSecret(next, "sandbox/shared", "value");
        // Stopped (or dead), it is started again.
        await next.stop();
        const restarted = await sharedMoto();
        assert.notEqual(restarted.endpoint, next.endpoint);
        assert.deepEqual(awsCall(restarted, "s3", "list_buckets").Buckets, []);
    });
});
