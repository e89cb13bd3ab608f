/**
 * A database shaped like Spring Authorization Server's JDBC schema (oauth2-registered-client-schema.sql,
 * oauth2-authorization-schema.sql with PostgreSQL's text columns, oauth2-authorization-consent-schema.sql),
 * and generated rows that look like the server's (JSON settings, JWT-sized token values).
 */

export const OAUTH2_TABLES = ["oauth2_authorization", "oauth2_authorization_consent", "oauth2_registered_client"] as const;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS oauth2_registered_client (
    id varchar(100) NOT NULL,
    client_id varchar(100) NOT NULL,
    client_id_issued_at timestamp DEFAULT CURRENT_TIMESTAMP NOT NULL,
    client_secret varchar(200) DEFAULT NULL,
    client_secret_expires_at timestamp DEFAULT NULL,
    client_name varchar(200) NOT NULL,
    client_authentication_methods varchar(1000) NOT NULL,
    authorization_grant_types varchar(1000) NOT NULL,
    redirect_uris varchar(1000) DEFAULT NULL,
    post_logout_redirect_uris varchar(1000) DEFAULT NULL,
    scopes varchar(1000) NOT NULL,
    client_settings varchar(2000) NOT NULL,
    token_settings varchar(2000) NOT NULL,
    PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS oauth2_authorization (
    id varchar(100) NOT NULL,
    registered_client_id varchar(100) NOT NULL,
    principal_name varchar(200) NOT NULL,
    authorization_grant_type varchar(100) NOT NULL,
    authorized_scopes varchar(1000) DEFAULT NULL,
    attributes text DEFAULT NULL,
    state varchar(500) DEFAULT NULL,
    authorization_code_value text DEFAULT NULL,
    authorization_code_issued_at timestamp DEFAULT NULL,
    authorization_code_expires_at timestamp DEFAULT NULL,
    authorization_code_metadata text DEFAULT NULL,
    access_token_value text DEFAULT NULL,
    access_token_issued_at timestamp DEFAULT NULL,
    access_token_expires_at timestamp DEFAULT NULL,
    access_token_metadata text DEFAULT NULL,
    access_token_type varchar(100) DEFAULT NULL,
    access_token_scopes varchar(1000) DEFAULT NULL,
    oidc_id_token_value text DEFAULT NULL,
    oidc_id_token_issued_at timestamp DEFAULT NULL,
    oidc_id_token_expires_at timestamp DEFAULT NULL,
    oidc_id_token_metadata text DEFAULT NULL,
    refresh_token_value text DEFAULT NULL,
    refresh_token_issued_at timestamp DEFAULT NULL,
    refresh_token_expires_at timestamp DEFAULT NULL,
    refresh_token_metadata text DEFAULT NULL,
    user_code_value text DEFAULT NULL,
    user_code_issued_at timestamp DEFAULT NULL,
    user_code_expires_at timestamp DEFAULT NULL,
    user_code_metadata text DEFAULT NULL,
    device_code_value text DEFAULT NULL,
    device_code_issued_at timestamp DEFAULT NULL,
    device_code_expires_at timestamp DEFAULT NULL,
    device_code_metadata text DEFAULT NULL,
    PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS oauth2_authorization_consent (
    registered_client_id varchar(100) NOT NULL,
    principal_name varchar(200) NOT NULL,
    authorities varchar(1000) NOT NULL,
    PRIMARY KEY (registered_client_id, principal_name)
);
`;

/** Rows [from, to] of oauth2_registered_client. */
export function clientRowsSql(from: number, to: number): string {
    return `INSERT INTO oauth2_registered_client
SELECT 'client-' || g, 'client-id-' || g, now() - (g || ' minutes')::interval,
       '{bcrypt}$2a$10$' || substr(md5(g::text) || md5((g * 7)::text), 1, 53), NULL,
       'Client ' || g, 'client_secret_basic', 'authorization_code,refresh_token,client_credentials',
       'https://app' || g || '.example.com/login/oauth2/code/oauth2', 'https://app' || g || '.example.com/logged-out',
       'openid,profile,message.read',
       '{"@class":"java.util.Collections$UnmodifiableMap","settings.client.require-proof-key":false,"settings.client.require-authorization-consent":true}',
       '{"@class":"java.util.Collections$UnmodifiableMap","settings.token.reuse-refresh-tokens":true,"settings.token.access-token-time-to-live":["java.time.Duration",300.000000000],"settings.token.refresh-token-time-to-live":["java.time.Duration",3600.000000000]}'
FROM generate_series(${from}, ${to}) AS g
ON CONFLICT DO NOTHING;`;
}

/**
 * Rows [from, to] of oauth2_authorization, about 1.6 kB each: a JWT-sized access token (random hex,
 * so it compresses like real tokens rather than like repeated text), a refresh token, the attributes and
 * metadata JSON that the server writes.
 */
export function authorizationRowsSql(from: number, to: number, clients: number): string {
    const hex = (n: number, seed: string) =>
        Array.from({ length: n }, (_, i) => `md5(g::text || '${seed}${i}')`).join(" || ");
    return `INSERT INTO oauth2_authorization (id, registered_client_id, principal_name, authorization_grant_type,
    authorized_scopes, attributes, state, access_token_value, access_token_issued_at, access_token_expires_at,
    access_token_metadata, access_token_type, access_token_scopes, refresh_token_value, refresh_token_issued_at,
    refresh_token_expires_at, refresh_token_metadata)
SELECT 'auth-' || g, 'client-' || (1 + g % ${clients}), 'user-' || (g % 10007), 'authorization_code',
       'openid,profile',
       '{"@class":"java.util.Collections$UnmodifiableMap","java.security.Principal":{"@class":"org.springframework.security.authentication.UsernamePasswordAuthenticationToken","principal":"user-' || (g % 10007) || '","nonce":"' || ${hex(2, "n")} || '"}}',
       NULL,
       'eyJhbGciOiJSUzI1NiJ9.' || ${hex(16, "a")},
       now() - (g % 3600 || ' seconds')::interval, now() + interval '5 minutes',
       '{"@class":"java.util.Collections$UnmodifiableMap","metadata.token.invalidated":false,"metadata.token.claims":{"sub":"user-' || (g % 10007) || '"}}',
       'Bearer', 'openid,profile',
       ${hex(2, "r")}, now() - interval '1 minute', now() + interval '1 hour',
       '{"@class":"java.util.Collections$UnmodifiableMap","metadata.token.invalidated":false}'
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

export function seedSql(size: SeedSize): string {
    return [
        SCHEMA_SQL,
        clientRowsSql(1, size.clients),
        authorizationRowsSql(1, size.authorizations, size.clients),
        consentRowsSql(1, size.consents, size.clients),
    ].join("\n");
}

/** Per-table checksum of the ordered rows, for comparing a restored database with its source. */
export function checksumSql(table: string): string {
    return `SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') FROM ${table} t;`;
}
