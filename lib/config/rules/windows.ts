/**
 * Time rules: the RDS backup window is long enough and the weekly maintenance window never overlaps it (RDS
 * rejects overlapping windows). Each backup job's schedule is checked where it stands (schema.ts).
 */
import { parseDailyWindow, WEEK_DAYS, WEEKLY_WINDOW } from "../../formats";
import type { Values } from "../schema";
import type { Fail } from "./context";

/** Minutes since Sunday 00:00 of a weekly window, as [start, end) ranges (a window across the week's end split). */
function weeklyRanges(start: number, end: number): Array<[number, number]> {
    return end > start ? [[start, end]] : [[start, 7 * 1440], [0, end]];
}

/** RDS needs a backup window of 30 minutes or more, and a maintenance window that never overlaps it. */
export function windowRules(v: Values, fail: Fail): void {
    const backup = v.backupWindow ? parseDailyWindow(v.backupWindow) : undefined;
    if (backup && backup.length < 30) {
        fail("backupWindow", `"${v.backupWindow}" is ${backup.length} minutes long; RDS needs at least 30`);
    }
    const m = v.maintenanceWindow ? WEEKLY_WINDOW.exec(v.maintenanceWindow) : null;
    if (!backup || !m) {
        return;
    }
    const minute = (day: string, hh: string, mm: string) => WEEK_DAYS.indexOf(day) * 1440 + Number(hh) * 60 + Number(mm);
    const maintenance = weeklyRanges(minute(m[1], m[2], m[3]), minute(m[4], m[5], m[6]));
    // The backup window recurs every day of the week; it may cross midnight.
    const daily = WEEK_DAYS.flatMap((_, day) => weeklyRanges(day * 1440 + backup.start, (day * 1440 + backup.start + backup.length) % (7 * 1440)));
    if (maintenance.some(([s1, e1]) => daily.some(([s2, e2]) => s1 < e2 && s2 < e1))) {
        fail("maintenanceWindow", `"${v.maintenanceWindow}" overlaps the backup window ${v.backupWindow}; RDS rejects overlapping windows`);
    }
}
