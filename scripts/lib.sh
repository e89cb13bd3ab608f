# shellcheck shell=bash
# lib.sh: helpers shared by the oauth2-dr backup scripts. Sourced by them, never run on its own.
#
# Exit codes (the same in every script; each script's header lists the ones it uses):
#   0    success (for the exports: also "unchanged, nothing uploaded")
#   1    unexpected error
#   2    usage or configuration error (a required variable is missing, a bad argument)
#   3    database error (cannot connect, pg_dump/pg_restore/psql failed)
#   4    storage error (S3 upload, download or listing failed; an object is missing or the wrong size)
#   5    encryption error (no passphrase, gpg failed: wrong passphrase, corrupt or truncated object)
#   6    verification failed (restore-verification.sh: at least one checklist item is FAIL)
#   7    nothing to restore (no manifest under database/manifests/)
#   8    source error (kubectl, Secrets Manager or the JWKS URL failed)
#   130  interrupted (SIGINT); 143 terminated (SIGTERM). Partial objects are hidden before exiting.
#
# Common environment:
#   BUCKET                      backup bucket name (required by every script)
#   AWS_REGION                  region of the bucket and secrets (optional; the CLI's default otherwise)
#   AWS_ENDPOINT_URL            S3/Secrets Manager/RDS endpoint override, for tests (moto). The AWS CLI v1
#                               ignores it for some services (rds), so it is passed as --endpoint-url.
#   PASSPHRASE_FILE             file holding the backup passphrase (first line), or
#   BACKUP_PASSPHRASE_SECRET_ID Secrets Manager id of the backup passphrase (SecretString)
#   PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE  the standard libpq variables (PGDATABASE
#                               defaults to oauth2db), or
#   DB_CREDENTIALS_SECRET_ID    Secrets Manager id of {"username","password"} (RDS-managed secret; needs jq)
#   DB_SCHEMA                   schema of the oauth2_* tables (default public)
#   TMPDIR                      scratch directory (default /tmp; an emptyDir in the CronJobs)

readonly EX_OK=0 EX_FAILURE=1 EX_USAGE=2 EX_DATABASE=3 EX_STORAGE=4 EX_CRYPTO=5 EX_VERIFY=6 EX_NO_BACKUP=7 EX_SOURCE=8
export EX_OK EX_FAILURE EX_USAGE EX_DATABASE EX_STORAGE EX_CRYPTO EX_VERIFY EX_NO_BACKUP EX_SOURCE

SCRIPT_NAME=${SCRIPT_NAME:-$(basename "$0" .sh)}
export PGDATABASE="${PGDATABASE:-oauth2db}"
DB_SCHEMA="${DB_SCHEMA:-public}"
# The tables of Spring Authorization Server's JDBC schema.
EXPECTED_TABLES="${EXPECTED_TABLES:-oauth2_authorization oauth2_authorization_consent oauth2_registered_client}"

log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SCRIPT_NAME" "$*" >&2; }

# die CODE MESSAGE...: log and exit with CODE (the EXIT trap of the script cleans up).
die() {
    local code=$1
    shift
    log "ERROR: $*"
    exit "$code"
}

require_env() {
    local name
    for name in "$@"; do
        [[ -n "${!name:-}" ]] || die "$EX_USAGE" "$name is required"
    done
}

require_cmd() {
    local cmd
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null 2>&1 || die "$EX_USAGE" "$cmd is not installed"
    done
}

now_utc() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# A short random suffix so that two runs in the same second never share an object key.
random_suffix() { od -An -N4 -tx1 /dev/urandom | tr -d ' \n'; }

# The AWS CLI with the test endpoint (if any) passed explicitly.
awscli() {
    local args=()
    [[ -n "${AWS_ENDPOINT_URL:-}" ]] && args+=(--endpoint-url "$AWS_ENDPOINT_URL")
    [[ -n "${AWS_REGION:-}" ]] && args+=(--region "$AWS_REGION")
    aws "${args[@]}" "$@"
}

s3_uri() { printf 's3://%s/%s' "$BUCKET" "$1"; }

# s3_size KEY: the stored object's size in bytes; fails if it does not exist.
s3_size() {
    awscli s3api head-object --bucket "$BUCKET" --key "$1" --query ContentLength --output text 2>/dev/null
}

# s3_metadata KEY NAME: a user metadata value of an object ("" when the object or the value is absent).
s3_metadata() {
    local value
    value=$(awscli s3api head-object --bucket "$BUCKET" --key "$1" --query "Metadata.\"$2\"" --output text 2>/dev/null) || value=""
    [[ "$value" == "None" ]] && value=""
    printf '%s' "$value"
}

# s3_keys PREFIX: every key under PREFIX, one a line, sorted (the CLI follows the pagination).
s3_keys() {
    local out
    out=$(awscli s3api list-objects-v2 --bucket "$BUCKET" --prefix "$1" --query 'Contents[].Key' --output text) || return "$EX_STORAGE"
    [[ -z "$out" || "$out" == "None" ]] && return 0
    printf '%s\n' "$out" | tr '\t' '\n' | sed '/^$/d;/^None$/d' | LC_ALL=C sort
}

# s3_put_file FILE KEY [extra aws s3 cp args]: upload a small file (manifests, pointers, exports).
s3_put_file() {
    local file=$1 key=$2
    shift 2
    awscli s3 cp "$file" "$(s3_uri "$key")" --only-show-errors "$@"
}

# --- scratch space and cleanup ------------------------------------------------------------------------

WORK_DIR=""
make_work_dir() {
    WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/${SCRIPT_NAME}.XXXXXX")
    chmod 700 "$WORK_DIR"
    export GNUPGHOME="$WORK_DIR/gnupg"
    mkdir -m 700 "$GNUPGHOME"
}

remove_work_dir() {
    if [[ -n "$WORK_DIR" && -d "$WORK_DIR" ]]; then
        gpgconf --kill gpg-agent >/dev/null 2>&1 || true
        rm -rf "$WORK_DIR"
    fi
}

# kill_job PID: terminate a background job started under `set -m` (its own process group) and reap it.
# For scripts whose only state is the work directory: on any exit remove it, log a failure and keep the
# exit code; INT and TERM exit with 130 and 143 through the same path.
cleanup_work_dir_on_exit() {
    local status=$?
    trap - EXIT INT TERM
    remove_work_dir
    [[ $status -eq 0 ]] || log "FAILED with exit code $status"
    exit "$status"
}
trap_work_dir_cleanup() {
    trap cleanup_work_dir_on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

kill_job() {
    local pid=$1
    [[ -n "$pid" ]] || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# --- passphrase and encryption ------------------------------------------------------------------------

BACKUP_PASSPHRASE=""
load_passphrase() {
    if [[ -n "${PASSPHRASE_FILE:-}" ]]; then
        [[ -r "$PASSPHRASE_FILE" ]] || die "$EX_CRYPTO" "PASSPHRASE_FILE $PASSPHRASE_FILE is not readable"
        IFS= read -r BACKUP_PASSPHRASE <"$PASSPHRASE_FILE" || true
    elif [[ -n "${BACKUP_PASSPHRASE_SECRET_ID:-}" ]]; then
        BACKUP_PASSPHRASE=$(awscli secretsmanager get-secret-value --secret-id "$BACKUP_PASSPHRASE_SECRET_ID" \
            --query SecretString --output text) || die "$EX_CRYPTO" "cannot read the backup passphrase from Secrets Manager ($BACKUP_PASSPHRASE_SECRET_ID)"
    else
        die "$EX_USAGE" "set PASSPHRASE_FILE or BACKUP_PASSPHRASE_SECRET_ID"
    fi
    [[ -n "$BACKUP_PASSPHRASE" ]] || die "$EX_CRYPTO" "the backup passphrase is empty"
}

# The passphrase reaches gpg on file descriptor 3 from a shell builtin: never on a command line, never on disk.
# No compression: pg_dump's custom format is compressed already.
gpg_encrypt() {
    gpg --batch --quiet --no-tty --yes --pinentry-mode loopback --no-symkey-cache --passphrase-fd 3 \
        --symmetric --cipher-algo AES256 --s2k-digest-algo SHA512 --compress-algo none --force-mdc \
        --output - 3< <(printf '%s' "$BACKUP_PASSPHRASE")
}

gpg_decrypt() {
    gpg --batch --quiet --no-tty --yes --pinentry-mode loopback --no-symkey-cache --passphrase-fd 3 \
        --decrypt --output - 3< <(printf '%s' "$BACKUP_PASSPHRASE")
}

# --- database -----------------------------------------------------------------------------------------

load_db_credentials() {
    if [[ -n "${DB_CREDENTIALS_SECRET_ID:-}" && -z "${PGPASSWORD:-}" ]]; then
        require_cmd jq
        local secret
        secret=$(awscli secretsmanager get-secret-value --secret-id "$DB_CREDENTIALS_SECRET_ID" \
            --query SecretString --output text) || die "$EX_DATABASE" "cannot read the database credentials ($DB_CREDENTIALS_SECRET_ID)"
        PGUSER=$(jq -er .username <<<"$secret") || die "$EX_DATABASE" "the credentials secret has no username"
        PGPASSWORD=$(jq -er .password <<<"$secret") || die "$EX_DATABASE" "the credentials secret has no password"
        export PGUSER PGPASSWORD
    fi
}

# psql_value SQL...: one unaligned value per row, no psqlrc, stop at the first error.
psql_value() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# The server's own queries (JdbcRegisteredClientRepository, JdbcOAuth2AuthorizationService,
# JdbcOAuth2AuthorizationConsentService) select these columns; a restored database is usable when they do.
server_columns() {
    case "$1" in
    oauth2_registered_client)
        echo "id, client_id, client_id_issued_at, client_secret, client_secret_expires_at, client_name, client_authentication_methods, authorization_grant_types, redirect_uris, post_logout_redirect_uris, scopes, client_settings, token_settings" ;;
    oauth2_authorization)
        echo "id, registered_client_id, principal_name, authorization_grant_type, authorized_scopes, attributes, state, authorization_code_value, authorization_code_issued_at, authorization_code_expires_at, authorization_code_metadata, access_token_value, access_token_issued_at, access_token_expires_at, access_token_metadata, access_token_type, access_token_scopes, oidc_id_token_value, oidc_id_token_issued_at, oidc_id_token_expires_at, oidc_id_token_metadata, refresh_token_value, refresh_token_issued_at, refresh_token_expires_at, refresh_token_metadata, user_code_value, user_code_issued_at, user_code_expires_at, user_code_metadata, device_code_value, device_code_issued_at, device_code_expires_at, device_code_metadata" ;;
    oauth2_authorization_consent)
        echo "registered_client_id, principal_name, authorities" ;;
    *)
        echo "*" ;;
    esac
}

# --- Kubernetes exports ------------------------------------------------------------------------------

# strip_server_fields < yaml: drops the fields that the API server manages (uid, resourceVersion,
# creationTimestamp, generation, selfLink, managedFields), so that an export can be re-applied and its hash
# changes only when the content does.
strip_server_fields() {
    awk '
        function indent_of(line) { match(line, /^[ ]*/); return RLENGTH }
        {
            n = indent_of($0)
            # Block scalars (key: | or >) are content: printed as they are.
            if (block) {
                if (n > block_indent || $0 ~ /^[ ]*$/) { print; next }
                block = 0
            }
            if (in_meta && n <= meta_indent && $0 !~ /^[ ]*$/) { in_meta = 0 }
        }
        skip {
            if (n > indent || (n == indent && substr($0, n + 1, 2) == "- ")) { next }
            skip = 0
        }
        /^[ ]*metadata:[ ]*$/ { in_meta = 1; meta_indent = n; print; next }
        in_meta && n == meta_indent + 2 && /^[ ]*managedFields:/ { indent = n; skip = 1; next }
        in_meta && n == meta_indent + 2 && /^[ ]*(uid|resourceVersion|creationTimestamp|generation|selfLink):/ { next }
        /:[ ]+[|>][-+0-9]*[ ]*$/ { block = 1; block_indent = n }
        { print }'
}

# --- manifests ----------------------------------------------------------------------------------------
# A manifest is JSON written by db-backup.sh, one field a line, so that these helpers can read it without
# jq:  "key": value  at two spaces of indentation, and the row counts as an object of table: count.

# manifest_get FILE KEY: a top-level scalar.
manifest_get() {
    sed -n "s/^  \"$2\": \(.*\)\$/\1/p" "$1" | head -n 1 | sed 's/,$//; s/^"//; s/"$//'
}

# manifest_row_counts FILE: "table count" lines.
manifest_row_counts() {
    awk '/^  "row_counts": \{/ { inside = 1; next }
         inside && /^  \}/ { inside = 0 }
         inside { gsub(/[",:]/, " "); print $1, $2 }' "$1"
}

# Key of the newest manifest (manifest keys sort by their UTC timestamp), or "" when there is none.
latest_manifest_key() {
    s3_keys "database/manifests/" | grep '\.json$' | tail -n 1 || true
}

# The manifest before KEY, or "".
previous_manifest_key() {
    s3_keys "database/manifests/" | grep '\.json$' | awk -v k="$1" '$0 < k' | tail -n 1 || true
}
