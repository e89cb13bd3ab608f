import { strict as assert } from "assert";
import { cronJobConcurrency, cronJobDeadline, cronJobLimits, cronJobLookalike, cronJobNonRoot, cronJobSchedule } from "../../policy/kubernetes";
import { runResourcePolicy, UNKNOWN } from "./helpers";

const CRONJOB = "kubernetes:batch/v1:CronJob";
const ALL = [cronJobSchedule, cronJobConcurrency, cronJobDeadline, cronJobLimits, cronJobNonRoot];

function cronJob(options: { dataClass?: string; schedule?: unknown; labels?: Record<string, string>; spec?: Record<string, unknown>; jobSpec?: Record<string, unknown>; pod?: Record<string, unknown>; container?: Record<string, unknown> } = {}) {
    const labels = options.labels ?? { "oauth2-dr/backup": "true", "oauth2-dr/data-class": options.dataClass ?? "clients" };
    return {
        type: CRONJOB,
        name: "client-config-export",
        props: {
            apiVersion: "batch/v1",
            kind: "CronJob",
            metadata: { name: "client-config-export", namespace: "oauth2-system", labels },
            spec: {
                schedule: options.schedule ?? "*/15 * * * *",
                concurrencyPolicy: "Forbid",
                startingDeadlineSeconds: 300,
                jobTemplate: {
                    spec: {
                        activeDeadlineSeconds: 1800,
                        backoffLimit: 2,
                        template: {
                            spec: {
                                restartPolicy: "Never",
                                securityContext: { runAsNonRoot: true, runAsUser: 10001 },
                                containers: [{ name: "export", image: "ghcr.io/oauth2-dr/backup:1.0.0", resources: { limits: { cpu: "500m", memory: "512Mi" } }, ...options.container }],
                                ...options.pod,
                            },
                        },
                        ...options.jobSpec,
                    },
                },
                ...options.spec,
            },
        },
    };
}

describe("policy: Kubernetes backup CronJobs", () => {
    it("a compliant backup job passes every CronJob policy; jobs not labelled as backups are not judged", async () => {
        for (const policy of ALL) {
            assert.deepEqual(await runResourcePolicy(policy, cronJob()), [], policy.name);
            assert.deepEqual(await runResourcePolicy(policy, cronJob({ labels: { app: "web" }, schedule: "0 0 1 1 *", spec: { concurrencyPolicy: "Allow" } })), [], policy.name);
        }
    });

    it("a job is judged by what it runs: pg_dump without our labels is a database backup (daily passes, weekly fails naming the cadence)", async () => {
        const dump = (schedule: string, labels: Record<string, string> = { app: "ledger" }) =>
            cronJob({ labels, schedule, container: { image: "postgres:16", command: ["/bin/sh", "-c", "pg_dump -Fc ledger | aws s3 cp - s3://dumps/database/ledger.dump"] } });
        for (const policy of ALL) {
            assert.deepEqual(await runResourcePolicy(policy, dump("0 2 * * *")), [], policy.name);
        }
        const [weekly] = await runResourcePolicy(cronJobSchedule, dump("0 2 * * 0"));
        assert.match(weekly, /leaves up to 7 days between runs \(weekly\); the retention table \(Database \(PostgreSQL\), Continuous \+ Daily\) requires at least every 1 day \(judged as a database backup: it runs pg_dump/);
        // Our backup label without a class: the tool names the class, so the schedule is judged, not the label.
        const [labelled] = await runResourcePolicy(cronJobSchedule, dump("0 2 * * 0", { "app.kubernetes.io/component": "backup" }));
        assert.match(labelled, /\(weekly\).*it labelled app\.kubernetes\.io\/component=backup and runs pg_dump/);
        assert.deepEqual(await runResourcePolicy(cronJobSchedule, dump("0 2 * * *", { "app.kubernetes.io/component": "backup" })), []);
        // In a preview, a script built from an endpoint is unknown: the class cannot be told yet, so nothing is said.
        const unknownScript = cronJob({ labels: { "app.kubernetes.io/component": "backup" }, container: { image: "postgres:16", args: ["-c", UNKNOWN] } });
        assert.deepEqual(await runResourcePolicy(cronJobSchedule, unknownScript), []);
        assert.deepEqual(await runResourcePolicy(cronJobLookalike, cronJob({ labels: { app: "x" }, container: { image: "acme/db-backup:1", args: UNKNOWN } })), []);
        // The other checks apply to such a job as well.
        const [overlap] = await runResourcePolicy(cronJobConcurrency, cronJob({ labels: {}, spec: { concurrencyPolicy: "Allow" }, container: { args: ["pg_basebackup", "-D", "/backup"] } }));
        assert.match(overlap, /concurrencyPolicy is "Allow"/);
    });

    it("k8s-backup-cronjob-lookalike: a job named or built like a backup that cannot be judged gets a note; a job that says what it is does not", async () => {
        const [note] = await runResourcePolicy(cronJobLookalike, cronJob({ labels: { app: "warehouse" }, container: { image: "registry.example/warehouse-backup:3", command: ["/opt/run"] } }));
        assert.match(note, /looks like a backup job \("backup" in "registry\.example\/warehouse-backup:3"\) but is not judged as one: .* label it oauth2-dr\/backup=true and oauth2-dr\/data-class=</);
        assert.deepEqual(await runResourcePolicy(cronJobLookalike, cronJob()), [], "a labelled backup job is judged, not noted");
        assert.deepEqual(await runResourcePolicy(cronJobLookalike, cronJob({ labels: { app: "web" }, container: { image: "nginx:1", command: ["pg_dump", "web"] } })), [], "a job running pg_dump is judged, not noted");
        assert.deepEqual(await runResourcePolicy(cronJobLookalike, cronJob({ labels: { "app.kubernetes.io/component": "validation" } })), [], "a job whose component label says what it is");
        assert.deepEqual(await runResourcePolicy(cronJobLookalike, cronJob({ labels: { app: "web" }, container: { image: "nginx:1" } })), []);
    });

    it("a job whose image is named for a database backup (acme/pgbackup, postgres-backup-s3) is judged as one, with no command at all", async () => {
        const byImage = (image: string, schedule: string) => cronJob({ labels: { app: "accounts" }, schedule, container: { image } });
        const [weekly] = await runResourcePolicy(cronJobSchedule, byImage("registry.example.com/acme/pgbackup:1.2", "@weekly"));
        assert.match(weekly, /\(weekly\).*judged as a database backup: it runs the image registry\.example\.com\/acme\/pgbackup:1\.2 \(a PostgreSQL backup image by its name\)/);
        assert.deepEqual(await runResourcePolicy(cronJobLookalike, byImage("registry.example.com/acme/pgbackup:1.2", "@weekly")), [], "judged, not noted");
        assert.deepEqual(await runResourcePolicy(cronJobSchedule, byImage("eeshugerman/postgres-backup-s3:16@sha256:abc", "0 1 * * *")), []);
        assert.equal((await runResourcePolicy(cronJobSchedule, byImage("ghcr.io/acme/mysql-backup:2", "0 1 * * 0"))).length, 1);
        // A name that only says "backup" does not say which data it holds: a note, not a judgement.
        assert.deepEqual(await runResourcePolicy(cronJobSchedule, byImage("registry.example/warehouse-backup:3", "0 1 * * 0")), []);
    });

    it("a job whose command is kept in its environment (sh -c \"$RUN\", RUN=pg_dump …) is judged by it", async () => {
        const job = cronJob({ labels: { app: "search" }, schedule: "0 1 * * 0", container: { image: "runner:5", command: ["/bin/sh", "-c", "exec $RUN"], env: [{ name: "RUN", value: "pg_dump -Fc search" }, { name: "FROM_SECRET", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] } });
        const [weekly] = await runResourcePolicy(cronJobSchedule, job);
        assert.match(weekly, /\(weekly\).*it runs pg_dump/);
        for (const reference of ["exec ${RUN}", "$(RUN)"]) {
            const braced = cronJob({ labels: { app: "search" }, schedule: "0 1 * * 0", container: { image: "runner:5", command: ["/bin/sh", "-c", reference], env: [{ name: "RUN", value: "pg_dump -Fc search" }] } });
            assert.equal((await runResourcePolicy(cronJobSchedule, braced)).length, 1, reference);
        }
        // A variable the command line does not expand says nothing about what runs.
        const described = cronJob({ labels: { app: "cleanup" }, schedule: "0 1 * * 0", container: { image: "runner:5", command: ["/bin/sh", "-c", "exec $RUN"], env: [{ name: "RUN", value: "find /dumps -mtime +30 -delete" }, { name: "NOTE", value: "removes pg_dump files older than 30 days" }] } });
        assert.deepEqual(await runResourcePolicy(cronJobSchedule, described), []);
    });

    it("k8s-backup-cronjob-schedule: a suspended backup job runs never, unless the pause says why (a standby's jobs)", async () => {
        const [paused] = await runResourcePolicy(cronJobSchedule, cronJob({ spec: { suspend: true } }));
        assert.match(paused, /^client-config-export: spec\.suspend is true, so the CronJob starts no jobs and takes no clients backups; .*annotation oauth2-dr\/suspended-because$/);
        const standby = cronJob({ spec: { suspend: true } });
        (standby.props.metadata as Record<string, unknown>).annotations = { "oauth2-dr/suspended-because": "standby stack: backups start when the stack is promoted" };
        assert.deepEqual(await runResourcePolicy(cronJobSchedule, standby), []);
        assert.deepEqual(await runResourcePolicy(cronJobSchedule, cronJob({ spec: { suspend: false } })), []);
        assert.deepEqual(await runResourcePolicy(cronJobSchedule, cronJob({ labels: { app: "web" }, spec: { suspend: true } })), [], "not a backup job");
    });

    it("k8s-backup-cronjob-schedule: too rare for the data class (cron-parser), invalid, unlabelled class", async () => {
        assert.deepEqual(await runResourcePolicy(cronJobSchedule, cronJob({ schedule: "0 */2 * * *" })), [
            'client-config-export: spec.schedule "0 */2 * * *" leaves up to 2 hours between runs; the retention table (Client configurations, On change) requires at least every 1 hour',
        ]);
        assert.deepEqual(await runResourcePolicy(cronJobSchedule, cronJob({ dataClass: "database", schedule: "0 5 * * *" })), []);
        const [weekly] = await runResourcePolicy(cronJobSchedule, cronJob({ dataClass: "database", schedule: "0 5 * * 1-5" }));
        assert.match(weekly, /leaves up to 3 days between runs; the retention table \(Database \(PostgreSQL\), Continuous \+ Daily\) requires at least every 1 day/);
        const [invalid] = await runResourcePolicy(cronJobSchedule, cronJob({ schedule: "every hour" }));
        assert.match(invalid, /spec\.schedule "every hour" is not a 5-field cron expression/);
        const [noClass] = await runResourcePolicy(cronJobSchedule, cronJob({ labels: { "app.kubernetes.io/component": "backup" } }));
        assert.match(noClass, /label oauth2-dr\/data-class is not set; a backup CronJob must name its data class/);
    });

    it("k8s-backup-cronjob-schedule: a schedule cron-parser reads but Kubernetes refuses (Jenkins' H, L, #, day-of-week 7) is named with its field (h36; was: H 2 * * * passed as daily)", async () => {
        const [hashed] = await runResourcePolicy(cronJobSchedule, cronJob({ dataClass: "database", schedule: "H 2 * * *" }));
        assert.match(hashed ?? "", /^client-config-export: spec\.schedule "H 2 \* \* \*" is not a schedule Kubernetes accepts: minute field "H": "H" is not \*, \?, a number, a range or a step \(Jenkins' H /);
        const [sunday] = await runResourcePolicy(cronJobSchedule, cronJob({ dataClass: "database", schedule: "0 2 * * 1-7" }));
        assert.match(sunday ?? "", /spec\.schedule "0 2 \* \* 1-7" is not a schedule Kubernetes accepts: day-of-week field "1-7": "1-7" is outside 0-6/);
        assert.deepEqual(await runResourcePolicy(cronJobSchedule, cronJob({ dataClass: "database", schedule: "0 2 * * SUN-SAT" })), []);
    });

    it("k8s-backup-cronjob-schedule: the verification job runs at least monthly", async () => {
        const verification = (schedule: string) => cronJob({ labels: { "oauth2-dr/data-class": "verification" }, schedule });
        assert.deepEqual(await runResourcePolicy(cronJobSchedule, verification("0 6 1 * *")), []);
        const [quarterly] = await runResourcePolicy(cronJobSchedule, verification("0 6 1 */3 *"));
        assert.match(quarterly, /the runbook's monthly backup tests requires at least every 31 days/);
    });

    it("k8s-backup-cronjob-concurrency: Allow, Replace and unset", async () => {
        assert.deepEqual(await runResourcePolicy(cronJobConcurrency, cronJob({ spec: { concurrencyPolicy: "Allow" } })), [
            'client-config-export: spec.concurrencyPolicy is "Allow"; the runbook requires "Forbid" so two backups never write the same export',
        ]);
        assert.match((await runResourcePolicy(cronJobConcurrency, cronJob({ spec: { concurrencyPolicy: undefined } })))[0], /\(Kubernetes default: Allow\)/);
    });

    it("k8s-backup-cronjob-deadline: no activeDeadlineSeconds", async () => {
        const [message] = await runResourcePolicy(cronJobDeadline, cronJob({ jobSpec: { activeDeadlineSeconds: undefined } }));
        assert.match(message, /spec\.jobTemplate\.spec\.activeDeadlineSeconds is not set; the runbook requires a deadline/);
    });

    it("k8s-backup-cronjob-resource-limits: a container without limits, an init container without memory", async () => {
        const messages = await runResourcePolicy(cronJobLimits, cronJob({ container: { resources: {} }, pod: { initContainers: [{ name: "wait", resources: { limits: { cpu: "100m" } } }] } }));
        assert.deepEqual(messages, [
            'client-config-export: init container "wait" has no resources.limits.memory; the runbook requires limits (cpu, memory) on every backup container',
            'client-config-export: container "export" has no resources.limits.cpu / resources.limits.memory; the runbook requires limits (cpu, memory) on every backup container',
        ]);
    });

    it("k8s-backup-cronjob-non-root: no runAsNonRoot, root UID, container override", async () => {
        const [missing] = await runResourcePolicy(cronJobNonRoot, cronJob({ pod: { securityContext: {} } }));
        assert.match(missing, /container "export" runs with runAsNonRoot not set \(pod securityContext\.runAsNonRoot not set\); the runbook requires runAsNonRoot: true/);
        assert.equal((await runResourcePolicy(cronJobNonRoot, cronJob({ container: { securityContext: { runAsUser: 0 } } }))).length, 1);
        assert.equal((await runResourcePolicy(cronJobNonRoot, cronJob({ container: { securityContext: { runAsNonRoot: false } } }))).length, 1);
        assert.deepEqual(await runResourcePolicy(cronJobNonRoot, cronJob({ pod: { securityContext: {} }, container: { securityContext: { runAsNonRoot: true } } })), []);
    });

    it("unknown values never crash or report", async () => {
        const unknown = cronJob({ schedule: UNKNOWN, spec: { concurrencyPolicy: UNKNOWN }, jobSpec: { activeDeadlineSeconds: UNKNOWN, template: UNKNOWN } });
        for (const policy of ALL) {
            assert.deepEqual(await runResourcePolicy(policy, unknown), [], policy.name);
        }
        assert.deepEqual(await runResourcePolicy(cronJobSchedule, cronJob({ labels: UNKNOWN as never })), []);
    });
});
