/**
 * Imported first by the CLIs and the planning child (with no-dependency-source-maps.ts): the SDK's
 * closure-serialization dependencies, and its Automation API, load when first used instead of when
 * @pulumi/pulumi loads.
 *
 * `require("@pulumi/pulumi")` loads runtime/closure/*, which at module scope requires the TypeScript
 * compiler (through typescript-shim.js), @npmcli/arborist (with pacote, tar, sigstore, glob, ...) and
 * normalize-package-data. They serve only `pulumi.runtime.serializeFunction` (aws.lambda.CallbackFunction
 * and the like), which an offline plan of our stacks never calls: measured, about 0.3 s of a plan's 1.3 s
 * of CPU went to compiling them. A program that does serialize a closure still gets the real modules, on
 * first use: every stand-in below forwards to the module it replaces and loads it then.
 *
 * Only requests made by the SDK's own files are replaced; a program's own `require("typescript")` gets
 * the real module.
 *
 * So are what only the SDK's connection to a real engine uses (gRPC, its generated clients, semver, OpenTelemetry):
 * under mocks the SDK never connects, and whatever reaches them (an RPC error's status code, a version compared)
 * loads the real module then.
 *
 * zod 4's locale modules (a program's dependency, not the SDK's) are deferred too: 62 modules loaded with zod
 * for `z.locales` alone (DEFERRED_IN_ZOD below).
 *
 * In the same way, @pulumi/policy's policy.js loads its analyzer server (server.js: gRPC, the analyzer's
 * protobuf messages, and through deserialize.js the whole SDK) at module scope, for `new PolicyPack(...)` to
 * serve the engine. The offline check only evaluates the pack's policies (policy-harness.ts); with the server
 * deferred, the checker process does not load @pulumi/pulumi, gRPC, semver or OpenTelemetry at all (measured:
 * 0.98x the CPU of a check of every stack). A PolicyPack constructed under this module still gets the real server.
 */
import * as path from "path";

interface Loader {
    _load(request: string, parent: { filename?: string } | undefined, isMain: boolean): unknown;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Module = require("module") as Loader;
const SDK_DIR = `${path.sep}node_modules${path.sep}@pulumi${path.sep}pulumi${path.sep}`;
const POLICY_DIR = `${path.sep}node_modules${path.sep}@pulumi${path.sep}policy${path.sep}`;

/** How each deferred module is replaced: the request as the SDK writes it, and the stand-in's shape. */
const DEFERRED: ReadonlyMap<string, (load: () => unknown) => unknown> = new Map([
    // `const ts = require("../../typescript-shim")`, members read inside functions.
    ["../../typescript-shim", (load) => forwardingProxy(load, {})],
    ["./typescript-shim", (load) => forwardingProxy(load, {})],
    // `__importStar(require("@npmcli/arborist"))`, then `new arborist.Arborist(...)`: answering
    // __esModule keeps __importStar from copying (and so loading) every member at import time.
    ["@npmcli/arborist", (load) => forwardingProxy(load, {}, { __esModule: true })],
    // `__importDefault(require("normalize-package-data"))`, then `.default(data)`: a callable stand-in.
    // An arrow function: callable, with no non-configurable `prototype` the proxy would have to report.
    ["normalize-package-data", (load) => forwardingProxy(load, () => undefined, { __esModule: undefined })],
    // index.js: `__importStar(require("./automation"))`, exported as `pulumi.automation`. The Automation API
    // (LocalWorkspace and the rest: execa, human-signals and 20 more modules, about 26 ms of CPU per process)
    // drives the Pulumi CLI; a program under plan does not call it, and one that does loads it then.
    ["./automation", (load) => forwardingProxy(load, {}, { __esModule: true })],
    // What only the SDK's connection to a real engine uses (h29-plan: 160 of a plan's 600 modules, about 36 ms of
    // CPU, 0.955x plan prod+dr's). gRPC (`__importStar(require("@grpc/grpc-js"))` in errors.js, runtime/*.js and
    // provider/server.js): its status codes are read inside functions, on an RPC's error, and its clients are
    // made when the SDK connects to a monitor, which under mocks it never does.
    ["@grpc/grpc-js", (load) => forwardingProxy(load, {}, { __esModule: true })],
    // The generated clients (`__importStar(require("../proto/resource_grpc_pb"))`, settings.js, callbacks.js,
    // provider/server.js): each calls grpc.makeGenericClientConstructor at module scope, so gRPC with it.
    // __esModule answered keeps __importStar from copying (and so loading) them; the SDK reads only their members.
    ["../proto/engine_grpc_pb", (load) => forwardingProxy(load, {}, { __esModule: true })],
    ["../proto/resource_grpc_pb", (load) => forwardingProxy(load, {}, { __esModule: true })],
    ["../proto/callback_grpc_pb", (load) => forwardingProxy(load, {}, { __esModule: true })],
    ["../proto/provider_grpc_pb", (load) => forwardingProxy(load, {}, { __esModule: true })],
    // rpc.js's `__importStar(require("semver"))`: compares the versions of resource packages and modules
    // registered twice or looked up by version, inside functions.
    ["semver", (load) => forwardingProxy(load, {}, { __esModule: true })],
    // settings.js's `require("@opentelemetry/api")`: read by its gRPC interceptor, on a call to a real engine.
    ["@opentelemetry/api", (load) => forwardingProxy(load, {}, { __esModule: true })],
]);

/** The same for @pulumi/policy's files: policy.js's `const server_1 = require("./server")`, used as `server_1.serve(...)`. */
const DEFERRED_IN_POLICY: ReadonlyMap<string, (load: () => unknown) => unknown> = new Map([["./server", (load) => forwardingProxy(load, {}, { __esModule: true })]]);

/**
 * zod 4, a program's dependency (this repository's configuration schemas): `v4/core/index.cjs`,
 * `v4/classic/external.cjs` and `v4/mini/external.cjs` export `locales` as
 * `__importStar(require("../locales/index.cjs"))`, which loads every locale zod ships (62 modules) for `z.locales`,
 * read only by a program that picks a language for its messages (`z.config(z.locales.fr())`); zod's own English
 * messages come from `locales/en.cjs`, required directly. Deferred, `require("zod")` took 15.5 ms of CPU instead of
 * 22 under the planner's compile cache (h31-plan). The stand-in answers __esModule, so that __importStar returns
 * it as it returned the real module; every other read loads the real one.
 */
const DEFERRED_IN_ZOD: ReadonlyMap<string, (load: () => unknown) => unknown> = new Map([["../locales/index.cjs", (load) => forwardingProxy(load, {}, { __esModule: true })]]);
const ZOD_DIR = `${path.sep}node_modules${path.sep}zod${path.sep}`;
const ZOD_LOCALE_IMPORTERS = [path.join("v4", "core", "index.cjs"), path.join("v4", "classic", "external.cjs"), path.join("v4", "mini", "external.cjs")];

/** Every request some table defers: any other request (nearly all of a plan's 1,900 loads) is passed on at once. */
const DEFERRED_REQUESTS: ReadonlySet<string> = new Set([...DEFERRED.keys(), ...DEFERRED_IN_POLICY.keys(), ...DEFERRED_IN_ZOD.keys()]);

/** The stand-in table for requests made from `filename`'s package (the SDK's, @pulumi/policy's or zod's), if any. */
function deferredFor(filename: string | undefined): { table: ReadonlyMap<string, (load: () => unknown) => unknown>; owner: string } | undefined {
    if (filename?.includes(SDK_DIR)) {
        return { table: DEFERRED, owner: SDK_DIR };
    }
    if (filename?.includes(POLICY_DIR)) {
        return { table: DEFERRED_IN_POLICY, owner: POLICY_DIR };
    }
    const zod = filename?.lastIndexOf(ZOD_DIR) ?? -1;
    if (filename !== undefined && zod >= 0 && ZOD_LOCALE_IMPORTERS.includes(filename.slice(zod + ZOD_DIR.length))) {
        // This copy of zod's own: two installed copies never share a stand-in.
        return { table: DEFERRED_IN_ZOD, owner: filename.slice(0, zod + ZOD_DIR.length) };
    }
    return undefined;
}

/**
 * A stand-in for a module: every read, call, construction or reflection loads the real module once
 * and forwards to it. `answers` are properties answered without loading.
 */
function forwardingProxy(load: () => unknown, target: object, answers: Record<string, unknown> = {}): unknown {
    let real: object | undefined;
    const module = (): object => (real ??= load() as object);
    return new Proxy(target, {
        get: (_t, key) => (typeof key === "string" && key in answers ? answers[key] : Reflect.get(module(), key)),
        has: (_t, key) => Reflect.has(module(), key),
        set: (_t, key, value) => Reflect.set(module(), key, value),
        ownKeys: () => Reflect.ownKeys(module()),
        getOwnPropertyDescriptor: (_t, key) => {
            const descriptor = Reflect.getOwnPropertyDescriptor(module(), key);
            // A proxy may not report a property as non-configurable unless its target has it so.
            return descriptor && { ...descriptor, configurable: true };
        },
        apply: (_t, self, args) => Reflect.apply(module() as (...a: unknown[]) => unknown, self, args),
        construct: (_t, args) => Reflect.construct(module() as new (...a: unknown[]) => object, args),
    });
}

const load = Module._load;
const standIns = new Map<string, unknown>();
if (!(load as { defersClosureModules?: boolean }).defersClosureModules) {
    const patched = function (this: Loader, request: string, parent: { filename?: string } | undefined, isMain: boolean): unknown {
        const deferred = DEFERRED_REQUESTS.has(request) ? deferredFor(parent?.filename) : undefined;
        const standIn = deferred?.table.get(request);
        if (!deferred || !standIn) {
            return load.call(this, request, parent, isMain);
        }
        // One stand-in per package and request: the SDK requires the shim again inside functions.
        const key = `${deferred.owner}\0${request}`;
        if (!standIns.has(key)) {
            standIns.set(key, standIn(() => load.call(this, request, parent, isMain)));
        }
        return standIns.get(key);
    };
    Object.assign(patched, { defersClosureModules: true });
    Module._load = patched;
}
