/**
 * The shape of a planned stack, shared by the offline plan, the policy checker, the reports and the tests.
 * Values are Pulumi's wire format made JSON: a secret is `{ "4dabf18193072939515e22adb298388d":
 * "1b47061264138c4ac30d75fd1eb44270", value }` and an unknown (computed during preview) is the UNKNOWN string.
 */

export const SECRET_SIG = { key: "4dabf18193072939515e22adb298388d", value: "1b47061264138c4ac30d75fd1eb44270" } as const;
export const RESOURCE_REFERENCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
/**
 * The engine's unknown value on the wire (an unknown string: @pulumi/pulumi runtime/rpc.ts unknownValue; the
 * start-up check, sdk-contract.ts, compares it with the SDK's). A policy pack reading plans compares with the same.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface PlannedResource {
    urn: string;
    id?: string;
    type: string;
    name: string;
    parent?: string;
    custom: boolean;
    protect: boolean;
    retainOnDelete: boolean;
    provider?: string;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    ignoreChanges: string[];
    additionalSecretOutputs: string[];
    /** The inputs the engine receives, in wire format (secrets and unknowns marked). */
    inputs: Record<string, unknown>;
}

/** A data source (or outside stack) the offline plan could not ask a cloud about, and what it used instead. */
export interface LookupRecord {
    /** As programs spell it: aws.getAvailabilityZones, aws.iam.getPolicyDocument, pulumi.StackReference. */
    function: string;
    token: string;
    /**
     * computed from the arguments as the provider does; assumed (a realistic stand-in); supplied by a file;
     * unknown; not planned: a component its provider plugin builds (awsx), whose own resources no offline plan holds;
     * not run: a dynamic provider's resource, whose create (the program's own code) runs only under `pulumi up`.
     */
    result: "computed" | "assumed" | "supplied" | "unknown" | "not planned" | "not run";
    count: number;
    /** E.g. the stack a StackReference names. */
    detail?: string;
}

export interface PlanResult {
    project: string;
    stack: string;
    organization: string;
    preview: boolean;
    /** The stack's configuration as the program read it; a secret key's value is "[secret]". */
    config: Record<string, string>;
    resources: PlannedResource[];
    /** Stack outputs, in wire format. */
    outputs: Record<string, unknown>;
    /** The data sources and outside stacks the program read, and how each was answered. */
    lookups: LookupRecord[];
    /** Where the value of a secret config key reached a resource or output as plain text (present when any did). */
    exposedSecrets?: ExposedSecret[];
    /**
     * Preview only, when any: resources the program registers inside `.apply` over a value that is unknown
     * during a preview. Their callbacks do not run, so these resources are missing from the preview (as
     * from a real `pulumi preview`) and no policy saw them.
     */
    waitingOnUnknowns?: WaitingRegistration[];
    /**
     * When any: the program's `.apply` callbacks that did not run because their value is unknown even in a
     * full offline plan (a RandomString's `result`, an output the mocks cannot compute, an unsupplied
     * StackReference's outputs). `pulumi up` runs them; whatever they register is in no plan and no policy
     * judged it. A preview carries those of the full plan behind it.
     */
    unknownApplies?: UnknownApply[];
    /**
     * When any: @pulumi/* packages the program imported from this tool's node_modules (it has none installed)
     * at a version its package.json / package-lock.json does not declare, or declares in a way that cannot be
     * compared (sdk-versions.ts). Another major version fails the plan unless OFFLINE_PLAN_SDK_MISMATCH=warn.
     */
    sdkVersions?: SdkVersionNotice[];
}

/** Each notice of `plans` once (every stack of a program carries its program's), as the CLIs print them on stderr. */
export function sdkVersionLines(plans: Array<{ sdkVersions?: SdkVersionNotice[] }>): string[] {
    return [...new Set(plans.flatMap((p) => (p.sdkVersions ?? []).map((n) => `notice: ${n.message}`)))];
}

/** A @pulumi/* package the program was planned with at a version it does not declare (sdk-versions.ts). */
export interface SdkVersionNotice {
    package: string;
    /** What the program declares: "package.json dependencies \"^2.0.0\"", "package-lock.json locks 2.92.3". */
    declared: string;
    /** The version that answered: this tool's. */
    used: string;
    /** "outside-range": the same major version; "other-major"; "not-comparable": a spec that is no version range. */
    severity: "outside-range" | "other-major" | "not-comparable";
    /** One line naming the package, the declaration, the version used and what to do. */
    message: string;
}

/** An `.apply` in the program's own files whose callback a full offline plan could not run (its value unknown). */
export interface UnknownApply {
    /** The program's file:line:column of the `.apply` call (relative to the program's directory). */
    where: string;
    /** The resources whose outputs its value comes from (their names), e.g. the RandomString. */
    waitsOn: string[];
    /** How many times that `.apply` was called over an unknown value (a loop calls it once per item). */
    count: number;
}

/** A registration a preview cannot see: made inside `.apply` over an unknown value. */
export interface WaitingRegistration {
    type: string;
    name: string;
    /** The program's file:line of the `.apply` (or interpolate, all) it is made in, when in the program's files. */
    where?: string;
    /** The resources whose outputs that `.apply` waits on. */
    waitsOn: string[];
}

/** A secret config value the program passed on unmarked (config.require instead of requireSecret). */
export interface ExposedSecret {
    key: string;
    /** "type name property" of the resource, or "output NAME". */
    where: string;
}

export function isSecret(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG.key] === SECRET_SIG.value;
}

/** Plain values, as a policy sees them: secrets unwrapped, unknowns kept as the UNKNOWN sentinel. */
export function unwrapSecrets(value: unknown): unknown {
    if (isSecret(value)) {
        return unwrapSecrets(value.value);
    }
    if (Array.isArray(value)) {
        return value.map(unwrapSecrets);
    }
    if (value && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SECRET_SIG.key] === RESOURCE_REFERENCE_SIG) {
            return record.id ?? record.urn;
        }
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/**
 * How an unknown value (computed by the cloud, or unknown during a preview) leaves the process, in text and in
 * JSON alike (`npm run plan -- --json`): the plan in memory and the policies keep the engine's sentinel (UNKNOWN).
 */
export const UNKNOWN_TEXT = "(computed)";

/** The marker that stands for a secret's value wherever a plan leaves the process (JSON, reports). */
export const SECRET_TEXT = "[secret]";

/** A secret whose value is unknown (`pulumi.secret` over a value computed by the cloud), for people. */
export const SECRET_UNKNOWN_TEXT = `${SECRET_TEXT} ${UNKNOWN_TEXT}`;

function isUnknownValue(value: unknown): boolean {
    return value === UNKNOWN || value === UNKNOWN_TEXT;
}

/** Values for people: secrets shown as "[secret]" ("[secret] (computed)" when unknown), unknowns as "(computed)". */
export function redact(value: unknown): unknown {
    if (isSecret(value)) {
        return isUnknownValue(value.value) ? SECRET_UNKNOWN_TEXT : SECRET_TEXT;
    }
    if (value === UNKNOWN) {
        return UNKNOWN_TEXT;
    }
    if (Array.isArray(value)) {
        return value.map(redact);
    }
    if (value && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SECRET_SIG.key] === RESOURCE_REFERENCE_SIG) {
            return record.urn;
        }
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, redact(v)]));
    }
    return value;
}

/**
 * The wire format with every secret's value replaced by "[secret]": still marked as a secret, so that a
 * reader of `npm run plan -- --json` sees which inputs and outputs are secret, never what they hold. Unknowns
 * are "(computed)" (UNKNOWN_TEXT), as in the text output; a secret whose value is unknown keeps that value.
 */
export function withoutSecretValues<T>(value: T): T {
    if (isSecret(value)) {
        return { [SECRET_SIG.key]: SECRET_SIG.value, value: isUnknownValue(value.value) ? UNKNOWN_TEXT : SECRET_TEXT } as T;
    }
    if (value === UNKNOWN) {
        return UNKNOWN_TEXT as T;
    }
    if (Array.isArray(value)) {
        return value.map(withoutSecretValues) as T;
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, withoutSecretValues(v)])) as T;
    }
    return value;
}

/**
 * The inputs with those the provider's schema marks secret (additionalSecretOutputs: the SDK sets it for
 * fields such as administratorLoginPassword) marked secret too, for printing only: a program that passes a
 * plain string there (config.require instead of requireSecret) leaks it into the state under `pulumi up`,
 * which the policies judge as it is, but this tool's own output never shows it.
 */
function withSchemaSecretsMarked(resource: PlannedResource): Record<string, unknown> {
    const inputs = { ...resource.inputs };
    for (const key of resource.additionalSecretOutputs) {
        if (key in inputs && !isSecret(inputs[key])) {
            inputs[key] = { [SECRET_SIG.key]: SECRET_SIG.value, value: inputs[key] };
        }
    }
    return inputs;
}

/** A plan as it may be printed or stored: resources' inputs and the stack's outputs without secret values. */
export function shareablePlan(plan: PlanResult): PlanResult {
    return { ...plan, resources: plan.resources.map((r) => ({ ...r, inputs: withoutSecretValues(withSchemaSecretsMarked(r)) })), outputs: withoutSecretValues(plan.outputs) };
}

/** "aws:rds/instance:Instance" -> "Instance"; component tokens keep their last segment too. */
export function shortType(type: string): string {
    return type.split(":").pop() ?? type;
}
