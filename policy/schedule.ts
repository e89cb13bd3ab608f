/**
 * Cron schedules as Kubernetes CronJobs read them (five fields, UTC), parsed with cron-parser.
 * Shared by the configuration loader, the backup jobs component and the CronJob policy.
 */
import { CronExpressionParser } from "cron-parser";

const MACROS: Record<string, string> = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
};

/** Reference instant for schedule analysis, fixed so that results never depend on the day a check runs. */
const REFERENCE = new Date(Date.UTC(2026, 0, 1, 0, 0, 0));

/** Throws an Error whose message says what is wrong with `expression`; returns the normalised expression. */
export function validateCron(expression: string): string {
    const trimmed = expression.trim();
    const expanded = MACROS[trimmed] ?? trimmed;
    const fields = expanded.split(/\s+/);
    if (fields.length !== 5) {
        throw new Error(`"${expression}" is not a 5-field cron expression (minute hour day-of-month month day-of-week)`);
    }
    try {
        CronExpressionParser.parse(expanded, { tz: "UTC", currentDate: REFERENCE });
    } catch (err) {
        throw new Error(`"${expression}" is not a valid cron expression: ${(err as Error).message}`);
    }
    return expanded;
}

const gapCache = new Map<string, number>();

/**
 * The longest interval, in minutes, between two consecutive runs of the schedule over a year (a day when
 * the day, month and weekday fields are all `*`, since the pattern then repeats daily). Memoised: a stack
 * usually repeats a handful of schedules over many resources.
 */
export function maxIntervalMinutes(expression: string): number {
    const normalised = validateCron(expression);
    const cached = gapCache.get(normalised);
    if (cached !== undefined) {
        return cached;
    }
    const [, , dayOfMonth, month, dayOfWeek] = normalised.split(/\s+/);
    const repeatsDaily = dayOfMonth === "*" && month === "*" && dayOfWeek === "*";
    const horizonDays = repeatsDaily ? 2 : 366 * 2;
    const end = REFERENCE.getTime() + horizonDays * 24 * 3600 * 1000;
    const iterator = CronExpressionParser.parse(normalised, { tz: "UTC", currentDate: REFERENCE });
    let previous = REFERENCE.getTime();
    let first: number | undefined;
    let maxGap = 0;
    for (;;) {
        const next = iterator.next().getTime();
        if (first === undefined) {
            first = next;
        } else {
            maxGap = Math.max(maxGap, next - previous);
        }
        previous = next;
        if (next > end) {
            break;
        }
    }
    const minutes = Math.round(maxGap / 60000);
    gapCache.set(normalised, minutes);
    return minutes;
}

/** The next run after `from`, for reports and for checking "daily after the backup window". */
export function nextRun(expression: string, from: Date = REFERENCE): Date {
    return CronExpressionParser.parse(validateCron(expression), { tz: "UTC", currentDate: from }).next().toDate();
}
