/**
 * The engine's unknown values as they travel on the wire. Kept in a module without imports so that the
 * offline planner (packages/offline-plan/src/model.ts, its own constant: test/unknown-sentinel.test.ts) writes the same sentinel the policies read, without loading
 * @pulumi/policy into the planning process.
 */

/** The engine's unknown value on the wire (an unknown string; @pulumi/pulumi runtime/rpc.ts unknownValue). */
export const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Every unknown sentinel of the engine (proxy.js): what an unknown looks like when it is not proxied. */
export const UNKNOWN_SENTINELS: ReadonlySet<string> = new Set([
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    UNKNOWN_SENTINEL,
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);
