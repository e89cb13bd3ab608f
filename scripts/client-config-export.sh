#!/usr/bin/env bash
# client-config-export.sh: export oauth2_registered_client to s3://$BUCKET/clients/ when it changed.
#
# The runbook's "Client configurations: On change": the CronJob polls often and this script uploads only
# when the content hash of the table (every row, ordered by id) differs from the last export's. Rows hold
# client secret hashes, so the export is gpg-encrypted (AES256, the backup passphrase). The plaintext never
# touches disk: COPY ... TO STDOUT | tee (sha256sum) | gpg > encrypted scratch file; the hash is compared
# with clients/latest.sha256, and only when it differs is the encrypted file uploaded as
# clients/oauth2_registered_client-<UTC time>.csv.gpg, then clients/latest.sha256 is rewritten (last):
#   "<sha256 of the plaintext CSV>  <key of the export>"
#
# Environment: BUCKET (required), AWS_REGION, AWS_ENDPOINT_URL; PG* (PGDATABASE default oauth2db) or
#   DB_CREDENTIALS_SECRET_ID; PASSPHRASE_FILE or BACKUP_PASSPHRASE_SECRET_ID, or
#   BACKUP_GPG_PUBLIC_KEYS_FILE and BACKUP_GPG_RECIPIENTS (public-key mode, see lib.sh); DB_SCHEMA (default public);
#   CLIENTS_PREFIX (default clients/).
#
# Output: the key of the new export on stdout, or nothing when unchanged.
# Exit codes: 0 exported or unchanged; 2 configuration; 3 database; 4 storage; 5 encryption; 1 other;
#   130/143 interrupted.
set -euo pipefail
# Job control: the export's pipeline runs as a background job in its own process group, so that a SIGTERM to the
# script alone (a pod's deadline) interrupts `wait` at once, and the cleanup (lib.sh cleanup_work_dir_on_exit) ends
# the whole pipeline: psql's COPY may queue for minutes behind a migration's lock.
set -m

# This script's directory as dirname prints it, without a dirname process (lib.sh script_dir).
if [[ "${BASH_SOURCE[0]}" == */* ]]; then SCRIPT_DIR=${BASH_SOURCE[0]%/*}; else SCRIPT_DIR=.; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

require_env BUCKET
require_cmd psql gpg python3 curl sha256sum tee
CLIENTS_PREFIX="${CLIENTS_PREFIX:-clients/}"
TABLE=oauth2_registered_client

trap_work_dir_cleanup

make_work_dir
load_encryption
load_db_credentials

mkfifo "$WORK_DIR/sha.fifo"
sha256sum <"$WORK_DIR/sha.fifo" >"$WORK_DIR/sha.out" &
sha_pid=$!
# A job, `wait`ed for (until h39 in the foreground: a SIGTERM's trap waited for it, as long as the COPY's lock wait).
{
    set +e
    psql_value -c "COPY (SELECT * FROM \"${DB_SCHEMA}\".${TABLE} ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)" 2>"$WORK_DIR/psql.err" |
        tee "$WORK_DIR/sha.fifo" |
        gpg_encrypt >"$WORK_DIR/export.csv.gpg" 2>"$WORK_DIR/gpg.err"
    echo "${PIPESTATUS[*]}" >"$WORK_DIR/pipestatus"
} &
wait $! || true
read -ra codes <"$WORK_DIR/pipestatus" || die "$EX_FAILURE" "the export's pipeline did not report"
wait "$sha_pid" || true
[[ ${codes[0]} -eq 0 ]] || die "$EX_DATABASE" "cannot read ${TABLE}: $(tail -n 1 "$WORK_DIR/psql.err")"
[[ ${codes[2]} -eq 0 ]] || die "$EX_CRYPTO" "gpg failed: $(tail -n 1 "$WORK_DIR/gpg.err")"
hash=$(cut -d' ' -f1 <"$WORK_DIR/sha.out")
[[ "$hash" =~ ^[0-9a-f]{64}$ ]] || die "$EX_FAILURE" "no hash of the export"

previous=""
if s3_get_file "${CLIENTS_PREFIX}latest.sha256" "$WORK_DIR/latest.sha256" 2>"$WORK_DIR/s3.err"; then
    previous=$(cut -d' ' -f1 <"$WORK_DIR/latest.sha256")
# Only a missing key is "no export yet": a missing bucket's error says "does not exist" too (NoSuchBucket), and was
# taken for it until h37 (the upload then failed without its cause).
elif grep -q NoSuchBucket "$WORK_DIR/s3.err" || ! grep -q -E '404|Not Found|NoSuchKey|does not exist' "$WORK_DIR/s3.err"; then
    die "$EX_STORAGE" "cannot read $(s3_uri "${CLIENTS_PREFIX}latest.sha256"): $(one_line_error "$WORK_DIR/s3.err")"
fi
if [[ "$hash" == "$previous" ]]; then
    log "${TABLE} unchanged (sha256 $hash): nothing to export"
    exit 0
fi

key="${CLIENTS_PREFIX}${TABLE}-$(time_ordered_stamp).csv.gpg"
s3_put_file "$WORK_DIR/export.csv.gpg" "$key" --metadata "sha256=${hash}" "${ENCRYPTION_METADATA[@]}" 2>"$WORK_DIR/put.err" \
    || upload_failed "$key" "$WORK_DIR/put.err"
printf '%s  %s\n' "$hash" "$key" >"$WORK_DIR/latest.sha256"
s3_put_file "$WORK_DIR/latest.sha256" "${CLIENTS_PREFIX}latest.sha256" --content-type text/plain 2>"$WORK_DIR/put.err" \
    || die "$EX_STORAGE" "cannot write $(s3_uri "${CLIENTS_PREFIX}latest.sha256") (the export $key is stored): $(one_line_error "$WORK_DIR/put.err")"
log "${TABLE} changed (sha256 ${previous:-none} -> $hash): exported to $key"
echo "$key"
