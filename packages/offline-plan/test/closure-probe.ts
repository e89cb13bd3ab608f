/**
 * Run as a process of its own by lazy-closure-modules.test.ts: loads the SDK (with the planner's deferred
 * closure modules when the first argument is "deferred"), then uses everything those modules serve and prints
 * what it saw as JSON.
 */
import * as path from "path";
import * as util from "util";

const DEFERRED_FILES = /node_modules[\\/](typescript|@npmcli[\\/]arborist|normalize-package-data)[\\/]/;
const loaded = (): string[] => [...new Set(Object.keys(require.cache).filter((f) => DEFERRED_FILES.test(f)).map((f) => DEFERRED_FILES.exec(f)![1]))].sort();
/** The SDK's Automation API (automation/*.js) and what it loads (execa). */
const AUTOMATION_FILES = /node_modules[\\/](@pulumi[\\/]pulumi[\\/]automation|execa)[\\/]/;
const automationLoaded = (): boolean => Object.keys(require.cache).some((f) => AUTOMATION_FILES.test(f));
/** What only the SDK's connection to a real engine uses: gRPC, its generated clients, semver, OpenTelemetry. */
const RPC_FILES = /node_modules[\\/](@grpc[\\/]grpc-js|semver|@opentelemetry[\\/]api|@pulumi[\\/]pulumi[\\/]proto[\\/]\w+_grpc_pb\.js$)/;
const rpcLoaded = (): string[] => [...new Set(Object.keys(require.cache).map((f) => RPC_FILES.exec(f)?.[1].replace(/\\/g, "/")).filter((m): m is string => m !== undefined))].sort();

async function main(): Promise<void> {
    if (process.argv[2] === "deferred") {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require("../src/lazy-closure-modules");
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const afterSdkLoad = loaded();
    const automationAfterSdkLoad = automationLoaded();
    const rpcAfterSdkLoad = rpcLoaded();
    // Each of them reached as the SDK reaches it: errors.js's gRPC status codes, rpc.js's semver, settings.js's
    // generated client and OpenTelemetry (its requests, made from its own file).
    const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Module = require("module") as { _load(request: string, parent: unknown, isMain: boolean): Record<string, unknown> };
    const settingsModule = require.cache[path.join(sdkDir, "runtime", "settings.js")];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const errors = require(path.join(sdkDir, "errors.js")) as { isGrpcError(err: { code: number }): boolean };
    pulumi.runtime.registerResourcePackage("probe", { version: "1.2.3", constructProvider: () => undefined as never });
    const monitorClient = Module._load("../proto/resource_grpc_pb", settingsModule, false);
    const telemetry = Module._load("@opentelemetry/api", settingsModule, false);
    const rpc = {
        unavailable: errors.isGrpcError({ code: 14 }),
        other: errors.isGrpcError({ code: 3 }),
        packageFound: pulumi.runtime.getResourcePackage("probe", "1.2.3")?.version,
        packageOfOtherVersion: pulumi.runtime.getResourcePackage("probe", "2.0.0")?.version ?? null,
        monitorClient: typeof monitorClient.ResourceMonitorClient,
        monitorClientMethods: Object.keys((monitorClient.ResourceMonitorClient as { service: object }).service).sort(),
        propagation: typeof (telemetry.propagation as { inject?: unknown }).inject,
    };
    const rpcAfterUse = rpcLoaded();
    const base = 40;
    // A closure with a capture, a class and `super`: parseFunction and rewriteSuper both use the compiler.
    class Base { answer(): number { return base; } }
    class Derived extends Base { answer(): number { return super.answer() + 2; } }
    const serialized = await pulumi.runtime.serializeFunction(() => new Derived().answer());
    // Code paths: @npmcli/arborist walks the dependencies, normalize-package-data reads each package.json.
    const codePaths = await pulumi.runtime.computeCodePaths({ extraIncludePackages: ["yaml"] });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ownTypescript = require("typescript") as { version: string };
    // The Automation API as a program would reach it: its exports, and a class that works.
    const automation = {
        exports: Object.keys(pulumi.automation).sort(),
        qualified: pulumi.automation.fullyQualifiedStackName("org", "project", "stack"),
        loadedAfterUse: automationLoaded(),
        localWorkspace: typeof pulumi.automation.LocalWorkspace,
    };
    console.log(JSON.stringify({
        afterSdkLoad,
        automationAfterSdkLoad,
        automation,
        rpcAfterSdkLoad,
        rpc,
        rpcAfterUse,
        afterUse: loaded(),
        serialized: serialized.text,
        codePaths: [...codePaths.keys()].sort(),
        ownTypescript: { proxy: util.types.isProxy(ownTypescript), version: ownTypescript.version },
    }));
}

main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
});
