/**
 * Databases shaped like Spring Authorization Server's JDBC schema, at each release that changed it, and
 * generated rows that look like the server's (JSON settings, JWT-sized token values, awkward client names).
 *
 * Column sets from the project's published DDL (oauth2-registered-client-schema.sql,
 * oauth2-authorization-schema.sql, oauth2-authorization-consent-schema.sql) at the tags below. Those files
 * say `blob` for token values and metadata, and tell PostgreSQL users to use `text`, as done here.
 *   0.2.0  no authorized_scopes, no device/user code columns, no post_logout_redirect_uris;
 *          attributes varchar(4000), *_metadata varchar(2000)
 *   0.2.3  as 0.2.0, but attributes and *_metadata are blob (text)
 *   0.4.0  + oauth2_authorization.authorized_scopes
 *   1.1.0  + oauth2_registered_client.post_logout_redirect_uris, + user_code_* and device_code_* (unchanged
 *          since, through 1.5.x)
 */

export const OAUTH2_TABLES = ["oauth2_authorization", "oauth2_authorization_consent", "oauth2_registered_client"] as const;

export const SCHEMA_RELEASES = ["0.2.0", "0.2.3", "0.4.0", "1.1.0"] as const;
export type SchemaRelease = (typeof SCHEMA_RELEASES)[number];
export const LATEST_RELEASE: SchemaRelease = "1.1.0";

const atLeast = (release: SchemaRelease, min: SchemaRelease) => SCHEMA_RELEASES.indexOf(release) >= SCHEMA_RELEASES.indexOf(min);

type Column = [name: string, type: string];

function registeredClientColumns(release: SchemaRelease): Column[] {
    return [
        ["id", "varchar(100) NOT NULL"],
        ["client_id", "varchar(100) NOT NULL"],
        ["client_id_issued_at", "timestamp DEFAULT CURRENT_TIMESTAMP NOT NULL"],
        ["client_secret", "varchar(200) DEFAULT NULL"],
        ["client_secret_expires_at", "timestamp DEFAULT NULL"],
        ["client_name", "varchar(200) NOT NULL"],
        ["client_authentication_methods", "varchar(1000) NOT NULL"],
        ["authorization_grant_types", "varchar(1000) NOT NULL"],
        ["redirect_uris", "varchar(1000) DEFAULT NULL"],
        ...(atLeast(release, "1.1.0") ? [["post_logout_redirect_uris", "varchar(1000) DEFAULT NULL"] as Column] : []),
        ["scopes", "varchar(1000) NOT NULL"],
        ["client_settings", "varchar(2000) NOT NULL"],
        ["token_settings", "varchar(2000) NOT NULL"],
    ];
}

function authorizationColumns(release: SchemaRelease): Column[] {
    const blob = "text DEFAULT NULL";
    const metadata = release === "0.2.0" ? "varchar(2000) DEFAULT NULL" : blob;
    const token = (name: string): Column[] => [
        [`${name}_value`, blob],
        [`${name}_issued_at`, "timestamp DEFAULT NULL"],
        [`${name}_expires_at`, "timestamp DEFAULT NULL"],
        [`${name}_metadata`, metadata],
    ];
    return [
        ["id", "varchar(100) NOT NULL"],
        ["registered_client_id", "varchar(100) NOT NULL"],
        ["principal_name", "varchar(200) NOT NULL"],
        ["authorization_grant_type", "varchar(100) NOT NULL"],
        ...(atLeast(release, "0.4.0") ? [["authorized_scopes", "varchar(1000) DEFAULT NULL"] as Column] : []),
        ["attributes", release === "0.2.0" ? "varchar(4000) DEFAULT NULL" : blob],
        ["state", "varchar(500) DEFAULT NULL"],
        ...token("authorization_code"),
        ...token("access_token"),
        ["access_token_type", "varchar(100) DEFAULT NULL"],
        ["access_token_scopes", "varchar(1000) DEFAULT NULL"],
        ...token("oidc_id_token"),
        ...token("refresh_token"),
        ...(atLeast(release, "1.1.0") ? [...token("user_code"), ...token("device_code")] : []),
    ];
}

const CONSENT_COLUMNS: Column[] = [
    ["registered_client_id", "varchar(100) NOT NULL"],
    ["principal_name", "varchar(200) NOT NULL"],
    ["authorities", "varchar(1000) NOT NULL"],
];

function createTable(table: string, columns: Column[], primaryKey: string): string {
    return `CREATE TABLE IF NOT EXISTS ${table} (\n${columns.map(([n, t]) => `    ${n} ${t},`).join("\n")}\n    PRIMARY KEY (${primaryKey})\n);`;
}

/** The three tables as a PostgreSQL user of `release` created them. */
export function schemaSql(release: SchemaRelease = LATEST_RELEASE): string {
    return [
        createTable("oauth2_registered_client", registeredClientColumns(release), "id"),
        createTable("oauth2_authorization", authorizationColumns(release), "id"),
        createTable("oauth2_authorization_consent", CONSENT_COLUMNS, "registered_client_id, principal_name"),
    ].join("\n");
}

/** Today's schema (1.1.0 and later). */
export const SCHEMA_SQL = schemaSql(LATEST_RELEASE);

/**
 * Rows [from, to] of oauth2_registered_client. Every seventh client has an awkward name (quotes, a tab, a
 * newline, a backslash, non-ASCII letters and an emoji), as operators type them.
 */
export function clientRowsSql(from: number, to: number, release: SchemaRelease = LATEST_RELEASE): string {
    const logout = atLeast(release, "1.1.0");
    return `INSERT INTO oauth2_registered_client (id, client_id, client_id_issued_at, client_secret, client_secret_expires_at,
    client_name, client_authentication_methods, authorization_grant_types, redirect_uris,${logout ? " post_logout_redirect_uris," : ""}
    scopes, client_settings, token_settings)
SELECT 'client-' || g, 'client-id-' || g, now() - (g || ' minutes')::interval,
       '{bcrypt}$2a$10$' || substr(md5(g::text) || md5((g * 7)::text), 1, 53), NULL,
       CASE WHEN g % 7 = 0 THEN E'Caf\\u00e9 "Ops" \\'${"$"}{team}\\' \\t tab\\nnewline \\\\ back\\u00df \\U0001F511 ' || g ELSE 'Client ' || g END,
       'client_secret_basic', 'authorization_code,refresh_token,client_credentials',
       'https://app' || g || '.example.com/login/oauth2/code/oauth2',${logout ? " 'https://app' || g || '.example.com/logged-out'," : ""}
       'openid,profile,message.read',
       '{"@class":"java.util.Collections$UnmodifiableMap","settings.client.require-proof-key":false,"settings.client.require-authorization-consent":true}',
       '{"@class":"java.util.Collections$UnmodifiableMap","settings.token.reuse-refresh-tokens":true,"settings.token.access-token-time-to-live":["java.time.Duration",300.000000000],"settings.token.refresh-token-time-to-live":["java.time.Duration",3600.000000000]}'
FROM generate_series(${from}, ${to}) AS g
ON CONFLICT DO NOTHING;`;
}

/**
 * Rows [from, to] of oauth2_authorization, about 1.6 kB each: a JWT-sized access token (random hex,
 * so it compresses like real tokens rather than like repeated text), a refresh token, the attributes and
 * metadata JSON that the server writes. From 1.1.0 every tenth row is a device-code grant.
 */
export function authorizationRowsSql(from: number, to: number, clients: number, release: SchemaRelease = LATEST_RELEASE): string {
    const hex = (n: number, seed: string) =>
        Array.from({ length: n }, (_, i) => `md5(g::text || '${seed}${i}')`).join(" || ");
    const scopes = atLeast(release, "0.4.0");
    const device = atLeast(release, "1.1.0");
    return `INSERT INTO oauth2_authorization (id, registered_client_id, principal_name, authorization_grant_type,${scopes ? " authorized_scopes," : ""}
    attributes, state, access_token_value, access_token_issued_at, access_token_expires_at,
    access_token_metadata, access_token_type, access_token_scopes, refresh_token_value, refresh_token_issued_at,
    refresh_token_expires_at, refresh_token_metadata${device ? ", device_code_value, device_code_issued_at, device_code_expires_at, user_code_value" : ""})
SELECT 'auth-' || g, 'client-' || (1 + g % ${clients}), 'user-' || (g % 10007),
       ${device ? "CASE WHEN g % 10 = 0 THEN 'urn:ietf:params:oauth:grant-type:device_code' ELSE 'authorization_code' END" : "'authorization_code'"},
       ${scopes ? "'openid,profile'," : ""}
       '{"@class":"java.util.Collections$UnmodifiableMap","java.security.Principal":{"@class":"org.springframework.security.authentication.UsernamePasswordAuthenticationToken","principal":"user-' || (g % 10007) || '","nonce":"' || ${hex(2, "n")} || '"}}',
       NULL,
       'eyJhbGciOiJSUzI1NiJ9.' || ${hex(16, "a")},
       now() - (g % 3600 || ' seconds')::interval, now() + interval '5 minutes',
       '{"@class":"java.util.Collections$UnmodifiableMap","metadata.token.invalidated":false,"metadata.token.claims":{"sub":"user-' || (g % 10007) || '"}}',
       'Bearer', 'openid,profile',
       ${hex(2, "r")}, now() - interval '1 minute', now() + interval '1 hour',
       '{"@class":"java.util.Collections$UnmodifiableMap","metadata.token.invalidated":false}'
       ${device ? ", CASE WHEN g % 10 = 0 THEN md5(g::text || 'd') END, CASE WHEN g % 10 = 0 THEN now() END, CASE WHEN g % 10 = 0 THEN now() + interval '5 minutes' END, CASE WHEN g % 10 = 0 THEN upper(substr(md5(g::text), 1, 4) || '-' || substr(md5(g::text), 5, 4)) END" : ""}
FROM generate_series(${from}, ${to}) AS g
ON CONFLICT DO NOTHING;`;
}

export function consentRowsSql(from: number, to: number, clients: number): string {
    return `INSERT INTO oauth2_authorization_consent
SELECT 'client-' || (1 + g % ${clients}), 'user-' || g, 'SCOPE_openid,SCOPE_profile,SCOPE_message.read'
FROM generate_series(${from}, ${to}) AS g
ON CONFLICT DO NOTHING;`;
}

export interface SeedSize {
    clients: number;
    authorizations: number;
    consents: number;
}

export function seedSql(size: SeedSize, release: SchemaRelease = LATEST_RELEASE): string {
    return [
        schemaSql(release),
        clientRowsSql(1, size.clients, release),
        authorizationRowsSql(1, size.authorizations, size.clients, release),
        consentRowsSql(1, size.consents, size.clients),
    ].join("\n");
}

/** What users add next to the server's tables: an application table and a second schema with its own data. */
export const EXTRA_OBJECTS_SQL = `
CREATE TABLE IF NOT EXISTS app_user (id bigserial PRIMARY KEY, username text NOT NULL UNIQUE, enabled boolean NOT NULL DEFAULT true);
INSERT INTO app_user (username) SELECT 'user-' || g FROM generate_series(1, 50) g ON CONFLICT DO NOTHING;
CREATE SCHEMA IF NOT EXISTS audit;
CREATE TABLE IF NOT EXISTS audit.login_event (id bigserial PRIMARY KEY, principal text NOT NULL, at timestamptz NOT NULL DEFAULT now(), detail jsonb);
INSERT INTO audit.login_event (principal, detail) SELECT 'user-' || g, jsonb_build_object('ip', '10.0.0.' || g) FROM generate_series(1, 30) g;
`;

/** Per-table checksum of the ordered rows, for comparing a restored database with its source. */
export function checksumSql(table: string): string {
    return `SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') FROM ${table} t;`;
}
