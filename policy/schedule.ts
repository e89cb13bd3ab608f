/**
 * Cron schedules as Kubernetes CronJobs read them (five fields, UTC, in the syntax Kubernetes accepts, or a descriptor:
 * `@daily`, `@every 6h`), parsed with cron-parser (an `@every` delay by Go's duration grammar, see everySeconds).
 * Shared by the configuration loader, the backup jobs component and the CronJob policy.
 */
import { CronExpressionParser } from "cron-parser";
import { createRequire } from "module";

/**
 * cron-parser's own luxon, the instance its parser uses (resolved from cron-parser's folder: a program's luxon,
 * if it has one, is another instance and is left alone).
 */
export function cronParserLuxon(): { Settings: { defaultLocale: string | undefined } } {
    return createRequire(require.resolve("cron-parser"))("luxon") as { Settings: { defaultLocale: string | undefined } };
}

// luxon asks Intl for the system's default locale at its first date: ICU's locale data, 10 ms of CPU in every
// process that plans or checks (measured 15 ms against 3-5 ms for the first parse, 2026-12-05). cron-parser only
// computes instants and formats nothing, so the locale never reaches a result: naming one skips the lookup.
// A locale already named is kept.
const cronLuxonSettings = cronParserLuxon().Settings;
cronLuxonSettings.defaultLocale ??= "en-US";

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

/** Each expression's normalised form, or what is wrong with it: a stack's CronJobs repeat a few schedules. */
const validated = new Map<string, { normalised: string } | { problem: string }>();

/** Throws an Error whose message says what is wrong with `expression`; returns the normalised expression. */
export function validateCron(expression: string): string {
    let result = validated.get(expression);
    if (result === undefined) {
        try {
            result = { normalised: parseCron(expression) };
        } catch (err) {
            result = { problem: (err as Error).message };
        }
        validated.set(expression, result);
    }
    if ("problem" in result) {
        throw new Error(result.problem);
    }
    return result.normalised;
}

/**
 * The five fields as Kubernetes reads them: the API server validates a CronJob's schedule with robfig/cron v3's
 * standard parser (`cron.ParseStandard`, pkg/apis/batch/validation), whose fields take `*`, `?`, a number or a
 * name, a range `a-b`, a step `/n` and lists of these, within these bounds (day-of-week 0-6: Sunday is 0 only).
 * cron-parser accepts more (Jenkins' `H`, `L`, `#`, a day-of-week 7), which Kubernetes refuses (the API server
 * rejects the CronJob), so a schedule cron-parser accepts is checked against these too.
 */
const KUBERNETES_FIELDS: ReadonlyArray<{ name: string; min: number; max: number; names?: readonly string[] }> = [
    { name: "minute", min: 0, max: 59 },
    { name: "hour", min: 0, max: 23 },
    { name: "day-of-month", min: 1, max: 31 },
    { name: "month", min: 1, max: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
    { name: "day-of-week", min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

/** A field's number or name as robfig/cron reads it (names in any case: `jan` is 1, `sun` 0); NaN for anything else. */
function fieldValue(token: string, spec: (typeof KUBERNETES_FIELDS)[number]): number {
    if (/^\d+$/.test(token)) {
        return Number(token);
    }
    const index = spec.names?.indexOf(token.toLowerCase()) ?? -1;
    return index < 0 ? NaN : spec.min + index;
}

/** Why robfig/cron's standard parser refuses one part of a field (`*`, `?`, `a`, `a-b`, each with an optional `/n`); undefined when it accepts it. */
function kubernetesPartProblem(part: string, spec: (typeof KUBERNETES_FIELDS)[number]): string | undefined {
    const match = /^(\*|\?|[^-/]+(?:-[^-/]+)?)(?:\/(\d+))?$/.exec(part);
    if (!match) {
        return `is not *, ?, a number${spec.names ? " or a name" : ""}, a range or a step (Jenkins' H and the L, W and # of other crons are not cron syntax Kubernetes reads)`;
    }
    const [range, step] = [match[1], match[2]];
    const [low, high] = range.split("-");
    const all = low === "*" || low === "?";
    const start = all ? spec.min : fieldValue(low, spec);
    // "N/step" runs from N to the field's maximum.
    const end = all ? spec.max : high !== undefined ? fieldValue(high, spec) : step !== undefined ? spec.max : start;
    if (!Number.isFinite(start) || !Number.isFinite(end)) {
        return `is not *, ?, a number${spec.names ? " or a name" : ""}, a range or a step (Jenkins' H and the L, W and # of other crons are not cron syntax Kubernetes reads)`;
    }
    if (start < spec.min || end > spec.max) {
        return `is outside ${spec.min}-${spec.max}${spec.name === "day-of-week" ? " (Sunday is 0: Kubernetes refuses 7)" : ""}`;
    }
    if (start > end) {
        return "is a range that ends before it starts";
    }
    return step !== undefined && Number(step) === 0 ? "steps by 0" : undefined;
}

/** What robfig/cron's standard parser refuses in one field, naming the field and the part; undefined when it accepts it. */
function kubernetesFieldProblem(field: string, spec: (typeof KUBERNETES_FIELDS)[number]): string | undefined {
    for (const part of field.split(",").filter((p) => p !== "")) {
        const problem = kubernetesPartProblem(part, spec);
        if (problem !== undefined) {
            return `${spec.name} field "${field}": "${part}" ${problem}`;
        }
    }
    return undefined;
}

/** The descriptors robfig/cron v3 reads (parser.go, parseDescriptor), for messages. */
const DESCRIPTORS = `${Object.keys(MACROS).join(", ")}, @every <duration>`;

/** "@every " as robfig/cron's parseDescriptor matches it: the prefix with exactly one space, the duration after it. */
const EVERY = "@every ";

/**
 * Go's time.ParseDuration grammar (`[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or `0` alone after the sign; a number needs a
 * digit before or after its point; units ns, us, µs (U+00B5), μs (U+03BC), ms, s, m, h: no d, no w, no space).
 */
const GO_DURATION = /^([-+]?)(?:0|((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+))$/;
const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g;
const GO_UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
/** Go's Duration is an int64 of nanoseconds: ParseDuration refuses more (about 292 years). */
const GO_MAX_DURATION_SECONDS = (2 ** 63 - 1) / 1e9;

/**
 * The delay in whole seconds of an `@every <duration>` schedule, as Kubernetes runs it: the API server validates
 * the schedule with robfig/cron v3's `ParseStandard`, whose parseDescriptor reads the text after "@every " with Go's
 * time.ParseDuration and builds `Every(duration)` (constantdelay.go), which drops fractions of a second and makes a
 * delay under one second (zero and negative ones too) one second. Kubernetes accepts those; we refuse them, saying
 * so: a backup job started every second is a typo (`-1h` for `1h`), not a schedule. Throws what is wrong.
 */
function everySeconds(expression: string): number {
    const text = expression.slice(EVERY.length);
    const match = GO_DURATION.exec(text);
    if (text === "") {
        throw new Error(`"${expression}" is not a schedule Kubernetes accepts: no duration after @every (e.g. @every 6h)`);
    }
    if (!match) {
        throw new Error(`"${expression}" is not a schedule Kubernetes accepts: "${text}" is not a Go duration (time.ParseDuration: numbers with the units h, m, s, ms, us, ns, e.g. @every 6h or @every 1h30m; no d or w, no spaces)`);
    }
    const magnitude = [...(match[2] ?? "").matchAll(GO_DURATION_PART)].reduce((sum, [, n, unit]) => sum + Number(n) * GO_UNIT_SECONDS[unit], 0);
    if (magnitude > GO_MAX_DURATION_SECONDS) {
        throw new Error(`"${expression}" is not a schedule Kubernetes accepts: "${text}" is longer than a Go duration holds (about 292 years)`);
    }
    const seconds = match[1] === "-" ? -magnitude : magnitude;
    if (seconds < 1) {
        const meant = seconds < 0 && magnitude >= 1 ? ` (@every ${text.slice(1)}?)` : "";
        throw new Error(`"${expression}" would start a job every second: Kubernetes accepts it, but robfig/cron makes a delay under 1s (zero and negative ones too) one second; write a duration of at least 1s${meant}`);
    }
    return Math.floor(seconds);
}

/** The delay in seconds of a normalised `@every` schedule (`@every 21600s`); undefined for a cron expression. */
export function constantDelaySeconds(normalised: string): number | undefined {
    return normalised.startsWith(EVERY) ? Number(normalised.slice(EVERY.length, -1)) : undefined;
}

/**
 * The normalised schedule: a descriptor's five fields, `@every <seconds>s` for a constant delay, or the five fields.
 * A descriptor is read as robfig/cron reads it: only as written (no space around it, lowercase), since the parser
 * sends anything that starts with `@` to parseDescriptor and splits the rest into fields.
 */
function parseCron(expression: string): string {
    const trimmed = expression.trim();
    if (expression.startsWith(EVERY)) {
        return `${EVERY}${everySeconds(expression)}s`;
    }
    if (trimmed.startsWith("@")) {
        if (trimmed !== expression) {
            throw new Error(`"${expression}" is not a schedule Kubernetes accepts: a descriptor is read only as written, with no space around it`);
        }
        if (MACROS[expression] === undefined) {
            throw new Error(`"${expression}" is not a descriptor Kubernetes accepts (${DESCRIPTORS})`);
        }
    }
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
    // What cron-parser accepts and Kubernetes refuses (H, L, #, a day-of-week 7): refused too, naming the field.
    const refused = fields.map((field, i) => kubernetesFieldProblem(field, KUBERNETES_FIELDS[i])).find((problem) => problem !== undefined);
    if (refused !== undefined) {
        throw new Error(`"${expression}" is not a schedule Kubernetes accepts: ${refused}`);
    }
    return expanded;
}

const gapCache = new Map<string, number>();
const DAY_MINUTES = 24 * 60;
const WEEK_MINUTES = 7 * DAY_MINUTES;

/**
 * The longest interval, in minutes, between two consecutive runs of the schedule (an `@every` delay of seconds that
 * are not whole minutes is a fraction: `@every 90s` is 1.5). Memoised: a stack
 * usually repeats a handful of schedules over many resources.
 */
export function maxIntervalMinutes(expression: string): number {
    const normalised = validateCron(expression);
    let minutes = gapCache.get(normalised);
    if (minutes === undefined) {
        const delay = constantDelaySeconds(normalised);
        // @every: the runs are the delay apart, whatever the clock says (see nextRun).
        minutes = delay !== undefined ? delay / 60 : cyclicGapMinutes(normalised) ?? monthDayGapMinutes(normalised) ?? iteratedGapMinutes(normalised);
        gapCache.set(normalised, minutes);
    }
    return minutes;
}

/**
 * The gap of a schedule whose day-of-month and month fields are `*` and whose weekday field names plain
 * weekdays: its runs repeat every week (every day when the weekday field is `*` too), so the longest gap
 * is the longest step around that cycle, computed from cron-parser's own expansion of the fields. Any other
 * schedule (a day of the month, a month) is undefined here and is iterated. (`5L` and `5#3` never get here:
 * Kubernetes refuses them, and so does validateCron.) Stepping cron-parser
 * through two days of an every-15-minutes schedule took about 50 ms of CPU; this takes well under one.
 */
export function cyclicGapMinutes(normalised: string): number | undefined {
    const [, , dayOfMonth, month] = normalised.split(/\s+/);
    if (dayOfMonth !== "*" || month !== "*") {
        return undefined;
    }
    const { fields } = CronExpressionParser.parse(normalised, { tz: "UTC", currentDate: REFERENCE });
    // cron-parser lists Sunday as both 0 and 7 (a `*` expands to both).
    const weekdays = [...new Set(fields.dayOfWeek.values.map((d) => Number(d) % 7))];
    const runs: number[] = [];
    for (const day of weekdays) {
        for (const hour of fields.hour.values) {
            for (const minute of fields.minute.values) {
                runs.push(day * DAY_MINUTES + hour * 60 + minute);
            }
        }
    }
    runs.sort((a, b) => a - b);
    // Around the cycle: from the last run of the week to the first of the next.
    let gap = runs[0] + WEEK_MINUTES - runs[runs.length - 1];
    for (let i = 1; i < runs.length; i++) {
        gap = Math.max(gap, runs[i] - runs[i - 1]);
    }
    return gap;
}

/**
 * The gap of a schedule on days of the month (weekday and month fields `*`, plain days: no `L` or `?`),
 * from cron-parser's expansion of the fields and the calendar of two years from the reference instant (a
 * leap year included): stepping cron-parser day by day through those two years took about 40 ms of CPU.
 * Any other schedule is undefined here and is iterated.
 */
export function monthDayGapMinutes(normalised: string): number | undefined {
    const [, , dayOfMonth, month, dayOfWeek] = normalised.split(/\s+/);
    if (month !== "*" || dayOfWeek !== "*" || dayOfMonth === "*" || /[^0-9,*/-]/.test(dayOfMonth)) {
        return undefined;
    }
    const { fields } = CronExpressionParser.parse(normalised, { tz: "UTC", currentDate: REFERENCE });
    if (!fields.dayOfMonth.values.every((day) => typeof day === "number")) {
        return undefined;
    }
    const days = new Set(fields.dayOfMonth.values as number[]);
    const times = fields.hour.values.flatMap((hour) => fields.minute.values.map((minute) => hour * 60 + minute)).sort((a, b) => a - b);
    const runs: number[] = [];
    // Three years and a month: every gap that starts within the two years iterated elsewhere ends inside it.
    for (let day = 0; day < 366 * 3 + 31; day++) {
        const date = new Date(REFERENCE.getTime() + day * DAY_MINUTES * 60000);
        if (days.has(date.getUTCDate())) {
            runs.push(...times.map((t) => day * DAY_MINUTES + t));
        }
    }
    let gap = 0;
    for (let i = 1; i < runs.length && runs[i - 1] <= 366 * 2 * DAY_MINUTES; i++) {
        gap = Math.max(gap, runs[i] - runs[i - 1]);
    }
    return gap;
}

/**
 * The gap found by stepping through the runs over two years from a fixed instant (a day when the day,
 * month and weekday fields are all `*`), as cron-parser schedules them: for schedules with no short cycle.
 */
export function iteratedGapMinutes(normalised: string): number {
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
    return Math.round(maxGap / 60000);
}

/**
 * Why the schedule's runs are at no clock time: an `@every` schedule's. The CronJob controller counts robfig/cron's
 * ConstantDelaySchedule from the CronJob's creation, then from its last scheduled run (pkg/controller/cronjob:
 * `status.lastScheduleTime`, else `metadata.creationTimestamp`), not from the clock or the controller's start: the
 * runs land wherever the creation put them and shift when the CronJob is recreated. undefined for a cron expression.
 */
export function unclockedBecause(expression: string): string | undefined {
    const delay = constantDelaySeconds(validateCron(expression));
    return delay === undefined
        ? undefined
        : `"${expression}" runs every ${expression.trim().slice(EVERY.length)} counted from the CronJob's creation, then from its last scheduled run, not at clock times`;
}

/** The next run after `from`, for reports and for checking "daily after the backup window"; throws for `@every` (unclockedBecause). */
export function nextRun(expression: string, from: Date = REFERENCE): Date {
    const unclocked = unclockedBecause(expression);
    if (unclocked !== undefined) {
        throw new Error(`${unclocked}: it has no next run at a clock time`);
    }
    return CronExpressionParser.parse(validateCron(expression), { tz: "UTC", currentDate: from }).next().toDate();
}
