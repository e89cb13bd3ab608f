#!/usr/bin/env bash
# restore.sh: restore the database from an encrypted dump in S3 (the runbook's "Restore from pg_dump").
#
# Usage: restore.sh --yes [--manifest KEY | --dump KEY] [--source-database NAME] [--no-owner]
#   (default: the newest manifest of the database under <prefix>manifests/)
#   --yes              required: pg_restore --clean drops and recreates the objects of the target database
#   --manifest         a manifest key, e.g. database/manifests/oauth2db-20240115T050000Z-1a2b3c4d.json
#   --dump             a dump key; its manifest (same name under manifests/) must exist
#   --source-database  the database the dump was taken from, when it is not the target PGDATABASE (restoring
#                      a backup of oauth2db into oauth2db_restored); without it a manifest of another
#                      database is refused
#   --no-owner         pg_restore --no-owner --no-acl (restoring as a different role, e.g. another RDS master user)
#
# Steps. Before any download (fail fast): read the manifest (it must be complete and of the source database);
# check that the stored object has the manifest's size (its first 64 KiB are read, one ranged GET); load the passphrase version the manifest names (the
# secret's VersionId: dumps taken before a rotation restore with their own version) and decrypt the first
# 64 KiB (ranged GET) to reject a wrong passphrase; connect to the target database. Then one streaming pass,
# nothing written to local disk: curl (presigned GET) | tee sha256 | gpg --decrypt | zstd -d (v1 dumps: none) |
# pg_restore --clean --if-exists -f - | psql, in one transaction that commits only when the sha256 matches
# the manifest, gpg authenticated the data and every step succeeded (all or nothing). Finally the restored
# row counts and schema (tables, columns, types; v2 manifests) are compared with the manifest.
#
# Environment: BUCKET (required), AWS_REGION, AWS_ENDPOINT_URL; PG* of the TARGET database (PGDATABASE
#   default oauth2db) or DB_CREDENTIALS_SECRET_ID; PASSPHRASE_FILE (overrides the manifest's secret) or
#   BACKUP_PASSPHRASE_SECRET_ID (its name must be the manifest's secret: a replica in another region is fine);
#   RESTORE_MANIFEST_KEY (same as --manifest); RESTORE_SOURCE_DATABASE (same as --source-database);
#   BACKUP_PREFIX (default database/).
#
# Exit codes: 0 restored, row counts and schema match; 2 usage (also: a manifest of another database);
#   3 database (connect or restore failed; the transaction was rolled back); 4 storage (listing failed,
#   object missing, wrong size, hash mismatch); 5 encryption (passphrase version unreadable, wrong
#   passphrase, corrupt object); 6 restored but the row counts or the schema differ from the manifest;
#   7 no backup to restore; 1 other; 130/143 interrupted.
set -euo pipefail
set -m

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

manifest_key="${RESTORE_MANIFEST_KEY:-}"
source_db="${RESTORE_SOURCE_DATABASE:-}"
dump_key=""
confirmed=0
restore_args=(--clean --if-exists)
while [[ $# -gt 0 ]]; do
    case "$1" in
    --yes) confirmed=1 ;;
    --manifest) manifest_key=${2:?--manifest needs a key}; shift ;;
    --dump) dump_key=${2:?--dump needs a key}; shift ;;
    --source-database) source_db=${2:?--source-database needs a name}; shift ;;
    --no-owner) restore_args+=(--no-owner --no-acl) ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) die "$EX_USAGE" "unknown argument $1 (see --help)" ;;
    esac
    shift
done
[[ $confirmed -eq 1 ]] || die "$EX_USAGE" "pass --yes: the restore drops and recreates the objects of $(db_address)"
require_env BUCKET
require_cmd pg_restore psql gpg python3 curl sha256sum tee zstd jq
source_db=${source_db:-$PGDATABASE}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    kill_job "$STREAM_PID"
    kill_job "$STREAM_SHA_PID"
    remove_work_dir
    [[ $status -eq 0 ]] || log "FAILED with exit code $status"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

make_work_dir

# 1. The manifest.
if [[ -n "$dump_key" ]]; then
    manifest_key="${BACKUP_PREFIX}manifests/$(basename "$dump_key" .dump.gpg).json"
fi
if [[ -z "$manifest_key" ]]; then
    manifest_key=$(latest_manifest_key "$source_db" 2>"$WORK_DIR/list.err") \
        || die "$EX_STORAGE" "cannot list s3://$BUCKET/${BACKUP_PREFIX}manifests/: $(one_line_error "$WORK_DIR/list.err")"
    [[ -n "$manifest_key" ]] || die "$EX_NO_BACKUP" "no manifest of ${source_db} under s3://$BUCKET/${BACKUP_PREFIX}manifests/: nothing to restore"
fi
m="$WORK_DIR/manifest.json"
if ! s3_get_file "$manifest_key" "$m" 2>"$WORK_DIR/s3.err"; then
    grep -Eq '404|Not Found|NoSuchKey' "$WORK_DIR/s3.err" && die "$EX_NO_BACKUP" "no manifest $(s3_uri "$manifest_key"): nothing to restore"
    die "$EX_STORAGE" "cannot read the manifest $(s3_uri "$manifest_key"): $(one_line_error "$WORK_DIR/s3.err")"
fi
manifest_load "$m" || die "$EX_NO_BACKUP" "$manifest_key is not a manifest (not JSON)"
[[ "$(manifest_get "$m" status)" == "complete" ]] || die "$EX_NO_BACKUP" "$manifest_key is not a complete backup"
manifest_db=$(manifest_get "$m" database)
[[ "$manifest_db" == "$source_db" ]] \
    || die "$EX_USAGE" "$manifest_key is a backup of database ${manifest_db:-unknown}, not of ${source_db}; pass --source-database ${manifest_db} to restore it into ${PGDATABASE}"
object_key=$(manifest_get "$m" object_key)
want_size=$(manifest_get "$m" size_bytes)
want_sha=$(manifest_get "$m" sha256)
compression=$(manifest_get "$m" compression)
schema=$(manifest_get "$m" schema)
schema=${schema:-public}

# 2. The object, the passphrase version, the target database: all before the download.
size=$(probe_object "$object_key" 2>"$WORK_DIR/s3.err") || die "$EX_STORAGE" "the dump $(s3_uri "$object_key") is not readable: $(one_line_error "$WORK_DIR/s3.err")"
[[ "$size" == "$want_size" ]] || die "$EX_STORAGE" "the dump $(s3_uri "$object_key") has $size bytes, the manifest $manifest_key says $want_size"
passphrase_for_manifest "$m"
probe_passphrase "$object_key" "$(passphrase_origin)"
load_db_credentials
check_db_connection "$PGDATABASE"
log "restoring $object_key (${want_size} bytes, ${compression:-pg_dump-compressed}, $(passphrase_origin), finished $(manifest_get "$m" finished_at)) into $(db_address)"

# 3. One pass, one transaction.
stream_restore "$object_key" "$want_sha" "$compression" "$PGDATABASE" "${restore_args[@]}"
[[ "$(stream_rc s3)" == 0 ]] || die "$EX_STORAGE" "download of $(s3_uri "$object_key") failed (rolled back): $(stream_error s3)"
[[ "$(stream_rc gpg)" == 0 ]] || die "$EX_CRYPTO" "decryption of $object_key failed (rolled back): $(stream_error gpg)"
[[ "$(stream_rc decompress)" == 0 ]] || die "$EX_CRYPTO" "decompression ($compression) of $object_key failed (rolled back): $(stream_error decompress)"
[[ "$(stream_rc restore)" == 0 ]] || die "$EX_DATABASE" "pg_restore failed (rolled back): $(stream_error restore)"
[[ "$(stream_rc psql)" == 0 ]] || die "$EX_DATABASE" "restore into $(db_address) failed (rolled back): $(stream_error psql)"
verdict=$(cat "$WORK_DIR/stream/verdict" 2>/dev/null || echo "no verdict")
if [[ "$verdict" != verified ]]; then
    sha=$(cat "$WORK_DIR/stream/sha.out" 2>/dev/null || echo unknown)
    [[ "$verdict" == "sha256 mismatch" ]] && die "$EX_STORAGE" "sha256 of $object_key is $sha, the manifest says $want_sha (rolled back)"
    die "$EX_FAILURE" "the restore was rolled back: $verdict"
fi

# 4. The restored data against the manifest.
mismatches=0
while read -r table want; do
    [[ -n "$table" ]] || continue
    got=$(psql_value -d "$PGDATABASE" -c "SELECT count(*) FROM \"${schema}\".\"${table}\"" 2>/dev/null) || got="missing"
    if [[ "$got" == "$want" ]]; then
        log "$table: $got rows (manifest $want)"
    else
        log "$table: $got rows, the manifest says $want"
        mismatches=$((mismatches + 1))
    fi
done < <(manifest_row_counts "$m")
want_schema=$(manifest_get "$m" .schema_definition.sha256)
if [[ -n "$want_schema" ]]; then
    psql_value -d "$PGDATABASE" -c "$SCHEMA_JSON_SQL" >"$WORK_DIR/restored-schema.json" 2>"$WORK_DIR/schema.err" \
        || die "$EX_DATABASE" "cannot read the restored schema of $(db_address): $(one_line_error "$WORK_DIR/schema.err")"
    got_schema=$(schema_hash <"$WORK_DIR/restored-schema.json")
    if [[ "$got_schema" == "$want_schema" ]]; then
        log "schema: $(jq length "$WORK_DIR/restored-schema.json") columns, sha256 $got_schema (manifest's)"
    else
        log "schema differs from the manifest's: $(schema_diff "$m" "$WORK_DIR/restored-schema.json")"
        mismatches=$((mismatches + 1))
    fi
fi
[[ $mismatches -eq 0 ]] || die "$EX_VERIFY" "$mismatches check(s) differ from the manifest $manifest_key"
log "restored $object_key into $(db_address)"
echo "$manifest_key"
