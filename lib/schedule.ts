/**
 * Cron schedules (parsed with cron-parser) live in the policy pack (policy/schedule.ts), which needs them to
 * judge backup CronJobs and must stay self-contained for `pulumi policy publish`; the program reads them here.
 */
export * from "../policy/schedule";
