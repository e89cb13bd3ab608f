/**
 * Kubernetes CronJobs that take backups (label oauth2-dr/backup: "true" or app.kubernetes.io/component:
 * backup) or verify them (oauth2-dr/data-class: verification). The schedule must be at least as frequent
 * as the retention table asks for the job's data class (label oauth2-dr/data-class; the table's
 * maxBackupIntervalMinutes), parsed with cron-parser through schedule.ts; the verification job runs at
 * least monthly (the runbook's "Monthly Backup Tests"). A backup job must not overlap itself (Forbid),
 * must be killed when hung (activeDeadlineSeconds), must be bounded (limits) and must not run as root.
 */
import { ResourceValidationArgs, ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { DataClass, DATA_CLASSES, RETENTION_TABLE } from "./retention";
import { maxIntervalMinutes, unclockedBecause } from "./schedule";
import { configOf } from "./config";
import { TagMatch } from "./settings";
import { known, notJudgedInPreview, read, readArray, readStringMap, show, UNKNOWN } from "./unknowns";
import { resourceType, T } from "./types";

/** batch/v1 and the older batch/v1beta1: the same CronJob, judged the same. */
export const CRON_JOB_TYPES: readonly string[] = [T.cronJob, T.cronJobV1beta1];
const CRON_JOBS = CRON_JOB_TYPES.map(resourceType);

export const VERIFICATION = "verification";
const MONTH_MINUTES = 31 * 24 * 60;

export const cronJobSchema = {
    properties: {
        backupLabels: {
            type: "array" as const,
            items: {
                type: "object" as const,
                properties: { key: { type: "string" as const, minLength: 1 }, value: { type: "string" as const } },
                required: ["key", "value"],
                additionalProperties: false,
            },
            default: [{ key: "oauth2-dr/backup", value: "true" }, { key: "app.kubernetes.io/component", value: "backup" }],
            description: "A CronJob carrying any of these labels takes backups.",
        },
        dataClassLabel: { type: "string" as const, default: "oauth2-dr/data-class", description: `Label naming the job's data class: ${DATA_CLASSES.join(", ")} or ${VERIFICATION}.` },
    },
};

export interface CronJobConfig {
    backupLabels: TagMatch[];
    dataClassLabel: string;
}

/** Labels of the CronJob and of its pods (either may carry the markers). */
export function cronJobLabels(props: unknown): Record<string, string> {
    return { ...readStringMap(props, "spec", "jobTemplate", "spec", "template", "metadata", "labels"), ...readStringMap(props, "metadata", "labels") };
}

/**
 * Programs that take a backup, by the data class they export: a CronJob running one of them (in its
 * containers' command, args or image) is a backup job whatever its labels say.
 */
const BACKUP_TOOLS: ReadonlyArray<{ tool: string; pattern: RegExp; dataClass: DataClass }> = [
    { tool: "pg_dumpall", pattern: /\bpg[_-]dumpall\b/, dataClass: "database" },
    { tool: "pg_dump", pattern: /\bpg[_-]dump\b/, dataClass: "database" },
    { tool: "pg_basebackup", pattern: /\bpg[_-]basebackup\b/, dataClass: "database" },
    { tool: "pgbackrest backup", pattern: /\bpgbackrest\b[^\n]*\bbackup\b/, dataClass: "database" },
    { tool: "wal-g backup-push", pattern: /\bwal-g\b[^\n]*\bbackup-push\b/, dataClass: "database" },
    { tool: "barman backup", pattern: /\bbarman\b[^\n]*\bbackup\b/, dataClass: "database" },
    { tool: "mysqldump", pattern: /\bmysqldump\b|\bmysqlpump\b|\bmariadb-dump\b/, dataClass: "database" },
    { tool: "xtrabackup", pattern: /\b(xtrabackup|mariabackup|mydumper)\b/, dataClass: "database" },
    { tool: "mongodump", pattern: /\bmongodump\b/, dataClass: "database" },
];

/**
 * Where such an image writes, named between the engine and "backup" (`postgres-s3-backup`, `mysql-gcs-backup`;
 * h31 trial, a public program's daily `postgres-s3-backup` job was only a look-alike): optional.
 */
const STORAGE_WORD = "(?:(?:s3|gcs|azure|blob|minio|r2|swift)[-_]?)?";

/**
 * Images named for a database backup (their repository's last path segment, tag aside): a custom image
 * whose entrypoint takes the dump (`registry.example.com/acme/pgbackup:1.2`, `postgres-backup-s3`, `postgres-s3-backup`) says what
 * it runs by its name even when its command and args are empty.
 */
const BACKUP_IMAGES: ReadonlyArray<{ engine: string; pattern: RegExp; dataClass: DataClass }> = [
    { engine: "PostgreSQL", pattern: new RegExp(`^(?:pg|postgres(?:ql)?)[-_]?${STORAGE_WORD}(?:backup|dump)|(?:backup|dump)[-_]?(?:pg|postgres(?:ql)?)$`), dataClass: "database" },
    { engine: "MySQL", pattern: new RegExp(`^(?:mysql|mariadb)[-_]?${STORAGE_WORD}(?:backup|dump)|(?:backup|dump)[-_]?(?:mysql|mariadb)$`), dataClass: "database" },
    { engine: "MongoDB", pattern: new RegExp(`^mongo(?:db)?[-_]?${STORAGE_WORD}(?:backup|dump)|(?:backup|dump)[-_]?mongo(?:db)?$`), dataClass: "database" },
];

/** The image's repository name: "pgbackup" for "registry.example.com/acme/pgbackup:1.2@sha256:…". */
export function imageRepositoryName(image: string): string {
    const path = image.split("@")[0];
    const last = path.slice(path.lastIndexOf("/") + 1);
    return last.split(":")[0].toLowerCase();
}

/** The (init) containers of a CronJob's pod, unknown ones left out. */
function podContainers(props: unknown): unknown[] {
    const pod = read(props, "spec", "jobTemplate", "spec", "template", "spec");
    return ["initContainers", "containers"].flatMap((kind) => {
        const list = readArray(pod, kind);
        return Array.isArray(list) ? list : [];
    });
}

function containerImages(props: unknown): string[] {
    return podContainers(props).map((c) => read(c, "image")).filter((i): i is string => typeof i === "string");
}

/**
 * What the CronJob's containers run, as one text: command, args, env values and image of every (init) container; `unknown`
 * when any of them is unknown (a preview, a script built from a database's endpoint): a tool may hide there.
 */
function jobCommand(props: unknown): JobCommand {
    const engineProxy = props !== null && typeof props === "object" && (props as Record<string, unknown>)[ENGINE_PROXY_MARK] === true;
    let command = engineProxy ? jobCommands.get(props) : undefined;
    if (command === undefined) {
        command = readJobCommand(props);
        if (engineProxy) {
            jobCommands.set(props, command);
        }
    }
    return command;
}

interface JobCommand {
    text: string;
    unknown: boolean;
    unknownAt: string[];
}

/** The engine's props proxies (@pulumi/policy proxy.js isSpecialProxy): what the engine and the offline harness hand a policy. */
const ENGINE_PROXY_MARK = "__isSpecialProxy";
/**
 * jobCommand's answer for each CronJob's props as the engine hands them (a read-only view, one per resource and
 * check): the CronJob policies, the retention matrix (twice) and the not-judged notes each ask it of the same
 * CronJob. Hand-built props (plain objects, which a caller may change between calls) are read every time.
 */
const jobCommands = new WeakMap<object, JobCommand>();

function readJobCommand(props: unknown): JobCommand {
    const parts: string[] = [];
    // Where the unknown parts are, for the "not judged" note: "containers[0].command".
    const unknownAt: string[] = [];
    const pod = read(props, "spec", "jobTemplate", "spec", "template", "spec");
    for (const kind of ["initContainers", "containers"]) {
        if (readArray(pod, kind) === UNKNOWN) {
            unknownAt.push(`${POD_PATH}.${kind}`);
        }
    }
    for (const [i, container] of podContainers(props).entries()) {
        const commandLine: string[] = [];
        const at = `${POD_PATH}.${containerPath(props, container, i)}`;
        for (const field of ["command", "args"]) {
            const words = readArray(container, field);
            if (container === UNKNOWN || words === UNKNOWN || (Array.isArray(words) && words.some((w) => w === UNKNOWN))) {
                unknownAt.push(container === UNKNOWN ? at : `${at}.${field}`);
            }
            commandLine.push(...(Array.isArray(words) ? words.filter((w): w is string => typeof w === "string") : []));
        }
        parts.push(...commandLine);
        // A command kept in the environment (`sh -c "exec $RUN"`): the literal value of each variable the command
        // line expands ($RUN, ${RUN}, $(RUN)); other variables (a description, a path) say nothing about what runs.
        const env = readArray(container, "env");
        const line = commandLine.join(" ");
        for (const variable of Array.isArray(env) ? env : []) {
            const name = read(variable, "name");
            const value = read(variable, "value");
            const identifier = typeof name === "string" ? name.replace(/[^A-Za-z0-9_]/g, "") : "";
            if (identifier !== "" && typeof value === "string" && new RegExp(`\\$(\\{|\\()?${identifier}\\b`).test(line)) {
                parts.push(value);
            }
        }
        const image = read(container, "image");
        if (image === UNKNOWN && container !== UNKNOWN) {
            unknownAt.push(`${at}.image`);
        }
        if (typeof image === "string") {
            parts.push(image);
        }
    }
    const where = [...new Set(unknownAt)];
    return { text: parts.join("\n"), unknown: where.length > 0, unknownAt: where };
}

const POD_PATH = "spec.jobTemplate.spec.template.spec";

/** "containers[0]" / "initContainers[1]" for the i-th of podContainers(props). */
function containerPath(props: unknown, container: unknown, i: number): string {
    const init = readArray(read(props, "spec", "jobTemplate", "spec", "template", "spec"), "initContainers");
    const inits = Array.isArray(init) ? init.length : 0;
    return i < inits ? `initContainers[${i}]` : `containers[${i - inits}]`;
}

/** The inputs that decide what a CronJob runs and are unknown until the update ([] when all are known). */
export function unknownJobInputs(props: unknown): string[] {
    return [...jobCommand(props).unknownAt];
}

/** The backup tool a CronJob runs ("pg_dump") with the data class it exports; UNKNOWN when what it runs is not known yet. */
export function backupToolOf(props: unknown): { tool: string; dataClass: DataClass } | typeof UNKNOWN | undefined {
    const { text, unknown } = jobCommand(props);
    const tool = BACKUP_TOOLS.find(({ pattern }) => pattern.test(text));
    if (tool) {
        return tool;
    }
    for (const image of containerImages(props)) {
        const named = BACKUP_IMAGES.find(({ pattern }) => pattern.test(imageRepositoryName(image)));
        if (named) {
            return { tool: `the image ${image} (a ${named.engine} backup image by its name)`, dataClass: named.dataClass };
        }
    }
    return unknown ? UNKNOWN : undefined;
}

/** Why a CronJob is judged as a backup job, and as which class (null: a backup job naming no class). */
export interface BackupJob {
    jobClass: string | null;
    /** "labelled oauth2-dr/backup=true", "runs pg_dump": for messages. */
    why: string;
    /** The class comes from what the job runs, not from the data-class label. */
    inferred: boolean;
    /** No class label, and what it runs is unknown until the update: its class cannot be told yet. */
    classUnknown?: boolean;
}

/**
 * A CronJob is a backup job when it carries a backup label or runs a backup tool (pg_dump, pg_basebackup,
 * mysqldump, ...): the labels are a hint, not the condition. Its class is the data-class label's, else the
 * tool's (pg_dump exports the database). undefined when the CronJob is no backup job.
 */
export function backupJobOf(props: unknown, config: CronJobConfig): BackupJob | undefined {
    const labels = cronJobLabels(props);
    const dataClass = labels[config.dataClassLabel];
    if (dataClass === VERIFICATION) {
        return { jobClass: VERIFICATION, why: `labelled ${config.dataClassLabel}=${VERIFICATION}`, inferred: false };
    }
    const label = config.backupLabels.find(({ key, value }) => labels[key] === value);
    const found = backupToolOf(props);
    const tool = found === UNKNOWN ? undefined : found;
    if (!label && !tool) {
        return undefined;
    }
    const why = [label ? `labelled ${label.key}=${label.value}` : "", tool ? `runs ${tool.tool}` : ""].filter(Boolean).join(" and ");
    if (dataClass !== undefined) {
        return { jobClass: dataClass, why, inferred: false };
    }
    return tool ? { jobClass: tool.dataClass, why, inferred: true } : { jobClass: null, why, inferred: false, classUnknown: found === UNKNOWN };
}

/** The data class (or "verification") of a backup CronJob; undefined when the CronJob is no backup job. */
export function backupJobClass(props: unknown, config: CronJobConfig): string | undefined | null {
    return backupJobOf(props, config)?.jobClass;
}

function withBackupJob<T extends CronJobConfig>(schema: { properties: Record<string, unknown> }, check: (cronJob: unknown, jobClass: string | null, config: T, args: ResourceValidationArgs, report: (message: string) => void, job: BackupJob) => void) {
    return CRON_JOBS.map((type) =>
        validateResourceOfType(type, (cronJob, args, reportViolation) => {
            const config = configOf<T>(schema as never, args);
            const job = backupJobOf(cronJob, config);
            if (job !== undefined) {
                check(cronJob, job.jobClass, config, args, reportViolation, job);
            } else if (backupToolOf(cronJob) === UNKNOWN) {
                // No backup label, and what it runs is unknown until the update: it may run pg_dump. Said, not passed.
                notJudgedInPreview(args, unknownJobInputs(cronJob), "whether it runs a backup tool (pg_dump, mysqldump, ...) and so is a backup job");
            }
        }),
    );
}

/** The annotation that says why a backup CronJob is suspended (components/backup-jobs.ts sets it on a standby). */
const SUSPENDED_BECAUSE = "oauth2-dr/suspended-because";

const scheduleSchema = {
    properties: {
        ...cronJobSchema.properties,
        maxIntervalMinutes: {
            type: "object" as const,
            // Only tightened: each class's `maximum` is the table's interval, which the CLI's JSON Schema check enforces.
            properties: Object.fromEntries([
                ...RETENTION_TABLE.map((row) => [row.dataClass, { type: "integer" as const, minimum: 1, maximum: row.maxBackupIntervalMinutes }]),
                [VERIFICATION, { type: "integer" as const, minimum: 1, maximum: MONTH_MINUTES }],
            ]),
            additionalProperties: false,
            default: { ...Object.fromEntries(RETENTION_TABLE.map((row) => [row.dataClass, row.maxBackupIntervalMinutes])), [VERIFICATION]: MONTH_MINUTES },
            description: "Longest accepted gap between two runs, per data class, in minutes (the retention table's, or shorter; verification: monthly).",
        },
    },
};

export const cronJobSchedule: ResourceValidationPolicy = {
    name: "k8s-backup-cronjob-schedule",
    description: "Backup CronJobs run at least as often as the retention table asks for their data class; the restore verification job at least monthly.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: scheduleSchema,
    validateResource: withBackupJob<CronJobConfig & { maxIntervalMinutes: Record<string, number> }>(scheduleSchema, (cronJob, jobClass, config, args, report, job) => {
        const schedule = known(args, "spec.schedule", read(cronJob, "spec", "schedule"));
        if (job.classUnknown) {
            notJudgedInPreview(args, unknownJobInputs(cronJob), `the data class of a backup job with no ${config.dataClassLabel} label, which sets its required schedule`);
        }
        if (jobClass === null || !(jobClass in config.maxIntervalMinutes)) {
            report(`${args.name}: label ${config.dataClassLabel} is ${show(jobClass ?? undefined)}; a backup CronJob must name its data class (${[...DATA_CLASSES, VERIFICATION].join(", ")}) so its schedule can be checked against the retention table`);
            return;
        }
        const limit = config.maxIntervalMinutes[jobClass];
        const reason = read(cronJob, "metadata", "annotations", SUSPENDED_BECAUSE);
        if (read(cronJob, "spec", "suspend") === true && (typeof reason !== "string" || reason.trim() === "")) {
            // A suspended CronJob starts no jobs at all, whatever its schedule says; a deliberate pause (a standby's
            // backups, held until promotion) says why in its annotation.
            report(
                `${args.name}: spec.suspend is true, so the CronJob starts no jobs and takes no ${jobClass} backups; a ${jobClass} backup must run at least every ${formatMinutes(limit)}${job.inferred ? ` (judged as a ${jobClass} backup: it ${job.why})` : ""}. ` +
                    `If the pause is deliberate (a standby's backups, held until promotion), say why in the annotation ${SUSPENDED_BECAUSE}`,
            );
            return;
        }
        if (typeof schedule !== "string") {
            report(`${args.name}: spec.schedule is ${show(schedule)}; a ${jobClass} backup must run at least every ${formatMinutes(limit)}`);
            return;
        }
        let gap: number;
        try {
            gap = maxIntervalMinutes(schedule);
        } catch (err) {
            report(`${args.name}: spec.schedule ${(err as Error).message}`);
            return;
        }
        if (gap > limit) {
            const reason = jobClass === VERIFICATION ? "the runbook's monthly backup tests" : `the retention table (${RETENTION_TABLE.find((r) => r.dataClass === (jobClass as DataClass))?.dataType}, ${RETENTION_TABLE.find((r) => r.dataClass === jobClass)?.frequency})`;
            const judged = job.inferred ? ` (judged as a ${jobClass} backup: it ${job.why}; label it ${config.dataClassLabel}=<class> to judge it as another class)` : "";
            // An @every schedule's runs sit wherever the CronJob's creation put them: said, since moving them is no remedy.
            const unclocked = unclockedBecause(schedule);
            report(`${args.name}: spec.schedule "${schedule}" leaves up to ${formatMinutes(gap)} between runs${cadence(gap)}; ${reason} requires at least every ${formatMinutes(limit)}${judged}${unclocked ? ` (${unclocked}: the gap is the delay, whenever the runs fall)` : ""}`);
        }
    }),
};

/** " (weekly)", " (monthly)": the cadence a gap amounts to, when it is a common one. */
function cadence(gapMinutes: number): string {
    const days = gapMinutes / 1440;
    if (days === 1) {
        return " (daily)";
    }
    if (days === 7) {
        return " (weekly)";
    }
    return days >= 28 && days <= 31 ? " (monthly)" : "";
}

function formatMinutes(minutes: number): string {
    if (minutes % 1440 === 0) {
        return `${minutes / 1440} day${minutes === 1440 ? "" : "s"}`;
    }
    if (minutes % 60 === 0) {
        return `${minutes / 60} hour${minutes === 60 ? "" : "s"}`;
    }
    return `${minutes} minutes`;
}

export const cronJobConcurrency: ResourceValidationPolicy = {
    name: "k8s-backup-cronjob-concurrency",
    description: "Backup CronJobs never overlap themselves (spec.concurrencyPolicy: Forbid).",
    enforcementLevel: "mandatory",
    severity: "medium",
    configSchema: cronJobSchema,
    validateResource: withBackupJob<CronJobConfig>(cronJobSchema, (cronJob, _class, _config, args, report) => {
        const policy = known(args, "spec.concurrencyPolicy", read(cronJob, "spec", "concurrencyPolicy"));
        if (policy !== "Forbid") {
            report(`${args.name}: spec.concurrencyPolicy is ${show(policy)}${policy === undefined ? " (Kubernetes default: Allow)" : ""}; the runbook requires "Forbid" so two backups never write the same export`);
        }
    }),
};

export const cronJobDeadline: ResourceValidationPolicy = {
    name: "k8s-backup-cronjob-deadline",
    description: "Backup CronJobs kill a hung run (spec.jobTemplate.spec.activeDeadlineSeconds set).",
    enforcementLevel: "mandatory",
    severity: "medium",
    configSchema: cronJobSchema,
    validateResource: withBackupJob<CronJobConfig>(cronJobSchema, (cronJob, _class, _config, args, report) => {
        const deadline = known(args, "spec.jobTemplate.spec.activeDeadlineSeconds", read(cronJob, "spec", "jobTemplate", "spec", "activeDeadlineSeconds"));
        if (typeof deadline !== "number" || deadline <= 0) {
            report(`${args.name}: spec.jobTemplate.spec.activeDeadlineSeconds is ${show(deadline)}; the runbook requires a deadline so a hung backup is killed and the next one can start`);
        }
    }),
};

function podSpec(cronJob: unknown): unknown {
    return read(cronJob, "spec", "jobTemplate", "spec", "template", "spec");
}

function containersOf(cronJob: unknown): Array<{ kind: string; container: unknown }> | typeof UNKNOWN {
    const out: Array<{ kind: string; container: unknown }> = [];
    for (const kind of ["initContainers", "containers"]) {
        const list = readArray(podSpec(cronJob), kind);
        if (list === UNKNOWN) {
            return UNKNOWN;
        }
        for (const container of list ?? []) {
            out.push({ kind, container });
        }
    }
    return out;
}

function containerName(entry: { kind: string; container: unknown }, index: number): string {
    const name = read(entry.container, "name");
    return `${entry.kind === "initContainers" ? "init container" : "container"} ${typeof name === "string" ? `"${name}"` : `#${index + 1}`}`;
}

const limitsSchema = {
    properties: {
        ...cronJobSchema.properties,
        requiredLimits: { type: "array" as const, items: { type: "string" as const }, default: ["cpu", "memory"], description: "Resource limits every container must set." },
    },
};

export const cronJobLimits: ResourceValidationPolicy = {
    name: "k8s-backup-cronjob-resource-limits",
    description: "Every container of a backup CronJob sets resource limits (cpu and memory by default).",
    enforcementLevel: "mandatory",
    severity: "medium",
    configSchema: limitsSchema,
    validateResource: withBackupJob<CronJobConfig & { requiredLimits: string[] }>(limitsSchema, (cronJob, _class, config, args, report) => {
        const containers = known(args, `${POD_PATH}.containers`, containersOf(cronJob));
        containers.forEach((entry, index) => {
            const missing = config.requiredLimits.filter((limit) => read(entry.container, "resources", "limits", limit) === undefined);
            if (missing.length > 0) {
                report(`${args.name}: ${containerName(entry, index)} has no resources.limits.${missing.join(" / resources.limits.")}; the runbook requires limits (${config.requiredLimits.join(", ")}) on every backup container`);
            }
        });
    }),
};

/** Non-root: runAsNonRoot true at pod level (not undone by a container) or on every container, and no UID 0. */
export const cronJobNonRoot: ResourceValidationPolicy = {
    name: "k8s-backup-cronjob-non-root",
    description: "Backup CronJobs run as a non-root user (securityContext.runAsNonRoot: true on the pod or every container, never runAsUser: 0).",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: cronJobSchema,
    validateResource: withBackupJob<CronJobConfig>(cronJobSchema, (cronJob, _class, _config, args, report) => {
        const pod = read(podSpec(cronJob), "securityContext");
        const podNonRoot = known(args, `${POD_PATH}.securityContext.runAsNonRoot`, read(pod, "runAsNonRoot"));
        const podUser = known(args, `${POD_PATH}.securityContext.runAsUser`, read(pod, "runAsUser"));
        const containers = known(args, `${POD_PATH}.containers`, containersOf(cronJob));
        const unknownContainers: string[] = [];
        if (podUser === 0) {
            report(`${args.name}: spec.jobTemplate.spec.template.spec.securityContext.runAsUser is 0 (root); the runbook requires a non-root user`);
        }
        containers.forEach((entry, index) => {
            const nonRoot = read(entry.container, "securityContext", "runAsNonRoot");
            const user = read(entry.container, "securityContext", "runAsUser");
            if (nonRoot === UNKNOWN || user === UNKNOWN) {
                unknownContainers.push(`${containerName(entry, index)} securityContext`);
                return;
            }
            const effective = nonRoot !== undefined ? nonRoot : podNonRoot;
            if (user === 0) {
                report(`${args.name}: ${containerName(entry, index)} sets securityContext.runAsUser 0 (root); the runbook requires a non-root user`);
            } else if (effective !== true) {
                report(`${args.name}: ${containerName(entry, index)} runs with runAsNonRoot ${show(effective)} (pod securityContext.runAsNonRoot ${show(podNonRoot)}); the runbook requires runAsNonRoot: true`);
            }
        });
        if (unknownContainers.length > 0) {
            notJudgedInPreview(args, unknownContainers);
        }
    }),
};

const LOOKALIKE = /backup|dump|snapshot/i;
const COMPONENT_LABEL = "app.kubernetes.io/component";

/**
 * A CronJob that looks like a backup job (its name, labels or image say backup, dump or snapshot) but that
 * the pack cannot judge (no backup label, no backup tool it knows): say how to include it, so a backup job
 * never passes silently, as buckets get s3-backup-bucket-lookalike. A job whose app.kubernetes.io/component
 * label names another component (validation) has said what it is.
 */
export const cronJobLookalike: ResourceValidationPolicy = {
    name: "k8s-backup-cronjob-lookalike",
    description: "A CronJob that looks like a backup job (backup, dump, snapshot in its name, labels, image or command) but is not recognised as one gets a note saying how to have it judged.",
    enforcementLevel: "advisory",
    severity: "medium",
    configSchema: cronJobSchema,
    validateResource: CRON_JOBS.map((type) => validateResourceOfType(type, (cronJob, args, reportViolation) => {
        const config = configOf<CronJobConfig>(cronJobSchema as never, args);
        if (backupJobOf(cronJob, config) !== undefined || backupToolOf(cronJob) === UNKNOWN) {
            // Judged as a backup job, or running something unknown until the update (a tool may hide there).
            return;
        }
        const metadataName = read(cronJob, "metadata", "name");
        const labels = cronJobLabels(cronJob);
        const component = labels[COMPONENT_LABEL];
        if (component !== undefined && !LOOKALIKE.test(component)) {
            // The job says what it is (app.kubernetes.io/component: validation): not a backup job in disguise.
            return;
        }
        // Its names, labels and images: a script's text mentions backups for many reasons (a validation job's does).
        const texts = [args.name, typeof metadataName === "string" ? metadataName : "", ...Object.entries(labels).map(([k, v]) => `${k}=${v}`), ...containerImages(cronJob)];
        const match = texts.map((t) => LOOKALIKE.exec(t)).find((m) => m !== null);
        if (!match) {
            return;
        }
        const label = config.backupLabels[0];
        reportViolation(
            `${args.name}: looks like a backup job ("${match[0]}" in "${match.input}") but is not judged as one: it carries no backup label and runs no backup tool the pack knows (${BACKUP_TOOLS.map((t) => t.tool).join(", ")}). ` +
                `To judge its schedule and limits, label it ${label ? `${label.key}=${label.value} and ` : ""}${config.dataClassLabel}=<${DATA_CLASSES.join("|")}>.`,
        );
    })),
};

export const kubernetesPolicies = [cronJobSchedule, cronJobConcurrency, cronJobDeadline, cronJobLimits, cronJobNonRoot, cronJobLookalike];
