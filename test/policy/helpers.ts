/**
 * Calls policies the way the engine does (through packages/offline-plan/src/policy-harness.ts: proxied props, notApplicable,
 * enforcement levels), on hand-built resources.
 */
import { EnforcementLevel, Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { settingsFirst } from "../../policy/all";
import { AnalyzerResource, evaluateResourcePolicies, evaluateStackPolicies, PackConfig, policyResources, prepare, Violation } from "offline-plan/policy-harness";
import { UNKNOWN as UNKNOWN_SENTINEL } from "offline-plan/model";

export const UNKNOWN = UNKNOWN_SENTINEL;

export interface HandBuilt {
    type: string;
    props: Record<string, unknown>;
    name?: string;
    /** Region of the (default) provider. */
    providerRegion?: string;
    propertyDependencies?: Record<string, string[]>;
}

let counter = 0;

export function toAnalyzerResources(resources: HandBuilt[], stack = "test"): AnalyzerResource[] {
    const out: AnalyzerResource[] = [];
    const providers = new Map<string, string>();
    for (const r of resources) {
        let provider: string | undefined;
        if (r.providerRegion) {
            const pkg = r.type.split(":")[0];
            const key = `${pkg}/${r.providerRegion}`;
            provider = providers.get(key);
            if (!provider) {
                const urn = `urn:pulumi:${stack}::proj::pulumi:providers:${pkg}::p-${r.providerRegion}`;
                out.push({ type: `pulumi:providers:${pkg}`, name: `p-${r.providerRegion}`, urn, custom: true, inputs: { region: r.providerRegion } });
                provider = `${urn}::id`;
                providers.set(key, provider);
            }
        }
        const name = r.name ?? `res-${++counter}`;
        out.push({
            type: r.type,
            name,
            urn: `urn:pulumi:${stack}::proj::${r.type}::${name}`,
            custom: true,
            inputs: r.props,
            provider,
            propertyDependencies: r.propertyDependencies,
        });
    }
    return out;
}

export interface RunOptions {
    config?: PackConfig;
    stackTags?: Record<string, string>;
    level?: EnforcementLevel;
}

export async function runResourcePolicy(policy: ResourceValidationPolicy, resource: HandBuilt, options: RunOptions = {}): Promise<string[]> {
    const result = await evaluateResourcePolicies(withSettings(policy), prepare(toAnalyzerResources([resource])), {
        config: options.config,
        stackTags: new Map(Object.entries(options.stackTags ?? {})),
        packEnforcementLevel: options.level ?? "mandatory",
    });
    return result.violations.filter((v) => v.policy === policy.name).map((v) => v.message);
}

/** runResourcePolicy, with the reasons the policy gave for not judging (notApplicable), e.g. an unknown in preview. */
export async function runResourcePolicyWithReasons(policy: ResourceValidationPolicy, resource: HandBuilt, options: RunOptions = {}): Promise<{ violations: string[]; notApplicable: string[] }> {
    const result = await evaluateResourcePolicies(withSettings(policy), prepare(toAnalyzerResources([resource])), {
        config: options.config,
        stackTags: new Map(Object.entries(options.stackTags ?? {})),
        packEnforcementLevel: options.level ?? "mandatory",
    });
    return {
        violations: result.violations.filter((v) => v.policy === policy.name).map((v) => v.message),
        notApplicable: result.notApplicable.filter((n) => n.policy === policy.name).map((n) => n.reason ?? ""),
    };
}

export async function runStackPolicy(policy: StackValidationPolicy, resources: HandBuilt[], options: RunOptions = {}): Promise<Violation[]> {
    return (await runStackPolicyWithReasons(policy, resources, options)).violations;
}

/** runStackPolicy, with the reasons the policy gave for not judging (notApplicable), e.g. an unknown in preview. */
export async function runStackPolicyWithReasons(policy: StackValidationPolicy, resources: HandBuilt[], options: RunOptions = {}): Promise<{ violations: Violation[]; notApplicable: string[] }> {
    const prepared = prepare(toAnalyzerResources(resources));
    const evaluation = {
        config: options.config,
        stackTags: new Map(Object.entries(options.stackTags ?? {})),
        packEnforcementLevel: options.level ?? "mandatory" as EnforcementLevel,
    };
    const result = await evaluateStackPolicies(withSettings(policy), policyResources(prepared), evaluation);
    return {
        violations: result.violations.filter((v) => v.policy === policy.name),
        notApplicable: result.notApplicable.filter((n) => n.policy === policy.name).map((n) => n.reason ?? ""),
    };
}

/**
 * The policy after oauth2-dr-settings, as the pack runs them: the settings policy hands the shared settings
 * (options.config["oauth2-dr-settings"], or the defaults) to the policy under test.
 */
function withSettings(policy: Policies[number]): Policies {
    return settingsFirst([policy]);
}

/** Runs every policy on the resources (resource and stack policies): a crash fails the test. */
export async function runAll(subset: Policies, resources: HandBuilt[]): Promise<Violation[]> {
    const policies = settingsFirst(subset);
    const prepared = prepare(toAnalyzerResources(resources));
    const a = await evaluateResourcePolicies(policies, prepared, { packEnforcementLevel: "mandatory" });
    const b = await evaluateStackPolicies(policies, policyResources(prepared), { packEnforcementLevel: "mandatory" });
    return [...a.violations, ...b.violations];
}
