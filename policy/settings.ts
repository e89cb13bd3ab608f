/**
 * The pack's shared settings, set once for the whole pack in the config block of one policy,
 * `oauth2-dr-settings`:
 *
 *   { "oauth2-dr-settings": { "backupBucketPrefixes": ["acme-db-dumps"], "productionTag": { "key": "env", "value": "prd" } } }
 *
 * Why one policy's block: Pulumi policy config is per policy. The CLI (pulumi/pulumi
 * pkg/resource/analyzer/config.go, applyConfig) copies only the enforcement level of the `all` key to every
 * policy, and each policy's `getConfig()` returns its own block (server.js makeGetConfigFun). So the pack
 * carries the settings itself: `oauth2-dr-settings` is the first policy of the pack, the analyzer runs a
 * pack's policies in order on every resource (the root `pulumi:pulumi:Stack` first) and on the stack, and
 * this policy hands its block to the policies that run after it in the same analyzer process.
 *
 * Minima can only be raised here (each `minimum` is the table's value, which the CLI's JSON Schema check
 * enforces); a row is lowered only by a named waiver `{ row, value, reason, approvedBy }`, which every
 * report prints and the engine shows as an advisory note.
 */
import { PolicyConfigSchema, ReportViolation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { DATA_CLASSES, DataClass, formatRetention, RETENTION_TABLE, retentionRow } from "./retention";
import { productionLookalikes } from "./config";
import { tagsOf } from "./resources";

export const SETTINGS_POLICY_NAME = "oauth2-dr-settings";

type PolicyConfigJSONSchema = PolicyConfigSchema["properties"][string];

export interface TagMatch {
    key: string;
    value: string;
}

export interface Waiver {
    row: DataClass;
    /** The lowered minimum (days, or versions for secrets); absent: the row need not be proven at all. */
    value?: number;
    reason: string;
    approvedBy: string;
}

export interface Settings {
    backupBucketPrefixes: string[];
    backupBucketTags: TagMatch[];
    notBackupBuckets: string[];
    production: "auto" | "always" | "never";
    productionTag: TagMatch;
    role: "auto" | "primary" | "standby";
    roleTag: string;
    /** The retention rows this stack must prove; absent: decided by the stack tag, the role, then the resources. */
    dataClasses?: DataClass[];
    dataClassesTag: string;
    minimumDays: Partial<Record<DataClass, number>>;
    minimumSecretVersions: number;
    waivers: Waiver[];
}

const tagMatch = (description: string): PolicyConfigJSONSchema => ({
    type: "object",
    properties: { key: { type: "string", minLength: 1 }, value: { type: "string" } },
    required: ["key", "value"],
    additionalProperties: false,
    description,
});

const DAY_ROWS = RETENTION_TABLE.filter((row) => row.unit === "days");

export const SETTINGS_SCHEMA: PolicyConfigSchema = {
    properties: {
        backupBucketPrefixes: {
            type: "array",
            items: { type: "string", minLength: 1 },
            default: ["oauth2-backups"],
            description: "A bucket whose name starts with one of these is backup storage.",
        },
        backupBucketTags: {
            type: "array",
            items: tagMatch("A tag (key and value) that marks backup storage."),
            default: [{ key: "backup", value: "true" }],
            description: "A bucket carrying any of these tags is backup storage.",
        },
        notBackupBuckets: {
            type: "array",
            items: { type: "string", minLength: 1 },
            default: [],
            description: "Bucket names (or name prefixes) that are never backup storage, whatever their rules hold; silences the look-alike note.",
        },
        production: {
            type: "string",
            enum: ["auto", "always", "never"],
            default: "auto",
            description: "auto: production when the resource or the stack carries productionTag.",
        },
        productionTag: { ...tagMatch("The tag (resource tag or stack tag) that marks production."), default: { key: "environment", value: "production" } },
        role: {
            type: "string",
            enum: ["auto", "primary", "standby"],
            default: "auto",
            description: "The stack's role in the DR topology; auto reads roleTag (stack tag, then resource tags), then the failover records.",
        },
        roleTag: { type: "string", minLength: 1, default: "role", description: "Tag whose value primary|standby marks the stack's role." },
        dataClasses: {
            type: "array",
            items: { type: "string", enum: [...DATA_CLASSES] },
            uniqueItems: true,
            description: `The retention rows this stack must prove (${DATA_CLASSES.join(", ")}). Unset: the stack tag dataClassesTag, else every row for a primary/standby stack, else the rows whose data the stack holds.`,
        },
        dataClassesTag: {
            type: "string",
            minLength: 1,
            default: "oauth2-dr:data-classes",
            description: 'Stack tag listing the rows this stack must prove, comma-separated, or "all".',
        },
        minimumDays: {
            type: "object",
            properties: Object.fromEntries(
                DAY_ROWS.map((row) => [row.dataClass, { type: "integer", minimum: row.minimum, description: `${row.dataType}: at least ${row.minimum} (the table); raise only.` }]),
            ),
            additionalProperties: false,
            default: {},
            description: "Raised minima in days per day-based row; lowering is only possible with a waiver.",
        },
        minimumSecretVersions: {
            type: "integer",
            minimum: retentionRow("secrets").minimum,
            default: retentionRow("secrets").minimum,
            description: "Versions of secrets/ kept; at least the table's value.",
        },
        waivers: {
            type: "array",
            default: [],
            items: {
                type: "object",
                properties: {
                    row: { type: "string", enum: [...DATA_CLASSES] },
                    value: { type: "integer", minimum: 0, description: "The lowered minimum (days; versions for secrets). Absent: the row need not be proven." },
                    reason: { type: "string", minLength: 1 },
                    approvedBy: { type: "string", minLength: 1 },
                },
                required: ["row", "reason", "approvedBy"],
                additionalProperties: false,
            },
            description: "Named exceptions to the retention table, each shown in every report.",
        },
    },
};

export const DEFAULT_SETTINGS: Settings = settingsFromConfig({});

/** `{ ...schema defaults, ...configured values }`: the engine applies the defaults itself; hand-built args do not. */
export function settingsFromConfig(raw: object): Settings {
    const defaults: Record<string, unknown> = {};
    for (const [key, property] of Object.entries(SETTINGS_SCHEMA.properties)) {
        if (typeof property === "object" && property.default !== undefined) {
            defaults[key] = structuredClone(property.default);
        }
    }
    return { ...defaults, ...raw } as unknown as Settings;
}

let current: Settings = DEFAULT_SETTINGS;
let currentKey = "{}";

/** Records the settings block the engine handed to `oauth2-dr-settings` (parsed once per distinct block). */
function remember(raw: object): Settings {
    const key = JSON.stringify(raw ?? {});
    if (key !== currentKey) {
        current = settingsFromConfig(raw ?? {});
        currentKey = key;
    }
    return current;
}

/** The pack's settings, as last handed to `oauth2-dr-settings` in this analyzer process. */
export function sharedSettings(): Settings {
    return current;
}

export function waiverFor(settings: Settings, dataClass: DataClass): Waiver | undefined {
    return settings.waivers.find((waiver) => waiver.row === dataClass);
}

export function describeWaiver(waiver: Waiver): string {
    const row = retentionRow(waiver.row);
    const lowered = waiver.value === undefined ? "need not be proven" : `lowered from ${formatRetention(row.minimum, row.unit)} to ${formatRetention(waiver.value, row.unit)}`;
    return `retention row "${row.dataType}" (${row.dataClass}) ${lowered}: ${waiver.reason} (approved by ${waiver.approvedBy})`;
}

export interface Minima {
    days: Record<Exclude<DataClass, "secrets">, number>;
    secretVersions: number;
}

/** The minimum per row: the table, raised by minimumDays/minimumSecretVersions, lowered only by a waiver's value. */
export function minimaOf(settings: Settings): Minima {
    const lowered = (dataClass: DataClass, value: number) => waiverFor(settings, dataClass)?.value ?? value;
    const days = Object.fromEntries(DAY_ROWS.map((row) => [row.dataClass, lowered(row.dataClass, settings.minimumDays[row.dataClass] ?? row.minimum)]));
    return { days: days as Minima["days"], secretVersions: lowered("secrets", settings.minimumSecretVersions) };
}

export function minimumOf(settings: Settings, dataClass: DataClass): number {
    const minima = minimaOf(settings);
    return dataClass === "secrets" ? minima.secretVersions : minima.days[dataClass];
}

/** How many resources a look-alike note names before it counts the rest. */
const LOOKALIKE_NAMES = 5;

/**
 * One note per production-looking tag the configured productionTag does not match (`env=prod` beside the default
 * `environment=production`), naming the resources (or the stack) that carry it: the pack judges them as not
 * production, and says so rather than silently (h36). What reads as production: config.ts productionLookalikes.
 */
function productionLookalikeNotes(args: StackValidationArgs, settings: Settings): string[] {
    const carriers = new Map<string, string[]>();
    const add = (tag: string, who: string) => carriers.set(tag, [...(carriers.get(tag) ?? []), who]);
    productionLookalikes(args.stackTags, settings).forEach((tag) => add(tag, "the stack (stack tag)"));
    for (const r of args.resources.filter((x) => !x.type.startsWith("pulumi:"))) {
        productionLookalikes(Object.entries(tagsOf(r)), settings).forEach((tag) => add(tag, `${r.name} (${r.type})`));
    }
    const configured = `${settings.productionTag.key}=${settings.productionTag.value}`;
    return [...carriers].map(([tag, who]) => {
        const named = who.length > LOOKALIKE_NAMES ? `${who.slice(0, LOOKALIKE_NAMES).join(", ")} and ${who.length - LOOKALIKE_NAMES} more` : who.join(", ");
        const [key, value] = [tag.slice(0, tag.indexOf("=")), tag.slice(tag.indexOf("=") + 1)];
        return `tag ${tag} looks like a production tag but is not productionTag (${configured}): ${named} ${who.length === 1 ? "is" : "are"} judged as not production; if ${tag} marks production, set "productionTag": ${JSON.stringify({ key, value })} in ${SETTINGS_POLICY_NAME}, or tag ${configured}`;
    });
}

/**
 * Carries the settings to the other policies (see the file comment) and shows, as advisory notes once per stack,
 * each waiver in force and each production-looking tag the productionTag does not match. It reports nothing else,
 * so it is advisory by default.
 */
export const settingsPolicy = {
    name: SETTINGS_POLICY_NAME,
    description: "The pack's shared settings (backup storage, production, role, rows, raised minima, waivers), set once here for every policy; shows each waiver in force.",
    enforcementLevel: "advisory" as const,
    severity: "low" as const,
    configSchema: SETTINGS_SCHEMA,
    validateResource: (args: ResourceValidationArgs) => void remember(args.getConfig()),
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
        const settings = remember(args.getConfig());
        for (const waiver of settings.waivers) {
            reportViolation(`waiver in force: ${describeWaiver(waiver)}`);
        }
        productionLookalikeNotes(args, settings).forEach((note) => reportViolation(note));
    },
};
