#!/usr/bin/env bash
# restore.sh: restore the database from an encrypted dump in S3 (the runbook's "Restore from pg_dump").
#
# Usage: restore.sh --yes [--manifest KEY | --dump KEY] [--no-owner]
#   (default: the newest manifest under database/manifests/)
#   --yes        required: pg_restore --clean drops and recreates the objects of the target database
#   --manifest   a manifest key, e.g. database/manifests/oauth2db-20240115T050000Z-1a2b3c4d.json
#   --dump       a dump key; its manifest (same name under manifests/) must exist
#   --no-owner   pg_restore --no-owner --no-acl (restoring as a different role, e.g. another RDS master user)
#
# Steps: read the manifest; check the stored object's size; stream it once through sha256sum and gpg
# (nothing is written to the database unless the hash matches the manifest and the passphrase decrypts
# it); then stream it again: aws s3 cp - | gpg --decrypt | pg_restore --clean --if-exists
# --single-transaction --exit-on-error -d $PGDATABASE (all or nothing); finally compare the restored
# row counts with the manifest. Nothing is written to local disk.
#
# Environment: BUCKET (required), AWS_REGION, AWS_ENDPOINT_URL; PG* of the TARGET database (PGDATABASE
#   default oauth2db) or DB_CREDENTIALS_SECRET_ID; PASSPHRASE_FILE or BACKUP_PASSPHRASE_SECRET_ID;
#   RESTORE_MANIFEST_KEY (same as --manifest); BACKUP_PREFIX (default database/).
#
# Exit codes: 0 restored and row counts match; 2 usage; 3 database (connect or pg_restore failed; the
#   transaction was rolled back); 4 storage (object missing, wrong size, hash mismatch); 5 decryption
#   failed (wrong passphrase, corrupt object); 6 restored but the row counts differ from the manifest;
#   7 no backup to restore; 1 other; 130/143 interrupted.
set -euo pipefail
set -m

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BACKUP_PREFIX="${BACKUP_PREFIX:-database/}"
manifest_key="${RESTORE_MANIFEST_KEY:-}"
dump_key=""
confirmed=0
owner_args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
    --yes) confirmed=1 ;;
    --manifest) manifest_key=${2:?--manifest needs a key}; shift ;;
    --dump) dump_key=${2:?--dump needs a key}; shift ;;
    --no-owner) owner_args=(--no-owner --no-acl) ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) die "$EX_USAGE" "unknown argument $1 (see --help)" ;;
    esac
    shift
done
[[ $confirmed -eq 1 ]] || die "$EX_USAGE" "pass --yes: the restore drops and recreates the objects of ${PGDATABASE} on ${PGHOST:-the local server}"
require_env BUCKET
require_cmd pg_restore psql gpg aws sha256sum tee

JOB_PID=""
SHA_PID=""
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    kill_job "$JOB_PID"
    kill_job "$SHA_PID"
    remove_work_dir
    [[ $status -eq 0 ]] || log "FAILED with exit code $status"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

make_work_dir
load_passphrase
load_db_credentials

if [[ -n "$dump_key" ]]; then
    base=$(basename "$dump_key" .dump.gpg)
    manifest_key="${BACKUP_PREFIX}manifests/${base}.json"
fi
if [[ -z "$manifest_key" ]]; then
    manifest_key=$(latest_manifest_key) || die "$EX_STORAGE" "cannot list ${BACKUP_PREFIX}manifests/ in $BUCKET"
    [[ -n "$manifest_key" ]] || die "$EX_NO_BACKUP" "no manifest under s3://$BUCKET/${BACKUP_PREFIX}manifests/: nothing to restore"
fi
awscli s3 cp "$(s3_uri "$manifest_key")" "$WORK_DIR/manifest.json" --only-show-errors 2>"$WORK_DIR/s3.err" \
    || die "$EX_NO_BACKUP" "cannot read the manifest $manifest_key: $(tail -n 1 "$WORK_DIR/s3.err")"
[[ "$(manifest_get "$WORK_DIR/manifest.json" status)" == "complete" ]] || die "$EX_NO_BACKUP" "$manifest_key is not a complete backup"
object_key=$(manifest_get "$WORK_DIR/manifest.json" object_key)
want_size=$(manifest_get "$WORK_DIR/manifest.json" size_bytes)
want_sha=$(manifest_get "$WORK_DIR/manifest.json" sha256)
log "restoring $object_key (${want_size} bytes, finished $(manifest_get "$WORK_DIR/manifest.json" finished_at)) into ${PGDATABASE} on ${PGHOST:-local socket}"

size=$(s3_size "$object_key") || die "$EX_STORAGE" "the dump $object_key is missing"
[[ "$size" == "$want_size" ]] || die "$EX_STORAGE" "the dump $object_key has $size bytes, the manifest says $want_size"

# Pass 1: hash and decrypt, without touching the database.
mkfifo "$WORK_DIR/sha.fifo"
sha256sum <"$WORK_DIR/sha.fifo" >"$WORK_DIR/sha.out" &
SHA_PID=$!
(
    set +e
    awscli s3 cp "$(s3_uri "$object_key")" - --only-show-errors 2>"$WORK_DIR/s3.err" |
        tee "$WORK_DIR/sha.fifo" | gpg_decrypt 2>"$WORK_DIR/gpg.err" >/dev/null
    echo "${PIPESTATUS[*]}" >"$WORK_DIR/pipestatus"
) &
JOB_PID=$!
wait "$JOB_PID" || true
JOB_PID=""
wait "$SHA_PID" || true
SHA_PID=""
read -r s3_rc _ gpg_rc <"$WORK_DIR/pipestatus"
[[ $s3_rc -eq 0 ]] || die "$EX_STORAGE" "download failed: $(tail -n 1 "$WORK_DIR/s3.err")"
sha=$(cut -d' ' -f1 <"$WORK_DIR/sha.out")
[[ "$sha" == "$want_sha" ]] || die "$EX_STORAGE" "sha256 of $object_key is $sha, the manifest says $want_sha"
[[ $gpg_rc -eq 0 ]] || die "$EX_CRYPTO" "cannot decrypt $object_key: $(tail -n 1 "$WORK_DIR/gpg.err")"

# Pass 2: the restore, in one transaction.
psql_value -d "$PGDATABASE" -c "SELECT 1" >/dev/null 2>"$WORK_DIR/connect.err" \
    || die "$EX_DATABASE" "cannot connect to ${PGDATABASE}: $(tail -n 1 "$WORK_DIR/connect.err")"
(
    set +e
    awscli s3 cp "$(s3_uri "$object_key")" - --only-show-errors 2>"$WORK_DIR/s3.err" |
        gpg_decrypt 2>"$WORK_DIR/gpg.err" |
        pg_restore --clean --if-exists --single-transaction --exit-on-error "${owner_args[@]}" -d "$PGDATABASE" 2>"$WORK_DIR/restore.err"
    echo "${PIPESTATUS[*]}" >"$WORK_DIR/pipestatus"
) &
JOB_PID=$!
wait "$JOB_PID" || true
JOB_PID=""
read -r s3_rc gpg_rc restore_rc <"$WORK_DIR/pipestatus"
[[ $s3_rc -eq 0 ]] || die "$EX_STORAGE" "download failed: $(tail -n 1 "$WORK_DIR/s3.err")"
[[ $gpg_rc -eq 0 ]] || die "$EX_CRYPTO" "decryption failed: $(tail -n 1 "$WORK_DIR/gpg.err")"
[[ $restore_rc -eq 0 ]] || die "$EX_DATABASE" "pg_restore failed (rolled back): $(grep -m1 -i error "$WORK_DIR/restore.err" || tail -n 1 "$WORK_DIR/restore.err")"

schema=$(manifest_get "$WORK_DIR/manifest.json" schema)
mismatches=0
while read -r table want; do
    [[ -n "$table" ]] || continue
    got=$(psql_value -d "$PGDATABASE" -c "SELECT count(*) FROM \"${schema:-public}\".\"${table}\"" 2>/dev/null) || got="missing"
    if [[ "$got" == "$want" ]]; then
        log "$table: $got rows (manifest $want)"
    else
        log "$table: $got rows, the manifest says $want"
        mismatches=$((mismatches + 1))
    fi
done < <(manifest_row_counts "$WORK_DIR/manifest.json")
[[ $mismatches -eq 0 ]] || die "$EX_VERIFY" "$mismatches table(s) differ from the manifest"
log "restored $object_key into ${PGDATABASE}"
echo "$manifest_key"
