#!/usr/bin/env bash
# restore.sh: restore the database from an encrypted dump in S3 (the runbook's "Restore from pg_dump").
#
# Usage: restore.sh --yes [--manifest KEY | --dump KEY] [--source-database NAME] [--no-owner] [--drop-added-objects]
#   (default: the newest manifest of the database under <prefix>manifests/)
#   --yes              required: the restore drops and recreates the objects of the dump in the target database
#   --manifest         a manifest key, e.g. database/manifests/oauth2db-20240115T050000Z-1a2b3c4d.json (a key
#                      that is not a manifest, e.g. a dump's, is refused by its name and size before reading)
#   --dump             a dump key; its manifest (same name under manifests/) must exist
#   --source-database  the database the dump was taken from, when it is not the target PGDATABASE (restoring
#                      a backup of oauth2db into oauth2db_restored); without it a manifest of another
#                      database is refused
#   --no-owner         pg_restore --no-owner --no-acl (restoring as a different role, e.g. another RDS master user)
#   --drop-added-objects  do not recreate the indexes, constraints, triggers and row-level security policies
#                      added to the dump's tables since the backup (by default each is recreated on the restored
#                      table and named; one that no longer fits the restored data is named with its definition)
#
# Steps.
#   1. Before any download (fail fast): read the manifest (it must be complete and of the source database);
#      name a newer dump that has no manifest (a backup killed before its manifest, or a deleted manifest);
#      check that the stored object (the S3 version the manifest records) has the manifest's size; load the
#      passphrase version the manifest names and decrypt the object's first 64 KiB (when that fails, the
#      object's sha256 tells a corrupt object from a wrong passphrase); check the scratch space for the
#      spool; connect to the target database.
#   2. One pass, the target's own tables untouched: the object is downloaded once into the work directory as
#      stored (encrypted) while its sha256 is computed, gpg decrypts it (its integrity check, MDC, at the end)
#      and its rows are loaded by RESTORE_JOBS parallel COPY sessions (rows of one table split among them;
#      the loader's own libpq connections, no psql process relaying the rows) into staging schemas of this run
#      (oauth2_dr_stage_<run id>_<n>) whose tables have the archive's column names and types only (no default
#      or check of the unverified archive is evaluated). A sha256 other than
#      the manifest's (exit 4) or a failing MDC (exit 5) ends the run and the staging schemas are dropped.
#   3. Swap, only after that verdict, in one transaction of the script's own session: lock the dump's tables
#      in the target (at most RESTORE_LOCK_TIMEOUT each), drop and recreate the dump's objects (pg_restore
#      --clean --if-exists), with each table moved from its staging schema instead of created empty, its
#      defaults and checks added; build the indexes and constraints; compare the row counts (of a staged
#      table: the rows the server's COPY commands inserted into it, summed; of any other: count(*)) and the
#      schema of the dump's tables with the manifest; COMMIT only when all of that succeeded, else ROLLBACK: all or
#      nothing. A dump whose tables cannot be staged (a column type
#      naming another object, a generated column, inheritance, partitions, large objects) is verified by the
#      same pass and then restored from the verified spool in that transaction as one pg_restore stream.
#   Only the script writes COMMIT: killed (even kill -9), it leaves nothing committed; a watchdog process
#   then stops the load, ends its server sessions, drops the staging schemas and removes the spool.
#
# Environment: BUCKET (required), AWS_REGION, AWS_ENDPOINT_URL; PG* of the TARGET database (PGDATABASE
#   default oauth2db) or DB_CREDENTIALS_SECRET_ID; PASSPHRASE_FILE (overrides the manifest's secret) or
#   BACKUP_PASSPHRASE_SECRET_ID (its name must be the manifest's secret: a replica in another region is fine);
#   for public-key dumps RESTORE_GPG_PRIVATE_KEYS_FILE or RESTORE_PRIVATE_KEYS_SECRET_ID (+ _ENDPOINT_URL,
#   _REGION, _ROLE_ARN: the vault account), checked against the manifest's recipients before the download;
#   RESTORE_MANIFEST_KEY (same as --manifest); RESTORE_SOURCE_DATABASE (same as --source-database);
#   BACKUP_PREFIX (default database/); RESTORE_LOCK_TIMEOUT (default 2min: how long the swap waits for each
#   table an application holds; PostgreSQL units: 500ms, 30s, 2min); RESTORE_JOBS (default 2: parallel COPY
#   sessions); DB_KEEPALIVES_IDLE (default 30: seconds of silence before the TCP keepalives of the run's own
#   session, which idles through the download; libpq's keepalives_idle and the server's tcp_keepalives_idle);
#   RESTORE_LOADER=psql (the COPY sessions are psql processes fed through pipes: the fallback that
#   is taken anyway when python3 cannot load libpq.so.5 with ctypes); TMPDIR (the spool: the dump's size in
#   bytes, checked first).
#
# Exit codes: 0 restored, row counts and schema match; 2 usage (also: a manifest of another database, a key
#   that is not a manifest, a scratch directory too small for the spool or filled up during the pass); 3
#   database (connect, a standby or read-only target (said before the download), lock timeout, no answer for DB_STALL_SECONDS, another restore running into the same database: one at a time, held by an
#   advisory lock of the run's session; any server error; nothing committed); 4 storage (listing failed, object or version missing, wrong size,
#   download failed, corrupt object: its sha256 differs from the manifest's); 5 encryption (passphrase
#   version unreadable, wrong passphrase, gpg's integrity check failed); 6 the restored row counts or schema
#   differ from the manifest (rolled back: nothing committed); 7 no backup to restore (no manifest of the
#   database, or no such key: the message names what the prefix holds); 1 other; 130/143
#   interrupted (nothing committed).
set -euo pipefail
set -m

# This script's directory as dirname prints it, without a dirname process (lib.sh script_dir).
if [[ "${BASH_SOURCE[0]}" == */* ]]; then SCRIPT_DIR=${BASH_SOURCE[0]%/*}; else SCRIPT_DIR=.; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

manifest_key="${RESTORE_MANIFEST_KEY:-}"
source_db="${RESTORE_SOURCE_DATABASE:-}"
dump_key=""
confirmed=0
keep_added=1
restore_args=(--clean --if-exists)
while [[ $# -gt 0 ]]; do
    case "$1" in
    --yes) confirmed=1 ;;
    --manifest) manifest_key=${2:?--manifest needs a key}; shift ;;
    --dump) dump_key=${2:?--dump needs a key}; shift ;;
    --source-database) source_db=${2:?--source-database needs a name}; shift ;;
    --no-owner) restore_args+=(--no-owner --no-acl) ;;
    --drop-added-objects) keep_added=0 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) die "$EX_USAGE" "unknown argument $1 (see --help)" ;;
    esac
    shift
done
[[ $confirmed -eq 1 ]] || die "$EX_USAGE" "pass --yes: the restore drops and recreates the objects of $(db_address)"
# A key pasted with the whitespace around it (a terminal selection, a table cell): the keys db-backup.sh writes
# have none, and S3 would answer "no such key" for the key as given.
for var in manifest_key dump_key; do
    trimmed=$(printf '%s' "${!var}" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
    if [[ "$trimmed" != "${!var}" ]]; then
        log "note: removed the whitespace around the ${var%_key} key '${!var}' (keys written by db-backup.sh have none): $trimmed"
        printf -v "$var" '%s' "$trimmed"
    fi
done
require_env BUCKET
require_cmd pg_restore psql gpg python3 curl sha256sum tee zstd jq
source_db=${source_db:-$PGDATABASE}

# restore_manifests_hint: lib.sh's manifests_hint for this restore (another database's manifests: --source-database).
restore_manifests_hint() { manifests_hint "$source_db" "to restore one into ${PGDATABASE//%/%%}, pass --source-database %s"; }

# restore_lock_announce BACKEND_PID TIMEOUT: while the swap's session (BACKEND_PID) waits for a lock, says so
# after 2 s and then every 15 s, naming the relation and the sessions holding it.
restore_lock_announce() {
    local waited=0 line
    while sleep 1; do
        waited=$((waited + 1))
        ((waited == 2 || waited % 15 == 0)) || continue
        # Each holder as the timeout error names it: pid, application_name, since when, the statement that ends it.
        line=$(psql -X -At -d "$PGDATABASE" -c "SELECT format('%s, held by %s', coalesce(l.relation::regclass::text, l.locktype),
                coalesce((SELECT string_agg($(lock_waiter_sql "''"), '; ' ORDER BY a.pid) FROM pg_stat_activity a WHERE a.pid = ANY (pg_blocking_pids($1))), 'another session'))
            FROM pg_locks l WHERE l.pid = $1 AND NOT l.granted LIMIT 1" 2>/dev/null) || continue
        [[ -z "$line" ]] || log "the swap is waiting for a lock on $line (${waited}s so far; at most RESTORE_LOCK_TIMEOUT=$2 per table)"
    done
}

cleanup() {
    local status=$?
    # The default IFS for everything the cleanup calls (lib.sh cleanup_work_dir_on_exit says why).
    local IFS=$' \t\n'
    trap - EXIT INT TERM
    set +e
    # A signal's trap runs with the redirections of the command it interrupted (restore_pass_wait's
    # `wait ... 2>/dev/null`, `psql_value ... 2>stage.err`): the run's last words go to its own stderr.
    exec 2>&"$RESTORE_STDERR"
    # bash's job notices ("lib.sh: line N: PID Killed { sha256sum < ... }") for the pass's jobs ended here are
    # not the operator's business: the run's own message (ERROR: ..., FAILED) says what happened.
    {
        restore_watchdog_stop
        session_end
        kill_unnoted_jobs
        restore_end_sessions
        remove_work_dir
    } 2>/dev/null
    [[ -z "$RESTORE_LEFT_BEHIND" ]] || log "$RESTORE_LEFT_BEHIND"
    # Interrupted (Ctrl-C, a kill): say what state the target is in, the operator's first question. Only the
    # swap's COMMIT changes it (RESTORE_COMMIT: "" before it is sent, "sent" while its answer is awaited, "committed").
    if ((status == 130 || status == 143)); then
        case "$RESTORE_COMMIT" in
        committed) log "interrupted after the COMMIT: the restore into $(db_address) is complete (its checks passed before it)" ;;
        sent) log "interrupted while the COMMIT was awaited: $(db_address) holds either the dump or its earlier state; check its row counts, or run the same command again (it restores either way)" ;;
        *) log "interrupted before the swap: nothing was committed, the tables of $(db_address) are as they were and the staging schemas and scratch files are removed; run the same command again to restore" ;;
        esac
    fi
    [[ $status -eq 0 ]] || log "FAILED with exit code $status"
    exit "$status"
}
RESTORE_COMMIT=""
exec {RESTORE_STDERR}>&2
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A write to a session that died (a server error) must fail, not kill the script.
trap '' PIPE

lock_timeout=${RESTORE_LOCK_TIMEOUT:-2min}
[[ "$lock_timeout" =~ ^[1-9][0-9]*(ms|s|min|h)?$ ]] \
    || die "$EX_USAGE" "RESTORE_LOCK_TIMEOUT must be a duration such as 500ms, 30s or 2min (not 0: the restore never waits forever), not $lock_timeout"
jobs=${RESTORE_JOBS:-2}
[[ "$jobs" =~ ^[1-9][0-9]?$ ]] || die "$EX_USAGE" "RESTORE_JOBS must be a number of parallel COPY sessions from 1 to 99, not $jobs"

make_work_dir
# This run's name in the server (application_name, staging schemas): random, since two pods' restores may
# have the same pid, and the cleanup of one must never end the sessions or drop the staging of another.
RESTORE_RUN_ID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')

# 1. The manifest. A key that is not a manifest is refused by its name and size before anything is read.
if [[ -n "$dump_key" ]]; then
    manifest_key="${BACKUP_PREFIX}manifests/$(basename "$dump_key" .dump.gpg).json"
fi
chosen_by_default=0
# A newer manifest behind a delete marker: said, never an older one restored in its place (lib.sh). The bucket's
# versions are listed in the background once the dump's first 64 KiB are read (hidden_manifests_start: moto's
# ListObjectVersions copies every version in the bucket), while the passphrase's S2K runs and the target is
# connected to; the verdict is taken (hidden_refuse) before anything is said or done that depends on it: a newer
# dump's warning, the target's line, and at the latest before the AWS helper stops. A step that fails before that
# asks for the verdict first (die: HIDDEN_ON_DIE), so a hidden newest manifest still ends the run with exit 7
# whatever else is wrong.
hidden_checked=1 # 0 until the verdict is taken (the newest manifest chosen by default); --manifest KEY names its manifest
hidden_refuse() {
    [[ $hidden_checked -eq 0 ]] || return 0
    hidden_checked=1
    refuse_hidden_newest_manifest "$source_db" "$manifest_key"
}
if [[ -z "$manifest_key" ]]; then
    chosen_by_default=1
    hidden_checked=0
    latest_manifest_by_name "$source_db" 2>"$WORK_DIR/list.err" \
        || die "$EX_STORAGE" "cannot list s3://$BUCKET/${BACKUP_PREFIX}manifests/: $(one_line_error "$WORK_DIR/list.err")$(grep -q NoSuchBucket "$WORK_DIR/list.err" && printf ': %s' "$BUCKET_HINT")"
    manifest_key=$MANIFEST_LATEST
    HIDDEN_ON_DIE=hidden_refuse
    [[ -n "$manifest_key" ]] || hidden_refuse
    [[ -n "$manifest_key" ]] || die "$EX_NO_BACKUP" "no manifest of ${source_db} under s3://$BUCKET/${BACKUP_PREFIX}manifests/: $(restore_manifests_hint)"
fi
[[ "$manifest_key" == *.json ]] \
    || die "$EX_USAGE" "$manifest_key is not a manifest (manifests are <prefix>manifests/<name>.json); for a dump, pass --dump $manifest_key"
if ! manifest_bytes=$(s3_size "$manifest_key" 2>"$WORK_DIR/s3.err"); then
    grep -Eq '404|Not Found|NoSuchKey' "$WORK_DIR/s3.err" && refuse_missing_bucket && die "$EX_NO_BACKUP" "no manifest $(s3_uri "$manifest_key") (no such key): $(restore_manifests_hint)"
    die "$EX_STORAGE" "cannot read the manifest $(s3_uri "$manifest_key"): $(one_line_error "$WORK_DIR/s3.err")"
fi
((manifest_bytes <= 4194304)) \
    || die "$EX_USAGE" "$(s3_uri "$manifest_key") has $manifest_bytes bytes: not a manifest (a manifest has a few KB; not read)"
m="$WORK_DIR/manifest.json"
if ! s3_get_file "$manifest_key" "$m" 2>"$WORK_DIR/s3.err"; then
    grep -Eq '404|Not Found|NoSuchKey' "$WORK_DIR/s3.err" && refuse_missing_bucket && die "$EX_NO_BACKUP" "no manifest $(s3_uri "$manifest_key") (no such key): $(restore_manifests_hint)"
    die "$EX_STORAGE" "cannot read the manifest $(s3_uri "$manifest_key"): $(one_line_error "$WORK_DIR/s3.err")"
fi
manifest_load "$m" || die "$EX_NO_BACKUP" "$manifest_key is not a manifest (not JSON)"
[[ "$(manifest_get "$m" status)" == "complete" ]] || die "$EX_NO_BACKUP" "$manifest_key is not a complete backup"
manifest_db=$(manifest_get "$m" database)
[[ "$manifest_db" == "$source_db" ]] \
    || die "$EX_USAGE" "$manifest_key is a backup of database ${manifest_db:-unknown}, not of ${source_db}; pass --source-database ${manifest_db} to restore it into ${PGDATABASE}"
object_key=$(manifest_get "$m" object_key)
object_version=$(manifest_get "$m" s3_version_id)
want_size=$(manifest_get "$m" size_bytes)
want_sha=$(manifest_get "$m" sha256)
RESTORE_COMPRESSION=$(manifest_get "$m" compression)
schema=$(manifest_get "$m" schema)
schema=${schema:-public}
[[ "$want_size" =~ ^[0-9]+$ && "$want_sha" =~ ^[0-9a-f]{64}$ && -n "$object_key" ]] \
    || die "$EX_NO_BACKUP" "$manifest_key lacks the dump's key, size or sha256"

# A dump newer than the chosen manifest that has no manifest of its own: named, never skipped silently. The
# bucket's listing (newer_dumps_start) runs while the dump's first 64 KiB are read (step 2); newer_dumps_warning
# waits for it and says it before the probe's verdict.
newer_dumps_start() {
    { s3_keys "$BACKUP_PREFIX" >"$WORK_DIR/keys.list" 2>/dev/null || rm -f "$WORK_DIR/keys.list"; } &
    NEWER_DUMPS_PID=$!
    restore_note_job "$NEWER_DUMPS_PID"
}
newer_dumps_warning() {
    local keys newer how
    wait "$NEWER_DUMPS_PID" 2>/dev/null || true
    [[ -f "$WORK_DIR/keys.list" ]] || return 0
    keys=$(<"$WORK_DIR/keys.list")
    newer=$(printf '%s\n' "$keys" | awk -v prefix="$BACKUP_PREFIX" -v db="$source_db" -v chosen="$object_key" '
        { seen[$0] = 1; if (index($0, prefix db "-") == 1 && $0 ~ /-[0-9]+T[0-9]+Z-[0-9a-f]+\.dump\.gpg$/ && $0 > chosen) dumps[++n] = $0 }
        END { for (i = 1; i <= n; i++) { name = substr(dumps[i], length(prefix) + 1); sub(/\.dump\.gpg$/, "", name); if (!seen[prefix "manifests/" name ".json"]) print dumps[i] } }')
    if [[ -n "$newer" ]]; then
        # The newest manifest hidden by a delete marker has a dump without a listed manifest: its verdict first.
        hidden_refuse
        how="the newest manifest"
        [[ $chosen_by_default -eq 1 ]] || how="the manifest you named"
        log "WARNING: $(printf '%s' "$newer" | wc -l | awk '{ print $1 + 1 }') dump(s) newer than $manifest_key have no manifest, newest $(s3_uri "$(printf '%s\n' "$newer" | tail -n 1)"): a backup that did not finish (no manifest was written) or whose manifest was deleted. Restoring $how; to restore a newer dump, recreate its manifest first"
    fi
}

# 2. The object (the manifest's S3 version), the passphrase version, the scratch space, the target: all
#    before the download.
restore_check_file_limit "$want_size"
newer_dumps_start
probe_query=("bucket=$BUCKET" "key=$object_key" "range=bytes=0-65535")
[[ -z "$object_version" ]] || probe_query+=("version_id=$object_version")
what="the dump $(s3_uri "$object_key")${object_version:+ (version $object_version)}"
probed=0
aws_call GET /s3/get "$WORK_DIR/probe.gpg" "${probe_query[@]}" 2>"$WORK_DIR/s3.err" || probed=$?
[[ $hidden_checked -eq 1 ]] || hidden_manifests_start
newer_dumps_warning
# The names' order (the backup hosts' clocks) against S3's (latest_manifest_by_name), for the newest chosen by default.
if [[ $chosen_by_default -eq 1 && -n "$MANIFEST_ORDER_NOTE" ]]; then
    hidden_refuse
    log "WARNING: S3 stored $(s3_uri "${MANIFEST_ORDER_NOTE%%$'\t'*}") ${MANIFEST_ORDER_NOTE#*$'\t'} after $manifest_key, the newest by the time in its name, which this run restores: the times in the names (the backup hosts' clocks) and S3's disagree, a backup host's clock ran behind or ahead (or a manifest was written again later). Check which backup is the newest (npm run recovery-points lists each with its started_at); to restore the other, pass --manifest ${MANIFEST_ORDER_NOTE%%$'\t'*}"
fi
[[ $probed -eq 0 ]] || die "$EX_STORAGE" "$what is not readable: $(one_line_error "$WORK_DIR/s3.err")"
size=$AWS_CALL_OBJECT_SIZE
[[ "$size" == "$want_size" ]] || die "$EX_STORAGE" "$what has $size bytes, the manifest $manifest_key says $want_size"
encryption_for_manifest "$m"
# The passphrase's S2K (gpg-agent, 0.2-0.4 s) runs while the target is connected to and locked; its answer
# is read below, where it was decided before (restore_probe_finish): the same checks in the same order.
restore_probe_start "$WORK_DIR/probe.gpg"
load_db_credentials
check_db_connection "$PGDATABASE"
refuse_read_only_db "restore into" "" "" "$PGDATABASE"
# Two restores into one database at once would both report "restored" and leave whichever committed last: the
# second is refused here, before its download, naming the first. The run's own session (it runs the swap
# later) holds an advisory lock of the target database until the run ends.
export PGAPPNAME="$RESTORE_APP:$RESTORE_RUN_ID"
printf '%s' "$PGAPPNAME" >"$WORK_DIR/restore.sessions"
restore_session_start "$PGDATABASE"
# The server's own error, without psql's "psql:<script>:<line>: " in front of it.
session_failed() {
    local hint=""
    sed 's/^psql:[^ ]*:[0-9]*: //' "$WORK_DIR/session.err" >"$WORK_DIR/session.msg" 2>/dev/null
    # An object of the target outside the dump (another table's foreign key, a view) that depends on a table the
    # swap replaces: PostgreSQL's HINT says CASCADE, which would drop the operator's object; say what to do instead.
    grep -q 'because other objects depend on it' "$WORK_DIR/session.msg" 2>/dev/null \
        && hint=": an object of $(db_address) that is not in the dump depends on a table it replaces (named above); restore.sh replaces those tables whole and drops nothing of yours: drop that object (and create it again after the restore), or restore into another database (PGDATABASE) and copy from there"
    die "$EX_DATABASE" "$1 (nothing committed): $(one_line_error "$WORK_DIR/session.msg")$hint"
}
restore_lock_key=(1865573490 1) # ('o2dr', 1): pg_locks shows it as classid, objid, objsubid 2
session_ask "SELECT pg_backend_pid(), pg_try_advisory_lock(${restore_lock_key[0]}, ${restore_lock_key[1]});" || session_failed "cannot start the restore's session in $(db_address)"
session_backend=${SESSION_OUT%%|*}
if [[ "${SESSION_OUT%$'\n'}" != *"|t" ]]; then
    session_ask "SELECT string_agg($(lock_holder_sql) || format('; its run''s other sessions: SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %L', a.application_name), '; ')
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND (l.classid, l.objid, l.objsubid) = (${restore_lock_key[0]}::oid, ${restore_lock_key[1]}::oid, 2);" || true
    die "$EX_DATABASE" "another restore into $(db_address) is running: ${SESSION_OUT%$'\n'}; two restores at once would leave whichever commits last (the other's 'restored' would not hold): wait for it to end; if its run is gone (a lost pod), end its sessions with the statements above, then run again"
fi
# The delete-marker check's verdict (started with the listing), before the target is named.
hidden_refuse
# Where the restore writes, before any work: PG* pointing at another database is seen before the swap.
log "target: $(db_address) (server ${DB_SERVER_VERSION_NUM:-unknown}; PGHOST, PGPORT, PGDATABASE): the dump's tables there are replaced at the end, in one transaction; nothing there is touched before"
restore_check_scratch "$want_size"
# The pass's processes (step 3: python, pg_restore, gpg, zstd) start while the probe still decrypts (its S2K),
# the download URL presigned first and the AWS helper stopped (the pass's processes make the restore's peak
# memory); nothing is downloaded before the probe's verdict: gpg waits for the session key and the GET is sent
# by restore_pass_key below (lib.sh RESTORE_PASS_KEY_LATER). Presigning failed: all of it after the verdict, as
# before. The watchdog first: a run killed now takes them with it.
spool="$WORK_DIR/spool"
restore_watchdog_start
prestarted=0
if RESTORE_PASS_URL=$(restore_presign "$object_key" "$object_version" 2>"$WORK_DIR/presign.err"); then
    stop_aws_helper
    RESTORE_PASS_KEY_LATER=1 restore_pass_start "$object_key" "$object_version" "$jobs" "${restore_args[@]}" && prestarted=1
fi
if ! restore_probe_finish \
    && grep -Eqi 'bad session key|bad passphrase|no secret key|decryption failed' "$WORK_DIR/probe.err"; then
    # A flipped byte in the object's header reads as a wrong passphrase: its sha256 tells them apart.
    cause=$(grep -Eim1 'bad session key|bad passphrase|no secret key|decryption failed' "$WORK_DIR/probe.err" | sed 's/^gpg: //')
    log "the passphrase ($(passphrase_origin)) does not decrypt the start of $what ($cause): checking the object's sha256"
    if [[ $prestarted -eq 1 ]]; then
        # The waiting pass (nothing downloaded) is stopped; the helper presigns the spool's GET.
        for pid in "${RESTORE_PASS_PIDS[@]}" "${RESTORE_TOC_PIDS[@]}"; do
            kill_own KILL "$pid"
        done
        restore_pass_wait
        restore_pass_toc
        start_aws_helper
    fi
    restore_spool "$object_key" "$object_version"
    [[ "$(cat "$WORK_DIR/spool/s3.rc")" == 0 ]] || die "$EX_STORAGE" "download of $what failed: $(one_line_error "$WORK_DIR/spool/s3.err")"
    got_sha=$(cat "$WORK_DIR/spool/sha.out" 2>/dev/null)
    [[ "$got_sha" == "$want_sha" ]] \
        || die "$EX_STORAGE" "corrupt object: $what has sha256 $got_sha, the manifest $manifest_key says $want_sha (the target was not touched)"
    die "$EX_CRYPTO" "the passphrase ($(passphrase_origin)) does not decrypt $(s3_uri "$object_key"): $cause$(passphrase_crlf_hint "$WORK_DIR/probe.gpg")"
fi
rm -f "$WORK_DIR/probe.gpg"

# 3. One pass over the object: spooled, hashed (sha256), decrypted (gpg's MDC at its end) and, at the same
#    time, its rows loaded into staging tables. Why this keeps "nothing of a corrupt or tampered dump reaches
#    the target" (issue 22): the staging tables are this run's own schemas (oauth2_dr_stage_<run id>_<n>),
#    created with the archive's column names and types only (no default, check or generated expression of the
#    not yet verified archive is evaluated: COPY then only parses values), never visible under the dump's
#    names; the target's own tables are not touched (no lock, no DROP, no write) until the swap below, and the
#    swap starts only after the sha256 of every stored byte is the manifest's and gpg's MDC passed. A corrupt
#    or tampered object ends the run with its exit code (4 or 5) and the staging schemas dropped; killed, the
#    cleanup or the watchdog drops them. The only thing the pass writes to the target before the verdict is
#    that scratch data, discarded.
log "downloading $what (${want_size} bytes, ${RESTORE_COMPRESSION:-pg_dump-compressed}, $(passphrase_origin), finished $(manifest_get "$m" finished_at)): spooled and verified while its rows load into staging tables"
if [[ $prestarted -eq 1 ]]; then
    restore_pass_key
else
    # The download URL, presigned before the pass: the AWS helper (botocore, ~50 MB) then has nothing left to do
    # in this run and is stopped before the pass's processes start (the restore's peak memory).
    RESTORE_PASS_URL=$(restore_presign "$object_key" "$object_version" 2>"$WORK_DIR/presign.err") \
        || die "$EX_STORAGE" "download of $what failed: $(one_line_error "$WORK_DIR/presign.err")"
    stop_aws_helper
    restore_pass_start "$object_key" "$object_version" "$jobs" "${restore_args[@]}" \
        || die "$EX_STORAGE" "download of $what failed: $(one_line_error "$spool/s3.err")"
fi
restore_pass_toc

# 4. From the archive's first bytes: its table of contents and its restore script without the table data.
#    The load's list: the table data, and the sequences' values (setval: run by the swap, after the tables).
mode=parallel
why_single=""
stage_failed=""
if ! file_is "$spool/toc.rc" 0 || ! file_is "$spool/schema.rc" 0; then
    mode=verify-only why_single="the archive's table of contents is not readable"
else
    grep -E '^[0-9]+; [0-9]+ [0-9]+ (TABLE DATA|SEQUENCE SET) ' "$spool/toc.list" >"$spool/data.list" || true
    if [[ $jobs -lt 2 ]]; then
        mode=single why_single="RESTORE_JOBS=1"
    elif grep -Eq '^[0-9]+; [0-9]+ [0-9]+ (BLOBS|LARGE OBJECTS|MATERIALIZED VIEW DATA) ' "$spool/toc.list"; then
        mode=single why_single="the dump has large objects or materialized views"
    elif ! why_single=$(restore_python restore-stage "$spool/schema.sql" "$spool/data.list" "$spool" "oauth2_dr_stage_$RESTORE_RUN_ID" 2>&1); then
        mode=single
    fi
fi
# scratch_full_die WHAT: the scratch directory filled up during the pass (another writer on the volume: the check
# before the download reserves nothing). Said as what it is (exit 2), not as a failed download (the pass's
# status files could not be written) or a bad dump; the target's tables are untouched until the swap.
scratch_full_die() {
    die "$EX_USAGE" "the scratch directory ${TMPDIR:-/tmp} filled up during the restore ($(scratch_free_bytes "$WORK_DIR") bytes free; the spool needs $want_size): $1; free space or point TMPDIR at a larger volume (the target's tables were not touched)"
}
if [[ $mode == parallel ]]; then
    log "loading $(wc -l <"$spool/data.list") table(s) into staging schemas with $jobs parallel COPY sessions while the download is verified (the target's tables are not touched before the verdict)"
    stage_target="" && db_address_in stage_target
    if restore_psql_watched "the staging tables' creation in $stage_target" "nothing committed: the target's tables were not touched" \
        "$WORK_DIR/stage.err" -d "$PGDATABASE" -f "$spool/stage.sql"; then
        restore_pass_gate load 2>/dev/null || scratch_full_die "cannot write in $WORK_DIR/load"
    else
        stage_failed="cannot create the staging tables in $(db_address): $(one_line_error "$WORK_DIR/stage.err")"
        restore_pass_gate drain 2>/dev/null || scratch_full_die "cannot write in $WORK_DIR/load"
    fi
else
    restore_pass_gate drain 2>/dev/null || scratch_full_die "cannot write in $WORK_DIR/load"
fi
if [[ $mode == parallel ]]; then
    restore_pass_wait_watched "$(restore_pass_load_what)"
else
    restore_pass_wait
fi
# A pass whose status files are missing or failed, on a full scratch directory: the disk, not S3 or the dump.
for status_file in "$spool/s3.rc" "$spool/tee.rc" "$spool/gpg.rc"; do
    file_is "$status_file" 0 && continue
    if grep -qs 'No space left on device' "$spool/tee.err" || (($(scratch_free_bytes "$WORK_DIR") < 65536)); then
        if [[ -s "$spool/tee.err" ]]; then
            scratch_full_die "$(one_line_error "$spool/tee.err")"
        fi
        scratch_full_die "the pass's status files ($(basename "$status_file") first) could not be written"
    fi
    break
done

# 5. The verdict on the stored object, before the target's own tables are touched: a corrupt or tampered
#    object, or one that cannot be read to its end, ends here and the staging schemas are dropped (cleanup).
file_is "$spool/s3.rc" 0 || die "$EX_STORAGE" "download of $what failed: $(one_line_error "$spool/s3.err") (the target's tables were not touched)"
file_is "$spool/tee.rc" 0 \
    || die "$EX_USAGE" "cannot spool the dump in the scratch directory ${TMPDIR:-/tmp} ($(scratch_free_bytes "$WORK_DIR") bytes free, needs $want_size): $(one_line_error "$spool/tee.err")"
file_text "$spool/sha.out" || true
got_sha=$REPLY
[[ "$got_sha" == "$want_sha" ]] \
    || die "$EX_STORAGE" "corrupt object: $what has sha256 ${got_sha:-unknown}, the manifest $manifest_key says $want_sha (the target was not touched: the staging tables are dropped)"
file_is "$spool/gpg.rc" 0 \
    || die "$EX_CRYPTO" "corrupt object: $what matches the manifest's sha256 but gpg's integrity check fails: $(one_line_error "$spool/gpg.err") (the target was not touched: the staging tables are dropped)"
log "verified $what: sha256 and gpg integrity check (MDC) of all $want_size bytes"
read -r decompress_rc _ restore_rc load_rc <"$WORK_DIR/load/status" || die "$EX_FAILURE" "the load did not report"
[[ -z "$stage_failed" ]] || die "$EX_DATABASE" "$stage_failed"
# The first step that failed is the one reported: a session's server error ends the load (pg_restore and zstd
# then stop on a closed pipe); a zstd that fails on its input ends pg_restore's input.
if [[ $mode == parallel && "$load_rc" == 3 ]]; then
    worker=$(cat "$WORK_DIR/load/failed")
    die "$EX_DATABASE" "loading into $(db_address) failed (nothing committed): $(one_line_error "$WORK_DIR/load/$worker.err")"
fi
[[ "$decompress_rc" == 0 ]] || reader_went_away "$decompress_rc" "$WORK_DIR/load/decompress.err" \
    || die "$EX_CRYPTO" "decompressing the dump (${RESTORE_COMPRESSION}) failed (nothing committed): $(one_line_error "$WORK_DIR/load/decompress.err")"
[[ $mode != verify-only ]] || die "$EX_CRYPTO" "cannot read the archive's table of contents: $(one_line_error "$spool/toc.err")"
spool_unlink=""
if [[ $mode == parallel ]]; then
    [[ "$restore_rc" == 0 || "$restore_rc" == 141 ]] || die "$EX_DATABASE" "pg_restore failed (nothing committed): $(one_line_error "$WORK_DIR/load/restore.err")"
    [[ "$load_rc$restore_rc$decompress_rc" == 000 ]] || die "$EX_FAILURE" "the load failed (nothing committed): $(one_line_error "$WORK_DIR/load/load.err")"
    # The verified spool is not read again (the swap moves the staged tables): it is unlinked now, alongside the
    # swap (the dump's size on the scratch volume freed before the swap; the unlink of a 1 GB file took 0.1-0.2 s
    # at the exit before).
    rm -f "$spool/dump.gpg" 2>/dev/null &
    spool_unlink=$!
    restore_note_job "$spool_unlink"
else
    log "restoring in one stream ($why_single)"
fi

# 6. The swap: one transaction of the script's own session, committed below only when everything matched.
# The lock waits (RESTORE_LOCK_TIMEOUT per table, minutes by default) are said as they happen, with the table
# and the sessions holding it, never a silent wait.
restore_lock_announce "$session_backend" "$lock_timeout" &
lock_announcer=$!
restore_note_job "$lock_announcer"
# What a wait on the session is said to wait for (session_ask: a server that stops answering is said, and ends the run
# after DB_STALL_SECONDS).
SESSION_STEP="the restore's transaction (the swap; nothing is committed before its COMMIT)"
session_ask "BEGIN; SET LOCAL lock_timeout = '$lock_timeout';" || session_failed "cannot start the restore's transaction in $(db_address)"
if lock_sql=$(restore_lock_sql "$spool/toc.list") && [[ -n "$lock_sql" ]]; then
    session_ask "$lock_sql" || session_failed "cannot lock the tables of the dump in $(db_address)"
fi
# What the swap would drop without the dump bringing it back: objects added to the dump's tables since the backup.
# The same query runs again after the swap: what it returns then, the dump brought back itself.
added_objects_sql=$(restore_added_objects_sql "$spool/toc.list")
session_ask "$added_objects_sql" || session_failed "cannot read the objects on the dump's tables in $(db_address)"
printf '%s' "$SESSION_OUT" >"$WORK_DIR/added.before"
# The spool's path inside psql's single quotes (a quote doubled), one argument of \i: unquoted, a TMPDIR with a space
# split it in two ("/tmp/my: No such file or directory", the restore stopped; h39-drill's trial).
spool_quoted=${spool//\'/\'\'}
if [[ $mode == parallel ]]; then
    log "moving the loaded tables into place and building their indexes (one transaction)"
    session_ask "\\i '$spool_quoted/swap.sql'" || session_failed "restore into $(db_address) failed"
    session_ask "\\i '$spool_quoted/setval.sql'" || session_failed "setting the sequences in $(db_address) failed"
    wait "$spool_unlink" 2>/dev/null || true
else
    mkfifo "$spool/stream.sql"
    (
        set +e
        restore_decrypted 2>"$spool/decrypt.err" | pg_restore "${restore_args[@]}" -f - 2>"$spool/restore.err" >"$spool/stream.sql"
        echo "${PIPESTATUS[*]}" >"$spool/stream.status"
    ) &
    stream_pid=$!
    restore_note_job "$stream_pid"
    if ! session_ask "\\i '$spool_quoted/stream.sql'"; then
        kill_own KILL "$stream_pid"
        session_failed "restore into $(db_address) failed"
    fi
    wait "$stream_pid" || true
    read -r decrypt_rc restore_rc <"$spool/stream.status" || die "$EX_FAILURE" "the restore stream did not report"
    [[ "$restore_rc" == 0 ]] || die "$EX_DATABASE" "pg_restore failed (nothing committed): $(one_line_error "$spool/restore.err")"
    [[ "$decrypt_rc" == 0 ]] || die "$EX_CRYPTO" "decrypting the spooled dump failed (nothing committed): $(one_line_error "$spool/decrypt.err")"
fi

# 6b. The objects added since the backup, recreated on the restored tables (unless --drop-added-objects); an
#     object the dump itself brought back (a CHECK written inside CREATE TABLE has no entry of its own) is not.
if [[ -s "$WORK_DIR/added.before" ]]; then
    session_ask "$added_objects_sql" || session_failed "cannot read the objects on the restored tables in $(db_address)"
    printf '%s' "$SESSION_OUT" >"$WORK_DIR/added.after"
    jq -c --slurpfile after <(jq -s . "$WORK_DIR/added.after") '($after[0] | map(.key)) as $back | select(.key as $k | $back | index($k) | not)' \
        "$WORK_DIR/added.before" >"$WORK_DIR/added.lost"
    if [[ -s "$WORK_DIR/added.lost" && $keep_added -eq 0 ]]; then
        while IFS= read -r line; do
            log "dropped (--drop-added-objects): $(jq -r '"\(.kind) \(.key | sub("^[a-z]+:"; "")) on \(.table), added since the backup: \(.ddl)"' <<<"$line")"
        done <"$WORK_DIR/added.lost"
    elif [[ -s "$WORK_DIR/added.lost" ]]; then
        session_ask "$(restore_recreate_sql "$WORK_DIR/added.lost")" || session_failed "cannot recreate the objects added since the backup in $(db_address)"
        printf '%s' "$SESSION_OUT" >"$WORK_DIR/added.failed"
        while IFS= read -r line; do
            key=$(jq -r .key <<<"$line")
            what=$(jq -r '"\(.kind) \(.key | sub("^[a-z]+:"; "")) on \(.table)"' <<<"$line")
            reason=$(grep -F -- "$key: " "$WORK_DIR/added.failed" | head -n 1 || true)
            if [[ -z "$reason" ]]; then
                log "kept $what: added to the target since the backup, recreated on the restored table"
            else
                log "warning: dropped $what: added since the backup, it does not fit the restored data (${reason#"$key: "}); its definition: $(jq -r .ddl <<<"$line")"
            fi
        done <"$WORK_DIR/added.lost"
    fi
fi

# 7. The restored data against the manifest, inside the transaction: a mismatch rolls everything back. With
#    the search_path the backup read the schema with (the dump's script empties it: types print qualified).
#    A table the parallel load filled is counted by the server's own COPY command tags (the rows it inserted
#    into the staging table that the swap moved, summed over the sessions): the number count(*) would find,
#    without a second scan of the table inside the swap; any other table is counted with count(*).
session_ask "RESET search_path;" || session_failed "restore into $(db_address) failed"
declare -A loaded_rows=()
staged_as=""
if [[ $mode == parallel && -s "$WORK_DIR/load/counts" ]]; then
    staged_as=$(awk -F'\t' -v s="$schema" '$1 == s { print $2 }' "$spool/stage.map")
    while IFS=$'\t' read -r table rows; do loaded_rows[$table]=$rows; done <"$WORK_DIR/load/counts"
fi
mismatches=0
while read -r table want; do
    [[ -n "$table" ]] || continue
    if [[ -n "$staged_as" && -n "${loaded_rows["$staged_as.$table"]:-}" ]]; then
        got=${loaded_rows["$staged_as.$table"]}
    else
        session_ask "SELECT count(*) FROM \"${schema}\".\"${table}\";" || session_failed "cannot count ${schema}.${table}"
        got=${SESSION_OUT%$'\n'}
    fi
    if [[ "$got" == "$want" ]]; then
        log "$table: $got rows (manifest $want)"
    else
        log "$table: $got rows, the manifest says $want"
        mismatches=$((mismatches + 1))
    fi
done < <(manifest_row_counts "$m")
want_schema=$(manifest_get "$m" .schema_definition.sha256)
if [[ -n "$want_schema" ]]; then
    session_ask "$(tr '\n' ' ' <<<"$SCHEMA_JSON_SQL");" || session_failed "cannot read the restored schema of $(db_address)"
    printf '%s' "$SESSION_OUT" >"$WORK_DIR/target-schema.json"
    # Tables the dump does not have are not the restore's: left as they are, and named. One jq: the dump's
    # tables' columns (one line, as jq -c writes them), their number, then the other tables' names (the rest).
    schema_read=$(jq -rc --slurpfile m "$m" '($m[0].schema_definition.tables // {} | keys) as $mine
        | map(select(.[0] as $t | $mine | index($t))) as $restored
        | $restored, ($restored | length), (map(.[0] | select(. as $t | $mine | index($t) | not)) | unique | join(", "))' \
        "$WORK_DIR/target-schema.json")
    printf '%s\n' "${schema_read%%$'\n'*}" >"$WORK_DIR/restored-schema.json"
    schema_read=${schema_read#*$'\n'}
    restored_columns=${schema_read%%$'\n'*}
    others=""
    [[ "$schema_read" != *$'\n'* ]] || others=${schema_read#*$'\n'}
    [[ -z "$others" ]] || log "tables of $(db_address) that are not in the dump, left as they are: $others"
    got_schema=$(schema_hash <"$WORK_DIR/restored-schema.json")
    if [[ "$got_schema" == "$want_schema" ]]; then
        log "schema: $restored_columns columns, sha256 $got_schema (manifest's)"
    else
        log "schema differs from the manifest's: $(schema_diff "$m" "$WORK_DIR/restored-schema.json")"
        mismatches=$((mismatches + 1))
    fi
fi
if [[ $mismatches -ne 0 ]]; then
    session_ask "ROLLBACK;" || true
    die "$EX_VERIFY" "$mismatches check(s) differ from the manifest $manifest_key: rolled back, $(db_address) is unchanged"
fi
RESTORE_COMMIT=sent
SESSION_STEP="the COMMIT's answer (without it the target holds either the dump or its earlier state: check its row counts, or run the same command again, it restores either way)"
session_ask "COMMIT;" || session_failed "COMMIT in $(db_address) failed"
RESTORE_COMMIT=committed
kill_job "$lock_announcer"
session_end
# Committed: the swap's transaction dropped the staging schemas (swap.sql), the load's sessions ended with it and
# the run's own session just now. The cleanup's connection (end the run's sessions, drop the staging schemas:
# 0.05-0.15 s, with a pause while a session still shows) has nothing left to do: it is not opened.
rm -f "$WORK_DIR/restore.sessions"
# What the restored database holds, the operator's next question after a corruption: the dump's snapshot (its
# started_at; finished_at for manifests without it), and that later writes are not in it.
snapshot_at=$(manifest_get "$m" started_at) || snapshot_at=""
[[ -n "$snapshot_at" ]] || snapshot_at=$(manifest_get "$m" finished_at) || snapshot_at=""
restored_state=""
[[ -z "$snapshot_at" ]] || restored_state=": the database as it was at $snapshot_at (pg_dump's snapshot); what was written after that is not in it"
log "restored $object_key into $(db_address)$restored_state"
echo "$manifest_key"
