/**
 * Helpers for the issue-6 tests: plan a stack with config overrides (in the process's planning child,
 * memoised per test process: several files plan the same variants), compare plans, and find plain-text
 * leaks of secret values.
 */
import { strict as assert } from "assert";
import { PlannedResource, PlanResult, redact } from "offline-plan/model";
import { planBatchShared, planProgram, REPO } from "./plans";

const planned = new Map<string, Promise<PlanResult>>();

/**
 * Plans `stack` with overrides (fully qualified keys; JSON values for structured keys). Each caller gets its
 * own copy: a test may change what it was given without changing another test's plan.
 */
export async function planWith(stack: string, overrides: Record<string, string | null> = {}, references: Record<string, PlanResult> = {}): Promise<PlanResult> {
    const stackReferences: Record<string, Record<string, unknown>> = {};
    for (const [name, plan] of Object.entries(references)) {
        stackReferences[`organization/oauth2-dr/${name}`] = plan.outputs;
    }
    const key = JSON.stringify([stack, overrides, stackReferences]);
    if (!planned.has(key)) {
        planned.set(key, planBatchShared({ programDir: REPO, stacks: [stack], configOverrides: overrides, stackReferences }).then(([result]) => result));
    }
    return structuredClone(await planned.get(key)!);
}

/**
 * A primary, its standby as deployed, and the standby promoted (`promote: true`, the regional failover), the
 * standby's StackReference answered by the primary's outputs: what the failover tests compare.
 */
export async function planFailover(primary: string, standby: string): Promise<{ primary: PlanResult; standby: PlanResult; promoted: PlanResult }> {
    const planned = await planWith(primary);
    return {
        primary: planned,
        standby: await planWith(standby, {}, { [primary]: planned }),
        promoted: await planWith(standby, { "oauth2-dr:promote": "true" }, { [primary]: planned }),
    };
}

/** A primary and its standby, in order. */
export async function planPair(primary: string, standby: string): Promise<[PlanResult, PlanResult]> {
    const [p, s] = await planProgram(REPO, [primary, standby]);
    return [p, s];
}

export function byUrn(plan: PlanResult): Map<string, PlannedResource> {
    return new Map(plan.resources.map((r) => [r.urn, r]));
}

/** URNs added and removed between two plans of the same stack. */
export function diff(before: PlanResult, after: PlanResult): { added: PlannedResource[]; removed: PlannedResource[]; changed: PlannedResource[] } {
    const a = byUrn(before);
    const b = byUrn(after);
    return {
        added: after.resources.filter((r) => !a.has(r.urn)),
        removed: before.resources.filter((r) => !b.has(r.urn)),
        changed: after.resources.filter((r) => a.has(r.urn) && JSON.stringify(a.get(r.urn)) !== JSON.stringify(r)),
    };
}

/** Asserts that `needle` appears nowhere in the plan once secrets are redacted (inputs and outputs). */
export function assertNotInPlainText(plan: PlanResult, needle: string): void {
    const visible = JSON.stringify({ resources: plan.resources.map((r) => redact(r.inputs)), outputs: redact(plan.outputs) });
    assert.ok(!visible.includes(needle), `${plan.stack}: "${needle}" appears outside a secret`);
}

/** An RFC 3339 time `days` before now (seconds precision, UTC). */
export function daysAgo(days: number, now = Date.now()): string {
    return new Date(Math.floor((now - days * 86400_000) / 1000) * 1000).toISOString().replace(".000Z", "Z");
}
