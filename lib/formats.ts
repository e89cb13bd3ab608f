/**
 * The textual formats of the program's inputs, one definition each: the configuration validator
 * (lib/config/) and the components that check their own arguments (components/backup-jobs.ts,
 * components/service-validation.ts) read them
 * from here, so a value the configuration accepts is never refused later, or the other way round.
 */

/** us-east-1, eu-central-1, us-gov-west-1, us-isob-east-1. */
export const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
/** eastus, westeurope, germanywestcentral. */
export const AZURE_REGION = /^[a-z][a-z0-9]+$/;
/** us-central1, europe-west4. */
export const GCP_REGION = /^[a-z]+-[a-z]+\d$/;
/** A DNS name such as auth.example.com (lowercase, at least two labels). */
export const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** The daily backup window as RDS takes it: hh24:mi-hh24:mi in UTC. */
export const DAILY_WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;
/** The weekly maintenance window as RDS takes it: ddd:hh24:mi-ddd:hh24:mi in UTC. */
export const WEEKLY_WINDOW = /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$/;
/** Days of the week in the windows' spelling, Sunday = 0 (as Azure and our maintenanceStart count). */
export const WEEK_DAYS: readonly string[] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/** A PostgreSQL database name as the scripts and the server take it: an unquoted identifier, at most 63 bytes. */
/** A Kubernetes object or namespace name (RFC 1123 label): lowercase letters, digits and '-', at most 63. */
export const KUBERNETES_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const POSTGRES_DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The EKS cluster's IAM OIDC provider, for the IRSA roles of the backup jobs and the service validation. */
export const OIDC_PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/.+$/;
/** Its issuer without https://, e.g. oidc.eks.us-east-1.amazonaws.com/id/ABC. */
export const OIDC_ISSUER = /^[a-z0-9.-]+(\/[A-Za-z0-9._-]+)*$/;

const MINUTES_PER_DAY = 24 * 60;

/** A daily window in minutes after midnight UTC; `end` is below `start` when the window crosses midnight. */
export interface DailyWindow {
    start: number;
    end: number;
    /** Its length in minutes (a window crossing midnight included). */
    length: number;
}

/** The window's minutes, or undefined when `window` is not hh24:mi-hh24:mi. */
export function parseDailyWindow(window: string): DailyWindow | undefined {
    const m = DAILY_WINDOW.exec(window);
    if (!m) {
        return undefined;
    }
    const start = Number(m[1]) * 60 + Number(m[2]);
    const end = Number(m[3]) * 60 + Number(m[4]);
    return { start, end, length: (end - start + MINUTES_PER_DAY) % MINUTES_PER_DAY };
}

/** Whether a minute of the day (0-1439) falls inside the window. */
export function insideDailyWindow(minuteOfDay: number, window: DailyWindow): boolean {
    return window.start <= window.end
        ? minuteOfDay >= window.start && minuteOfDay < window.end
        : minuteOfDay >= window.start || minuteOfDay < window.end;
}
