#!/usr/bin/env bash
# db-backup.sh: encrypted pg_dump of the authorization server's database, streamed to S3, then a manifest.
#
# What it does (the runbook's "Manual Database Backup", made safe for a CronJob):
#   1. opens a REPEATABLE READ transaction and exports its snapshot; pg_dump dumps that snapshot and the rows
#      of every oauth2_* table are counted in it (while the dump runs), so that the manifest's row counts
#      describe exactly the data in the dump;
#   2. streams pg_dump --format=custom --snapshot=<that snapshot> | gpg --symmetric --cipher-algo AES256 |
#      aws s3 cp - s3://$BUCKET/database/<db>-<UTC time>-<random>.dump.gpg, hashing (sha256) and counting the
#      encrypted bytes on the way (tee into fifos): no temp file of the dump, memory bounded by the CLI's
#      multipart buffers;
#   3. checks that the stored object has the counted size, then writes the manifest
#      database/manifests/<same name>.json (key, size, sha256, row counts, pg_dump and server versions,
#      timestamps) and, last, the pointer database/latest.json (a copy of the manifest).
#   Restores select dumps through manifests only. On any failure or signal the manifest is not written and
#   the partial object, if any, is hidden with a delete marker (keys are unique per run; the role may not
#   delete object versions, and incomplete multipart uploads are aborted by the bucket's lifecycle rules).
#
# Environment (see lib.sh for the common variables):
#   BUCKET (required); AWS_REGION; AWS_ENDPOINT_URL (tests)
#   PGHOST PGPORT PGUSER PGPASSWORD PGSSLMODE, PGDATABASE (default oauth2db), or DB_CREDENTIALS_SECRET_ID
#   PASSPHRASE_FILE or BACKUP_PASSPHRASE_SECRET_ID
#   DB_SCHEMA (default public)
#   BACKUP_PREFIX (default database/)
#
# Output: the manifest key on stdout; progress on stderr.
#
# Exit codes: 0 backup and manifest written; 2 configuration; 3 database (connect, count or pg_dump failed);
#   4 storage (upload failed, stored size differs); 5 encryption; 1 other; 130/143 interrupted.
set -euo pipefail
# Job control: the dump pipeline runs as a background job in its own process group, so that a SIGTERM
# (pod deletion, activeDeadlineSeconds) interrupts `wait` at once and the handler can stop the whole pipeline.
set -m

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_env BUCKET
require_cmd pg_dump psql gpg aws sha256sum tee
BACKUP_PREFIX="${BACKUP_PREFIX:-database/}"

PIPELINE_PID=""
SHA_PID=""
SIZE_PID=""
OBJECT_KEY=""
UPLOAD_STARTED=0
MANIFEST_WRITTEN=0
SNAPSHOT_PID=""

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    kill_job "$PIPELINE_PID"
    kill_job "$SHA_PID"
    kill_job "$SIZE_PID"
    if [[ -n "$SNAPSHOT_PID" ]]; then
        kill -TERM "$SNAPSHOT_PID" 2>/dev/null
        wait "$SNAPSHOT_PID" 2>/dev/null
    fi
    if [[ $UPLOAD_STARTED -eq 1 && $MANIFEST_WRITTEN -eq 0 ]]; then
        # A complete-looking object without a manifest is never picked by a restore; hide it anyway.
        if awscli s3 rm "$(s3_uri "$OBJECT_KEY")" --only-show-errors >/dev/null 2>&1; then
            log "removed the partial object $OBJECT_KEY (no manifest was written)"
        else
            log "could not remove $OBJECT_KEY (no manifest was written, so no restore will pick it)"
        fi
    fi
    remove_work_dir
    if [[ $status -ne 0 ]]; then
        log "FAILED with exit code $status; no manifest written"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

make_work_dir
load_passphrase
load_db_credentials

started_at=$(now_utc)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
name="${PGDATABASE}-${stamp}-$(random_suffix)"
OBJECT_KEY="${BACKUP_PREFIX}${name}.dump.gpg"
manifest_key="${BACKUP_PREFIX}manifests/${name}.json"

# 1. A snapshot, held open by a psql coprocess until the dump is complete.
psql_value -c "SELECT 1" >/dev/null 2>"$WORK_DIR/connect.err" \
    || die "$EX_DATABASE" "cannot connect to ${PGHOST:-local socket}:${PGPORT:-5432}/${PGDATABASE}: $(tail -n 1 "$WORK_DIR/connect.err")"
coproc PSQL { psql -X -q -At -v ON_ERROR_STOP=1 2>&1; }
SNAPSHOT_PID=$PSQL_PID
psql_ask() {
    local line
    printf '%s\n' "$1" >&"${PSQL[1]}"
    IFS= read -r -t "${PSQL_TIMEOUT:-60}" line <&"${PSQL[0]}" || return 1
    printf '%s' "$line"
}
{
    printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;" >&"${PSQL[1]}"
    snapshot=$(psql_ask "SELECT pg_export_snapshot();")
} || die "$EX_DATABASE" "cannot start a snapshot of ${PGDATABASE}"
[[ "$snapshot" =~ ^[0-9A-F-]+$ ]] || die "$EX_DATABASE" "cannot start a snapshot: $snapshot"
server_version=$(psql_ask "SHOW server_version;") || die "$EX_DATABASE" "query failed"
database_bytes=$(psql_ask "SELECT pg_database_size(current_database());") || die "$EX_DATABASE" "query failed"
tables=$(psql_ask "SELECT coalesce(string_agg(tablename, ' ' ORDER BY tablename), '') FROM pg_tables WHERE schemaname = '${DB_SCHEMA}' AND tablename LIKE 'oauth2\_%';") \
    || die "$EX_DATABASE" "cannot list the oauth2_* tables"
[[ -n "$tables" ]] || die "$EX_DATABASE" "no oauth2_* tables in schema ${DB_SCHEMA} of ${PGDATABASE}"
pg_dump_version=$(pg_dump --version)
log "snapshot $snapshot of ${PGDATABASE} (server ${server_version}, ${database_bytes} bytes); tables: $tables"

# 2. The streamed, encrypted dump. The hash and the size of what is stored are taken from the same stream.
mkfifo "$WORK_DIR/sha.fifo" "$WORK_DIR/size.fifo"
sha256sum <"$WORK_DIR/sha.fifo" >"$WORK_DIR/sha.out" &
SHA_PID=$!
wc -c <"$WORK_DIR/size.fifo" >"$WORK_DIR/size.out" &
SIZE_PID=$!

# The CLI sizes multipart parts from --expected-size (needed above 50 GB); the database size bounds the dump.
UPLOAD_STARTED=1
log "uploading $(s3_uri "$OBJECT_KEY")"
(
    set +e
    pg_dump --format=custom --no-password --snapshot="$snapshot" "$PGDATABASE" 2>"$WORK_DIR/pg_dump.err" |
        gpg_encrypt 2>"$WORK_DIR/gpg.err" |
        tee "$WORK_DIR/sha.fifo" "$WORK_DIR/size.fifo" |
        awscli s3 cp - "$(s3_uri "$OBJECT_KEY")" --only-show-errors --expected-size "$((database_bytes + 1048576))" \
            --metadata "backup-run=${name}" 2>"$WORK_DIR/s3.err"
    echo "${PIPESTATUS[*]}" >"$WORK_DIR/pipestatus"
) &
PIPELINE_PID=$!

# Meanwhile, the row counts, in the same snapshot as the dump (the coprocess's transaction).
declare -A row_counts=()
for table in $tables; do
    count=$(psql_ask "SELECT count(*) FROM \"${DB_SCHEMA}\".\"${table}\";") || die "$EX_DATABASE" "cannot count $table"
    [[ "$count" =~ ^[0-9]+$ ]] || die "$EX_DATABASE" "cannot count $table: $count"
    row_counts[$table]=$count
done

wait "$PIPELINE_PID" || true
PIPELINE_PID=""
read -r dump_rc gpg_rc tee_rc s3_rc <"$WORK_DIR/pipestatus" || die "$EX_FAILURE" "the dump pipeline did not report"
wait "$SHA_PID" || true
SHA_PID=""
wait "$SIZE_PID" || true
SIZE_PID=""

last_error() { [[ -s "$1" ]] && tail -n 1 "$1" || echo "exit code $2"; }
[[ $dump_rc -eq 0 ]] || die "$EX_DATABASE" "pg_dump failed: $(last_error "$WORK_DIR/pg_dump.err" "$dump_rc")"
[[ $gpg_rc -eq 0 ]] || die "$EX_CRYPTO" "gpg failed: $(last_error "$WORK_DIR/gpg.err" "$gpg_rc")"
[[ $s3_rc -eq 0 ]] || die "$EX_STORAGE" "upload failed: $(last_error "$WORK_DIR/s3.err" "$s3_rc")"
[[ $tee_rc -eq 0 ]] || die "$EX_FAILURE" "tee failed (exit code $tee_rc)"

# The snapshot is no longer needed.
printf '%s\n' "COMMIT;" >&"${PSQL[1]}"
psql_in=${PSQL[1]}
exec {psql_in}>&-
wait "$SNAPSHOT_PID" 2>/dev/null || true
SNAPSHOT_PID=""

sha256=$(cut -d' ' -f1 <"$WORK_DIR/sha.out")
size=$(tr -d ' ' <"$WORK_DIR/size.out")
[[ "$sha256" =~ ^[0-9a-f]{64}$ && "$size" =~ ^[0-9]+$ ]] || die "$EX_FAILURE" "no hash or size of the stream"
stored_size=$(s3_size "$OBJECT_KEY") || die "$EX_STORAGE" "the uploaded object $OBJECT_KEY is not readable"
[[ "$stored_size" == "$size" ]] || die "$EX_STORAGE" "the stored object has $stored_size bytes, the stream had $size"

# 3. The manifest, then the pointer: only now is the dump visible to restores.
finished_at=$(now_utc)
{
    echo "{"
    echo "  \"format\": \"oauth2-dr/db-backup-manifest/v1\","
    echo "  \"status\": \"complete\","
    echo "  \"database\": \"${PGDATABASE}\","
    echo "  \"schema\": \"${DB_SCHEMA}\","
    echo "  \"object_key\": \"${OBJECT_KEY}\","
    echo "  \"size_bytes\": ${size},"
    echo "  \"sha256\": \"${sha256}\","
    echo "  \"encryption\": \"gpg-symmetric-aes256\","
    echo "  \"format_of_dump\": \"pg_dump-custom\","
    echo "  \"pg_dump_version\": \"${pg_dump_version//\"/}\","
    echo "  \"server_version\": \"${server_version//\"/}\","
    echo "  \"database_size_bytes\": ${database_bytes},"
    echo "  \"started_at\": \"${started_at}\","
    echo "  \"finished_at\": \"${finished_at}\","
    echo "  \"row_counts\": {"
    first=1
    for table in $tables; do
        [[ $first -eq 1 ]] || echo ","
        printf '    "%s": %s' "$table" "${row_counts[$table]}"
        first=0
    done
    echo ""
    echo "  }"
    echo "}"
} >"$WORK_DIR/manifest.json"
s3_put_file "$WORK_DIR/manifest.json" "$manifest_key" --content-type application/json \
    || die "$EX_STORAGE" "cannot write the manifest $manifest_key"
MANIFEST_WRITTEN=1
s3_put_file "$WORK_DIR/manifest.json" "${BACKUP_PREFIX}latest.json" --content-type application/json \
    || die "$EX_STORAGE" "cannot write ${BACKUP_PREFIX}latest.json (the manifest $manifest_key is written)"
log "done: $OBJECT_KEY, $size bytes, sha256 $sha256"
echo "$manifest_key"
