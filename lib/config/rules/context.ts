/**
 * What every rule between keys shares: the context besides the parsed values (which keys were set at all,
 * the stack, the clock), the way a rule reports a problem, and the check that keys are set.
 */
import type { Values } from "../schema";

/** What the rules know besides the values: which keys were set at all, the stack, the clock. */
export interface RuleContext {
    stack: string;
    now: Date;
    /** The raw value of a key ("aws:region", "gcp:project" or a project key), undefined when unset. */
    raw(key: string): string | undefined;
    /** Whether the key's own value was already reported invalid ("gcp.project", "tags"). */
    invalid(key: string): boolean;
}

/** Reports one problem of a key ("drRegion", "restore.pointInTime", "aws:region"). */
export type Fail = (key: string, message: string) => void;

/** Each of `keys` must be set (raw, so that a key whose own value was invalid is not reported again). */
export function required(v: Values, ctx: RuleContext, fail: Fail, keys: Array<keyof Values>, why = ""): void {
    for (const key of keys) {
        if (ctx.raw(key) === undefined) {
            fail(key, `is required${why}`);
        }
    }
}
