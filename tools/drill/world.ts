/**
 * The drill's world, all real and on 127.0.0.1: a PostgreSQL 15 primary holding the server's schema (and
 * optionally a streaming replica made with `pg_basebackup -R`), moto for S3 and Secrets Manager, and the
 * OpenID provider of tools/drill/oidc-server.ts reading its clients from, and recording its tokens in, the
 * database at its DATABASE_URL. Traffic is client_credentials token requests: every acknowledged token is
 * a row the server wrote, which is what the RPO counts.
 */
import { spawnSync } from "child_process";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { OAUTH2_TABLES, seedSql } from "../sandbox/oauth2-schema";
import { createBucket, createSecret, passphraseFile, putObject, runScript, ScriptResult } from "../sandbox/scripts";
import { LOCALHOST, MotoServer, PG_BIN, PgServer } from "../sandbox/servers";
import { OidcServer, rsaSigningKey, smokeClientSql } from "./oidc-server";

export const SMOKE_CLIENT = "oauth2-dr-smoke-test";
export const TRAFFIC_CLIENT = "oauth2-dr-drill-traffic";
export const SMOKE_SECRET_ID = "oauth2/smoke-test-client";
export const BUCKET = "oauth2-backups-drill";
const asRoot = typeof process.getuid === "function" && process.getuid() === 0;

export interface WorldOptions {
    /** oauth2_authorization rows to seed (clients and consents scale with it). */
    rows: number;
    replica: boolean;
}

/** Runs a PostgreSQL binary as the postgres OS user when we are root; throws with its stderr on failure. */
export function pgAsOwner(binary: string, args: string[]): void {
    const full = path.join(PG_BIN, binary);
    const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", full, ...args]] : [full, args];
    const result = spawnSync(cmd, argv, { encoding: "utf8", timeout: 300_000 });
    if (result.status !== 0) {
        throw new Error(`${binary} ${args.join(" ")} failed (${result.status ?? result.signal}): ${result.stderr}`);
    }
}

export const dbUrl = (pg: PgServer, database = "oauth2db") => `postgres://postgres@${LOCALHOST}:${pg.port}/${database}`;

export class DrillWorld {
    private replicaDir?: string;

    private constructor(
        readonly primary: PgServer,
        readonly replica: PgServer | undefined,
        readonly moto: MotoServer,
        readonly server: OidcServer,
        readonly workDir: string,
        readonly passphrase: string,
        private readonly trafficSecret: string,
    ) {}

    static async start(options: WorldOptions): Promise<DrillWorld> {
        const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-drill-"));
        const [primary, moto] = await Promise.all([
            PgServer.start({ settings: { full_page_writes: "on", wal_level: "replica", max_wal_senders: "4" } }),
            MotoServer.start(),
        ]);
        let replica: PgServer | undefined;
        let replicaDir: string | undefined;
        let server: OidcServer | undefined;
        try {
            primary.createDatabase("oauth2db");
            const smokeSecret = randomBytes(24).toString("base64url");
            const trafficSecret = randomBytes(24).toString("base64url");
            const clients = Math.max(5, Math.ceil(options.rows / 50));
            primary.psql([
                seedSql({ clients, authorizations: options.rows, consents: Math.ceil(options.rows / 4) }),
                smokeClientSql(SMOKE_CLIENT, smokeSecret),
                smokeClientSql(TRAFFIC_CLIENT, trafficSecret, "DR drill traffic"),
            ].join("\n"));
            createBucket(moto, BUCKET);
            createSecret(moto, SMOKE_SECRET_ID, JSON.stringify({ client_id: SMOKE_CLIENT, client_secret: smokeSecret }));
            if (options.replica) {
                replicaDir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-replica-"));
                if (asRoot) {
                    spawnSync("chown", ["postgres:postgres", replicaDir]);
                }
                pgAsOwner("pg_basebackup", ["-h", LOCALHOST, "-p", String(primary.port), "-U", "postgres", "-D", path.join(replicaDir, "data"), "-R", "-X", "stream", "-c", "fast"]);
                replica = await PgServer.start({ dataDir: path.join(replicaDir, "data"), settings: { hot_standby: "on" } });
            }
            server = await OidcServer.start({ keys: [rsaSigningKey(`drill-${Date.now()}`), rsaSigningKey("drill-previous")], databaseUrl: dbUrl(primary) });
            // What secrets-export does for the JWKS: the served keys, backed up under secrets/.
            const jwks = await (await fetch(`${server.url}/jwks`)).text();
            putObject(moto, BUCKET, "secrets/jwks.json", jwks);
            const world = new DrillWorld(primary, replica, moto, server, workDir, passphraseFile(workDir, randomBytes(32).toString("hex")), trafficSecret);
            world.replicaDir = replicaDir;
            return world;
        } catch (err) {
            await server?.stop();
            await Promise.all([replica?.stop(), primary.stop(), moto.stop()]);
            for (const dir of [workDir, replicaDir]) {
                if (dir) fs.rmSync(dir, { recursive: true, force: true });
            }
            throw err;
        }
    }

    /** Row counts of the server's tables in `database` on `pg`. */
    rowCounts(pg: PgServer, database = "oauth2db"): Record<string, number> {
        return Object.fromEntries(OAUTH2_TABLES.map((t) => [t, Number(pg.psql(`SELECT count(*) FROM ${t}`, database))]));
    }

    /** The libpq, AWS and bucket environment of the scripts against `pg`/`database`. */
    scriptEnv(pg: PgServer, database = "oauth2db"): Record<string, string> {
        return { ...pg.env(database), ...this.moto.env(), BUCKET, PASSPHRASE_FILE: this.passphrase };
    }

    /** scripts/validate-service.sh against the server, expecting the database `pg`/`database`. */
    validate(pg: PgServer, database = "oauth2db"): Promise<ScriptResult> {
        return runScript("validate-service.sh", {
            ...this.scriptEnv(pg, database),
            ISSUER: this.server.issuer,
            SMOKE_CLIENT_SECRET_ID: SMOKE_SECRET_ID,
            HTTP_TIMEOUT: "5",
        });
    }

    /** Simulates the loss of the primary's region: the server process dies without a checkpoint. */
    crashPrimary(): void {
        pgAsOwner("pg_ctl", ["-D", this.primary.dataDir, "-m", "immediate", "-w", "stop"]);
    }

    startTraffic(): Traffic {
        return new Traffic(`${this.server.url}/token`, TRAFFIC_CLIENT, this.trafficSecret);
    }

    /** md5 of the traffic client's token values present in `database` on `pg` (what survived). */
    trafficTokens(pg: PgServer, database = "oauth2db"): Set<string> {
        const out = pg.psql(`SELECT md5(a.access_token_value) FROM oauth2_authorization a JOIN oauth2_registered_client c ON c.id = a.registered_client_id WHERE c.client_id = '${TRAFFIC_CLIENT}'`, database);
        return new Set(out.split("\n").filter(Boolean));
    }

    async stop(): Promise<void> {
        await this.server.stop();
        // A crashed primary is already down: stop() then only removes its directories.
        await Promise.all([this.primary.stop(), this.replica?.stop(), this.moto.stop()]);
        for (const dir of [this.workDir, this.replicaDir]) {
            if (dir) fs.rmSync(dir, { recursive: true, force: true });
        }
    }
}

export interface Ack {
    /** md5 of the token value, as stored in oauth2_authorization.access_token_value. */
    md5: string;
    at: number;
}

/** A client sending client_credentials requests back to back; every 200 is an acknowledged write. */
export class Traffic {
    readonly acks: Ack[] = [];
    failures = 0;
    private running = true;
    private readonly loop: Promise<void>;

    constructor(private readonly tokenUrl: string, clientId: string, secret: string) {
        const authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`;
        this.loop = this.run(authorization);
    }

    private async run(authorization: string): Promise<void> {
        while (this.running) {
            try {
                const response = await fetch(this.tokenUrl, {
                    method: "POST",
                    headers: { authorization, "content-type": "application/x-www-form-urlencoded" },
                    body: "grant_type=client_credentials",
                    signal: AbortSignal.timeout(5000),
                });
                const body = (await response.json()) as { access_token?: string };
                if (response.status === 200 && body.access_token) {
                    this.acks.push({ md5: createHash("md5").update(body.access_token).digest("hex"), at: Date.now() });
                } else {
                    this.failures++;
                }
            } catch {
                this.failures++;
            }
            // About 50 writes a second at most: traffic, not a load test.
            await new Promise((r) => setTimeout(r, 20));
        }
    }

    async stop(): Promise<void> {
        this.running = false;
        await this.loop;
    }
}
