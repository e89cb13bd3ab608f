/**
 * Evaluates the policy pack offline with the argument shapes the Pulumi engine's analyzer passes
 * (node_modules/@pulumi/policy/server.js, @pulumi/policy 1.21):
 *
 * - Resource policies get `ResourceValidationArgs { type, props, urn, name, opts, provider?, stackTags,
 *   isType, asType, getConfig, notApplicable }`; stack policies get `StackValidationArgs { resources,
 *   stackTags, getConfig, notApplicable }`, each resource with `dependencies`, `propertyDependencies` and
 *   `parent` resolved to resource objects.
 * - `props` are the resource's inputs with secrets unwrapped, wrapped in the engine's own
 *   `unknownCheckingProxy`: reading an unknown (preview) value throws UnknownValueError. Like the engine,
 *   such a throw skips that policy for that resource and becomes an advisory "can't run during preview"
 *   diagnostic; `notApplicable()` is recorded, not reported; any other exception is a crash (an error).
 * - Enforcement level: policy config, then the policy's own level, then the pack's. `disabled` skips.
 *   `getConfig()` returns the policy's config block without `enforcementLevel`, as the engine does; schema
 *   defaults are applied by the policies themselves (the pack's own code).
 * - What reaches the analyzers: the engine analyzes every resource it registers, custom or component,
 *   default providers included (pulumi/pulumi-policy#323 validates providers), and the stack's root
 *   `pulumi:pulumi:Stack`; read resources (StackReference, `.get`) are never analyzed (pulumi/pulumi#3950).
 *   The offline plan records no root stack and no default providers, so they are synthesized here: one
 *   `pulumi:providers:<pkg>` per package from the stack's `<pkg>:*` configuration (aws:region, ...).
 * - Difference kept on purpose: the engine's stack analysis sees resource *outputs*; the offline plan has
 *   only inputs (no provider fills in defaults). The policies judge unset values by provider defaults.
 */
import * as fs from "fs";
import * as path from "path";
import {
    EnforcementLevel,
    Policies,
    PolicyResource,
    PolicyResourceOptions,
    PolicyProviderResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    unknownCheckingProxy,
    UnknownValueError,
} from "@pulumi/policy";
import { PlannedResource, PlanResult, UNKNOWN, unwrapSecrets } from "./model";
import { inRange } from "./sdk-contract";

/**
 * What the harness expects of @pulumi/policy, as sdk-contract.ts does of the SDK: its version inside
 * package.json's peerDependencies range (one source) and the engine's proxy it calls. Checked once, when this
 * module loads: another version stops here naming itself and the range, not inside the first policy call
 * (@pulumi/policy 1.20 has no unknownCheckingProxy: "(0, import_policy.unknownCheckingProxy) is not a function").
 */
export function policyContractProblems(version: string, exported: Record<string, unknown>, range: string): string[] {
    const problems = inRange(version, range) ? [] : [`@pulumi/policy ${version.replace(/^v/, "")} is outside the supported range ${range}`];
    for (const name of ["unknownCheckingProxy", "UnknownValueError"]) {
        if (typeof exported[name] !== "function") {
            problems.push(`@pulumi/policy has no ${name} (the engine's proxy of a resource's properties and its error)`);
        }
    }
    return problems;
}

(function checkPolicyContract(): void {
    const manifest = require.resolve("@pulumi/policy/package.json");
    const { version } = JSON.parse(fs.readFileSync(manifest, "utf8")) as { version: string };
    const range = (JSON.parse(fs.readFileSync(path.resolve(__dirname, "..", "package.json"), "utf8")) as { peerDependencies: Record<string, string> }).peerDependencies["@pulumi/policy"];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const problems = policyContractProblems(version, require("@pulumi/policy") as Record<string, unknown>, range);
    if (problems.length > 0) {
        throw new Error(`the offline policy harness cannot run with @pulumi/policy ${version.replace(/^v/, "")} (${path.dirname(manifest)}) on Node ${process.version}:\n  ${problems.join("\n  ")}`);
    }
})();

export interface Violation {
    policy: string;
    urn?: string;
    message: string;
    enforcementLevel: EnforcementLevel;
}

export interface NotApplicable {
    policy: string;
    urn?: string;
    reason?: string;
}

export type PolicyConfigEntry = EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);
/** Pulumi's policy config file: `{ "policy-name": "advisory" | { enforcementLevel?, ...properties } }`; "all" sets every policy's level. */
export type PackConfig = Record<string, PolicyConfigEntry>;

export interface EvaluationOptions {
    config?: PackConfig;
    stackTags?: ReadonlyMap<string, string>;
    /** The pack's enforcement level (the `enforcementLevel` its PolicyPack declares). */
    packEnforcementLevel?: EnforcementLevel;
}

export interface Evaluation {
    violations: Violation[];
    notApplicable: NotApplicable[];
}

/** One resource as the engine registers it, with raw (wire-format, JSON) inputs. */
export interface AnalyzerResource {
    type: string;
    name: string;
    urn: string;
    custom: boolean;
    inputs: Record<string, unknown>;
    protect?: boolean;
    ignoreChanges?: string[];
    additionalSecretOutputs?: string[];
    parent?: string;
    provider?: string;
    dependencies?: string[];
    propertyDependencies?: Record<string, string[]>;
}

class NotApplicableError extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "not applicable");
    }
}

/**
 * The not-applicable signal: an Error the harness catches and never reports, so made without capturing a
 * stack (a source-mapped one, as every .ts file's is) while the stack trace limit is 0. A check throws one
 * for each policy that does not apply to a resource.
 */
function throwNotApplicable(reason?: string): never {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let signal: NotApplicableError;
    try {
        signal = new NotApplicableError(reason);
    } finally {
        Error.stackTraceLimit = limit;
    }
    throw signal;
}

/** policy.js isStackPolicy / isResourcePolicy: one policy may be both (a settings policy often is). */
const isStackPolicy = (p: Policies[number]): p is StackValidationPolicy => typeof (p as StackValidationPolicy).validateStack === "function";
const isResourcePolicy = (p: Policies[number]): p is ResourceValidationPolicy => (p as ResourceValidationPolicy).validateResource !== undefined;

function pulumiTypeOf(value: unknown): string | undefined {
    return (value as { __pulumiType?: string } | undefined)?.__pulumiType;
}

/** server.js isTypeOf: the class's __pulumiType, else its isInstance. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
    const pulumiType = pulumiTypeOf(resourceClass);
    if (pulumiType) {
        return type === pulumiType;
    }
    const isInstance = (resourceClass as { isInstance?: (o: unknown) => boolean }).isInstance;
    return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

/**
 * A resource's `isType` and `asType`, made by a function so that the closures are not named one by one
 * (the loader keeps names: every named closure costs a defineProperty, and a check makes one per resource).
 */
function typeChecks(type: string, props: Record<string, unknown>) {
    return {
        isType: (resourceClass: unknown) => isTypeOf(type, resourceClass),
        asType: ((resourceClass: unknown) => (isTypeOf(type, resourceClass) ? props : undefined)) as ResourceValidationArgs["asType"],
    };
}

/** The `reportViolation` of one policy on one resource (made by a function for the same reason). */
function reporter(violations: Violation[], policy: string, resourceUrn: string, level: EnforcementLevel) {
    return (message: string, urn?: string) => void violations.push({ policy, urn: urn ?? resourceUrn, message, enforcementLevel: level });
}

function entryOf(config: PackConfig | undefined, name: string): { enforcementLevel?: EnforcementLevel } & Record<string, unknown> {
    const entry = config?.[name];
    if (entry === undefined) {
        return {};
    }
    return typeof entry === "string" ? { enforcementLevel: entry } : entry;
}

export function enforcementLevelOf(policy: Policies[number], options: EvaluationOptions): EnforcementLevel {
    return entryOf(options.config, policy.name).enforcementLevel ?? entryOf(options.config, "all").enforcementLevel ?? policy.enforcementLevel ?? options.packEnforcementLevel ?? "advisory";
}

function getConfigFor(config: PackConfig | undefined, name: string) {
    return <T extends object>(): T => {
        const { enforcementLevel: _level, ...properties } = entryOf(config, name);
        void _level;
        return properties as T;
    };
}

/** Props as the engine hands them to a policy: secrets unwrapped, unknowns behind the checking proxy. */
export function engineProps(inputs: Record<string, unknown>): Record<string, unknown> {
    const plain: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(inputs)) {
        if (value !== undefined) {
            plain[key] = unwrapSecrets(value);
        }
    }
    return unknownCheckingProxy(plain) as Record<string, unknown>;
}

function optionsOf(r: AnalyzerResource): PolicyResourceOptions {
    const opts: PolicyResourceOptions = {
        protect: r.protect ?? false,
        ignoreChanges: r.ignoreChanges ?? [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: r.additionalSecretOutputs ?? [],
    };
    if (r.parent) {
        opts.parent = r.parent;
    }
    return opts;
}

/** A prepared stack: props proxied once, providers resolved, shared by every policy. */
export interface PreparedStack {
    resources: AnalyzerResource[];
    props: Array<Record<string, unknown>>;
    providers: Array<PolicyProviderResource | undefined>;
}

export function prepare(resources: AnalyzerResource[]): PreparedStack {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const providerCache = new Map<string, PolicyProviderResource>();
    const providerOf = (ref: string | undefined): PolicyProviderResource | undefined => {
        if (!ref) {
            return undefined;
        }
        const urn = ref.split("::").slice(0, -1).join("::") || ref;
        const cached = providerCache.get(urn);
        if (cached) {
            return cached;
        }
        const provider = byUrn.get(urn) ?? byUrn.get(ref);
        if (!provider) {
            return undefined;
        }
        const resolved = { type: provider.type, name: provider.name, urn: provider.urn, props: engineProps(provider.inputs) };
        providerCache.set(urn, resolved);
        return resolved;
    };
    return { resources, props: resources.map((r) => engineProps(r.inputs)), providers: resources.map((r) => providerOf(r.provider)) };
}

function failure(policy: string, urn: string | undefined, err: unknown): Error {
    const error = new Error(`policy ${policy} crashed on ${urn ?? "the stack"}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    error.name = "PolicyCrash";
    return error;
}

export async function evaluateResourcePolicies(policies: Policies, stack: PreparedStack, options: EvaluationOptions = {}): Promise<Evaluation> {
    const violations: Violation[] = [];
    const notApplicable: NotApplicable[] = [];
    const stackTags = options.stackTags ?? new Map<string, string>();
    const active = policies
        .filter(isResourcePolicy)
        .map((p) => ({ policy: p, level: enforcementLevelOf(p, options), getConfig: getConfigFor(options.config, p.name) }))
        .filter(({ level, policy }) => level !== "disabled" && policy.validateResource !== undefined);
    for (let i = 0; i < stack.resources.length; i++) {
        const resource = stack.resources[i];
        const props = stack.props[i];
        // What every policy's arguments share for this resource (the engine builds them per call, alike).
        const opts = optionsOf(resource);
        const { isType, asType } = typeChecks(resource.type, props);
        for (const { policy, level, getConfig } of active) {
            const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
            // The engine's fast path: a single typed validation does not run on other types.
            const onlyType = validations.length === 1 ? pulumiTypeOf(validations[0]) : undefined;
            if (onlyType && onlyType !== resource.type) {
                continue;
            }
            const reported: EnforcementLevel = level === "remediate" ? "mandatory" : level;
            const reportViolation = reporter(violations, policy.name, resource.urn, reported);
            for (const validation of validations) {
                // A typed validation (validateResourceOfType) of another type calls notApplicable with this reason
                // (policy.js notApplicableType): recorded without the call and the throw.
                const validationType = pulumiTypeOf(validation);
                if (validationType && validationType !== resource.type) {
                    notApplicable.push({ policy: policy.name, urn: resource.urn, reason: `Policy only applies to resources of type '${validationType}'` });
                    continue;
                }
                const args: ResourceValidationArgs = {
                    type: resource.type,
                    props,
                    urn: resource.urn,
                    name: resource.name,
                    opts,
                    stackTags,
                    isType,
                    asType,
                    getConfig,
                    notApplicable: throwNotApplicable,
                };
                if (stack.providers[i]) {
                    args.provider = stack.providers[i];
                }
                try {
                    await validation(args, reportViolation);
                } catch (err) {
                    if (err instanceof UnknownValueError) {
                        violations.push({ policy: policy.name, urn: resource.urn, message: `can't run policy '${policy.name}' during preview: ${(err as Error).message}`, enforcementLevel: "advisory" });
                    } else if (err instanceof NotApplicableError) {
                        notApplicable.push({ policy: policy.name, urn: resource.urn, reason: err.reason });
                    } else {
                        throw failure(policy.name, resource.urn, err);
                    }
                }
            }
        }
    }
    return { violations, notApplicable };
}

/** The stack's resources as `PolicyResource`s, parents and dependencies linked (server.js analyzeStack). */
export function policyResources(stack: PreparedStack): PolicyResource[] {
    const out: PolicyResource[] = stack.resources.map((r, i) => {
        const props = stack.props[i];
        const resource: PolicyResource = {
            type: r.type,
            props,
            urn: r.urn,
            name: r.name,
            opts: optionsOf(r),
            dependencies: [],
            propertyDependencies: {},
            ...typeChecks(r.type, props),
        };
        if (stack.providers[i]) {
            resource.provider = stack.providers[i];
        }
        return resource;
    });
    const byUrn = new Map(out.map((r) => [r.urn, r]));
    stack.resources.forEach((r, i) => {
        const resource = out[i];
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        if (parent) {
            resource.parent = parent;
        }
        resource.dependencies = (r.dependencies ?? []).map((d) => byUrn.get(d)).filter((d): d is PolicyResource => d !== undefined);
        for (const [key, urns] of Object.entries(r.propertyDependencies ?? {})) {
            resource.propertyDependencies[key] = urns.map((d) => byUrn.get(d)).filter((d): d is PolicyResource => d !== undefined);
        }
    });
    return out;
}

export async function evaluateStackPolicies(policies: Policies, resources: PolicyResource[], options: EvaluationOptions = {}): Promise<Evaluation> {
    const violations: Violation[] = [];
    const notApplicable: NotApplicable[] = [];
    const stackTags = options.stackTags ?? new Map<string, string>();
    for (const policy of policies.filter(isStackPolicy)) {
        const level = enforcementLevelOf(policy, options);
        if (level === "disabled") {
            continue;
        }
        const onlyType = pulumiTypeOf(policy.validateStack);
        if (onlyType && !resources.some((r) => r.type === onlyType)) {
            notApplicable.push({ policy: policy.name, reason: `Policy only applies to resources of type '${onlyType}'` });
            continue;
        }
        const reported: EnforcementLevel = level === "remediate" ? "mandatory" : level;
        const args: StackValidationArgs = { resources, stackTags, getConfig: getConfigFor(options.config, policy.name), notApplicable: throwNotApplicable };
        try {
            await policy.validateStack(args, (message, urn) => violations.push({ policy: policy.name, urn, message, enforcementLevel: reported }));
        } catch (err) {
            if (err instanceof UnknownValueError) {
                violations.push({ policy: policy.name, message: `can't run policy '${policy.name}' during preview: ${(err as Error).message}`, enforcementLevel: "advisory" });
            } else if (err instanceof NotApplicableError) {
                notApplicable.push({ policy: policy.name, reason: err.reason });
            } else {
                throw failure(policy.name, undefined, err);
            }
        }
    }
    return { violations, notApplicable };
}

// ---- From an offline plan to what the engine would send.

function packageVersion(pkg: string, programDir: string | undefined): string | undefined {
    try {
        const file = require.resolve(`@pulumi/${pkg}/package.json`, { paths: [programDir ?? process.cwd(), __dirname] });
        return (JSON.parse(fs.readFileSync(file, "utf8")) as { version?: string }).version;
    } catch {
        return undefined;
    }
}

function configValue(raw: string): unknown {
    if (/^[[{]/.test(raw)) {
        try {
            return JSON.parse(raw);
        } catch {
            return raw;
        }
    }
    return raw;
}

/**
 * The resources the engine would analyze for a planned stack: the root stack, a default provider per
 * package (configured from `<pkg>:*` keys), then the program's registrations in order.
 */
export function analyzerResources(plan: PlanResult, programDir?: string): AnalyzerResource[] {
    const { project, stack } = plan;
    const root: AnalyzerResource = { type: "pulumi:pulumi:Stack", name: `${project}-${stack}`, urn: `urn:pulumi:${stack}::${project}::pulumi:pulumi:Stack::${project}-${stack}`, custom: false, inputs: {} };
    const out: AnalyzerResource[] = [root];
    const defaults = new Map<string, string>();
    const providerRef = (r: PlannedResource): string | undefined => {
        if (r.provider || !r.custom || r.type.startsWith("pulumi:")) {
            return r.provider;
        }
        const pkg = r.type.split(":")[0];
        let ref = defaults.get(pkg);
        if (!ref) {
            const version = packageVersion(pkg, programDir);
            const name = version ? `default_${version.replace(/\./g, "_")}` : "default";
            const urn = `urn:pulumi:${stack}::${project}::pulumi:providers:${pkg}::${name}`;
            const inputs: Record<string, unknown> = {};
            for (const [key, value] of Object.entries(plan.config)) {
                if (key.startsWith(`${pkg}:`)) {
                    inputs[key.slice(pkg.length + 1)] = configValue(value);
                }
            }
            if (version) {
                inputs.version = version;
            }
            out.push({ type: `pulumi:providers:${pkg}`, name, urn, custom: true, inputs });
            ref = `${urn}::${UNKNOWN}`;
            defaults.set(pkg, ref);
        }
        return ref;
    };
    for (const r of plan.resources) {
        out.push({
            type: r.type,
            name: r.name,
            urn: r.urn,
            custom: r.custom,
            inputs: r.inputs,
            protect: r.protect,
            ignoreChanges: r.ignoreChanges,
            additionalSecretOutputs: r.additionalSecretOutputs,
            parent: r.parent ?? root.urn,
            provider: providerRef(r),
            dependencies: r.dependencies,
            propertyDependencies: r.propertyDependencies,
        });
    }
    return out;
}

/** Stack tags the service would set (pulumi:project, pulumi:runtime), plus the caller's. */
export function defaultStackTags(plan: PlanResult, extra: Record<string, string> = {}): Map<string, string> {
    return new Map(Object.entries({ "pulumi:project": plan.project, "pulumi:runtime": "nodejs", ...extra }));
}

