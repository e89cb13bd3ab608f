#!/usr/bin/env bash
# db-backup.sh: encrypted pg_dump of the authorization server's database, streamed to S3, then a manifest.
#
# What it does (the runbook's "Manual Database Backup", made safe for a CronJob):
#   0. fails fast, before any long work: the manifests can be listed under BACKUP_PREFIX; the passphrase is
#      readable, not empty, and (Secrets Manager) from the same secret as the previous backup's; the database
#      accepts a connection; the role can SELECT every table and sequence that pg_dump will read;
#   1. opens a REPEATABLE READ transaction and exports its snapshot; pg_dump dumps that snapshot, and the
#      schema (tables, columns, types) and the row counts of the oauth2_* tables are read in it, so that the
#      manifest describes exactly the data in the dump;
#   2. streams pg_dump --format=custom --compress=0 --snapshot=<that snapshot> | zstd -T2 -1 | gpg --symmetric
#      --cipher-algo AES256 --compress-algo none | (a fifo) aws-helper.py's multipart upload to
#      s3://$BUCKET/<prefix><db>-<UTC>-<random>.dump.gpg, hashing (sha256) and counting the encrypted bytes on
#      the way (tee into fifos): no temp file of the dump, memory bounded by the upload's parts in memory (5
#      parts of 5 MB; larger parts only past 45 GB, S3 allows 10,000 parts) and zstd's jobs (2 x 2 MB);
#   3. checks that the stored object has the counted size, then writes the manifest
#      <prefix>manifests/<same name>.json (database, schema, key, its S3 VersionId, size, sha256, compression, the passphrase
#      secret's ARN and VersionId (never the passphrase), the dumped schema and its hash, row counts,
#      versions, timestamps) and, last, the pointer <prefix>latest.json (a copy of the manifest).
#   Restores select dumps through manifests only. On any failure or signal the manifest is not written and
#   the partial object, if one was stored, is hidden with a delete marker (keys are unique per run; the role
#   may not delete object versions, and incomplete multipart uploads are aborted by the lifecycle rules).
#
# Environment (see lib.sh for the common variables):
#   BUCKET (required); AWS_REGION; AWS_ENDPOINT_URL (tests)
#   PGHOST PGPORT PGUSER PGPASSWORD PGSSLMODE, PGDATABASE (default oauth2db), or DB_CREDENTIALS_SECRET_ID
#   PASSPHRASE_FILE or BACKUP_PASSPHRASE_SECRET_ID (symmetric), or BACKUP_GPG_PUBLIC_KEYS_FILE and
#     BACKUP_GPG_RECIPIENTS (public-key: no passphrase, no private key in the job; see lib.sh)
#   BACKUP_PASSPHRASE_SECRET_CHANGED=1  accept a passphrase secret other than the previous backup's
#   DB_SCHEMA (default public): the schema of the oauth2_* tables
#   BACKUP_PREFIX (default database/)
#   BACKUP_LOCK_TIMEOUT (seconds, default 120): how long the backup waits for its ACCESS SHARE lock on a table
#     (pg_dump --lock-wait-timeout, in steps of 2 s then 15 s, each followed by a line naming the table and its
#     holders and pg_dump started again in the same snapshot; lock_timeout of the session that counts the rows,
#     whose wait is said after 2 s and every 15 s, naming the migration it queues behind).
#     A table held in ACCESS EXCLUSIVE mode longer than that (a migration, a VACUUM FULL, an idle transaction
#     after an ALTER) stops the backup with exit 3 naming the table and the blocking backend (pid,
#     application_name, user, client address, state, since when) and the statement that ends it
#     (SELECT pg_terminate_backend(pid)), all read from pg_stat_activity (lib.sh lock_holder_sql).
#   S3_PART_SIZE_MB (default 5), S3_UPLOAD_CONCURRENCY (default 4): the upload's parts (memory: about
#   (concurrency + 1) x part size)
#   ZSTD_LEVEL (default 1: on token-heavy dumps as small as level 3 for a quarter of its CPU), ZSTD_THREADS
#     (default 2), ZSTD_JOB_SIZE (default 2M: each thread's job; zstd's default of 4 windows costs 60 MB for
#     two threads, 2M costs 20 MB for the same speed and size)
#
# Output: the manifest key on stdout; progress on stderr.
#
# Sessions: every connection of a run carries application_name oauth2-dr-backup-<pid>-<random>; on any
#   failure, SIGTERM or SIGINT the run's server sessions are terminated before it exits (a session queued on a
#   lock would otherwise stay queued after its client is gone); on servers from PostgreSQL 14 on,
#   client_connection_check_interval also ends them within seconds when the run is killed (SIGKILL).
#   latest.json never moves backwards: it is replaced only by a newer backup's manifest (names sort by
#   time), with a conditional write (If-Match), so two overlapping runs leave it on the newer one.
#
# Exit codes: 0 backup and manifest written; 2 configuration (also: BUCKET not a bucket name,
#   BACKUP_LOCK_TIMEOUT not a number); 3 database (connect, permission, lock timeout, no answer for DB_STALL_SECONDS, count or
#   pg_dump failed); 4 storage (bucket not usable, upload failed, stored size differs); 5 encryption
#   (passphrase unreadable, empty or from another secret; gpg failed); 1 other; 130/143 interrupted. A failure
#   after the manifest (latest.json not written) says in its last line that the dump and manifest are stored.
set -euo pipefail
# Job control: the dump pipeline runs as a background job in its own process group, so that a SIGTERM
# (pod deletion, activeDeadlineSeconds) interrupts `wait` at once and the handler can stop the whole pipeline.
set -m

# This script's directory as dirname prints it, without a dirname process (lib.sh script_dir).
if [[ "${BASH_SOURCE[0]}" == */* ]]; then SCRIPT_DIR=${BASH_SOURCE[0]%/*}; else SCRIPT_DIR=.; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

require_env BUCKET
require_cmd pg_dump psql gpg python3 curl sha256sum tee zstd jq
[[ "${S3_PART_SIZE_MB:-5}" =~ ^[0-9]+$ && ${S3_PART_SIZE_MB:-5} -ge 5 ]] \
    || die "$EX_USAGE" "S3_PART_SIZE_MB must be a whole number of MB, at least 5 (S3's smallest part), not ${S3_PART_SIZE_MB}"
[[ "${S3_UPLOAD_CONCURRENCY:-4}" =~ ^[1-9][0-9]*$ ]] \
    || die "$EX_USAGE" "S3_UPLOAD_CONCURRENCY must be a whole number of at least 1, not ${S3_UPLOAD_CONCURRENCY}"
LOCK_TIMEOUT=${BACKUP_LOCK_TIMEOUT:-120}
[[ "$LOCK_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "$EX_USAGE" "BACKUP_LOCK_TIMEOUT must be a whole number of seconds, at least 1, not ${LOCK_TIMEOUT}"
# Every session of this run is recognisable on the server: by the application whose lock it waits on, and by
# the cleanup, which terminates what is left of them.
RUN_APP="oauth2-dr-backup-$$-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
export PGAPPNAME=$RUN_APP

PIPELINE_PID=""
UPLOAD_PID=""
LIST_PID=""
SHA_PID=""
SIZE_PID=""
OBJECT_KEY=""
UPLOAD_STARTED=0
MANIFEST_WRITTEN=0
SNAPSHOT_PID=""
SESSIONS_STARTED=0

# terminate_statement: the statement that ends this run's server sessions, for the operator once the server answers.
terminate_statement() { printf "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '%s'" "$RUN_APP"; }

# end_sessions: terminates this run's server sessions that outlived their clients (pg_dump or the snapshot's
# psql, killed while queued on a lock or mid-query: the server would keep them until the lock is granted),
# and waits (at most 5 s) until they are gone. Only this run's application_name, never another session. Bounded:
# the connection by PGCONNECT_TIMEOUT (at most 10 s: probe_connect_timeout_in), its statements (the 5 s wait, the terminations) by 15 s more; a server frozen
# during them held the run's end silently until h38, as long as the freeze.
end_sessions() {
    [[ $SESSIONS_STARTED -eq 1 ]] || return 0
    local left connect rc=0
    probe_connect_timeout_in connect
    left=$(PGAPPNAME="${RUN_APP}-cleanup" PGCONNECT_TIMEOUT=$connect timeout -k 1 $((connect + 15)) "${PSQL_VALUE[@]}" -d "$PGDATABASE" -v app="$RUN_APP" 2>"$WORK_DIR/sessions.err" <<'SQL'
SET oauth2_dr.run_app = :'app';
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :'app';
DO $$ BEGIN
    FOR i IN 1..50 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = current_setting('oauth2_dr.run_app'));
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT count(*) FROM pg_stat_activity WHERE application_name = :'app';
SQL
    ) || rc=$?
    if ((rc == 124 || rc == 137)); then
        echo "no answer within $((connect + 15)) s (PGCONNECT_TIMEOUT=$connect and 15 s for the statements): the server may be frozen; once it answers: $(terminate_statement)" >"$WORK_DIR/sessions.err"
    fi
    ((rc == 0)) || { log "could not end this run's sessions ($RUN_APP) on $(db_address): $(one_line_error "$WORK_DIR/sessions.err")"; return 0; }
    local ended=${left%%$'\n'*} remaining=${left##*$'\n'}
    [[ "$ended" == 0 ]] || log "terminated $ended server session(s) of this run ($RUN_APP)"
    [[ "$remaining" == 0 ]] || log "$remaining server session(s) of this run ($RUN_APP) are still ending"
}

cleanup() {
    local status=$?
    # The default IFS for everything the cleanup calls (lib.sh cleanup_work_dir_on_exit says why).
    local IFS=$' \t\n'
    trap - EXIT INT TERM
    set +e
    # The helper first: once the pipeline is gone it would see the end of the stream and store a truncated
    # object. Stopped here, an upload in flight is never completed (a single PUT already sent may still be).
    [[ $UPLOAD_STARTED -eq 1 && $MANIFEST_WRITTEN -eq 0 ]] && stop_aws_helper
    kill_job "$PIPELINE_PID"
    kill_job "$LIST_PID"
    kill_job "$SHA_PID"
    kill_job "$SIZE_PID"
    kill_job "$UPLOAD_PID"
    if [[ -n "$SNAPSHOT_PID" ]]; then
        kill_own TERM "$SNAPSHOT_PID"
        wait "$SNAPSHOT_PID" 2>/dev/null
    fi
    [[ $status -eq 0 ]] || end_sessions
    if [[ $UPLOAD_STARTED -eq 1 && $MANIFEST_WRITTEN -eq 0 ]]; then
        # A complete-looking object without a manifest is never picked by a restore; hide it anyway. An upload
        # that failed before completing stored no object (its multipart parts are aborted by the lifecycle).
        # A new helper answers the check (the one of the upload was stopped above). A manifest that S3 stored
        # while this run was being stopped keeps its dump.
        start_aws_helper
        if s3_size "$OBJECT_KEY" >/dev/null 2>"$WORK_DIR/cleanup.err"; then
            if s3_size "$manifest_key" >/dev/null 2>&1; then
                log "the manifest $manifest_key was stored before the run stopped: keeping $OBJECT_KEY"
            elif s3_delete "$OBJECT_KEY" >/dev/null 2>&1; then
                log "removed the partial object $OBJECT_KEY (no manifest was written)"
            else
                log "could not remove $OBJECT_KEY (no manifest was written, so no restore will pick it)"
            fi
        elif grep -Eq '404|Not Found|NoSuchKey' "$WORK_DIR/cleanup.err"; then
            log "no object was stored at $OBJECT_KEY"
        else
            log "could not check $OBJECT_KEY (no manifest was written, so no restore will pick it): $(one_line_error "$WORK_DIR/cleanup.err")"
        fi
    fi
    remove_work_dir
    if [[ $status -ne 0 && $MANIFEST_WRITTEN -eq 1 ]]; then
        # Only the pointer failed: the dump and its manifest are stored, and restores find it by the manifests.
        log "FAILED with exit code $status; the dump and its manifest $manifest_key are stored (restore.sh picks it: the newest manifest, or --manifest), ${BACKUP_PREFIX}latest.json was not updated"
    elif [[ $status -ne 0 ]]; then
        log "FAILED with exit code $status; no manifest written"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

make_work_dir

# 0. Fail fast: everything that can be wrong is checked before the dump starts. Listing the manifests checks
#    the bucket and the prefix (not head-bucket: the jobs' role may list only its own prefixes); it runs while
#    the passphrase and the database are checked (a storage round trip overlaps the database checks).
( latest_manifest_key "$PGDATABASE" >"$WORK_DIR/previous.key" 2>"$WORK_DIR/list.err" ) &
LIST_PID=$!
load_encryption
load_db_credentials
check_db_connection "$PGDATABASE"
unreadable=$(psql_value -d "$PGDATABASE" -c "$UNREADABLE_RELATIONS_SQL" 2>"$WORK_DIR/privileges.err") \
    || die "$EX_DATABASE" "cannot read the privileges of $(db_address): $(one_line_error "$WORK_DIR/privileges.err")"
[[ -z "$unreadable" ]] || die "$EX_DATABASE" "permission denied for $(printf '%s' "$unreadable" | paste -sd, - | sed 's/,/, /g') in $(db_address): ${PGUSER:-this role} cannot SELECT it, so pg_dump would fail"
wait "$LIST_PID" || die "$EX_STORAGE" "bucket $BUCKET (prefix $BACKUP_PREFIX) is not usable: $(one_line_error "$WORK_DIR/list.err")"
LIST_PID=""
previous_key=$(cat "$WORK_DIR/previous.key")
if [[ -n "$previous_key" && "$PASSPHRASE_SOURCE" == secretsmanager ]]; then
    s3_get_file "$previous_key" "$WORK_DIR/previous.json" 2>"$WORK_DIR/s3.err" \
        || die "$EX_STORAGE" "cannot read the previous manifest $previous_key: $(one_line_error "$WORK_DIR/s3.err")"
    manifest_load "$WORK_DIR/previous.json" || die "$EX_STORAGE" "the previous manifest $(s3_uri "$previous_key") is not a JSON object"
    previous_arn=$(manifest_get "$WORK_DIR/previous.json" .passphrase.secret_arn)
    previous_version=$(manifest_get "$WORK_DIR/previous.json" .passphrase.version_id)
    if [[ -n "$previous_arn" && "$(secret_name_of "$previous_arn")" != "$PASSPHRASE_SECRET_NAME" && "${BACKUP_PASSPHRASE_SECRET_CHANGED:-0}" != 1 ]]; then
        die "$EX_CRYPTO" "the passphrase secret $PASSPHRASE_SECRET_ARN is not the one of the previous backup $previous_key ($previous_arn): restores read the secret a manifest names; set BACKUP_PASSPHRASE_SECRET_CHANGED=1 if the change is intended"
    fi
    [[ -z "$previous_version" || "$previous_version" == "$PASSPHRASE_VERSION_ID" ]] \
        || log "the passphrase was rotated since the previous backup (version $previous_version -> $PASSPHRASE_VERSION_ID); each manifest names its version"
fi

started_at=$(now_utc)
name="${PGDATABASE}-$(time_ordered_stamp)"
OBJECT_KEY="${BACKUP_PREFIX}${name}.dump.gpg"
manifest_key="${BACKUP_PREFIX}manifests/${name}.json"

# A server that can notice a vanished client (PostgreSQL 14 and later) checks every 10 s while a query of this
# run runs or waits on a lock: killed without its trap (SIGKILL), the run leaves no session queued behind.
# The version comes from the connection check above: a second query here that failed under load fell back to
# "older than 14" without a word, and a killed run's pg_dump then stayed queued on its lock.
if [[ "$DB_SERVER_VERSION_NUM" =~ ^[0-9]+$ && $DB_SERVER_VERSION_NUM -ge 140000 ]]; then
    export PGOPTIONS="${PGOPTIONS:+$PGOPTIONS }-c client_connection_check_interval=10s"
fi

# The ACCESS EXCLUSIVE locks, held or waited for ahead of the backup, on the tables in psql's :'tables' (a JSON
# array): the only mode that blocks the ACCESS SHARE lock of pg_dump and of the counts.
EXCLUSIVE_LOCKS_SQL="FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.relation IN (SELECT to_regclass(t) FROM jsonb_array_elements_text(:'tables'::jsonb) t)"

# exclusive_locks SELECT TAIL TABLE...: the rows of "SELECT ... EXCLUSIVE_LOCKS_SQL TAIL" for the tables, joined
# with "; ", from a new, short session; "" when no session holds or waits for such a lock.
exclusive_locks() {
    local select=$1 tail=$2 list
    shift 2
    list=$(printf "%s\n" "$@" | jq -nRc '[inputs]')
    printf '%s\n%s\n%s;\n' "$select" "$EXCLUSIVE_LOCKS_SQL" "$tail" \
        | PGAPPNAME="${RUN_APP}-diagnosis" psql_value -d "$PGDATABASE" -v tables="$list" 2>/dev/null | paste -sd';' - | sed 's/;/; /g'
}

# lock_blockers TABLE...: who holds (or waits for, ahead of us) an ACCESS EXCLUSIVE lock on the tables, and how
# to end it: "table x is held in ACCESS EXCLUSIVE mode by pid N (application_name 'a', user u, client c, state
# s, transaction since T, connected since T): to end it ..., SELECT pg_terminate_backend(N)" per backend
# (lib.sh lock_holder_sql).
lock_blockers() {
    exclusive_locks "SELECT format('table %s is held in ACCESS EXCLUSIVE mode by %s', l.relation::regclass,
              $(lock_holder_sql "CASE WHEN l.granted THEN '' ELSE ' (still waiting for it, ahead of the backup)' END"))" \
        "ORDER BY l.granted DESC, a.pid" "$@"
}

# lock_timeout_error TABLES: the message of a lock wait that gave up after BACKUP_LOCK_TIMEOUT seconds.
lock_timeout_error() {
    local who
    # shellcheck disable=SC2086 # a list of table names
    who=$(lock_blockers $1)
    printf 'no ACCESS SHARE lock on %s within %s s (BACKUP_LOCK_TIMEOUT): %s' "$1" "$LOCK_TIMEOUT" \
        "${who:-the lock was released since; run the backup again}"
}

# lock_holders TABLE...: "x, held by pid N (application_name 'a', user u, state s, query since T): to end it ...,
# SELECT pg_terminate_backend(N)[; ...]" (lib.sh lock_waiter_sql) for each of the tables that a session holds (or
# waits for, ahead of the backup) in ACCESS EXCLUSIVE mode.
lock_holders() {
    exclusive_locks "SELECT format('%s, held by %s', l.relation::regclass,
              string_agg($(lock_waiter_sql "CASE WHEN l.granted THEN '' ELSE ' (waiting for it, ahead of the backup)' END"),
                         '; ' ORDER BY l.granted DESC, a.pid))" \
        "GROUP BY l.relation ORDER BY l.relation::regclass::text" "$@"
}

# pg_dump_lock_wait_tables: the tables whose lock pg_dump's last run gave up on (its --lock-wait-timeout),
# space-separated, or "" when pg_dump failed for any other reason. Its lock wait, and only that, ends in
# "canceling statement due to statement timeout" on "LOCK TABLE a[, b] IN ACCESS SHARE MODE" (the option is
# a statement_timeout around that query alone).
pg_dump_lock_wait_tables() {
    grep -q 'canceling statement due to statement timeout' "$WORK_DIR/pg_dump.err" || return 0
    sed -nE 's/.*Query was: LOCK TABLE (.*) IN ACCESS SHARE MODE.*/\1/p' "$WORK_DIR/pg_dump.err" | head -n 1 | sed 's/, */ /g'
}

# dump_wait PID: waits for pg_dump (PID) in the stream's own stage, 50 ms at a time (short_pause: no process
# beside the dump): between reads the wait is said every WAIT_PROGRESS_SECONDS and, when
# the server stops answering (frozen mid-dump: pg_dump's socket stays open and no client timeout ends its read;
# until h34-hangs the run waited silently as long as the freeze), pg_dump is stopped after DB_STALL_SECONDS and
# db.stalled says why (the script's exit 3). The stage has no traps of the script's: a SIGTERM ends it at once.
dump_wait() {
    local pid=$1
    while child_runs "$pid"; do
        # 50 ms at a time: the stream's end waits at most that long for this loop to notice (1 s added about
        # 0.6 s to the 1 GB bench's backup, 4.0 -> 4.6 s); a loop of builtins, no process started.
        short_pause 0.05
        child_runs "$pid" || break
        db_watch_ok jobs_ended "$pid" || { db_watch_error >"$WORK_DIR/db.stalled"; kill_own TERM "$pid"; }
    done
    wait "$pid"
}

# dump_snapshot: pg_dump of the exported snapshot on stdout (the first stage of the dump's pipeline). Its lock
# wait is bounded by pg_dump's own --lock-wait-timeout, in steps: 2 s, then 15 s at a time, BACKUP_LOCK_TIMEOUT
# in all. After a step that ends on a lock, the run says which table it waits for and who holds it, and starts
# pg_dump again in the same snapshot (the transaction that exported it stays open: one consistent dump). pg_dump
# takes every lock before it writes a byte (its custom format is written out once the catalog is read, after
# the locks), so a step that gave up wrote nothing. No process runs beside the dump to watch it: each step is
# pg_dump's own wait, watched from this stage's shell (dump_wait).
dump_snapshot() {
    local started=$SECONDS waited=0 step=2 rc locked
    db_watch_start "$DUMP_WATCH_WHAT"
    while true; do
        ((step <= LOCK_TIMEOUT - waited)) || step=$((LOCK_TIMEOUT - waited))
        pg_dump --format=custom --compress=0 --no-password --lock-wait-timeout="${step}s" --snapshot="$snapshot" "$PGDATABASE" 2>"$WORK_DIR/pg_dump.err" &
        dump_wait $!
        rc=$?
        waited=$((waited + step))
        [[ $rc -ne 0 && $waited -lt $LOCK_TIMEOUT ]] || return "$rc"
        locked=$(pg_dump_lock_wait_tables)
        [[ -n "$locked" ]] || return "$rc"
        # shellcheck disable=SC2086 # a list of table names
        log "waiting for an ACCESS SHARE lock on $(lock_holders $locked | grep . || echo "$locked (released meanwhile)") ($((SECONDS - started))s since the dump started; at most BACKUP_LOCK_TIMEOUT=${LOCK_TIMEOUT} s)"
        step=15
    done
}

# 1. A snapshot, held open by a psql coprocess until the dump is complete.
SESSIONS_STARTED=1
coproc PSQL { exec psql -X -q -At -v ON_ERROR_STOP=1 2>&1; }
SNAPSHOT_PID=$PSQL_PID
# Our own copies of the coprocess's pipes: when psql exits (ON_ERROR_STOP after a lock timeout), bash reaps it,
# closes its pipes and unsets PSQL, possibly before its last line (the error) was read from them.
exec {PSQL_OUT}<&"${PSQL[0]}" {PSQL_IN}>&"${PSQL[1]}"
# psql_ask SQL [TIMEOUT [TABLE]]: one line of answer (on stdout, and in PSQL_ANSWER), waited for at most TIMEOUT
# (default PSQL_TIMEOUT, 60) seconds. Read a second at a time: a signal's trap (SIGTERM, SIGINT) runs only
# once `read` returns, and a count can wait for its lock for minutes. For such a wait, call it in the script's
# own shell (`psql_ask ... >/dev/null`, then PSQL_ANSWER), not in $(...), whose subshell the trap waits for.
# With TABLE (schema.table, the one the query reads), a wait announces itself as pg_dump's do: after 2 s, then
# every 15 s, a line naming who holds or waits ahead for an ACCESS EXCLUSIVE lock on it (the count's ACCESS
# SHARE lock queues behind a migration that itself queues behind pg_dump's). Nothing is said while no one
# does (a count that merely takes its time). Checked from this same loop: no process runs beside it.
PSQL_ANSWER=""
psql_ask() {
    local line="" part waited=0 status started=$SECONDS holders
    printf '%s\n' "$1" >&"$PSQL_IN"
    while true; do
        part=""
        IFS= read -r -t 1 part <&"$PSQL_OUT" && { line+=$part; break; }
        status=$?
        line+=$part
        [[ $status -gt 128 ]] || return 1
        waited=$((waited + 1))
        [[ $waited -lt ${2:-${PSQL_TIMEOUT:-60}} ]] || return 1
        # The row counts' wait (db_watch_start below): said, and ended once the server no longer answers at all.
        [[ -z "${DB_WATCH_WHAT:-}" ]] || db_watch_ok input_ready "$PSQL_OUT" || die "$EX_DATABASE" "$(db_watch_error)"
        if [[ -n "${3:-}" ]] && ((waited == 2 || (waited > 2 && (waited - 2) % 15 == 0))); then
            holders=$(lock_holders "$3")
            [[ -z "$holders" ]] \
                || log "counting the rows of $3 waits for an ACCESS SHARE lock on $holders ($((SECONDS - started))s; at most BACKUP_LOCK_TIMEOUT=${LOCK_TIMEOUT} s)"
        fi
    done
    PSQL_ANSWER=$line
    printf '%s' "$line"
}
{
    printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;" "SET LOCAL lock_timeout = '${LOCK_TIMEOUT}s';" >&"$PSQL_IN"
    snapshot=$(psql_ask "SELECT pg_export_snapshot();")
} || die "$EX_DATABASE" "cannot start a snapshot of $(db_address)"
[[ "$snapshot" =~ ^[0-9A-F-]+$ ]] || die "$EX_DATABASE" "cannot start a snapshot of $(db_address): $snapshot"
server_version=$(psql_ask "SHOW server_version;") || die "$EX_DATABASE" "query failed"
database_bytes=$(psql_ask "SELECT pg_database_size(current_database());") || die "$EX_DATABASE" "query failed"
tables=$(psql_ask "SELECT coalesce(string_agg(tablename, ' ' ORDER BY tablename), '') FROM pg_tables WHERE schemaname = '${DB_SCHEMA}' AND tablename LIKE 'oauth2\_%';") \
    || die "$EX_DATABASE" "cannot list the oauth2_* tables"
[[ -n "$tables" ]] || die "$EX_DATABASE" "no oauth2_* tables in schema ${DB_SCHEMA} of $(db_address)"
psql_ask "$(tr '\n' ' ' <<<"$SCHEMA_JSON_SQL");" >"$WORK_DIR/schema.json" || die "$EX_DATABASE" "cannot read the schema of $(db_address)"
# One jq checks it and prints its lines as schema_lines does (its program), for the manifest's schema hash; any
# other text (not one JSON array, or one whose lines that program fails on) takes the check and schema_hash's jq
# as before: the same exit, message and hash. A jq start is 15 to 35 ms of CPU.
if jq -nr '[inputs] | if length == 1 and (.[0] | type) == "array" then .[0][] | map(tostring) | @tsv else error("not one array") end' \
    "$WORK_DIR/schema.json" >"$WORK_DIR/schema.lines" 2>/dev/null; then
    schema_sha256=$(LC_ALL=C sort "$WORK_DIR/schema.lines" | sha256sum | cut -d' ' -f1)
else
    jq -e 'type == "array"' "$WORK_DIR/schema.json" >/dev/null 2>&1 || die "$EX_DATABASE" "cannot read the schema of $(db_address): $(head -c 300 "$WORK_DIR/schema.json")"
    schema_sha256=$(schema_hash <"$WORK_DIR/schema.json") || true  # as before: its status was never looked at
fi
pg_dump_version=$(pg_dump --version)
log "snapshot $snapshot of $(db_address) (server ${server_version}, ${database_bytes} bytes); tables: $tables"

# 2. The streamed, encrypted dump. The hash and the size of what is stored are taken from the same stream.
mkfifo "$WORK_DIR/sha.fifo" "$WORK_DIR/size.fifo"
sha256sum <"$WORK_DIR/sha.fifo" >"$WORK_DIR/sha.out" &
SHA_PID=$!
wc -c <"$WORK_DIR/size.fifo" >"$WORK_DIR/size.out" &
SIZE_PID=$!

# The upload reads the stream from a fifo; its part size follows the expected size (the database's size
# bounds the dump). When the upload fails (S3 refused a part, the helper stopped reading), the dump is
# stopped at once (its process group): it would otherwise go on to the end, or wait for a reader forever.
UPLOAD_STARTED=1
log "uploading $(s3_uri "$OBJECT_KEY")"
mkfifo "$WORK_DIR/upload.fifo"
# What the database watch says it waits for: the dump's stage (dump_snapshot) and the row counts (psql_ask) alike.
DUMP_WATCH_WHAT="the row counts and pg_dump's stream of $(db_address)"
(
    set +e
    dump_snapshot |
        zstd -q -c -T"${ZSTD_THREADS:-2}" -"${ZSTD_LEVEL:-1}" -B"${ZSTD_JOB_SIZE:-2M}" 2>"$WORK_DIR/zstd.err" |
        gpg_encrypt exec 2>"$WORK_DIR/gpg.err" |
        tee "$WORK_DIR/sha.fifo" "$WORK_DIR/size.fifo" >"$WORK_DIR/upload.fifo"
    echo "${PIPESTATUS[*]}" >"$WORK_DIR/pipestatus"
) &
PIPELINE_PID=$!
(
    aws_call POST /s3/upload "$WORK_DIR/upload.answer" "bucket=$BUCKET" "key=$OBJECT_KEY" "path=$WORK_DIR/upload.fifo" \
        "expected_size=$((database_bytes + 1048576))" "meta.backup-run=${name}" 2>"$WORK_DIR/s3.err"
    rc=$?
    echo "$rc" >"$WORK_DIR/s3.rc"
    [[ $rc -eq 0 ]] || kill_own TERM "$PIPELINE_PID"
) &
UPLOAD_PID=$!

# Meanwhile, the row counts, in the same snapshot as the dump (the coprocess's transaction). A count waits for
# its lock at most BACKUP_LOCK_TIMEOUT (the session's lock_timeout), and its answer that long and a minute; a
# wait for the lock is announced after 2 s and every 15 s (psql_ask's TABLE), as pg_dump's are.
declare -A row_counts=()
db_watch_start "$DUMP_WATCH_WHAT"
for table in $tables; do
    psql_ask "SELECT count(*) FROM \"${DB_SCHEMA}\".\"${table}\";" $((LOCK_TIMEOUT + ${PSQL_TIMEOUT:-60})) "${DB_SCHEMA}.${table}" >/dev/null \
        || die "$EX_DATABASE" "cannot count ${DB_SCHEMA}.$table: no answer from $(db_address) within $((LOCK_TIMEOUT + ${PSQL_TIMEOUT:-60})) s"
    count=$PSQL_ANSWER
    [[ "$count" != *"lock timeout"* ]] || die "$EX_DATABASE" "$(lock_timeout_error "${DB_SCHEMA}.${table}")"
    [[ "$count" =~ ^[0-9]+$ ]] || die "$EX_DATABASE" "cannot count ${DB_SCHEMA}.$table: $count"
    row_counts[$table]=$count
done

# pg_dump's wait on a server that stops answering is watched in its own stage (dump_wait): this shell waits for
# the stream's end, and a stalled one ends with exit 3 naming the server (db.stalled).
wait "$PIPELINE_PID" || true
PIPELINE_PID=""
DB_WATCH_WHAT=""
[[ ! -s "$WORK_DIR/db.stalled" ]] || die "$EX_DATABASE" "pg_dump of $(cat "$WORK_DIR/db.stalled")"
wait "$UPLOAD_PID" || true
UPLOAD_PID=""
if file_text "$WORK_DIR/s3.rc"; then s3_rc=$REPLY; else s3_rc=1; fi
[[ $s3_rc -eq 0 ]] || die "$EX_STORAGE" "upload to $(s3_uri "$OBJECT_KEY") failed: $(one_line_error "$WORK_DIR/s3.err")"
read -r dump_rc zstd_rc gpg_rc tee_rc <"$WORK_DIR/pipestatus" || die "$EX_FAILURE" "the dump pipeline did not report"
wait "$SHA_PID" || true
SHA_PID=""
wait "$SIZE_PID" || true
SIZE_PID=""

# The upload was checked first: when S3 refuses it, every step before it is stopped too. A failed dump ends
# the stream early instead, and the upload stores what it got (hidden by the cleanup: no manifest).
if [[ $dump_rc -ne 0 ]]; then
    # Its last lock-wait step ran out (BACKUP_LOCK_TIMEOUT in all), or it failed otherwise: told apart by its error.
    locked=$(pg_dump_lock_wait_tables)
    if [[ -n "$locked" ]]; then
        die "$EX_DATABASE" "pg_dump of $(db_address) failed: $(lock_timeout_error "$locked")"
    fi
    die "$EX_DATABASE" "pg_dump of $(db_address) failed: $(one_line_error "$WORK_DIR/pg_dump.err")"
fi
[[ $zstd_rc -eq 0 ]] || die "$EX_FAILURE" "zstd failed: $(one_line_error "$WORK_DIR/zstd.err")"
[[ $gpg_rc -eq 0 ]] || die "$EX_CRYPTO" "gpg failed: $(one_line_error "$WORK_DIR/gpg.err")"
[[ $tee_rc -eq 0 ]] || die "$EX_FAILURE" "tee failed (exit code $tee_rc)"

# The snapshot is no longer needed.
printf '%s\n' "COMMIT;" >&"$PSQL_IN"
# psql ends at the end of its input: close both write ends, ours and the coprocess's own.
psql_in=${PSQL[1]:-}
exec {PSQL_IN}>&- {PSQL_OUT}<&-
[[ -z "$psql_in" ]] || exec {psql_in}>&-
# Its answer watched (lib.sh db_wait_bounded; until h37 a server that stopped answering once the dump was complete
# held the run silently as long as it was frozen). The transaction only read: its COMMIT changes nothing, and the
# dump is complete (pg_dump ended 0 in its snapshot, the object stored). A server that has not answered for
# DB_STALL_SECONDS is said, with the session it may keep, and the backup is kept: failing it would leave no
# recovery point at the moment the database fails.
snapshot_server="" && db_address_in snapshot_server
if ! db_wait_bounded "the snapshot's COMMIT (its transaction only read; the dump is complete) in $snapshot_server" "$SNAPSHOT_PID"; then
    log "WARNING: $(db_watch_error): the dump is complete and kept; the snapshot's session (application_name $RUN_APP) may stay on the server until it notices the closed connection: $(terminate_statement) once it answers"
fi
wait "$SNAPSHOT_PID" 2>/dev/null || true
SNAPSHOT_PID=""

sha256=$(cut -d' ' -f1 <"$WORK_DIR/sha.out")
size=$(tr -d ' ' <"$WORK_DIR/size.out")
[[ "$sha256" =~ ^[0-9a-f]{64}$ && "$size" =~ ^[0-9]+$ ]] || die "$EX_FAILURE" "no hash or size of the stream"
stored_size=$(s3_size "$OBJECT_KEY" 2>"$WORK_DIR/s3.err") || die "$EX_STORAGE" "the uploaded object $(s3_uri "$OBJECT_KEY") is not readable: $(one_line_error "$WORK_DIR/s3.err")"
[[ "$stored_size" == "$size" ]] || die "$EX_STORAGE" "the stored object has $stored_size bytes, the stream had $size"
# The S3 version of the dump: restores read exactly this version ("" in an unversioned bucket).
object_version=$(s3_version "$OBJECT_KEY" 2>"$WORK_DIR/s3.err") || die "$EX_STORAGE" "cannot read the version of $(s3_uri "$OBJECT_KEY"): $(one_line_error "$WORK_DIR/s3.err")"

# 3. The manifest, then the pointer: only now is the dump visible to restores.
finished_at=$(now_utc)
for table in $tables; do printf '%s\t%s\n' "$table" "${row_counts[$table]}"; done >"$WORK_DIR/counts.tsv"
jq -n --slurpfile schema "$WORK_DIR/schema.json" --rawfile counts "$WORK_DIR/counts.tsv" \
    --arg database "$PGDATABASE" --arg db_schema "$DB_SCHEMA" --arg prefix "$BACKUP_PREFIX" --arg object_key "$OBJECT_KEY" \
    --argjson size "$size" --arg sha256 "$sha256" --arg s3_version_id "$object_version" --arg source "$PASSPHRASE_SOURCE" --arg arn "$PASSPHRASE_SECRET_ARN" \
    --arg version "$PASSPHRASE_VERSION_ID" --arg pg_dump_version "$pg_dump_version" --arg server_version "$server_version" \
    --argjson database_bytes "$database_bytes" --arg started_at "$started_at" --arg finished_at "$finished_at" \
    --arg schema_sha256 "$schema_sha256" --arg zstd_level "${ZSTD_LEVEL:-1}" \
    --argjson encryption "$(encryption_json)" '
    {
        format: "oauth2-dr/db-backup-manifest/v2",
        status: "complete",
        database: $database,
        schema: $db_schema,
        prefix: $prefix,
        object_key: $object_key,
        size_bytes: $size,
        sha256: $sha256,
        s3_version_id: (if $s3_version_id == "" then null else $s3_version_id end),
        encryption: $encryption,
        passphrase: (if $encryption.mode == "public-key" then null
                     elif $source == "secretsmanager" then {source: $source, secret_arn: $arn, version_id: $version} else {source: $source} end),
        format_of_dump: "pg_dump-custom",
        compression: "zstd",
        compression_level: ($zstd_level | tonumber),
        pg_dump_version: $pg_dump_version,
        server_version: $server_version,
        database_size_bytes: $database_bytes,
        started_at: $started_at,
        finished_at: $finished_at,
        row_counts: ($counts | split("\n") | map(select(length > 0) | split("\t") | {key: .[0], value: (.[1] | tonumber)}) | from_entries),
        schema_definition: {
            sha256: $schema_sha256,
            tables: ($schema[0] | group_by(.[0]) | map({key: .[0][0], value: map({column: .[1], type: .[2], not_null: .[3]})}) | from_entries)
        }
    }' >"$WORK_DIR/manifest.json" || die "$EX_FAILURE" "cannot write the manifest"
s3_put_file "$WORK_DIR/manifest.json" "$manifest_key" --content-type application/json \
    || die "$EX_STORAGE" "cannot write the manifest $manifest_key"
MANIFEST_WRITTEN=1
# latest.json only moves forwards: a run that overlapped a newer one (started later, finished first) leaves
# the newer one's pointer as it is.
aws_call POST /s3/put_newer "$WORK_DIR/latest.answer" "bucket=$BUCKET" "key=${BACKUP_PREFIX}latest.json" \
    --body "$WORK_DIR/manifest.json" 2>"$WORK_DIR/s3.err" \
    || die "$EX_STORAGE" "cannot write ${BACKUP_PREFIX}latest.json (the manifest $manifest_key is written): $(one_line_error "$WORK_DIR/s3.err")"
# The helper's answer when it wrote latest.json is exactly this text (json.dumps): no jq for it.
answer=""
IFS= read -r -d '' answer <"$WORK_DIR/latest.answer" || true
if [[ "$answer" == '{"written": true}' ]]; then
    newer=""
else
    newer=$(jq -r 'if .written then "" else .kept end' "$WORK_DIR/latest.answer")
fi
[[ -z "$newer" ]] || log "${BACKUP_PREFIX}latest.json already names a newer backup ($newer): left as it is"
log "done: $OBJECT_KEY, $size bytes, sha256 $sha256"
echo "$manifest_key"
