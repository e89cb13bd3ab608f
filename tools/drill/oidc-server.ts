/**
 * A real OpenID provider standing in for the authorization server in tests and drills: `oidc-provider` (a
 * certified implementation) configured for `client_credentials` with JWT access tokens signed by a JWKS,
 * behind a small wrapper that adds what Spring Authorization Server adds around it:
 *
 * - clients are read from `oauth2_registered_client` of the database at DATABASE_URL (the server's
 *   JdbcRegisteredClientRepository), on every request, so a switched or restored database is what answers;
 * - every issued access token is recorded in `oauth2_authorization` (JdbcOAuth2AuthorizationService);
 * - `/actuator/health` reports UP only while that database answers (Spring Boot's db health indicator).
 *
 * Listens on 127.0.0.1 only. Fault injection for tests and drills: `health` forced DOWN, a `jwksFilter`
 * that changes the keys the JWKS endpoint serves.
 *
 * oidc-provider 8.x: it supports Node 18 LTS and later, so the Node 20 of package.json's `engines`. Every 9.x
 * release wants Node 22 LTS ("Unsupported runtime" on every load under Node 20); the features used here
 * (client_credentials, resource indicators with JWT access tokens, a custom adapter) are the same in both.
 */
import { randomUUID, generateKeyPair, generateKeyPairSync, type JsonWebKey, type KeyObject } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";
import Provider, { type Adapter, type AdapterPayload, type Configuration, type JWKS } from "oidc-provider";
import { Pool } from "pg";

export const LOCALHOST = "127.0.0.1";
/** The resource server of the tokens: JWT access tokens need one (RFC 8707). */
export const API_RESOURCE = "urn:oauth2-dr:api";

export type PrivateJwk = JsonWebKey & { kid: string; alg: string; use: string };

/** An RS256 signing key as a private JWK with its kid. */
export function rsaSigningKey(kid: string): PrivateJwk {
    return rs256Jwk(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey, kid);
}

/** A private RSA key as the provider's RS256 signing JWK, with its kid. */
function rs256Jwk(privateKey: KeyObject, kid: string): PrivateJwk {
    return { ...privateKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
}

/** rsaSigningKey without blocking the event loop: the key is made on libuv's thread pool (so two at once on two cores). */
export function rsaSigningKeyAsync(kid: string): Promise<PrivateJwk> {
    return new Promise((resolve, reject) => {
        generateKeyPair("rsa", { modulusLength: 2048 }, (err: Error | null, _publicKey: KeyObject, privateKey: KeyObject) => {
            if (err) {
                reject(err);
            } else {
                resolve(rs256Jwk(privateKey, kid));
            }
        });
    });
}

/** An ES256 (P-256) or ES384 (P-384) signing key as a private JWK with its kid. */
export function ecSigningKey(kid: string, alg: "ES256" | "ES384" = "ES256"): PrivateJwk {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: alg === "ES256" ? "P-256" : "P-384" });
    return { ...privateKey.export({ format: "jwk" }), kid, alg, use: "sig" };
}

/** The public half of a JWKS (what the server serves at /oauth2/jwks and secrets-export backs up). */
export function publicJwks(keys: PrivateJwk[]): { keys: Record<string, string>[] } {
    return {
        keys: keys.map((k): Record<string, string> => (k.kty === "EC"
            ? { kty: "EC", kid: k.kid, alg: k.alg, use: k.use, crv: k.crv!, x: k.x!, y: k.y! }
            : { kty: k.kty!, kid: k.kid, alg: k.alg, use: k.use, n: k.n!, e: k.e! })),
    };
}

export interface OidcServerOptions {
    /** The issuer; a function of the bound port (default http://127.0.0.1:<port>). */
    issuer?: (port: number) => string;
    /** Private signing keys; the first one signs. */
    keys: PrivateJwk[];
    /** postgres:// URL of the server's database (its DATABASE_URL). */
    databaseUrl: string;
    /** The access tokens' signing algorithm (default RS256); `keys` must hold a key for it. */
    alg?: SigningAlg;
}

export type SigningAlg = "RS256" | "PS256" | "ES256" | "ES384";

interface RegisteredClientRow {
    client_id: string;
    client_secret: string | null;
    client_authentication_methods: string;
    authorization_grant_types: string;
    scopes: string;
}

const list = (csv: string) => csv.split(",").map((s) => s.trim()).filter(Boolean);

/** oidc-provider client metadata from a row of Spring's oauth2_registered_client; only {noop} secrets. */
function clientMetadata(row: RegisteredClientRow): AdapterPayload | undefined {
    const secret = row.client_secret?.startsWith("{noop}") ? row.client_secret.slice("{noop}".length) : undefined;
    const methods = list(row.client_authentication_methods);
    if (!secret || !list(row.authorization_grant_types).includes("client_credentials")) {
        return undefined;
    }
    return {
        client_id: row.client_id,
        client_secret: secret,
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: methods.includes("client_secret_basic") ? "client_secret_basic" : "client_secret_post",
        scope: list(row.scopes).join(" "),
    };
}

export class OidcServer {
    /** UP, or DOWN to force the health endpoint down. */
    health: "UP" | "DOWN" = "UP";
    /** Changes the served JWKS (fault injection: a kid rotated away, a key missing or substituted). */
    jwksFilter: (keys: Record<string, unknown>[]) => Record<string, unknown>[] = (keys) => keys;
    /** Access tokens issued so far. */
    issued = 0;
    private pool: Pool;

    private constructor(
        private readonly server: http.Server,
        readonly url: string,
        readonly issuer: string,
        databaseUrl: string,
    ) {
        this.pool = new Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 3000 });
        this.pool.on("error", () => undefined);
    }

    static async start(options: OidcServerOptions): Promise<OidcServer> {
        let handler: http.RequestListener = (_req, res) => res.writeHead(503).end();
        const server = http.createServer((req, res) => handler(req, res));
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(0, LOCALHOST, resolve);
        });
        const port = (server.address() as AddressInfo).port;
        const url = `http://${LOCALHOST}:${port}`;
        const issuer = options.issuer?.(port) ?? url;
        const self = new OidcServer(server, url, issuer, options.databaseUrl);
        const provider = self.provider(issuer, options.keys, options.alg ?? "RS256");
        const oidc = provider.callback();
        handler = (req, res) => {
            if (req.url?.split("?")[0] === "/actuator/health") {
                void self.respondHealth(res);
            } else {
                oidc(req, res);
            }
        };
        return self;
    }

    /** Points the server at another database, as a restart with a new DATABASE_URL does. */
    async switchDatabase(databaseUrl: string): Promise<void> {
        const old = this.pool;
        this.pool = new Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 3000 });
        this.pool.on("error", () => undefined);
        await old.end();
    }

    async stop(): Promise<void> {
        this.server.closeAllConnections();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
        await this.pool.end();
    }

    private async respondHealth(res: http.ServerResponse): Promise<void> {
        let status = this.health;
        if (status === "UP") {
            try {
                await this.pool.query("SELECT 1");
            } catch {
                status = "DOWN";
            }
        }
        res.writeHead(status === "UP" ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify({ status }));
    }

    private provider(issuer: string, keys: PrivateJwk[], alg: SigningAlg): Provider {
        const configuration: Configuration = {
            adapter: this.adapterClass(),
            jwks: { keys } as unknown as JWKS,
            cookies: { keys: [randomUUID()] },
            scopes: ["api.read"],
            ttl: { ClientCredentials: 300 },
            features: {
                devInteractions: { enabled: false },
                clientCredentials: { enabled: true },
                resourceIndicators: {
                    enabled: true,
                    defaultResource: () => API_RESOURCE,
                    useGrantedResource: () => true,
                    getResourceServerInfo: () => ({
                        scope: "api.read",
                        audience: API_RESOURCE,
                        accessTokenFormat: "jwt",
                        accessTokenTTL: 300,
                        jwt: { sign: { alg } },
                    }),
                },
            },
        };
        const provider = new Provider(issuer, configuration);
        // Spring's JdbcOAuth2AuthorizationService saves every authorization it issues: so does this server.
        provider.use(async (ctx, next) => {
            await next();
            const body = ctx.body as { access_token?: string; expires_in?: number } | undefined;
            if (ctx.path === "/token" && ctx.status === 200 && body?.access_token) {
                try {
                    await this.recordAuthorization(body.access_token, body.expires_in ?? 300, String(ctx.oidc?.client?.clientId ?? ""));
                } catch (error) {
                    // The database is down (a drill's failure): the token is not issued, as Spring's server answers
                    // when its JdbcOAuth2AuthorizationService cannot save it: 500 server_error. Thrown, koa printed the
                    // error's stack on the drill's output (and the test suite's) for each such request.
                    ctx.status = 500;
                    ctx.body = { error: "server_error", error_description: `the authorization could not be saved: ${(error as Error).message}` };
                    return;
                }
                this.issued++;
            }
            if (ctx.path === "/jwks" && ctx.status === 200) {
                const jwks = ctx.body as { keys: Record<string, unknown>[] };
                ctx.body = { keys: this.jwksFilter(jwks.keys) };
            }
        });
        return provider;
    }

    private async recordAuthorization(token: string, expiresIn: number, clientId: string): Promise<void> {
        await this.pool.query(
            `INSERT INTO oauth2_authorization (id, registered_client_id, principal_name, authorization_grant_type,
                access_token_value, access_token_issued_at, access_token_expires_at, access_token_type)
             SELECT $1, id, client_id, 'client_credentials', $2, now(), now() + make_interval(secs => $3), 'Bearer'
             FROM oauth2_registered_client WHERE client_id = $4`,
            [randomUUID(), token, expiresIn, clientId],
        );
    }

    /** Clients from the database; every other model of oidc-provider in memory. */
    private adapterClass(): new (name: string) => Adapter {
        // The pool changes when the database is switched: read it at each query.
        const findClient = (id: string) => this.pool.query<RegisteredClientRow>(
            "SELECT client_id, client_secret, client_authentication_methods, authorization_grant_types, scopes FROM oauth2_registered_client WHERE client_id = $1",
            [id],
        );
        const memory = new Map<string, AdapterPayload>();
        return class DatabaseClientsAdapter implements Adapter {
            constructor(private readonly model: string) {}

            async find(id: string): Promise<AdapterPayload | undefined> {
                if (this.model !== "Client") {
                    return memory.get(`${this.model}:${id}`);
                }
                const result = await findClient(id);
                return result.rows[0] ? clientMetadata(result.rows[0]) : undefined;
            }

            async upsert(id: string, payload: AdapterPayload): Promise<void> {
                memory.set(`${this.model}:${id}`, payload);
            }

            async destroy(id: string): Promise<void> {
                memory.delete(`${this.model}:${id}`);
            }

            async consume(id: string): Promise<void> {
                const payload = memory.get(`${this.model}:${id}`);
                if (payload) {
                    payload.consumed = Math.floor(Date.now() / 1000);
                }
            }

            async findByUid(): Promise<undefined> {
                return undefined;
            }

            async findByUserCode(): Promise<undefined> {
                return undefined;
            }

            async revokeByGrantId(): Promise<void> {
                return undefined;
            }
        };
    }
}

/** SQL registering a smoke-test client (client_credentials, client_secret_basic) as Spring stores it. */
export function smokeClientSql(clientId: string, secret: string, clientName = "DR smoke test"): string {
    const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
    return `INSERT INTO oauth2_registered_client (id, client_id, client_secret, client_name, client_authentication_methods,
    authorization_grant_types, scopes, client_settings, token_settings)
VALUES (${quote(randomUUID())}, ${quote(clientId)}, ${quote(`{noop}${secret}`)}, ${quote(clientName)}, 'client_secret_basic',
    'client_credentials', 'api.read',
    '{"@class":"java.util.Collections$UnmodifiableMap","settings.client.require-proof-key":false,"settings.client.require-authorization-consent":false}',
    '{"@class":"java.util.Collections$UnmodifiableMap","settings.token.access-token-time-to-live":["java.time.Duration",300.000000000]}')
ON CONFLICT DO NOTHING;`;
}
