/** The longest gap of a cron schedule: the weekly-cycle arithmetic against stepping through cron-parser's runs. */
import { strict as assert } from "assert";
import { CronExpressionParser } from "cron-parser";
import { createRequire } from "module";
import { cronParserLuxon, cyclicGapMinutes, iteratedGapMinutes, maxIntervalMinutes, monthDayGapMinutes, nextRun, validateCron } from "../../policy/schedule";

// Schedules with a daily or weekly cycle, in the spellings Kubernetes accepts: steps, ranges, lists, weekday names,
// ranges with steps, uneven steps that do not divide the hour or the day, macros.
const CYCLIC = [
    "*/15 * * * *",
    "*/7 * * * *",
    "5,55 1-3 * * *",
    "0 */5 * * *",
    "17 3 * * *",
    "0 0 * * 1-5",
    "30 2 * * 0,6",
    "13 13 * * 0",
    "0 3 * * ?",
    "0 6 * * 1",
    "45 23 * * 0-6",
    "0 8-18/3 * * 1,3,5",
    "*/20 9-17 * * MON-FRI",
    "0 12 * * sun",
    "@hourly",
    "@daily",
    "@weekly",
];

describe("cron gaps (policy/schedule.ts)", () => {
    for (const expression of CYCLIC) {
        it(`"${expression}": the cycle's gap equals the gap found by stepping through two years of runs`, () => {
            const normalised = validateCron(expression);
            assert.equal(cyclicGapMinutes(normalised), iteratedGapMinutes(normalised));
        });
    }

    // Days of the month: the first, mid-month and the last days that some months lack (29, 30, 31).
    for (const expression of ["0 6 1 * *", "30 2 1,15 * *", "0 0 31 * *", "0 12 29 * *", "15 3 10-12 * *", "0 */8 5 * *", "@monthly"]) {
        it(`"${expression}": the calendar's gap equals the gap found by stepping through two years of runs`, () => {
            const normalised = validateCron(expression);
            assert.equal(monthDayGapMinutes(normalised), iteratedGapMinutes(normalised));
        });
    }

    it("knows the gaps a reviewer would work out by hand", () => {
        assert.equal(maxIntervalMinutes("*/15 * * * *"), 15);
        assert.equal(maxIntervalMinutes("5,55 1-3 * * *"), 24 * 60 - 170);
        assert.equal(maxIntervalMinutes("0 0 * * 1-5"), 3 * 24 * 60);
        assert.equal(maxIntervalMinutes("0 6 * * 1"), 7 * 24 * 60);
        // 0, 7, 14 and 21 o'clock: the longest step is 7 hours, not the 3 from 21 to midnight.
        assert.equal(maxIntervalMinutes("0 */7 * * *"), 7 * 60);
    });

    it("leaves months and both day fields together to cron-parser's own stepping", () => {
        for (const expression of ["0 6 1 * *", "0 0 * 1 *", "0 0 1,15 * 1"]) {
            assert.equal(cyclicGapMinutes(validateCron(expression)), undefined, expression);
        }
        for (const expression of ["0 0 1 1 *", "0 0 1,15 * 1", "0 0 * * *"]) {
            assert.equal(monthDayGapMinutes(validateCron(expression)), undefined, expression);
        }
        assert.equal(maxIntervalMinutes("0 6 1 * *"), 31 * 24 * 60);
        // The first day of the month or a Monday (cron's OR of the two day fields): never more than a week.
        assert.equal(maxIntervalMinutes("0 0 1 * 1"), 7 * 24 * 60);
    });

    it("refuses what Kubernetes' parser (robfig/cron's standard parser) refuses and cron-parser accepts, naming the field (h36)", () => {
        const refused: Array<[string, RegExp]> = [
            ["H 2 * * *", /"H 2 \* \* \*" is not a schedule Kubernetes accepts: minute field "H": "H" is not \*, \?, a number, a range or a step \(Jenkins' H /],
            ["H(0-29) 3 * * *", /minute field "H\(0-29\)"/],
            ["0 H * * *", /hour field "H"/],
            ["0 0 L * *", /day-of-month field "L"/],
            ["0 0 * * 5L", /day-of-week field "5L"/],
            ["0 0 * * 5#3", /day-of-week field "5#3"/],
            ["0 0 * * 7", /day-of-week field "7": "7" is outside 0-6 \(Sunday is 0: Kubernetes refuses 7\)/],
            ["0 0 * * 1,7", /day-of-week field "1,7": "7" is outside 0-6/],
        ];
        for (const [expression, message] of refused) {
            assert.throws(() => validateCron(expression), message, expression);
        }
        // Names in any case, `?`, N/step and macros: Kubernetes accepts them, and so does the pack.
        for (const expression of ["0 0 * * MON-FRI", "0 0 * jan,Dec *", "5/15 * * * *", "0 0 ? * *", "@weekly", "0 0 * * sun-sat"]) {
            assert.doesNotThrow(() => validateCron(expression), expression);
        }
    });

    it("names a locale on cron-parser's own luxon (its first date skips the system locale lookup), and no result depends on the locale", () => {
        // The instance cron-parser itself loads (its folder's resolution), not a copy of luxon elsewhere.
        const ownLuxon = createRequire(require.resolve("cron-parser"))("luxon") as { Settings: { defaultLocale: string | undefined } };
        assert.equal(cronParserLuxon(), ownLuxon);
        assert.equal(ownLuxon.Settings.defaultLocale, "en-US");
        // (nextRun parses each time; the gaps are memoised, so only instants show it.)
        const results = () => ["0 3 * * 1", "*/15 * * * *", "0 0 31 * *", "0 2 * * 0,6"].map((e) => nextRun(e, new Date("2026-03-28T23:59:00Z")).toISOString());
        const enUs = results();
        try {
            // A locale with other digits and another first day of the week: the same instants.
            ownLuxon.Settings.defaultLocale = "ar-EG";
            assert.deepEqual(results(), enUs);
        } finally {
            ownLuxon.Settings.defaultLocale = "en-US";
        }
        assert.deepEqual(enUs, ["2026-03-30T03:00:00.000Z", "2026-03-29T00:00:00.000Z", "2026-03-31T00:00:00.000Z", "2026-03-29T02:00:00.000Z"]);
    });

    it("parses each expression once per process, a bad one included (a stack's CronJobs repeat a few schedules)", () => {
        const parse = CronExpressionParser.parse;
        let calls = 0;
        CronExpressionParser.parse = ((...a: Parameters<typeof parse>) => {
            calls++;
            return parse.apply(CronExpressionParser, a);
        }) as typeof parse;
        try {
            assert.equal(validateCron("7 7 * * 3"), "7 7 * * 3");
            assert.equal(validateCron("7 7 * * 3"), "7 7 * * 3");
            assert.throws(() => validateCron("7 77 * * 3"), /"7 77 \* \* 3" is not a valid cron expression/);
            assert.throws(() => validateCron("7 77 * * 3"), /"7 77 \* \* 3" is not a valid cron expression/);
        } finally {
            CronExpressionParser.parse = parse;
        }
        assert.equal(calls, 2);
    });
});
