/**
 * The planner (packages/offline-plan, which imports nothing of this project) writes the engine's unknown
 * sentinel as its own constant; the policy pack reads plans with policy/sentinels.ts. Both must be the one
 * value the engine sends.
 */
import { strict as assert } from "assert";
import { UNKNOWN } from "offline-plan/model";
import { UNKNOWN_SENTINEL, UNKNOWN_SENTINELS } from "../policy/sentinels";

describe("the unknown sentinel: the planner's and the policy pack's are the same", () => {
    it("offline-plan's UNKNOWN is policy/sentinels.ts UNKNOWN_SENTINEL", () => {
        assert.equal(UNKNOWN, UNKNOWN_SENTINEL);
        assert.ok(UNKNOWN_SENTINELS.has(UNKNOWN));
    });
});
