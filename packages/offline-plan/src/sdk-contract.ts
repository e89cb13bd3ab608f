/**
 * What the planner expects of the SDK and of Node, checked once per copy of the SDK before anything is
 * patched (mock-runtime.ts runProgram). The planner reaches into internals no public API offers (see each
 * expectation's `why`); a version outside the supported range, or an internal that changed shape, stops the
 * plan naming the version and what was expected: never a silently wrong plan.
 *
 * The supported range is package.json's peerDependencies["@pulumi/pulumi"] (one source).
 */
import * as fs from "fs";
import * as path from "path";
import { UNKNOWN } from "./model";
import { lightStructsAgree, StructModule, structModuleOf } from "./light-structs";

/** The SDK's and Node's objects the planner touches, as found (loadSdkShape) or made up (the tests). */
export interface SdkShape {
    /** @pulumi/pulumi's package.json version. */
    version: string;
    /** Where it was found, for the message. */
    dir: string;
    /** @pulumi/pulumi itself (index.js). */
    sdk: unknown;
    /** runtime/debuggable.js. */
    debuggable: unknown;
    /** runtime/resource.js. */
    resourceRuntime: unknown;
    /** runtime/rpc.js. */
    rpc: unknown;
    /** Node's `module`. */
    nodeModule: unknown;
    /** runtime/mocks.js. */
    mocks?: unknown;
    /** The google-protobuf struct_pb module the SDK requires. */
    structs?: unknown;
}

/** A version range of the form ">=A.B.C <D" or ">=A.B.C <D.E.F" (what package.json states). */
export function inRange(version: string, range: string): boolean {
    const parse = (v: string): number[] => {
        const parts = v.replace(/^v/, "").split(/[.-]/).slice(0, 3).map(Number);
        return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
    };
    const compare = (a: number[], b: number[]): number => a.map((x, i) => x - b[i]).find((d) => d !== 0) ?? 0;
    const v = parse(version);
    if (v.some((n) => Number.isNaN(n))) {
        return false;
    }
    return range.split(/\s+/).every((clause) => {
        const match = /^(>=|<=|>|<|=)?(.+)$/.exec(clause);
        if (!match) {
            return false;
        }
        const c = compare(v, parse(match[2]));
        switch (match[1] ?? "=") {
            case ">=":
                return c >= 0;
            case ">":
                return c > 0;
            case "<=":
                return c <= 0;
            case "<":
                return c < 0;
            default:
                return c === 0;
        }
    });
}

/** The supported @pulumi/pulumi range, from this package's package.json. */
export function supportedRange(): string {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, "..", "package.json"), "utf8")) as { peerDependencies: Record<string, string> };
    return pkg.peerDependencies["@pulumi/pulumi"];
}

type Get = (shape: SdkShape) => unknown;
const at = (value: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v !== null && v !== undefined ? (v as Record<string, unknown>)[k] : undefined), value);
const isFunction = (get: Get) => (shape: SdkShape) => typeof get(shape) === "function";
/** A function whose leading parameter names are `names`, in that order (arguments read by position). */
const parametersStartWith = (get: Get, names: string[]) => (shape: SdkShape) => {
    const fn = get(shape);
    if (typeof fn !== "function") {
        return false;
    }
    const params = /^[^(]*\(([^)]*)\)/.exec(Function.prototype.toString.call(fn))?.[1].split(",").map((p) => p.trim().replace(/\s*=.*$/, "")) ?? [];
    return names.every((name, i) => params[i] === name);
};

interface Expectation {
    what: string;
    why: string;
    holds(shape: SdkShape): boolean;
}

const REGISTER_ARGS = ["res", "parent", "t", "name", "custom", "remote", "newDependency", "props"];

/** Every internal the planner touches, with what it relies on. */
export const EXPECTATIONS: readonly Expectation[] = [
    { what: "runtime/debuggable.js exports debuggablePromise(p, ctx)", why: "promise stamps without stack traces (sdk-patches.ts withoutPromiseStacks)", holds: parametersStartWith((s) => at(s.debuggable, "debuggablePromise"), ["p", "ctx"]) },
    { what: "runtime/debuggable.js exports leakedPromises()", why: "registrations left pending fail the plan (sdk-patches.ts pendingRegistrations)", holds: isFunction((s) => at(s.debuggable, "leakedPromises")) },
    { what: "runtime/debuggable.js exports debugPromiseLeaks (boolean)", why: "PULUMI_DEBUG_PROMISE_LEAKS keeps the SDK's own stamps", holds: (s) => typeof at(s.debuggable, "debugPromiseLeaks") === "boolean" },
    { what: `runtime/resource.js exports registerResource(${REGISTER_ARGS.join(", ")}, ...)`, why: "the properties a registration leaves undefined, read by argument position (sdk-patches.ts recordUndefinedProperties)", holds: parametersStartWith((s) => at(s.resourceRuntime, "registerResource"), REGISTER_ARGS) },
    { what: "Resource.stackTrace(skip) is a static function", why: "registrations without source positions (sdk-patches.ts withoutSourcePositions)", holds: isFunction((s) => at(s.sdk, "Resource", "stackTrace")) },
    {
        what: "StackReference.prototype.readOutputValue is a function",
        why: "getOutputValue/requireOutputValue/getOutputDetails of a stack whose outputs are unknown offline refused, never undefined (sdk-patches.ts refuseUnknownStackOutputValues)",
        holds: isFunction((s) => at(s.sdk, "StackReference", "prototype", "readOutputValue")),
    },
    { what: "Output.prototype.apply is a function", why: "resources made inside .apply behind a preview (sdk-patches.ts trackApplies)", holds: isFunction((s) => at(s.sdk, "Output", "prototype", "apply")) },
    {
        what: "an Output carries isKnown, a Promise of a boolean (pulumi.output(1).isKnown)",
        why: "the .apply callbacks a full plan could not run for an unknown value (sdk-patches.ts trackApplies, unknownApplies)",
        holds: (s) => {
            const output = at(s.sdk, "output");
            return typeof output === "function" && (output as (v: unknown) => { isKnown?: unknown })(1)?.isKnown instanceof Promise;
        },
    },
    ...["setMocks", "setAllConfig", "getMonitor", "disconnect", "isDryRun"].map((name) => ({
        what: `runtime.${name} is a function`,
        why: "the mock runtime and the recorded registrations (mock-runtime.ts, sdk-patches.ts watchMonitor)",
        holds: isFunction((s) => at(s.sdk, "runtime", name)),
    })),
    { what: `runtime/rpc.js unknownValue is "${UNKNOWN}"`, why: "unknowns in plans are the engine's sentinel (model.ts UNKNOWN)", holds: (s) => at(s.rpc, "unknownValue") === UNKNOWN },
    ...["_load", "_resolveFilename", "_initPaths"].map((name) => ({
        what: `Node's Module.${name} is a function`,
        why: "the TypeScript loader, deferred closure modules and NODE_PATH for programs without node_modules (register.cjs, lazy-closure-modules.ts, plan.ts)",
        holds: isFunction((s) => at(s.nodeModule, name)),
    })),
    {
        what: "Node's Module.prototype._compile is a function",
        why: "source maps of node_modules left out (no-dependency-source-maps.ts); modules compiled once per process, from the code cache (compiled-modules.ts)",
        holds: isFunction((s) => at(s.nodeModule, "prototype", "_compile")),
    },
    {
        what: "Node's Module._resolveLookupPaths is a function, Module._cache an object",
        why: "the require a dependency's module runs with, made as Node makes it (compiled-modules.ts requireFor)",
        holds: (s) => typeof at(s.nodeModule, "_resolveLookupPaths") === "function" && typeof at(s.nodeModule, "_cache") === "object",
    },
    { what: "Node's Module._extensions['.js'] is a function", why: "the TypeScript loader (register.cjs)", holds: isFunction((s) => at(s.nodeModule, "_extensions", ".js")) },
    {
        what: "google-protobuf's struct_pb (the SDK's copy) reads a light Struct as the message Struct.fromJavaScript builds (toJavaScript, serializeBinary, the error for undefined)",
        why: "registrations, reads and invokes handed to the mock monitor as plain snapshots (light-structs.ts)",
        holds: (s) => lightStructsAgree(s.structs as StructModule | undefined),
    },
    {
        what: "the mock monitor reads requests through rpc.deserializeProperties(req.getObject() / getProperties() / getArgs()), which reads a Struct with toJavaScript()",
        why: "a light Struct is answered from its snapshot by toJavaScript, any other reader materializes it (light-structs.ts)",
        holds: (s) => {
            const source = (fn: unknown): string => (typeof fn === "function" ? Function.prototype.toString.call(fn) : "");
            const monitor = at(s.mocks, "MockMonitor", "prototype");
            // `rpc_1.deserializeProperties(req.getObject())`, or `(0, rpc_1.deserializeProperties)(...)` as newer TypeScript compiles it.
            const reads = (method: string, getter: string): boolean => new RegExp(`\\bdeserializeProperties\\)?\\(\\s*req\\.${getter}\\(\\)\\s*[,)]`).test(source(at(monitor, method)));
            return reads("registerResource", "getObject") && reads("readResource", "getProperties") && reads("invoke", "getArgs") && /\.toJavaScript\(\)/.test(source(at(s.rpc, "deserializeProperties")));
        },
    },
];

/** What is wrong with `shape` against `range`, one line each; empty when the planner can run with it. */
export function contractProblems(shape: SdkShape, range: string = supportedRange()): string[] {
    const problems: string[] = [];
    if (!inRange(shape.version, range)) {
        problems.push(`@pulumi/pulumi ${shape.version} is outside the supported range ${range}`);
    }
    for (const expectation of EXPECTATIONS) {
        let holds = false;
        try {
            holds = expectation.holds(shape);
        } catch {
            holds = false;
        }
        if (!holds) {
            problems.push(`expected ${expectation.what} (for ${expectation.why})`);
        }
    }
    return problems;
}

/** The SDK copy in `sdkDir` as the planner will use it. */
export function loadSdkShape(sdkDir: string): SdkShape {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const optional = (file: string): unknown => {
        try {
            return require(path.join(sdkDir, file));
        } catch {
            return undefined;
        }
    };
    const version = (JSON.parse(fs.readFileSync(path.join(sdkDir, "package.json"), "utf8")) as { version: string }).version;
    return {
        version,
        dir: sdkDir,
        sdk: optional("."),
        debuggable: optional(path.join("runtime", "debuggable.js")),
        resourceRuntime: optional(path.join("runtime", "resource.js")),
        rpc: optional(path.join("runtime", "rpc.js")),
        nodeModule: require("module"),
        mocks: optional(path.join("runtime", "mocks.js")),
        structs: ((): unknown => {
            try {
                return structModuleOf(sdkDir);
            } catch {
                return undefined;
            }
        })(),
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
}

/** The SDK or Node is not what the planner was written against: no plan rather than a wrong one. */
export class SdkContractError extends Error {
    constructor(shape: SdkShape, problems: string[]) {
        super(`the offline planner cannot run with @pulumi/pulumi ${shape.version} (${shape.dir}) on Node ${process.version}:\n  ${[...problems, ...upgradeHint(shape)].join("\n  ")}`);
        this.name = "SdkContractError";
    }
}

/**
 * For a program's own SDK of a version outside the range, the way out: a supported SDK installed where the program
 * resolves it (a pinned example, `"@pulumi/pulumi": "3.228.0"`, otherwise leaves the user with the range alone).
 */
function upgradeHint(shape: SdkShape): string[] {
    const marker = `${path.sep}node_modules${path.sep}@pulumi${path.sep}pulumi`;
    const owner = shape.dir.endsWith(marker) ? shape.dir.slice(0, -marker.length) : undefined;
    if (owner === undefined || inRange(shape.version, supportedRange())) {
        return [];
    }
    return [`to plan it offline, install a supported SDK in the program: cd ${owner} && npm install '@pulumi/pulumi@${supportedRange()}'`];
}

const checked = new Set<string>();

/** Checks the SDK copy in `sdkDir` once per process; throws SdkContractError naming every problem. */
export function checkSdkContract(sdkDir: string): void {
    if (checked.has(sdkDir)) {
        return;
    }
    const shape = loadSdkShape(sdkDir);
    const problems = contractProblems(shape);
    if (problems.length > 0) {
        throw new SdkContractError(shape, problems);
    }
    checked.add(sdkDir);
}
