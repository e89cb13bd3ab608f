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
import { maxIntervalMinutes } from "./schedule";
import { configOf } from "./config";
import { TagMatch } from "./settings";
import { read, readArray, readStringMap, show, UNKNOWN } from "./unknowns";
import { resourceType, T } from "./types";

const CRON_JOB = resourceType(T.cronJob);

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

/** The data class (or "verification") of a backup CronJob; undefined when the CronJob is no backup job. */
export function backupJobClass(props: unknown, config: CronJobConfig): string | undefined | null {
    const labels = cronJobLabels(props);
    const dataClass = labels[config.dataClassLabel];
    if (dataClass === VERIFICATION) {
        return VERIFICATION;
    }
    if (!config.backupLabels.some(({ key, value }) => labels[key] === value)) {
        return undefined;
    }
    return dataClass ?? null;
}

function withBackupJob<T extends CronJobConfig>(schema: { properties: Record<string, unknown> }, check: (cronJob: unknown, jobClass: string | null, config: T, args: ResourceValidationArgs, report: (message: string) => void) => void) {
    return validateResourceOfType(CRON_JOB, (cronJob, args, reportViolation) => {
        const config = configOf<T>(schema as never, args);
        const jobClass = backupJobClass(cronJob, config);
        if (jobClass !== undefined) {
            check(cronJob, jobClass, config, args, reportViolation);
        }
    });
}

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
    validateResource: withBackupJob<CronJobConfig & { maxIntervalMinutes: Record<string, number> }>(scheduleSchema, (cronJob, jobClass, config, args, report) => {
        const schedule = read(cronJob, "spec", "schedule");
        if (schedule === UNKNOWN) {
            return;
        }
        if (jobClass === null || !(jobClass in config.maxIntervalMinutes)) {
            report(`${args.name}: label ${config.dataClassLabel} is ${show(jobClass ?? undefined)}; a backup CronJob must name its data class (${[...DATA_CLASSES, VERIFICATION].join(", ")}) so its schedule can be checked against the retention table`);
            return;
        }
        const limit = config.maxIntervalMinutes[jobClass];
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
            report(`${args.name}: spec.schedule "${schedule}" leaves up to ${formatMinutes(gap)} between runs; ${reason} requires at least every ${formatMinutes(limit)}`);
        }
    }),
};

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
        const policy = read(cronJob, "spec", "concurrencyPolicy");
        if (policy !== UNKNOWN && policy !== "Forbid") {
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
        const deadline = read(cronJob, "spec", "jobTemplate", "spec", "activeDeadlineSeconds");
        if (deadline !== UNKNOWN && (typeof deadline !== "number" || deadline <= 0)) {
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
        const containers = containersOf(cronJob);
        if (containers === UNKNOWN) {
            return;
        }
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
        const podNonRoot = read(pod, "runAsNonRoot");
        const podUser = read(pod, "runAsUser");
        const containers = containersOf(cronJob);
        if (containers === UNKNOWN || podNonRoot === UNKNOWN || podUser === UNKNOWN) {
            return;
        }
        if (podUser === 0) {
            report(`${args.name}: spec.jobTemplate.spec.template.spec.securityContext.runAsUser is 0 (root); the runbook requires a non-root user`);
        }
        containers.forEach((entry, index) => {
            const nonRoot = read(entry.container, "securityContext", "runAsNonRoot");
            const user = read(entry.container, "securityContext", "runAsUser");
            if (nonRoot === UNKNOWN || user === UNKNOWN) {
                return;
            }
            const effective = nonRoot !== undefined ? nonRoot : podNonRoot;
            if (user === 0) {
                report(`${args.name}: ${containerName(entry, index)} sets securityContext.runAsUser 0 (root); the runbook requires a non-root user`);
            } else if (effective !== true) {
                report(`${args.name}: ${containerName(entry, index)} runs with runAsNonRoot ${show(effective)} (pod securityContext.runAsNonRoot ${show(podNonRoot)}); the runbook requires runAsNonRoot: true`);
            }
        });
    }),
};

export const kubernetesPolicies = [cronJobSchedule, cronJobConcurrency, cronJobDeadline, cronJobLimits, cronJobNonRoot];
