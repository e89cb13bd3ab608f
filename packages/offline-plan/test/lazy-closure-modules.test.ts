/**
 * src/lazy-closure-modules.ts: the SDK's closure-serialization dependencies and its Automation API are not loaded with the SDK,
 * and a program that does serialize a closure or compute code paths gets exactly what it gets without it.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { TS_REGISTER } from "../src/runner";

interface Probe {
    afterSdkLoad: string[];
    automationAfterSdkLoad: boolean;
    automation: { exports: string[]; qualified: string; loadedAfterUse: boolean; localWorkspace: string };
    rpcAfterSdkLoad: string[];
    rpc: Record<string, unknown>;
    rpcAfterUse: string[];
    afterUse: string[];
    serialized: string;
    codePaths: string[];
    ownTypescript: { proxy: boolean; version: string };
}

/**
 * Where the package's dependencies are installed (the workspace's root, or the package's own directory when it
 * is installed alone): the probe runs there, so that computeCodePaths finds `yaml` in its node_modules.
 */
const INSTALL_ROOT = path.resolve(path.dirname(require.resolve("yaml/package.json")), "..", "..");

function probe(mode: "deferred" | "eager"): Probe {
    const child = spawnSync(process.execPath, ["--require", TS_REGISTER, path.join(__dirname, "closure-probe.ts"), mode], { cwd: INSTALL_ROOT, encoding: "utf8" });
    assert.equal(child.status, 0, child.stderr);
    return JSON.parse(child.stdout) as Probe;
}

describe("the SDK's closure modules, deferred (src/lazy-closure-modules.ts)", function () {
    this.timeout(60000);
    let deferred: Probe;
    let eager: Probe;
    before(() => {
        deferred = probe("deferred");
        eager = probe("eager");
    });

    it("loading @pulumi/pulumi loads neither the TypeScript compiler, @npmcli/arborist nor normalize-package-data", () => {
        assert.deepEqual(eager.afterSdkLoad, ["@npmcli/arborist", "normalize-package-data", "typescript"], "without the module the SDK loads all three (if not, this module has no purpose left)");
        assert.deepEqual(deferred.afterSdkLoad, []);
    });

    it("serializeFunction and computeCodePaths load them on first use and give the same results", () => {
        assert.deepEqual(deferred.afterUse, ["@npmcli/arborist", "normalize-package-data", "typescript"]);
        assert.equal(deferred.serialized, eager.serialized);
        assert.match(deferred.serialized, /super/);
        assert.deepEqual(deferred.codePaths, eager.codePaths);
        assert.ok(deferred.codePaths.some((p) => p.endsWith(path.join("node_modules", "yaml"))), deferred.codePaths.join(", "));
    });

    it("the Automation API is not loaded with the SDK, and a program using pulumi.automation gets the real one", () => {
        assert.equal(eager.automationAfterSdkLoad, true, "without the module the SDK loads it (if not, its stand-in has no purpose left)");
        assert.equal(deferred.automationAfterSdkLoad, false);
        assert.deepEqual(deferred.automation, eager.automation);
        assert.equal(deferred.automation.loadedAfterUse, true);
        assert.equal(deferred.automation.localWorkspace, "function");
        assert.ok(deferred.automation.exports.includes("LocalWorkspace"), deferred.automation.exports.join(", "));
    });

    it("gRPC, the generated gRPC clients, semver and OpenTelemetry are not loaded with the SDK, and the SDK gets the real ones on first use", () => {
        // (events_ and language_grpc_pb are the Automation API's, deferred with it.)
        const proto = ["callback", "engine", "events", "language", "provider", "resource"].map((name) => `@pulumi/pulumi/proto/${name}_grpc_pb.js`);
        assert.deepEqual(eager.rpcAfterSdkLoad, ["@grpc/grpc-js", "@opentelemetry/api", ...proto, "semver"], "without the module the SDK loads them all (if not, their stand-ins have no purpose left)");
        assert.deepEqual(deferred.rpcAfterSdkLoad, []);
        assert.deepEqual(deferred.rpc, eager.rpc);
        assert.deepEqual(deferred.rpc, {
            unavailable: true,
            other: false,
            packageFound: "1.2.3",
            packageOfOtherVersion: null,
            monitorClient: "function",
            monitorClientMethods: eager.rpc.monitorClientMethods,
            propagation: "function",
        });
        assert.ok((deferred.rpc.monitorClientMethods as string[]).includes("registerResource"));
        assert.deepEqual(deferred.rpcAfterUse, ["@grpc/grpc-js", "@opentelemetry/api", "@pulumi/pulumi/proto/resource_grpc_pb.js", "semver"]);
    });

    it("a program's own require(\"typescript\") gets the real module, not a stand-in", () => {
        assert.deepEqual(deferred.ownTypescript, eager.ownTypescript);
        assert.equal(deferred.ownTypescript.proxy, false);
    });

    it("@pulumi/policy loads without its analyzer server (gRPC, the SDK); a PolicyPack's serve reaches the real one", () => {
        const script = [
            `require(${JSON.stringify(path.join(__dirname, "..", "src", "lazy-closure-modules.ts"))});`,
            "const Module = require('module');",
            "const loaded = (part) => Object.keys(require.cache).some((f) => f.includes(part));",
            "const policy = require('@pulumi/policy');",
            "const afterPolicyLoad = { sdk: loaded('/@pulumi/pulumi/'), grpc: loaded('/@grpc/grpc-js/'), server: loaded('/@pulumi/policy/server.js') };",
            "const policyJs = require.resolve('@pulumi/policy/policy.js');",
            "const server = Module._load('./server', require.cache[policyJs], false);",
            "const serve = typeof server.serve;",
            "const afterServe = { sdk: loaded('/@pulumi/pulumi/'), server: loaded('/@pulumi/policy/server.js') };",
            "console.log(JSON.stringify({ afterPolicyLoad, serve, afterServe, validate: typeof policy.validateResourceOfType, proxy: typeof policy.unknownCheckingProxy }));",
        ].join("\n");
        const run = (withModule: boolean) => {
            const child = spawnSync(process.execPath, ["--require", TS_REGISTER, "-e", withModule ? script : script.split("\n").slice(1).join("\n")], { cwd: INSTALL_ROOT, encoding: "utf8" });
            assert.equal(child.status, 0, child.stderr);
            return JSON.parse(child.stdout) as { afterPolicyLoad: Record<string, boolean>; serve: string; afterServe: Record<string, boolean>; validate: string; proxy: string };
        };
        const eager = run(false);
        assert.deepEqual(eager.afterPolicyLoad, { sdk: true, grpc: true, server: true }, "without the module @pulumi/policy loads its server and the SDK (if not, the stand-in has no purpose left)");
        const deferred = run(true);
        assert.deepEqual(deferred.afterPolicyLoad, { sdk: false, grpc: false, server: false });
        assert.equal(deferred.validate, "function");
        assert.equal(deferred.proxy, "function");
        assert.equal(deferred.serve, "function");
        assert.deepEqual(deferred.afterServe, { sdk: true, server: true });
    });
});
