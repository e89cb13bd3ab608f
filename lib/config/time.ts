/** RFC 3339 times, as restore.pointInTime takes them. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch of an RFC 3339 time, or undefined when it is not one (or not a real date). */
export function parseRfc3339(value: string): number | undefined {
    const m = RFC3339.exec(value);
    if (!m) {
        return undefined;
    }
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) {
        return undefined;
    }
    // Reject dates that Date.parse rolls over (2024-02-30 -> March 1): check the calendar fields.
    const offset = m[8] === "Z" ? 0 : (m[8][0] === "-" ? -1 : 1) * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6)));
    const local = new Date(ms + offset * 60_000);
    const same =
        local.getUTCFullYear() === Number(m[1]) &&
        local.getUTCMonth() + 1 === Number(m[2]) &&
        local.getUTCDate() === Number(m[3]) &&
        local.getUTCHours() === Number(m[4]) &&
        local.getUTCMinutes() === Number(m[5]);
    return same ? ms : undefined;
}

/** UTC, second precision: 2024-01-15T10:00:00Z, the form RDS, Azure and Cloud SQL all accept. */
export function toUtc(ms: number): string {
    return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}
