/**
 * Cron schedules as Kubernetes CronJobs read them. The parsing (cron-parser: validateCron, maxIntervalMinutes,
 * nextRun) lives in the policy pack (policy/schedule.ts), which judges backup CronJobs with it and must stay
 * self-contained for `pulumi policy publish`; this module re-exports it and holds the program's own facts
 * about its schedules.
 */
export { maxIntervalMinutes, nextRun, validateCron } from "../policy/schedule";

/** The cron schedule of each backup CronJob, by configuration key (`oauth2-dr:backupJobs.schedules.<key>`). */
export interface BackupJobSchedules {
    dbBackup: string;
    clientConfigExport: string;
    secretsExport: string;
    appConfigExport: string;
    restoreVerification: string;
}

/** The default schedules: the configuration's defaults and the keys a stack may override. */
export const DEFAULT_SCHEDULES: Readonly<BackupJobSchedules> = Object.freeze({
    // Daily, one hour after the end of the default 03:00-04:00 backup window.
    dbBackup: "0 5 * * *",
    // "On change": poll every 15 minutes, export only when the content hash changed.
    clientConfigExport: "*/15 * * * *",
    secretsExport: "30 5 * * *",
    appConfigExport: "*/30 * * * *",
    // Monthly, first day of the month.
    restoreVerification: "0 6 1 * *",
});
