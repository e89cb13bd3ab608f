/**
 * Cron schedules as Kubernetes CronJobs read them. The parsing (cron-parser: validateCron, maxIntervalMinutes,
 * nextRun, unclockedBecause for `@every`) lives in the policy pack (policy/schedule.ts), which judges backup CronJobs with it and must stay
 * self-contained for `pulumi policy publish`; this module re-exports it and holds the program's own types
 * for its backup jobs' schedules and containers (their defaults are the configuration's: lib/config/schema.ts).
 */
export { maxIntervalMinutes, nextRun, unclockedBecause, validateCron } from "../policy/schedule";

/** The cron schedule of each backup CronJob, by configuration key (`oauth2-dr:backupJobs.schedules.<key>`). */
export interface BackupJobSchedules {
    dbBackup: string;
    clientConfigExport: string;
    secretsExport: string;
    appConfigExport: string;
    restoreVerification: string;
}

/** A container's CPU and memory, as Kubernetes quantities. */
export interface ContainerResources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

/** The container resources of each backup CronJob, by configuration key (`oauth2-dr:backupJobs.resources.<key>`). */
export type BackupJobResources = Record<keyof BackupJobSchedules, ContainerResources>;
