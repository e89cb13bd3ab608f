/**
 * The rules between keys, as one zod refinement over the parsed values: what a cloud or a role requires,
 * regions that must differ and match the provider, windows that must be long enough and not overlap,
 * retention within the table and the clouds' limits, restore times inside the point-in-time window.
 * A key whose own value was invalid is absent from the values; the rules that need it are skipped, so each
 * mistake is reported once.
 *
 * The rules live in rules/, one module per concern; this module runs them in a fixed order (the order of the
 * problems reported) and adds the one rule that spans every section: no unknown keys.
 */
import { z } from "zod";
import { CLOSED_SECTIONS, Values } from "./schema";
import type { Fail, RuleContext } from "./rules/context";
import { alarmRules } from "./rules/alarms";
import { azureRules, gcpRules } from "./rules/clouds";
import { dnsAndNetworkRules } from "./rules/dns-and-network";
import { regionRules } from "./rules/regions";
import { manualSnapshotRules, restoreRules } from "./rules/restore";
import { immutabilityRules } from "./rules/immutability";
import { encryptionRules } from "./rules/encryption";
import { retentionRules } from "./rules/retention";
import { roleRules } from "./rules/roles";
import { windowRules } from "./rules/windows";

/** A closed section (CLOSED_SECTIONS: azure, gcp, restore, ...) takes only its known keys: a typo is a problem, not a default. */
function unknownKeys(v: Values, fail: Fail): void {
    for (const [root, known] of Object.entries(CLOSED_SECTIONS)) {
        for (const key of Object.keys(v[root as keyof typeof CLOSED_SECTIONS] ?? {})) {
            if (!(known as readonly string[]).includes(key)) {
                fail(`${root}.${key}`, `unknown key; ${root} has ${known.join(", ")}`);
            }
        }
    }
}

/** serverNamespace and appDatabaseSecret.namespace name the one namespace of the server: set either, or both alike. */
function serverNamespaceRule(v: Values, fail: Fail): void {
    const secretNamespace = v.appDatabaseSecret?.namespace;
    if (v.serverNamespace && secretNamespace && v.serverNamespace !== secretNamespace) {
        fail(
            "appDatabaseSecret.namespace",
            `"${secretNamespace}" differs from serverNamespace "${v.serverNamespace}"; the DATABASE_URL Secret lives in the server's namespace: drop appDatabaseSecret.namespace or make them equal`,
        );
    }
}

/** Every rule between keys, as one zod refinement of the parsed values. */
export function crossFieldRules(ctx: RuleContext) {
    return z.custom<Values>().superRefine((values, zctx) => {
        const fail: Fail = (key, message) => zctx.addIssue({ code: "custom", path: key.includes(":") ? [key] : key.split("."), message });
        unknownKeys(values, fail);
        serverNamespaceRule(values, fail);
        roleRules(values, ctx, fail);
        regionRules(values, ctx, fail);
        dnsAndNetworkRules(values, ctx, fail);
        windowRules(values, fail);
        retentionRules(values, fail);
        azureRules(values, fail);
        gcpRules(values, ctx, fail);
        restoreRules(values, ctx, fail);
        manualSnapshotRules(values, fail);
        alarmRules(values, ctx, fail);
        immutabilityRules(values, ctx, fail);
        encryptionRules(values, ctx, fail);
    });
}
