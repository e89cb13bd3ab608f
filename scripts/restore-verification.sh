#!/usr/bin/env bash
# restore-verification.sh: the runbook's monthly "Backup Verification", automated.
#
# Prints one line per item of the runbook's Verification Checklist, in its order, on stdout:
#   PASS|FAIL backup completed successfully: ...
#   PASS|FAIL backup size is expected: ...
#   PASS|FAIL restore to test instance works: ...
#   PASS|FAIL data integrity verified: ...
#   PASS|FAIL application can connect to restored database: ...
#   PASS|FAIL all tables present with expected row counts: ...
#   PASS|FAIL test instance cleaned up: ...
# and exits non-zero if any item is FAIL. The test database or instance is removed on every path (trap),
# including failures and SIGTERM.
#
# VERIFY_MODE=dump (default): the newest manifest of PGDATABASE under BACKUP_PREFIX (or VERIFY_MANIFEST_KEY)
#   and its dump are checked and restored into a scratch database VERIFY_DATABASE (default
#   oauth2_verify_<UTC time>) created on the server of PGHOST (VERIFY_PGHOST/VERIFY_PGPORT to use another
#   server; the role needs CREATEDB). Before the download: the stored object's real size (a ranged GET of its
#   first 64 KiB) against the manifest and the previous backup's object, the passphrase version the manifest
#   names (a wrong passphrase fails on those 64 KiB), the verification server. Then restore.sh's one pass
#   (lib.sh restore_pass_start; scripts/README.md): curl (presigned GET) | sha256 | gpg --decrypt | zstd -d
#   (v1 dumps: none) | pg_restore -a | RESTORE_JOBS (default 2) parallel COPY sessions into UNLOGGED staging
#   tables of the scratch database (no WAL: it is dropped after the verdict; restore.sh's target tables are
#   never unlogged); once the sha256 is the manifest's and gpg's MDC passed, one transaction moves them
#   into place and builds the indexes (a dump whose tables cannot be staged is then restored in one stream,
#   read a second time). The dump is streamed, never stored. Then the restored schema
#   (every table, column, type) is compared with the manifest's, the server's lookups run with the columns
#   that exist (every released column set passes; a missing column of every release fails), every
#   oauth2_* table's rows are compared with the manifest's count, and the scratch database is dropped. A
#   staged table's rows are the server's COPY command tags (the rows it inserted, summed over the sessions)
#   when, at the end of the swap's transaction, it is still the relation the sessions filled (same oid and
#   file: no DROP, TRUNCATE or rewrite) and that transaction deleted and inserted none of its rows (its own
#   statistics, track_counts on): no second scan of the data; any other table is counted with count(*).
# VERIFY_MODE=snapshot: the newest available RDS snapshot of DB_INSTANCE_IDENTIFIER is restored into
#   oauth2-backup-test-<yyyymmdd> (class VERIFY_INSTANCE_CLASS, default db.t3.medium; optional
#   VERIFY_SUBNET_GROUP, VERIFY_SECURITY_GROUP_IDS (space separated)), the tables are checked over the
#   restored endpoint with the PG* credentials, and the instance is deleted (--skip-final-snapshot).
#   VERIFY_ENDPOINT_OVERRIDE=host:port replaces the restored endpoint (tests only, with moto).
#
# Environment (other): BUCKET (required in dump mode), AWS_REGION, AWS_ENDPOINT_URL, BACKUP_PREFIX (default
#   database/); PG* (PGDATABASE default oauth2db) or DB_CREDENTIALS_SECRET_ID; PASSPHRASE_FILE (overrides) or
#   BACKUP_PASSPHRASE_SECRET_ID (dump mode; the manifest's secret version is read); for public-key dumps
#   RESTORE_GPG_PRIVATE_KEYS_FILE or RESTORE_PRIVATE_KEYS_SECRET_ID (+ _ENDPOINT_URL, _REGION, _ROLE_ARN);
#   EXPECTED_TABLES (default: the three tables of the server's schema); VERIFY_MIN_SIZE_BYTES (default
#   1024); VERIFY_MAX_SHRINK_PERCENT (default 50: a dump smaller than half the previous one is
#   unexpected); VERIFY_MAX_AGE_HOURS (default 48: the newest backup must be this recent);
#   VERIFY_MAINTENANCE_DB (default postgres); VERIFY_SCRATCH_BYTES (default 1048576: the free space the
#   verification needs in TMPDIR for its own files).
#
# Exit codes: 0 every item PASS; 6 the backup failed a check: its manifest or object, its size or age, its
#   integrity (sha256, gpg's integrity check, decompression: "corrupt object"), rows that violate the dump's
#   own unique indexes or constraints, the restored schema, the server's lookups or the row counts. A failure
#   of the verification's own environment is never 6 (the items it kept from being checked say "not
#   checked" and why): 2 configuration, also a scratch directory
#   (TMPDIR) with less than VERIFY_SCRATCH_BYTES free (default 1 MiB: the dump is streamed, never stored);
#   3 the verification server is unreachable or cannot be written (a standby, read-only sessions), or stopped answering for DB_STALL_SECONDS (lib.sh) while the pass
#   loaded the scratch database or during its swap, or the restore failed on the database side (pg_restore or the
#   server, e.g. the connection killed) while the backup itself checked out: the pass reads the whole object
#   whatever the load does, so "data integrity verified" is still decided (a dump restored in one stream is
#   read again without a database, and the item says so); 4 storage (the bucket cannot be listed, the
#   manifest cannot be read, the download failed); 5 encryption (the passphrase version cannot be read or
#   does not decrypt the dump); 1 other; 130/143 interrupted. In every case the seven lines are printed (the
#   cleanup item says what was removed). Of the stream's steps, the first that failed is the one reported:
#   a step that failed only on a broken pipe (a later step had stopped reading) is not the cause.
# shellcheck disable=SC2317 # the cleanup functions run from the EXIT trap
set -euo pipefail
set -m

# This script's directory as dirname prints it, without a dirname process (lib.sh script_dir).
if [[ "${BASH_SOURCE[0]}" == */* ]]; then SCRIPT_DIR=${BASH_SOURCE[0]%/*}; else SCRIPT_DIR=.; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

VERIFY_MODE="${VERIFY_MODE:-dump}"
BACKUP_PREFIX="${BACKUP_PREFIX:-database/}"
case "$VERIFY_MODE" in
dump) require_env BUCKET; require_cmd pg_restore psql gpg python3 curl sha256sum tee zstd jq ;;
snapshot) require_env DB_INSTANCE_IDENTIFIER; require_cmd psql aws ;;
*) die "$EX_USAGE" "VERIFY_MODE must be dump or snapshot, not $VERIFY_MODE" ;;
esac

ITEMS=(
    "backup completed successfully"
    "backup size is expected"
    "restore to test instance works"
    "data integrity verified"
    "application can connect to restored database"
    "all tables present with expected row counts"
    "test instance cleaned up"
)
declare -A RESULT=() DETAIL=()
# result ITEM PASS|FAIL DETAIL: the first result of an item wins (a later "not checked" never hides a FAIL).
result() {
    [[ -n "${RESULT[$1]:-}" ]] && return 0
    RESULT[$1]=$2
    DETAIL[$1]=$3
}
fail_rest() {
    local item
    for item in "${ITEMS[@]}"; do
        [[ "$item" == "test instance cleaned up" ]] || result "$item" FAIL "not checked: $1"
    done
}
# join_lines ITEM...: "a; b; c"
join_lines() {
    local out="" item
    for item in "$@"; do out+="${out:+; }$item"; done
    printf '%s' "$out"
}
report() {
    local item failed=0
    for item in "${ITEMS[@]}"; do
        [[ -n "${RESULT[$item]:-}" ]] || result "$item" FAIL "not checked"
        printf '%s %s: %s\n' "${RESULT[$item]}" "$item" "${DETAIL[$item]}"
        [[ "${RESULT[$item]}" == PASS ]] || failed=1
    done
    return "$failed"
}

SCRATCH_DB=""
SCRATCH_CREATED=0
# The scratch database's CREATE DATABASE runs in the background while the pass starts (the first bytes of
# the download, gpg, the archive's table of contents): scratch_settle waits for it before the database is
# first used, and before the cleanup drops it (never killed: a CREATE cut off on the client side could still
# complete on the server after the DROP).
SCRATCH_CREATE_PID=""
scratch_create_start() {
    {
        set +e
        vpsql -d "${VERIFY_MAINTENANCE_DB:-postgres}" -c "CREATE DATABASE \"${SCRATCH_DB}\"" >/dev/null 2>"$WORK_DIR/create.err"
        echo $? >"$WORK_DIR/create.rc"
    } &
    SCRATCH_CREATE_PID=$!
}
# scratch_settle: waits for scratch_create_start's CREATE DATABASE; 0 when the scratch database exists
# (SCRATCH_CREATED=1), 1 when it was not created (WORK_DIR/create.err says why), 2 when the verification server
# stopped answering during it (scratch_wait: until h37 a server frozen mid-CREATE held the run, and its cleanup,
# silently): the CREATE is then cut off on the client side, and whether the database exists is unknown
# (SCRATCH_CREATED=2: the cleanup drops it all the same, or names it; SCRATCH_WAIT_ERROR says what happened).
scratch_settle() {
    if [[ -n "$SCRATCH_CREATE_PID" ]]; then
        local pid=$SCRATCH_CREATE_PID
        SCRATCH_CREATE_PID=""
        if ! scratch_wait "CREATE DATABASE ${SCRATCH_DB}" "${VERIFY_MAINTENANCE_DB:-postgres}" "$pid"; then
            SCRATCH_CREATED=2
            return 2
        fi
        ! file_is "$WORK_DIR/create.rc" 0 || SCRATCH_CREATED=1
    fi
    [[ $SCRATCH_CREATED -eq 1 ]] || return $((SCRATCH_CREATED == 2 ? 2 : 1))
}
# scratch_wait WHAT DB PID...: lib.sh db_wait_bounded for the jobs PID... (children of this shell) that wait on
# database DB of the verification server (VERIFY_PGHOST/VERIFY_PGPORT): the watch probes and names that server, not
# PGHOST's. Status 1 once it has not answered for DB_STALL_SECONDS (the jobs killed): SCRATCH_WAIT_ERROR then says
# so, naming it (read here: db_address needs this function's PGHOST/PGPORT/PGDATABASE). Nothing starts on the
# normal path (the watch's probe only every WAIT_PROGRESS_SECONDS).
SCRATCH_WAIT_ERROR=""
scratch_wait() {
    local -x PGHOST="${VERIFY_PGHOST:-${PGHOST:-}}" PGPORT="${VERIFY_PGPORT:-${PGPORT:-5432}}" PGDATABASE=$2
    local where
    db_address_in where
    db_wait_bounded "$1 in $where" "${@:3}" && return 0
    SCRATCH_WAIT_ERROR=$(db_watch_error)
    return 1
}
# scratch_drop_hint: what the operator runs once the verification server answers again, for a scratch database
# that may be left there.
scratch_drop_hint() {
    printf 'the scratch database %s may remain on %s: DROP DATABASE IF EXISTS "%s" WITH (FORCE) there once the server answers' \
        "$SCRATCH_DB" "$(db_address "${VERIFY_PGHOST:-${PGHOST:-}}" "${VERIFY_PGPORT:-${PGPORT:-5432}}" "${VERIFY_MAINTENANCE_DB:-postgres}")" "$SCRATCH_DB"
}
# test_instance_hint: what may be left of the test instance when the verification server stops answering during a
# check, for the run's error: the scratch database (dump mode: scratch_drop_hint), or the restored RDS instance
# (snapshot mode), which this run's cleanup deletes through the RDS API whether or not the server answers.
test_instance_hint() {
    if [[ "$VERIFY_MODE" == snapshot ]]; then
        printf "the test instance %s is deleted by this run's cleanup: its line 'test instance cleaned up' says whether it was" "$RESTORE_ID"
    else
        scratch_drop_hint
    fi
}
# checks_stalled: the run's end when the verification server stopped answering during a check (scratch_wait failed):
# exit 3 with SCRATCH_WAIT_ERROR, and what may be left of the test instance.
checks_stalled() { die "$EX_DATABASE" "$SCRATCH_WAIT_ERROR (the checks only read; $(test_instance_hint))"; }
INTEGRITY_PID=""
# What the verification itself needs in TMPDIR: the manifests, the probe's 64 KiB, gpg's home, the steps'
# messages. The dump is streamed, never stored.
SCRATCH_NEED_BYTES=${VERIFY_SCRATCH_BYTES:-1048576}
# The exit code when the backup passed every check that could run, but the verification could not finish
# for a cause of its own (the verification server, S3, the scratch directory): set with environment_failed.
ENVIRONMENT_STATUS=0
# check_size's arguments while it is still to come (verify_dump: the passphrase is loaded first, so that its
# S2K runs while the size is checked); the cleanup runs it when the run stops before.
SIZE_CHECK_PENDING=()
# The listing of the database's manifests, when verify_dump listed them to find the newest: check_size takes the
# previous manifest from it (MANIFESTS_LISTED=1) instead of listing again.
MANIFESTS_LISTING="" MANIFESTS_LISTED=0
# The dump's GET URL, presigned while the probe decrypts (verify_pass presigns again when this is empty).
VERIFY_PASS_URL=""
# The job hashing the manifest's own schema (verify_dump, while the pass runs).
MANIFEST_SCHEMA_JOB=""
RESTORE_ID=""
RESTORE_STARTED=0

drop_scratch() {
    local settled=0
    scratch_settle || settled=$?
    # 2: the CREATE was cut off (the server stopped answering): the database may exist, dropped all the same.
    if ((settled != 1)); then
        local left out
        # The DROP and the look that it is gone, in one connection ("dropped" says the DROP succeeded; psql stops
        # at a failing DROP, ON_ERROR_STOP). Watched (scratch_wait): a server that stops answering during it
        # would hold the run's end (until h37); it ends after DB_STALL_SECONDS, the database it leaves named.
        { vpsql -d "${VERIFY_MAINTENANCE_DB:-postgres}" -c "DROP DATABASE IF EXISTS \"${SCRATCH_DB}\" WITH (FORCE)" -c "SELECT 'dropped'" \
            -c "SELECT count(*) FROM pg_database WHERE datname = '${SCRATCH_DB}'" >"$WORK_DIR/drop.out" 2>"$WORK_DIR/drop.err"; } &
        if ! scratch_wait "DROP DATABASE ${SCRATCH_DB}" "${VERIFY_MAINTENANCE_DB:-postgres}" $!; then
            result "test instance cleaned up" FAIL "$SCRATCH_WAIT_ERROR; $(scratch_drop_hint)"
            log "ERROR: $SCRATCH_WAIT_ERROR; $(scratch_drop_hint)"
            environment_failed "$EX_DATABASE"
            return
        fi
        file_text "$WORK_DIR/drop.out" || true
        out=$REPLY
        # A cleanup that fails is the verification server's fault, not the backup's: exit 3, not 6, when every check of
        # the backup passed (until h38 a DROP that could not connect, the server frozen, made it exit 6: "the backup failed").
        if [[ "$out" != dropped* ]]; then
            result "test instance cleaned up" FAIL "DROP DATABASE ${SCRATCH_DB} failed: $(tail -n 1 "$WORK_DIR/drop.err"); $(scratch_drop_hint)"
            environment_failed "$EX_DATABASE"
            return
        fi
        left=${out#dropped}
        left=${left#$'\n'}
        [[ -n "$left" ]] || left="?"
        if [[ "$left" == 0 ]]; then
            result "test instance cleaned up" PASS "scratch database ${SCRATCH_DB} dropped"
        else
            result "test instance cleaned up" FAIL "scratch database ${SCRATCH_DB} still exists"
            environment_failed "$EX_DATABASE"
        fi
        SCRATCH_CREATED=0
    else
        result "test instance cleaned up" PASS "nothing was created"
    fi
}

delete_instance() {
    if [[ $RESTORE_STARTED -eq 1 ]]; then
        local status
        if ! awscli rds delete-db-instance --db-instance-identifier "$RESTORE_ID" --skip-final-snapshot \
            >/dev/null 2>"$WORK_DIR/delete.err"; then
            result "test instance cleaned up" FAIL "delete-db-instance $RESTORE_ID failed: $(tail -n 1 "$WORK_DIR/delete.err")"
            # The RDS API's failure, not the backup's: exit 1, not 6, when every check of the backup passed (h38).
            environment_failed "$EX_FAILURE"
            return
        fi
        status=$(awscli rds describe-db-instances --db-instance-identifier "$RESTORE_ID" \
            --query 'DBInstances[0].DBInstanceStatus' --output text 2>/dev/null) || status="gone"
        if [[ "$status" == "deleting" || "$status" == "gone" ]]; then
            result "test instance cleaned up" PASS "instance $RESTORE_ID deleted (status: $status)"
        else
            result "test instance cleaned up" FAIL "instance $RESTORE_ID is $status after delete-db-instance"
            environment_failed "$EX_FAILURE"
        fi
        RESTORE_STARTED=0
    else
        result "test instance cleaned up" PASS "nothing was created"
    fi
}

cleanup() {
    local status=$?
    # The default IFS for everything the cleanup calls (lib.sh cleanup_work_dir_on_exit says why).
    local IFS=$' \t\n'
    trap - EXIT INT TERM
    set +e
    # A signal's trap runs with the redirections of the command it interrupted (restore_pass_wait's
    # `wait ... 2>/dev/null`, `psql_value ... >/dev/null 2>stage.err`): the checklist and the run's last words
    # go to its own stdout and stderr.
    exec 1>&"$VERIFY_STDOUT" 2>&"$VERIFY_STDERR"
    # bash's job notices ("line N: PID Killed { ... }") for the pass's jobs ended here (a run that stopped mid-pass)
    # are not the operator's business: the run's own ERROR line says what happened.
    {
        kill_job "$STREAM_PID"
        kill_job "$STREAM_SHA_PID"
        kill_job "$INTEGRITY_PID"
        restore_kill_jobs
    } 2>/dev/null
    # A run that stopped while the passphrase was loaded (check_size is then still to come): the size is decided
    # all the same, as it was when it came first.
    [[ ${#SIZE_CHECK_PENDING[@]} -eq 0 ]] || check_size "${SIZE_CHECK_PENDING[@]}"
    if [[ $status -ne 0 && $status -ne $EX_VERIFY ]]; then
        fail_rest "the verification stopped (exit code $status)${LAST_ERROR:+: $LAST_ERROR}"
    fi
    if [[ "$VERIFY_MODE" == dump ]]; then drop_scratch; else delete_instance; fi
    if ! report; then
        [[ $status -eq 0 ]] && status=$EX_VERIFY
    fi
    # A failure of the verification's environment is not a bad backup: its own exit code, not 6, when every
    # check of the backup that could run passed.
    # The backup's own items: its manifest and object, its size, and what was checked on the restored data.
    [[ "${RESULT["backup completed successfully"]}" == PASS && "${RESULT["backup size is expected"]}" == PASS ]] || BACKUP_FAILED=1
    if [[ "${RESULT["restore to test instance works"]}" == PASS ]]; then
        [[ "${RESULT["application can connect to restored database"]}" == PASS && "${RESULT["all tables present with expected row counts"]}" == PASS ]] || BACKUP_FAILED=1
    fi
    [[ $status -ne $EX_VERIFY || $ENVIRONMENT_STATUS -eq 0 || $BACKUP_FAILED -eq 1 ]] || status=$ENVIRONMENT_STATUS
    # The passphrase version the manifest names no longer exists: the dump cannot be restored through its own
    # key reference. The backup's failure (6), not the environment's ("not the dump" would be a wrong verdict).
    if [[ $status -eq $EX_CRYPTO && "$LAST_ERROR" == *"secret value for VersionId"* ]]; then
        BACKUP_FAILED=1
        status=$EX_VERIFY
    fi
    # A fault of the AWS configuration met on the way (credentials that expired during the run, found by lib.sh
    # when S3 refused the download): exit 2 with its line, as die does, not 4.
    if [[ "$(exit_code "$status")" != "$status" ]]; then
        log "ERROR: $(aws_config_fault)"
        status=$EX_USAGE
    fi
    # The record recovery-points reads (passed or failed); a verification whose record is lost did not pass.
    # The AWS helper is stopped during the pass and the swap (verify_pass): a run interrupted there starts it.
    [[ "$VERIFY_MODE" != dump || -z "$VERIFY_RECORD_MANIFEST" || -n "$AWS_HELPER_PID" ]] || start_aws_helper
    write_verification_record "$status" || { [[ $status -ne 0 ]] || status=$EX_STORAGE; }
    remove_work_dir
    exit "$status"
}

# scratch_free: bytes available in the scratch directory (TMPDIR).
scratch_free() { df -P -B1 "${TMPDIR:-/tmp}" 2>/dev/null | awk 'NR == 2 { print $4 }'; }

# scratch_shortage: "scratch directory X has N bytes free, needs M" when TMPDIR lacks the verification's
# own space (so that a failed local write is not taken for a storage or backup error), else "".
scratch_shortage() {
    local free
    free=$(scratch_free)
    [[ "$free" =~ ^[0-9]+$ && $free -lt $SCRATCH_NEED_BYTES ]] || return 0
    printf 'scratch directory %s has %s bytes free, needs %s' "${TMPDIR:-/tmp}" "$free" "$SCRATCH_NEED_BYTES"
}

# environment_failed CODE: the verification's environment failed (not the backup); the run ends with CODE
# unless a check of the backup itself failed.
BACKUP_FAILED=0
environment_failed() { ENVIRONMENT_STATUS=$1; }
# backup_failed ITEM DETAIL: a FAIL that is the backup's own.
backup_failed() { BACKUP_FAILED=1; result "$1" FAIL "$2"; }
# --- the verification record (scripts/README.md, "Verification records") ---------------------------------
# Dump mode writes one small JSON object per run, passed or failed, beside the manifests:
#   ${BACKUP_PREFIX}verifications/<manifest file name without .json>/<time-ordered stamp>.json
# with the manifest's key, VersionId and sha256 (of the bytes verified), the times, the result, the exit
# code, the first failure and each checklist item. Put through the helper, it gets the job's Object Lock
# retention (OBJECT_LOCK_MODE, OBJECT_LOCK_RETAIN_DAYS: the database class) as the dumps do. Snapshot mode
# and a run that found no manifest (none listed, or VERIFY_MANIFEST_KEY naming none) write none (nothing to attach it to).
VERIFY_RECORD_MANIFEST=""
# The manifest's VersionId for the record, read before the download (verify_dump); "" when it was not.
VERIFY_RECORD_VERSION=""
VERIFY_RECORD_STARTED=$(now_utc)
# The database whose backup is verified, for the record: read here, as a run that stops inside verify_pass (its
# PGDATABASE is the scratch database there, and the EXIT trap runs in that scope) would otherwise record the scratch one.
VERIFY_RECORD_DATABASE=${PGDATABASE:-}
# write_verification_record STATUS: writes the record of this run (STATUS: the exit code); 1 when S3 refused it.
write_verification_record() {
    local status=$1 name key version="" manifest_sha="" item schema="not in the manifest" out="$WORK_DIR/record.json"
    [[ "$VERIFY_MODE" == dump && -n "$VERIFY_RECORD_MANIFEST" ]] || return 0
    name=${VERIFY_RECORD_MANIFEST##*/}
    key="${BACKUP_PREFIX}verifications/${name%.json}/$(time_ordered_stamp).json"
    # Read while the probe decrypted (VERIFY_RECORD_VERSION, the manifest just read), else now.
    version=$VERIFY_RECORD_VERSION
    [[ -n "$version" ]] || version=$(s3_version "$VERIFY_RECORD_MANIFEST" 2>/dev/null) || version=""
    if [[ -s "$WORK_DIR/manifest.json" ]]; then
        manifest_sha=$(sha256sum <"$WORK_DIR/manifest.json" | cut -d' ' -f1)
        [[ -z "$(manifest_get "$WORK_DIR/manifest.json" .schema_definition.sha256 2>/dev/null)" ]] \
            || schema=${RESULT["data integrity verified"]:-not checked}
    fi
    for item in "${ITEMS[@]}"; do
        printf '%s\t%s\t%s\n' "$item" "${RESULT[$item]:-FAIL}" "${DETAIL[$item]:-not checked}"
    done | jq -Rn --arg manifest "$VERIFY_RECORD_MANIFEST" --arg version "$version" --arg sha "$manifest_sha" \
        --arg database "$VERIFY_RECORD_DATABASE" --arg started "$VERIFY_RECORD_STARTED" --arg finished "$(now_utc)" \
        --argjson duration "$SECONDS" --argjson status "$status" --argjson verify "$EX_VERIFY" --arg schema "$schema" '
        [inputs | split("\t") | {item: .[0], result: .[1], detail: (.[2:] | join(" "))}] as $checks
        | ([$checks[] | select(.result != "PASS")][0]) as $first
        | {format: "oauth2-dr/restore-verification/v1", manifest_key: $manifest,
           manifest_version_id: (if $version == "" then null else $version end),
           manifest_sha256: (if $sha == "" then null else $sha end), database: $database,
           started_at: $started, finished_at: $finished, duration_seconds: $duration,
           result: (if $status == 0 then "passed" else "failed" end),
           failed_by: (if $status == 0 then null elif $status == $verify then "backup" else "environment" end),
           exit_code: $status,
           reason: (if $status == 0 then null elif $first then "\($first.item): \($first.detail)" else "exit code \($status)" end),
           checked: {row_counts: ($checks[5].result), schema: $schema, service_lookups: ($checks[4].result)},
           checks: $checks}' >"$out" || { log "cannot build the verification record"; return 1; }
    # aws_call with an answer file (s3_put_file's is /dev/null): S3's refusal is then on stderr to be said.
    if ! aws_call POST /s3/put "$WORK_DIR/record.answer" "bucket=$BUCKET" "key=$key" "content_type=application/json" \
        --body "$out" 2>"$WORK_DIR/record.err"; then
        log "cannot write the verification record $(s3_uri "$key"): $(one_line_error "$WORK_DIR/record.err")"
        return 1
    fi
    # The record's own "result", from the same status (no jq process after the put).
    local outcome=failed
    [[ $status -ne 0 ]] || outcome=passed
    log "verification record $(s3_uri "$key"): $outcome"
}

exec {VERIFY_STDOUT}>&1 {VERIFY_STDERR}>&2
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The scratch directory first: on a full one every later step would fail on its own local writes, and read as
# a storage error or a bad backup.
shortage=$(scratch_shortage)
[[ -z "$shortage" ]] || die "$EX_USAGE" "the verification environment: $shortage (free space, or point TMPDIR at a larger volume)"
make_work_dir
load_db_credentials

# psql against the verification server (the source server unless VERIFY_PGHOST/VERIFY_PGPORT say otherwise).
vpsql() { PGHOST="${VERIFY_PGHOST:-${PGHOST:-}}" PGPORT="${VERIFY_PGPORT:-${PGPORT:-5432}}" psql_value "$@"; }

# server_queries DB TABLE [ERR_FILE [COLUMNS_FILE]]: runs the authorization server's read queries on TABLE, built from
# the columns the restored table has (its line of COLUMNS_FILE, check_tables; else a query of its own): the select
# list of the server's JDBC services (the columns of every release, plus the later ones that exist), the lookup by
# primary key, and the other lookups of the server (client_id; state and each token value) in one statement, for
# values taken from the first rows. Two statements at most, and the second stops at its first row (LIMIT 1): the
# token columns have no index in the server's schema, so a lookup that went on would read (and detoast) every
# token of the table, seconds per GB for no further proof. Prints the release of the column set on success; on
# failure prints why and returns 1.
server_queries() {
    local db=$1 table=$2 schema="${DB_SCHEMA}" present column missing=() select=() release="0.2" later rel
    local columns_file=${4:-} name names found=""
    if [[ -n "$columns_file" && "$table" != *[$'\t\n']* ]]; then
        # The columns as the swap's transaction read them (verify_pass: "relation<TAB>columns" of DB_SCHEMA).
        while IFS=$'\t' read -r name names; do
            [[ "$name" != "$table" ]] || { found=$names; break; }
        done <"$columns_file"
        present=" $found "
    else
        present=" $(vpsql -d "$db" -c "SELECT string_agg(attname, ' ') FROM pg_attribute WHERE attrelid = to_regclass('\"${schema}\".\"${table}\"') AND attnum > 0 AND NOT attisdropped" 2>/dev/null) "
    fi
    [[ "$present" != "  " ]] || { echo "$table is missing"; return 1; }
    for column in $(server_core_columns "$table"); do
        [[ "$present" == *" $column "* ]] && select+=("$column") || missing+=("$column")
    done
    [[ ${#missing[@]} -eq 0 ]] || { echo "$table lacks ${missing[*]} (columns of every release since 0.2)"; return 1; }
    for later in $(server_later_columns "$table"); do
        column=${later%%:*} rel=${later##*:}
        if [[ "$present" == *" $column "* ]]; then
            select+=("$column")
            release=$rel
        fi
    done
    local list pk others=() lookup where="" out t="\"${schema}\".\"${table}\""
    list=$(IFS=,; echo "${select[*]}")
    pk=$(server_lookup_columns "$table" | cut -d' ' -f1)
    for lookup in $(server_lookup_columns "$table" | cut -d' ' -f2-); do
        [[ "$lookup" != "$pk" && "$present" == *" $lookup "* ]] && others+=("$lookup")
    done
    # findById: the row of a key that exists must come back ("empty" when the table has no rows).
    # q::text reads every selected column of the rows found (detoasted), as the server's row mapper does.
    local sql="SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM $t) THEN 'empty' ELSE (SELECT count(*) FROM (SELECT ${list} FROM $t
        WHERE (${pk}) = (SELECT ${pk} FROM $t LIMIT 1)) q WHERE length(q::text) > 0)::text END;"
    if [[ ${#others[@]} -gt 0 ]]; then
        # The server's other lookups in one statement, as its findByToken without a token type does
        # ("state = ? OR authorization_code_value = ? OR ..."), each with a value from the first rows.
        # The answer is "none" when the first rows hold no value to look up, else the rows found (0 or 1).
        local any="" sample
        sample=$(IFS=,; echo "${others[*]}")
        for lookup in "${others[@]}"; do
            where+="${where:+ OR }${lookup} = (SELECT ${lookup} FROM (SELECT ${lookup} FROM $t LIMIT 10000) s WHERE ${lookup} IS NOT NULL LIMIT 1)"
            any+="${any:+ OR }${lookup} IS NOT NULL"
        done
        sql+=" SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM (SELECT ${sample} FROM $t LIMIT 10000) s WHERE ${any}) THEN 'none'
            ELSE (SELECT count(*) FROM (SELECT ${list} FROM $t WHERE ${where} LIMIT 1) q WHERE length(q::text) > 0)::text END;"
    fi
    local err=${3:-$WORK_DIR/query.err}
    if ! out=$(vpsql -d "$db" <<<"$sql" 2>"$err"); then
        echo "$table: $(one_line_error "$err")"
        return 1
    fi
    if [[ "$(head -n 1 <<<"$out")" == 0 ]]; then
        echo "$table: the lookup by ${pk} found nothing"
        return 1
    fi
    if [[ ${#others[@]} -gt 0 && "$(sed -n 2p <<<"$out")" == 0 ]]; then
        echo "$table: the lookup by $(IFS=/; echo "${others[*]}") found nothing"
        return 1
    fi
    echo "release $release column set (${#select[@]} columns)"
}

# check_tables DB COUNTS_FILE [LOADED_FILE [COLUMNS_FILE]]: "application can connect" and "all tables present with expected
# row counts". COUNTS_FILE has "table count" lines (the manifest's), or "table -" when no count is expected.
# LOADED_FILE ("table<TAB>rows", of DB_SCHEMA): the tables whose rows are known without a scan (the server's
# COPY command tags of the relation still in place, verify_pass); every other table is counted with count(*).
# COLUMNS_FILE ("relation<TAB>columns" of DB_SCHEMA, read by the swap's transaction, verify_pass): server_queries'
# columns from it instead of a query of its own (the lookups themselves still run on their own connection).
check_tables() {
    local db=$1 counts=$2 table want got schema="${DB_SCHEMA}" bad_query=() bad_count=() summary=() releases=() out
    local d="$WORK_DIR/tables" i tables=() wants=() pids=()
    local -A loaded=()
    if [[ -s "${3:-}" ]]; then
        while IFS=$'\t' read -r table got; do loaded[$table]=$got; done <"$3"
    fi
    while read -r table want; do tables+=("$table") wants+=("$want"); done <"$counts"
    # Each table's lookups and count at once, one job per table (each is one to three psql round trips, and the
    # server's cores are free after the swap); their answers are read below in the manifest's order.
    rm -rf "$d"
    mkdir "$d"
    for i in "${!tables[@]}"; do
        table=${tables[i]}
        {
            set +e
            if [[ -n "$(server_core_columns "$table")" ]]; then
                out=$(server_queries "$db" "$table" "$d/$i.err" "${4:-}")
                printf '%s\t%s' "$?" "$out" >"$d/$i.query"
            fi
            if [[ -z "${loaded[$table]:-}" ]]; then
                vpsql -d "$db" -c "SELECT count(*) FROM \"${schema}\".\"${table}\"" >"$d/$i.count" 2>/dev/null || rm -f "$d/$i.count"
            fi
        } &
        pids+=($!)
        restore_note_job $!
    done
    # Watched (scratch_wait): a verification server that stops answering during the checks ends the run with exit 3
    # after DB_STALL_SECONDS (until h37 it held the run silently).
    if [[ ${#pids[@]} -gt 0 ]]; then
        scratch_wait "the checks of the restored data (the server's lookups and the row counts)" "$db" "${pids[@]}" \
            || checks_stalled
        wait "${pids[@]}" 2>/dev/null || true
    fi
    for i in "${!tables[@]}"; do
        table=${tables[i]} want=${wants[i]}
        if [[ -n "$(server_core_columns "$table")" ]]; then
            if file_text "$d/$i.query"; then out=$REPLY; else out="1"$'\t'"$table: the lookups did not report"; fi
            if [[ "${out%%$'\t'*}" == 0 ]]; then
                releases+=("$table: ${out#*$'\t'}")
            else
                bad_query+=("${out#*$'\t'}")
            fi
        fi
        if [[ -n "${loaded[$table]:-}" ]]; then
            got=${loaded[$table]}
        else
            file_text "$d/$i.count" || true
            got=$REPLY
        fi
        if [[ -z "$got" ]]; then
            bad_count+=("$table is missing")
        elif [[ "$want" != "-" && "$got" != "$want" ]]; then
            bad_count+=("$table has $got rows, manifest says $want")
        else
            summary+=("$table=$got")
        fi
    done
    if [[ ${#bad_query[@]} -eq 0 ]]; then
        result "application can connect to restored database" PASS "the server's lookups run on $db: $(join_lines "${releases[@]}")"
    else
        result "application can connect to restored database" FAIL "$(join_lines "${bad_query[@]}")"
    fi
    if [[ ${#bad_count[@]} -eq 0 ]]; then
        result "all tables present with expected row counts" PASS "${summary[*]}"
    else
        result "all tables present with expected row counts" FAIL "$(join_lines "${bad_count[@]}")"
    fi
}

# expected_counts MANIFEST OUT: the manifest's counts plus every EXPECTED_TABLES entry (a table of the
# server's schema that the manifest lacks is expected with count "absent", which fails).
expected_counts() {
    manifest_row_counts "$1" >"$2"
    local table
    for table in $EXPECTED_TABLES; do
        grep -q "^${table} " "$2" || echo "$table absent-from-backup" >>"$2"
    done
    sort -o "$2" "$2"
}

age_hours() {
    local at
    at=$(date -u -d "$1" +%s 2>/dev/null) || { echo 999999; return; }
    echo $((($(date -u +%s) - at) / 3600))
}

# verify_hidden: the verdict of the delete-marker check that verify_dump started (nothing when none is pending):
# 1 when a delete marker hides a manifest newer than the listed newest (VERIFY_HIDDEN_LISTED). The checklist then
# says that and nothing else, as when the check came first: what was decided meanwhile from the older manifest
# (its results, the size still to check, the record attached to it) is dropped.
VERIFY_HIDDEN_PENDING=0 VERIFY_HIDDEN_LISTED=""
verify_hidden() {
    [[ $VERIFY_HIDDEN_PENDING -eq 1 ]] || return 0
    VERIFY_HIDDEN_PENDING=0
    hidden_manifests_join
    local hidden item
    hidden=$(hidden_newest_manifest_says "$PGDATABASE" "$VERIFY_HIDDEN_LISTED" VERIFY_MANIFEST_KEY=)
    [[ -n "$hidden" ]] || return 0
    for item in "${ITEMS[@]}"; do
        unset 'RESULT[$item]' 'DETAIL[$item]'
    done
    SIZE_CHECK_PENDING=()
    VERIFY_RECORD_MANIFEST=""
    result "backup completed successfully" FAIL "$hidden"
    fail_rest "the newest backup is hidden by a delete marker"
    return 1
}
# verify_hidden_on_die: die's hook while the check runs: a hidden newest manifest ends the run as it did when the
# check came first (exit 6 with its FAIL), not with the step's own error.
verify_hidden_on_die() { verify_hidden || exit "$EX_VERIFY"; }

verify_dump() {
    local manifest_key="${VERIFY_MANIFEST_KEY:-}"
    # A key pasted with the whitespace around it: the keys db-backup.sh writes have none (else "FAIL backup
    # completed successfully" for a backup that is there).
    if [[ "$manifest_key" =~ ^[[:space:]]+|[[:space:]]+$ ]]; then
        log "note: removed the whitespace around VERIFY_MANIFEST_KEY '$manifest_key' (keys written by db-backup.sh have none)"
        manifest_key=$(printf '%s' "$manifest_key" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
    fi
    if [[ -z "$manifest_key" ]]; then
        # The newest manifest hidden by a delete marker: a FAIL that names it (lib.sh), not the older one verified.
        # The bucket's versions are listed in the background once the manifest, the probe, the previous manifest and
        # the VersionId are read (lib.sh hidden_manifests_start), while the passphrase's S2K finishes; verify_hidden
        # takes the verdict before the helper stops, before an early return, and before a die (HIDDEN_ON_DIE).
        # The newest manifest (latest_manifest_key's answer), from a listing kept for check_size's previous one.
        if ! MANIFESTS_LISTING=$(manifest_keys "$PGDATABASE" 2>"$WORK_DIR/list.err"); then
            result "backup completed successfully" FAIL "cannot list s3://$BUCKET/${BACKUP_PREFIX}manifests/: $(one_line_error "$WORK_DIR/list.err")"
            die "$EX_STORAGE" "cannot list s3://$BUCKET/${BACKUP_PREFIX}manifests/: $(one_line_error "$WORK_DIR/list.err")"
        fi
        MANIFESTS_LISTED=1
        manifest_key=$(last_line "$MANIFESTS_LISTING")
        VERIFY_HIDDEN_LISTED=$manifest_key VERIFY_HIDDEN_PENDING=1
        HIDDEN_ON_DIE=verify_hidden_on_die
        [[ -n "$manifest_key" ]] || verify_hidden || return 0
    fi
    if [[ -z "$manifest_key" ]]; then
        result "backup completed successfully" FAIL "no manifest of ${PGDATABASE} under s3://$BUCKET/${BACKUP_PREFIX}manifests/"
        fail_rest "no backup"
        return
    fi
    # The record goes beside a manifest that exists: one listed above, or the key given once it is read (below).
    [[ -n "${VERIFY_MANIFEST_KEY:-}" ]] || VERIFY_RECORD_MANIFEST=$manifest_key
    local m="$WORK_DIR/manifest.json"
    # The dump's first 64 KiB, read while the manifest is (one S3 round trip less before the download):
    # db-backup.sh stores <prefix><name>.dump.gpg beside <prefix>manifests/<name>.json. Used only when the
    # manifest's object_key is that key and the read succeeded; otherwise the probe below reads the manifest's
    # object_key as before (and says why it cannot).
    local early_key early_pid
    early_key="${BACKUP_PREFIX}${manifest_key##*/}"
    early_key="${early_key%.json}.dump.gpg"
    { probe_object "$early_key" "$WORK_DIR/probe.early.gpg" >"$WORK_DIR/probe.early.size" 2>/dev/null || rm -f "$WORK_DIR/probe.early.size"; } &
    early_pid=$!
    restore_note_job "$early_pid"
    # A manifest read is one that exists: the record goes beside it from then on, whatever the rest finds.
    if ! { s3_get_file "$manifest_key" "$m" 2>"$WORK_DIR/s3.err" && VERIFY_RECORD_MANIFEST=$manifest_key && manifest_load "$m"; }; then
        local shortage
        shortage=$(scratch_shortage)
        [[ -z "$shortage" ]] || die "$EX_USAGE" "the verification environment: $shortage: cannot write the manifest $(s3_uri "$manifest_key") there"
        if [[ -z "$VERIFY_RECORD_MANIFEST" ]] && grep -Eq '404|Not Found|NoSuchKey' "$WORK_DIR/s3.err"; then
            # VERIFY_MANIFEST_KEY names no manifest (a typo, another database's prefix): the configuration's fault, said
            # with what the prefix holds, as restore.sh does; no record (until h40 a failed one went under
            # verifications/<that key>/, which recovery-points then listed as a manifest no longer in the bucket).
            refuse_missing_bucket
            local hint
            hint="no manifest $(s3_uri "$manifest_key") (VERIFY_MANIFEST_KEY: no such key): $(manifests_hint "$PGDATABASE" "to verify one, run with PGDATABASE=%s")"
            result "backup completed successfully" FAIL "$hint"
            die "$EX_USAGE" "$hint"
        fi
        result "backup completed successfully" FAIL "cannot read the manifest $(s3_uri "$manifest_key"): $(one_line_error "$WORK_DIR/s3.err")"
        die "$EX_STORAGE" "cannot read the manifest $(s3_uri "$manifest_key")"
    fi
    local object_key want_size want_sha finished stored_size age compression
    object_key=$(manifest_get "$m" object_key)
    want_size=$(manifest_get "$m" size_bytes)
    want_sha=$(manifest_get "$m" sha256)
    finished=$(manifest_get "$m" finished_at)
    compression=$(manifest_get "$m" compression)
    age=$(age_hours "$finished")
    wait "$early_pid" 2>/dev/null || true
    if [[ "$object_key" == "$early_key" && -s "$WORK_DIR/probe.early.size" ]] && mv "$WORK_DIR/probe.early.gpg" "$WORK_DIR/probe.gpg" 2>/dev/null; then
        stored_size=$(<"$WORK_DIR/probe.early.size")
    elif ! stored_size=$(probe_object "$object_key" 2>"$WORK_DIR/s3.err"); then
        stored_size=""
        local shortage
        shortage=$(scratch_shortage)
        [[ -z "$shortage" ]] || die "$EX_USAGE" "the verification environment: $shortage: cannot write the first 64 KiB of $(s3_uri "$object_key") there"
    fi
    rm -f "$WORK_DIR/probe.early.gpg" "$WORK_DIR/probe.early.size"
    if [[ "$(manifest_get "$m" status)" != complete ]]; then
        result "backup completed successfully" FAIL "$manifest_key is not complete"
    elif [[ "$(manifest_get "$m" database)" != "$PGDATABASE" ]]; then
        result "backup completed successfully" FAIL "$manifest_key is a backup of $(manifest_get "$m" database), not of ${PGDATABASE}"
    elif [[ -z "$stored_size" ]]; then
        result "backup completed successfully" FAIL "$(s3_uri "$object_key") (from $manifest_key) is not readable: $(one_line_error "$WORK_DIR/s3.err")"
    elif [[ "$stored_size" != "$want_size" ]]; then
        result "backup completed successfully" FAIL "$object_key has $stored_size bytes, manifest says $want_size"
    elif [[ $age -gt ${VERIFY_MAX_AGE_HOURS:-48} ]]; then
        result "backup completed successfully" FAIL "the newest backup finished at $finished, ${age}h ago (limit ${VERIFY_MAX_AGE_HOURS:-48}h)"
    else
        result "backup completed successfully" PASS "$object_key finished at $finished"
    fi
    if [[ -z "$stored_size" ]]; then
        verify_hidden || return 0
        check_size "$manifest_key" "$want_size" "$stored_size"
        fail_rest "the dump is not readable"
        return
    fi

    # Before the download: the passphrase version the manifest names (its probe decrypts the first 64 KiB in the
    # background: the passphrase's S2K, 0.1-0.4 s, runs while the size is checked and the download URL is
    # presigned), the size, the verification server, and the scratch database. The verdicts come in the order
    # they came before: the size (the cleanup decides it when loading the passphrase stops the run), the
    # passphrase, the server.
    SIZE_CHECK_PENDING=("$manifest_key" "$want_size" "$stored_size")
    encryption_for_manifest "$m"
    restore_probe_start "$WORK_DIR/probe.gpg"
    check_size "${SIZE_CHECK_PENDING[@]}"
    VERIFY_PASS_URL=$(restore_presign "$object_key" "" 2>/dev/null) || VERIFY_PASS_URL=""
    VERIFY_RECORD_VERSION=$(s3_version "$manifest_key" 2>/dev/null) || VERIFY_RECORD_VERSION=""
    # After the run's other S3 reads: moto's ListObjectVersions holds its one process (the size check's reads and the
    # VersionId's took 0.10-0.22 s beside it, 0.02-0.05 s alone); it overlaps the S2K's remainder instead.
    [[ $VERIFY_HIDDEN_PENDING -eq 0 ]] || hidden_manifests_start
    SCRATCH_DB="${VERIFY_DATABASE:-oauth2_verify_$(date -u +%Y%m%d%H%M%S)}"
    # The delete-marker check's verdict, before the helper stops (verify_pass_start).
    verify_hidden || return 0
    # The pass's processes start while the probe still decrypts; nothing is downloaded (gpg waits for the
    # session key, the GET is not sent) until the probe's verdict below (verify_pass_start).
    verify_pass_start "$object_key" "$compression" "$SCRATCH_DB"
    probe_passphrase_finish "$object_key" "$(passphrase_origin)"
    check_db_connection "${VERIFY_MAINTENANCE_DB:-postgres}" "${VERIFY_PGHOST:-${PGHOST:-}}" "${VERIFY_PGPORT:-${PGPORT:-5432}}"
    refuse_read_only_db "create the scratch database on" "${VERIFY_PGHOST:-${PGHOST:-}}" "${VERIFY_PGPORT:-${PGPORT:-5432}}" "${VERIFY_MAINTENANCE_DB:-postgres}"
    scratch_create_start

    # The manifest's own schema hash (the integrity item compares it with its schema_definition.sha256), while the
    # pass runs: nothing of it waits for the restore.
    if [[ -n "$(manifest_get "$m" .schema_definition.sha256)" ]]; then
        { manifest_schema_lines "$m" | sha256sum | cut -d' ' -f1 >"$WORK_DIR/manifest-schema.sha256"; } &
        MANIFEST_SCHEMA_JOB=$!
        restore_note_job "$MANIFEST_SCHEMA_JOB"
    fi

    # One pass, restore.sh's: download, hash, decrypt while the rows load into staging tables; moved into
    # place only once the hash and gpg's MDC checked out. The scratch database is created meanwhile
    # (scratch_create_start); without it the pass is stopped before any row is loaded.
    verify_pass "$object_key" "$want_sha" "$compression" "$SCRATCH_DB"
    if [[ -e "$WORK_DIR/stream/no-scratch" ]]; then
        result "restore to test instance works" FAIL "CREATE DATABASE ${SCRATCH_DB} on $(db_address "${VERIFY_PGHOST:-}" "${VERIFY_PGPORT:-}" postgres) failed: $(one_line_error "$WORK_DIR/create.err")"
        fail_rest "no scratch database"
        return
    fi
    local sha verdict failure="" stage="" cause="" where
    file_text "$WORK_DIR/stream/sha.out" || true
    sha=$REPLY
    if file_text "$WORK_DIR/stream/verdict"; then verdict=$REPLY; else verdict="the restore did not finish"; fi
    where="${SCRATCH_DB} on $(db_address "${VERIFY_PGHOST:-}" "${VERIFY_PGPORT:-}" "$SCRATCH_DB")"
    if failure=$(stream_failure); then
        stage=${failure%%$'\t'*}
        cause=${failure#*$'\t'}
    elif [[ "$verdict" != verified ]]; then
        stage=verdict
        cause=$verdict
    fi
    # Each failure is the item it really is, with its own message: the download (storage: S3 or the network),
    # the object itself (gpg's integrity check, the decompression, the sha256: a bad backup), or the database
    # side (pg_restore or the server: the backup's bytes are then checked again without a database).
    case "$stage" in
    "")
        result "restore to test instance works" PASS "restored into scratch database ${SCRATCH_DB} ($(manifest_get "$m" format_of_dump), ${compression:-pg_dump-compressed}, $(passphrase_origin))" ;;
    s3)
        result "restore to test instance works" FAIL "download of $(s3_uri "$object_key") failed (storage): $cause"
        result "data integrity verified" FAIL "not checked: the download failed (storage), not the backup's data: $cause"
        environment_failed "$EX_STORAGE" ;;
    gpg)
        backup_failed "restore to test instance works" "decryption of $(s3_uri "$object_key") failed (corrupt object): $cause" ;;
    decompress)
        backup_failed "restore to test instance works" "decompression (${compression}) failed (corrupt object): $cause" ;;
    psql)
        if [[ "$cause" =~ could\ not\ create\ unique\ index|violates\ (unique|check|foreign\ key|not-null|exclusion)\ constraint ]]; then
            # The dump's rows break its own schema (a unique index, a constraint): the backup's failure, not the
            # verification server's (exit 6).
            backup_failed "restore to test instance works" "the dump's rows violate its own schema in ${where} (rolled back): $cause"
        else
            result "restore to test instance works" FAIL "the database refused the restore into $where (database side, rolled back): $cause"
            environment_failed "$EX_DATABASE"
        fi ;;
    restore)
        result "restore to test instance works" FAIL "pg_restore failed (database side, rolled back): $cause"
        environment_failed "$EX_DATABASE" ;;
    *)
        result "restore to test instance works" FAIL "rolled back: $cause" ;;
    esac

    # The restored data's checks, at once: the restored schema hashed in a job of its own while the tables' lookups
    # and counts run (check_tables); the verdicts below, in the same order as before. The restored schema as the
    # swap's transaction read it (WORK_DIR/stream/restored-schema.json, verify_pass), else (a dump restored in one
    # stream) read now; the manifest's own was hashed while the pass ran (MANIFEST_SCHEMA_JOB).
    local want_schema schema_job="" restored_json="$WORK_DIR/stream/restored-schema.json" columns=""
    want_schema=$(manifest_get "$m" .schema_definition.sha256)
    if [[ -n "$want_schema" && "${RESULT["restore to test instance works"]}" == PASS ]]; then
        {
            set +e
            if [[ -e "$restored_json" ]]; then
                schema_hash <"$restored_json" >"$WORK_DIR/restored-schema.sha256"
            else
                vpsql -d "$SCRATCH_DB" -c "$SCHEMA_JSON_SQL" 2>/dev/null | schema_hash >"$WORK_DIR/restored-schema.sha256"
            fi
        } &
        schema_job=$!
        restore_note_job "$schema_job"
    fi
    expected_counts "$m" "$WORK_DIR/expected.txt"
    if [[ "${RESULT["restore to test instance works"]}" == PASS ]]; then
        [[ ! -e "$WORK_DIR/stream/restored-columns" ]] || columns="$WORK_DIR/stream/restored-columns"
        check_tables "$SCRATCH_DB" "$WORK_DIR/expected.txt" "$WORK_DIR/stream/loaded" "$columns"
    else
        result "application can connect to restored database" FAIL "not checked: the restore failed${stage:+ (${stage})}"
        result "all tables present with expected row counts" FAIL "not checked: the restore failed${stage:+ (${stage})}"
    fi

    # Integrity: the stored bytes are the ones the backup hashed; gpg authenticated them (MDC); the restored
    # schema (every table, column, type) is the dumped one. When the restore stopped on the database side or
    # the download, the stream never reached its end: the object is read again, without a database.
    local problems=() got_schema checked="in the restore's stream"
    if [[ ("$stage" == restore || "$stage" == psql) && ! -e "$WORK_DIR/stream/read-to-end" ]]; then
        checked="read again without a database (the restore stopped on the database side)"
        integrity_pass "$object_key" "$compression"
        file_text "$WORK_DIR/integrity/sha.out" || true
        sha=$REPLY
        file_is "$WORK_DIR/integrity/s3.rc" 0 \
            || problems+=("not checked: reading the object again failed (storage): $(one_line_error "$WORK_DIR/integrity/s3.err")")
    fi
    if [[ "$stage" != s3 && ${#problems[@]} -eq 0 ]]; then
        local gpg_rc gpg_err decompress_rc decompress_err
        if [[ "$checked" == in* ]]; then
            gpg_rc=$(stream_rc gpg) gpg_err="$WORK_DIR/stream/gpg.err" decompress_rc=$(stream_rc decompress) decompress_err="$WORK_DIR/stream/decompress.err"
        else
            if file_text "$WORK_DIR/integrity/gpg.rc"; then gpg_rc=$REPLY; else gpg_rc=1; fi
            gpg_err="$WORK_DIR/integrity/gpg.err"
            if file_text "$WORK_DIR/integrity/decompress.rc"; then decompress_rc=$REPLY; else decompress_rc=1; fi
            decompress_err="$WORK_DIR/integrity/decompress.err"
        fi
        [[ "$sha" == "$want_sha" ]] || problems+=("sha256 of the stored object is ${sha:-unknown}, manifest says $want_sha")
        [[ "$gpg_rc" == 0 ]] || problems+=("gpg could not decrypt and authenticate it: $(one_line_error "$gpg_err")")
        [[ "$gpg_rc" != 0 || "$decompress_rc" == 0 ]] || problems+=("its decompression ($compression) failed: $(one_line_error "$decompress_err")")
        [[ ${#problems[@]} -eq 0 ]] || BACKUP_FAILED=1
    fi
    if [[ -n "$schema_job" ]]; then
        # Watched as the checks are: without the swap's copy of the schema it is read from the scratch database.
        scratch_wait "the restored schema's read" "$SCRATCH_DB" "$schema_job" \
            || checks_stalled
        wait "$schema_job" 2>/dev/null || true
        [[ -z "$MANIFEST_SCHEMA_JOB" ]] || wait "$MANIFEST_SCHEMA_JOB" 2>/dev/null || true
        file_text "$WORK_DIR/restored-schema.sha256" || true
        got_schema=$REPLY
        if ! file_is "$WORK_DIR/manifest-schema.sha256" "$want_schema"; then
            problems+=("the manifest's schema does not match its own hash (edited?)")
            BACKUP_FAILED=1
        elif [[ "$got_schema" != "$want_schema" ]]; then
            if [[ -e "$restored_json" ]]; then
                cp "$restored_json" "$WORK_DIR/restored-schema.json"
            else
                local schema_read
                { vpsql -d "$SCRATCH_DB" -c "$SCHEMA_JSON_SQL" >"$WORK_DIR/restored-schema.json" 2>/dev/null || echo '[]' >"$WORK_DIR/restored-schema.json"; } &
                schema_read=$!
                # Noted, as the pass's jobs are: a Ctrl-C during it (the cleanup's restore_kill_jobs) ends it too.
                restore_note_job "$schema_read"
                scratch_wait "the restored schema's read" "$SCRATCH_DB" "$schema_read" \
                    || checks_stalled
            fi
            problems+=("the restored schema differs from the dumped one: $(schema_diff "$m" "$WORK_DIR/restored-schema.json")")
            BACKUP_FAILED=1
        fi
    fi
    if [[ ${#problems[@]} -eq 0 ]]; then
        local what="sha256 $sha matches the manifest; decrypted and authenticated"
        [[ "$checked" == in* ]] || what+=" (${checked})"
        [[ -n "$want_schema" && "${RESULT["restore to test instance works"]}" == PASS ]] \
            && what+="; restored schema = dumped schema ($(manifest_schema_size "$m"), sha256 ${want_schema:0:12})"
        result "data integrity verified" PASS "$what"
    else
        result "data integrity verified" FAIL "$(join_lines "${problems[@]}")"
    fi

    [[ "${RESULT["restore to test instance works"]}" != PASS ]] || log "checked the restored schema, the server's lookups and the row counts"
}

# verify_pass KEY SHA256 COMPRESSION DATABASE: restore.sh's one pass (lib.sh: restore_pass_start) into the
# scratch database DATABASE on the verification server: the object is downloaded once (not spooled: the
# verification keeps no copy of the dump), hashed and decrypted (gpg's MDC at its end) while its rows load
# into staging tables with RESTORE_JOBS (default 2) parallel COPY sessions; once the sha256 is the
# manifest's and the MDC passed, one transaction moves the tables into place and builds the indexes. The
# pass reads the whole object whatever happens to the load, so its integrity is known even when the
# database side failed (WORK_DIR/stream/read-to-end). A dump whose tables cannot be staged (large objects,
# a type of its own, ...) is verified by the pass, then restored by stream_restore (a second download).
# The results in $WORK_DIR/stream/, as stream_restore leaves them: s3 gpg decompress restore psql .rc and
# .err, sha.out, verdict ("verified" or why not): one classification (stream_failure) reads both.
# verify_pass_start KEY COMPRESSION DATABASE: verify_pass's setup, before the probe's verdict. When the download
# URL was presigned already (VERIFY_PASS_URL), the AWS helper (botocore, ~50 MB) is stopped (the pass's
# processes make the verification's peak memory; it is started again, in the background, when they are
# done: the record, a second read) and the pass's processes are started with RESTORE_PASS_KEY_LATER=1: their
# start (python, pg_restore, gpg, zstd) overlaps the passphrase's S2K, but gpg waits for the session key and
# the GET is sent by verify_pass (restore_pass_key) only, after the verdicts on the passphrase and the server.
VERIFY_PASS_STARTED=0
verify_pass_start() {
    local key=$1 db=$3 s="$WORK_DIR/stream"
    local -x PGHOST="${VERIFY_PGHOST:-${PGHOST:-}}" PGPORT="${VERIFY_PGPORT:-${PGPORT:-5432}}" PGDATABASE=$db
    local jobs=${RESTORE_JOBS:-2}
    [[ "$jobs" =~ ^[1-9][0-9]?$ ]] || die "$EX_USAGE" "RESTORE_JOBS must be a number of parallel COPY sessions from 1 to 99, not $jobs"
    RESTORE_COMPRESSION=$2
    RESTORE_RUN_ID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
    local -x PGAPPNAME="oauth2-dr-verify:$RESTORE_RUN_ID"
    RESTORE_PASS_SPOOL=/dev/null
    rm -rf "$s"
    mkdir "$s"
    [[ -n "$VERIFY_PASS_URL" ]] || return 0
    RESTORE_PASS_URL=$VERIFY_PASS_URL
    stop_aws_helper
    RESTORE_PASS_KEY_LATER=1 restore_pass_start "$key" "" "$jobs" --no-owner --no-acl
    VERIFY_PASS_STARTED=1
}

verify_pass() {
    local key=$1 want_sha=$2 db=$4 s="$WORK_DIR/stream" d="$WORK_DIR/spool" l="$WORK_DIR/load" mode=parallel
    local -x PGHOST="${VERIFY_PGHOST:-${PGHOST:-}}" PGPORT="${VERIFY_PGPORT:-${PGPORT:-5432}}" PGDATABASE=$db
    local jobs=${RESTORE_JOBS:-2} step why="" decompress_rc restore_rc load_rc
    local -x PGAPPNAME="oauth2-dr-verify:$RESTORE_RUN_ID"
    if [[ $VERIFY_PASS_STARTED -eq 1 ]]; then
        log "downloading $(s3_uri "$key") into scratch database $db: hashed, decrypted and authenticated while its rows load into staging tables"
        restore_pass_key
    else
        # Not presigned while the probe decrypted (VERIFY_PASS_URL): presigned here.
        if ! RESTORE_PASS_URL=$(restore_presign "$key" "" 2>"$s/s3.err"); then
            echo 1 >"$s/s3.rc"
            echo "the download did not start" >"$s/verdict"
            return 0
        fi
        stop_aws_helper
        log "downloading $(s3_uri "$key") into scratch database $db: hashed, decrypted and authenticated while its rows load into staging tables"
        if ! restore_pass_start "$key" "" "$jobs" --no-owner --no-acl; then
            start_aws_helper
            cp "$d/s3.err" "$s/s3.err" 2>/dev/null
            echo 1 >"$s/s3.rc"
            echo "the download did not start" >"$s/verdict"
            return 0
        fi
    fi
    restore_pass_toc
    if ! file_is "$d/toc.rc" 0 || ! file_is "$d/schema.rc" 0; then
        mode=unreadable
    else
        grep -E '^[0-9]+; [0-9]+ [0-9]+ (TABLE DATA|SEQUENCE SET) ' "$d/toc.list" >"$d/data.list" || true
        if grep -Eq '^[0-9]+; [0-9]+ [0-9]+ (BLOBS|LARGE OBJECTS|MATERIALIZED VIEW DATA) ' "$d/toc.list" \
            || ! restore_python restore-stage "$d/schema.sql" "$d/data.list" "$d" "oauth2_dr_stage_$RESTORE_RUN_ID" unlogged >"$s/single.why" 2>&1; then
            mode=single
        fi
    fi
    local settled=0
    scratch_settle || settled=$?
    if ((settled == 2)); then
        # The verification server stopped answering during the CREATE (scratch_wait): exit 3 naming it; the
        # cleanup stops the pass (nothing loaded) and drops the database, or names it.
        die "$EX_DATABASE" "$SCRATCH_WAIT_ERROR (nothing loaded; $(scratch_drop_hint))"
    fi
    if ((settled == 1)); then
        # No scratch database (CREATE DATABASE failed): the pass stops here, before any row is loaded.
        restore_kill_jobs
        restore_pass_wait
        start_aws_helper
        : >"$s/no-scratch"
        return 0
    fi
    local where
    db_address_in where
    if [[ $mode == parallel ]] && ! restore_psql_watched "the staging tables' creation in $where" \
        "nothing committed: the scratch database's tables were not touched" "$s/stage.err" -d "$db" -f "$d/stage.sql"; then
        mode=stage_failed
    fi
    if [[ $mode == parallel ]]; then
        restore_pass_gate load
        # Watched (lib.sh): a verification server that stops answering mid-load ends the run with exit 3 naming
        # it after DB_STALL_SECONDS (until h35 it waited as long as the server was frozen, saying nothing).
        restore_pass_wait_watched "$(restore_pass_load_what)" \
            "nothing committed: the scratch database's tables were not touched"
    else
        restore_pass_gate drain
        restore_pass_wait
    fi
    log "read to the end: $(cat "$d/sha.out" 2>/dev/null || echo "no sha256")"
    # The AWS helper is started again on every way out of this function (the record, a second read), after
    # the swap when there is one: its start (python and botocore, ~0.3 CPU-s) then overlaps the checks, which
    # wait on the server, not the index builds, which keep both cores busy.
    : >"$s/read-to-end"
    cp "$d/s3.err" "$s/s3.err" 2>/dev/null
    cp "$d/s3.rc" "$s/s3.rc" 2>/dev/null
    cp "$d/gpg.err" "$s/gpg.err" 2>/dev/null
    cp "$d/gpg.rc" "$s/gpg.rc" 2>/dev/null
    cp "$d/sha.out" "$s/sha.out" 2>/dev/null
    read -r decompress_rc _ restore_rc load_rc <"$l/status" || decompress_rc=1 restore_rc=1 load_rc=1
    # The decompression cut off because pg_restore or the loader stopped reading (pg_restore refusing the
    # archive, a session failing): theirs is the failure to report, not the dump's (exit 3, not 6).
    if [[ "$decompress_rc" != 0 && ("$restore_rc" != 0 || "$load_rc" != 0 || $mode == unreadable || $mode == stage_failed) ]] \
        && reader_went_away "$decompress_rc" "$l/decompress.err"; then
        decompress_rc=0
    fi
    echo "$decompress_rc" >"$s/decompress.rc"
    cp "$l/decompress.err" "$s/decompress.err" 2>/dev/null
    echo "$restore_rc" >"$s/restore.rc"
    cp "$l/restore.err" "$s/restore.err" 2>/dev/null
    echo 0 >"$s/psql.rc"
    case "$mode" in
    unreadable)
        echo 1 >"$s/restore.rc"
        cat "$d/toc.err" "$d/schema.err" >"$s/restore.err" 2>/dev/null ;;
    stage_failed)
        echo 3 >"$s/psql.rc"
        sed 's/^psql:[^ ]*:[0-9]*: //' "$s/stage.err" >"$s/psql.err" ;;
    parallel)
        if [[ "$load_rc" == 3 ]]; then
            echo 3 >"$s/psql.rc"
            cp "$l/$(cat "$l/failed")".err "$s/psql.err" 2>/dev/null
        elif [[ "$load_rc" != 0 ]]; then
            # The rows' stream was not what pg_restore writes (the loader's load.err): the archive's side.
            echo 1 >"$s/restore.rc"
            cp "$l/load.err" "$s/restore.err" 2>/dev/null
        fi ;;
    esac
    for step in s3 gpg decompress restore psql; do
        file_is "$s/$step.rc" 0 || { why="$step failed"; break; }
    done
    [[ -n "$why" ]] || file_is "$s/sha.out" "$want_sha" || why="sha256 mismatch"
    if [[ -n "$why" ]]; then
        start_aws_helper
        echo "$why" >"$s/verdict"
        return 0
    fi
    if [[ $mode == single ]]; then
        start_aws_helper
        # Verified, but not staged (scripts/README.md): restored in one stream, read a second time.
        log "restoring in one stream ($(head -n 1 "$s/single.why" 2>/dev/null || echo "the dump has large objects or materialized views"))"
        stream_restore "$key" "$want_sha" "$3" "$db" --no-owner --no-acl
        return 0
    fi
    # The swap, in the scratch database: the staged tables moved into place, the indexes, constraints and
    # sequences' values, in one transaction. Around it, in the same transaction, the staged tables are
    # noted (oid and file) before, and after it those that are still the relation the COPY sessions filled:
    # same oid, same file (no TRUNCATE, no rewrite), no row deleted or inserted by the swap's transaction
    # (its own statistics; only with track_counts on). Only such a table is counted by the server's COPY
    # command tags (check_tables); any other, by count(*).
    cat >"$d/staged.sql" <<SQL
CREATE TEMP TABLE oauth2_dr_staged ON COMMIT DROP AS
    SELECT c.oid AS rel, pg_catalog.pg_relation_filenode(c.oid) AS filenode, n.nspname AS staged_schema, c.relname AS staged_table
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname LIKE 'oauth2\_dr\_stage\_${RESTORE_RUN_ID}\_%' AND c.relkind = 'r';
SQL
    local kept="$s/kept"
    # psql's quoting: a quote inside '...' is written twice.
    cat >"$d/kept.sql" <<SQL
\\pset fieldsep '\\t'
\\o '${kept//\'/\'\'}'
SELECT s.staged_schema || '.' || pg_catalog.quote_ident(s.staged_table), n.nspname, c.relname
    FROM pg_temp.oauth2_dr_staged s JOIN pg_catalog.pg_class c ON c.oid = s.rel JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE pg_catalog.current_setting('track_counts') = 'on' AND pg_catalog.pg_relation_filenode(c.oid) = s.filenode
      AND pg_catalog.pg_stat_get_xact_tuples_deleted(c.oid) = 0 AND pg_catalog.pg_stat_get_xact_tuples_inserted(c.oid) = 0;
\\o
SQL
    # The restored schema (every table, column, type: SCHEMA_JSON_SQL) and the columns of each relation of DB_SCHEMA
    # (what server_queries looks up), read at the end of the swap's transaction, after everything it ran: the
    # catalog it commits. The checks after it then start no connection for them (verify_dump, check_tables). The
    # swap ran with an empty search_path (pg_dump's script): reset to the session's default first, so that
    # format_type names the types as a new connection (and db-backup.sh's schema) does.
    local schema_q=${DB_SCHEMA//\'/\'\'}
    cat >"$d/restored.sql" <<SQL
RESET search_path;
\\o '${s//\'/\'\'}/restored-schema.json'
${SCHEMA_JSON_SQL};
\\o '${s//\'/\'\'}/restored-columns'
SELECT c.relname, pg_catalog.string_agg(a.attname, ' ')
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
    WHERE n.nspname = '${schema_q}' AND a.attnum > 0 AND NOT a.attisdropped GROUP BY c.relname;
\\o
SQL
    local swapped=0 swap
    # Watched as the pass is (lib.sh db_wait_watched): a server that stops answering during the swap ends the run
    # with exit 3 after DB_STALL_SECONDS (until h35 the verification waited as long as it was frozen, saying nothing).
    psql_value -d "$db" -1 -f "$d/staged.sql" -f "$d/swap.sql" -f "$d/setval.sql" -f "$d/kept.sql" -f "$d/restored.sql" >/dev/null 2>"$s/swap.err" &
    swap=$!
    restore_note_job "$swap"
    db_wait_watched "the swap (the staged tables moved into place, their indexes built: one transaction) in $where" \
        "nothing committed: the transaction's connection is gone, the server rolls it back" "$swap"
    wait "$swap" || swapped=$?
    start_aws_helper
    if [[ $swapped -ne 0 ]]; then
        echo 3 >"$s/psql.rc"
        sed 's/^psql:[^ ]*:[0-9]*: //' "$s/swap.err" >"$s/psql.err"
        echo "psql failed" >"$s/verdict"
        return 0
    fi
    # The rows of each table still in place, as the server's COPY command tags counted them (load/counts:
    # "<staging schema>.<table as dumped><TAB>rows", summed over the sessions), by its name in DB_SCHEMA.
    if [[ -s "$s/kept" && -s "$l/counts" ]]; then
        awk -F'\t' -v schema="$DB_SCHEMA" 'NR == FNR { rows[$1] = $2; next } $2 == schema && ($1 in rows) { print $3 "\t" rows[$1] }' \
            "$l/counts" "$s/kept" >"$s/loaded"
        log "row counts of $(wc -l <"$s/loaded") table(s) from the server's COPY command tags (still the relations loaded, no row deleted or added by the swap)"
    fi
    log "verified and loaded: tables moved into place, indexes and constraints built"
    echo verified >"$s/verdict"
}

# stream_failure: "STAGE<TAB>message" of the step of the last stream_restore that failed first, or status 1
# when none did. A step that failed only because a later one stopped reading (a broken pipe: psql lost its
# server, so pg_restore, zstd, gpg and the download could no longer write) is not the cause; of the others,
# the earliest in the stream is (the steps after it saw their input end early).
stream_failure() {
    local step rc err
    for step in s3 gpg decompress restore psql; do
        rc=$(stream_rc "$step")
        [[ "$rc" != 0 ]] || continue
        err="$WORK_DIR/stream/$step.err"
        [[ "$rc" != 141 ]] || continue
        ! grep -Eqi 'broken pipe|failure writing output|write error' "$err" 2>/dev/null || continue
        printf '%s\t%s' "$step" "$(stream_error "$step")"
        return 0
    done
    return 1
}

# integrity_pass KEY COMPRESSION: the stored object read again without a database (curl | tee sha256 | gpg
# --decrypt | decompression, to nowhere), for the integrity item when the restore stopped on the database
# side. Results in $WORK_DIR/integrity/: s3.rc gpg.rc decompress.rc, their .err, sha.out.
integrity_pass() {
    local key=$1 compression=$2 d="$WORK_DIR/integrity"
    rm -rf "$d"
    mkdir "$d"
    (
        set +e
        local url proto=(--proto "=https")
        [[ -z "${AWS_ENDPOINT_URL:-}" ]] || proto=()
        mkfifo "$d/sha.fifo"
        { sha256sum <"$d/sha.fifo" | cut -d' ' -f1 >"$d/sha.out"; } &
        if url=$(aws_call GET /s3/presign - "bucket=$BUCKET" "key=$key" 2>"$d/s3.err"); then
            printf 'url = "%s"\n' "$url" | curl -q -sS --fail "${proto[@]}" "${CURL_STALL_ARGS[@]}" --config - --output - 2>>"$d/s3.err" |
                tee "$d/sha.fifo" |
                gpg_decrypt 2>"$d/gpg.err" |
                decompress_dump "$compression" >/dev/null 2>"$d/decompress.err"
            local rcs=("${PIPESTATUS[@]}")
            echo "${rcs[1]}" >"$d/s3.rc"
            echo "${rcs[3]}" >"$d/gpg.rc"
            echo "${rcs[4]}" >"$d/decompress.rc"
        else
            echo 1 >"$d/s3.rc"
            exec {release}<>"$d/sha.fifo"
            exec {release}>&-
        fi
        wait
    ) &
    INTEGRITY_PID=$!
    wait "$INTEGRITY_PID" || true
    INTEGRITY_PID=""
}

# check_size MANIFEST_KEY MANIFEST_SIZE STORED_SIZE: "backup size is expected": the stored object's real size
# (not only the manifest's word) against the manifest, a minimum, and the previous backup's stored size.
check_size() {
    local key=$1 want_size=$2 stored=$3 previous prev_size="" prev_object min_size="${VERIFY_MIN_SIZE_BYTES:-1024}" shrink="${VERIFY_MAX_SHRINK_PERCENT:-50}"
    SIZE_CHECK_PENDING=()
    if [[ $MANIFESTS_LISTED -eq 1 ]]; then
        previous=$(printf '%s\n' "$MANIFESTS_LISTING" | sed '/^$/d' | awk -v k="$key" '$0 < k' | tail -n 1)
    else
        previous=$(previous_manifest_key "$key" "$PGDATABASE" 2>/dev/null) || previous=""
    fi
    if [[ -n "$previous" ]] && s3_get_file "$previous" "$WORK_DIR/previous.json" 2>/dev/null; then
        manifest_load "$WORK_DIR/previous.json" || true  # not JSON: manifest_get's own jq says so below
        prev_object=$(manifest_get "$WORK_DIR/previous.json" object_key)
        prev_size=$(s3_size "$prev_object" 2>/dev/null) || prev_size=$(manifest_get "$WORK_DIR/previous.json" size_bytes)
    fi
    if [[ ! "$stored" =~ ^[0-9]+$ ]]; then
        result "backup size is expected" FAIL "the stored object's size is unknown (not readable)"
    elif [[ "$stored" != "$want_size" ]]; then
        result "backup size is expected" FAIL "the stored object has $stored bytes, the manifest says ${want_size:-nothing}"
    elif [[ $stored -lt $min_size ]]; then
        result "backup size is expected" FAIL "$stored bytes, below the minimum of $min_size"
    elif [[ "$prev_size" =~ ^[0-9]+$ && $((stored * 100)) -lt $((prev_size * (100 - shrink))) ]]; then
        result "backup size is expected" FAIL "$stored bytes, more than ${shrink}% smaller than the previous backup $previous ($prev_size bytes stored)"
    else
        result "backup size is expected" PASS "$stored bytes stored, as the manifest says${prev_size:+ (previous backup: $prev_size bytes stored)}"
    fi
}

# snapshot_read WHAT ERR PSQL_ARGS...: one query of the restored instance's database (PGDATABASE on VERIFY_PGHOST:
# VERIFY_PGPORT), its answer in WORK_DIR/snapshot-read.out and its errors in ERR; psql's status is this function's.
# Watched (scratch_wait): said every WAIT_PROGRESS_SECONDS (a restored instance reads its pages lazily from S3: a
# table's count can take minutes), and a server that has not answered a new connection for DB_STALL_SECONDS ends the
# run with exit 3 naming it (until h38 snapshot mode waited silently, as long as the instance did not answer).
snapshot_read() {
    local what=$1 err=$2 pid
    shift 2
    vpsql -d "$PGDATABASE" "$@" >"$WORK_DIR/snapshot-read.out" 2>"$err" &
    pid=$!
    # Noted, as the pass's jobs are: a Ctrl-C during a long count(*) ends its psql too (restore_kill_jobs), not
    # only the run (until h39 it went on until the test instance was deleted).
    restore_note_job "$pid"
    scratch_wait "$what" "$PGDATABASE" "$pid" || checks_stalled
    wait "$pid"
}

# rds_error_code ERR: the RDS error code in ERR (the AWS CLI's "An error occurred (CODE)", its last; a Fault suffix
# dropped), empty when there is none (no answer from the API: the endpoint unreachable, no credentials).
rds_error_code() {
    local code
    code=$(sed -n 's/.*An error occurred (\([A-Za-z]*\)).*/\1/p' "$1" | tail -n 1)
    printf '%s' "${code%Fault}"
}

# rds_refusal_whose ERR: whether an RDS refusal in ERR is the snapshot's own (DBSnapshotNotFound, InvalidDBSnapshotState,
# KMSKeyNotAccessible: the backup cannot be restored, exit 6) or not: then it prints what the FAIL line adds and
# returns 0 (exit 1, environment_failed). Known to be the verification's environment (RDS's RestoreDBInstanceFromDBSnapshot
# errors: its permissions, quotas, capacity, network settings, a test instance of the same name left by an earlier run
# today) it says so; any other code, or no code at all, is not known to be the snapshot's and is said to be that: until
# h38 every refusal, and until h39 an unknown one or none (an unreachable endpoint), was exit 6, "the backup failed".
rds_refusal_whose() {
    local code
    code=$(rds_error_code "$1")
    case "$code" in
    DBSnapshotNotFound | InvalidDBSnapshotState | KMSKeyNotAccessible) return 1 ;;
    AccessDenied | AccessDeniedException | UnauthorizedOperation | ExpiredToken | ExpiredTokenException | Throttling | ThrottlingException | \
        RequestLimitExceeded | DBInstanceAlreadyExists | InsufficientDBInstanceCapacity | InstanceQuotaExceeded | StorageQuotaExceeded | \
        DBSubnetGroupNotFound | DBSubnetGroupDoesNotCoverEnoughAZs | InvalidSubnet | InvalidVPCNetworkState | DBSecurityGroupNotFound | \
        DBParameterGroupNotFound | OptionGroupNotFound | AuthorizationNotFound)
        printf " (the verification's environment, not the snapshot: %s)" "$code" ;;
    *) printf " (%s: not known to be the snapshot's, so not a verdict on the backup)" "${code:-no RDS error code}" ;;
    esac
}

# instance_unavailable_whose: the test instance did not become available within the waiter's 30 min; what RDS says of it
# decides whose failure that is (RDS's DB instance statuses). A restore RDS could not make of the snapshot
# (incompatible-restore, failed) or whose encryption key cannot be reached (inaccessible-encryption-credentials*) is the
# backup's: returns 1 (exit 6). Anything else is not a verdict on the snapshot: still creating after 30 min (a large
# snapshot takes longer), deleted meanwhile, the instance's own settings (incompatible-parameters, -network), or no
# answer: prints what the FAIL line adds and returns 0 (exit 1; until h39 every such run was exit 6).
instance_unavailable_whose() {
    local status
    status=$(awscli rds describe-db-instances --db-instance-identifier "$RESTORE_ID" \
        --query 'DBInstances[0].DBInstanceStatus' --output text 2>"$WORK_DIR/rds-status.err") || status=""
    case "$status" in
    incompatible-restore | failed | inaccessible-encryption-credentials*) printf ' (its status: %s)' "$status"; return 1 ;;
    creating | backing-up | modifying | rebooting | configuring-* | storage-optimization | maintenance | upgrading | resetting-master-credentials | starting | renaming)
        printf " (its status: %s, still going: not a verdict on the snapshot; a large snapshot's restore can take longer than the waiter's 30 min: aws rds describe-db-instances --db-instance-identifier %s follows it)" "$status" "$RESTORE_ID" ;;
    "") printf " (its status could not be read: %s; not a verdict on the snapshot)" "$(tail -n 1 "$WORK_DIR/rds-status.err" 2>/dev/null)" ;;
    *) printf " (its status: %s, the verification's environment, not the snapshot)" "$status" ;;
    esac
}

verify_snapshot() {
    local line snapshot created storage encrypted
    # shellcheck disable=SC2016 # a JMESPath literal, not a shell expansion
    line=$(awscli rds describe-db-snapshots --db-instance-identifier "$DB_INSTANCE_IDENTIFIER" \
        --query 'reverse(sort_by(DBSnapshots[?Status==`available`], &SnapshotCreateTime))[0].[DBSnapshotIdentifier,SnapshotCreateTime,AllocatedStorage,Encrypted]' \
        --output text 2>"$WORK_DIR/rds.err") || line=""
    read -r snapshot created storage encrypted <<<"$line" || true
    if [[ -z "${snapshot:-}" || "$snapshot" == None ]]; then
        result "backup completed successfully" FAIL "no available snapshot of $DB_INSTANCE_IDENTIFIER $(tail -n 1 "$WORK_DIR/rds.err" 2>/dev/null)"
        fail_rest "no snapshot"
        return
    fi
    local age
    age=$(age_hours "$created")
    if [[ $age -gt ${VERIFY_MAX_AGE_HOURS:-48} ]]; then
        result "backup completed successfully" FAIL "the newest snapshot $snapshot was taken at $created, ${age}h ago"
    else
        result "backup completed successfully" PASS "snapshot $snapshot taken at $created"
    fi
    if [[ "$storage" =~ ^[0-9]+$ && $storage -gt 0 ]]; then
        result "backup size is expected" PASS "$snapshot: ${storage} GiB allocated"
    else
        result "backup size is expected" FAIL "$snapshot reports allocated storage '$storage'"
    fi

    RESTORE_ID="oauth2-backup-test-$(date -u +%Y%m%d)"
    local args=(--db-instance-identifier "$RESTORE_ID" --db-snapshot-identifier "$snapshot"
        --db-instance-class "${VERIFY_INSTANCE_CLASS:-db.t3.medium}" --no-publicly-accessible --no-multi-az
        --tags "Key=oauth2-dr/purpose,Value=restore-verification")
    [[ -n "${VERIFY_SUBNET_GROUP:-}" ]] && args+=(--db-subnet-group-name "$VERIFY_SUBNET_GROUP")
    # shellcheck disable=SC2206 # a space-separated list of ids
    [[ -n "${VERIFY_SECURITY_GROUP_IDS:-}" ]] && args+=(--vpc-security-group-ids ${VERIFY_SECURITY_GROUP_IDS})
    RESTORE_STARTED=1
    if ! awscli rds restore-db-instance-from-db-snapshot "${args[@]}" >/dev/null 2>"$WORK_DIR/rds.err"; then
        RESTORE_STARTED=0
        local whose="" failed
        failed="restore-db-instance-from-db-snapshot failed: $(tail -n 1 "$WORK_DIR/rds.err")"
        if whose=$(rds_refusal_whose "$WORK_DIR/rds.err"); then
            environment_failed "$EX_FAILURE"
            result "restore to test instance works" FAIL "$failed$whose"
        else
            backup_failed "restore to test instance works" "$failed"
        fi
        fail_rest "the restore failed"
        return
    fi
    # The AWS CLI's waiter polls every 30 s, 60 times: said while it lasts (lib.sh wait_with_progress).
    instance_available() { awscli rds wait db-instance-available --db-instance-identifier "$RESTORE_ID" 2>"$WORK_DIR/rds.err"; }
    if ! wait_with_progress "the test instance $RESTORE_ID to become available (aws rds wait db-instance-available)" "30 min: the waiter's 60 polls, 30 s apart" instance_available; then
        local whose="" failed
        failed="$RESTORE_ID did not become available: $(tail -n 1 "$WORK_DIR/rds.err")"
        if whose=$(instance_unavailable_whose); then
            environment_failed "$EX_FAILURE"
            result "restore to test instance works" FAIL "$failed$whose"
        else
            backup_failed "restore to test instance works" "$failed$whose"
        fi
        fail_rest "the instance is not available"
        return
    fi
    local endpoint host port
    endpoint=$(awscli rds describe-db-instances --db-instance-identifier "$RESTORE_ID" \
        --query 'DBInstances[0].[Endpoint.Address,Endpoint.Port]' --output text 2>/dev/null) || endpoint=""
    read -r host port <<<"$endpoint" || true
    if [[ -n "${VERIFY_ENDPOINT_OVERRIDE:-}" ]]; then
        host=${VERIFY_ENDPOINT_OVERRIDE%:*}
        port=${VERIFY_ENDPOINT_OVERRIDE##*:}
    fi
    export VERIFY_PGHOST="$host" VERIFY_PGPORT="$port"
    if ! snapshot_read "the first connection" "$WORK_DIR/connect.err" -c "SELECT 1"; then
        result "restore to test instance works" FAIL "$RESTORE_ID is available but ${host}:${port}/${PGDATABASE} refuses connections: $(tail -n 1 "$WORK_DIR/connect.err")"
        fail_rest "cannot connect"
        return
    fi
    result "restore to test instance works" PASS "$RESTORE_ID restored from $snapshot at ${host}:${port}"

    # Integrity: the snapshot is encrypted at rest and every table reads in full (count(*) scans every heap
    # page, so a damaged page fails the query).
    : >"$WORK_DIR/expected.txt"
    local table problems=()
    for table in $EXPECTED_TABLES; do
        echo "$table -" >>"$WORK_DIR/expected.txt"
        snapshot_read "the full read of ${DB_SCHEMA}.${table} (count(*): every page, which a restored instance loads from S3 on first read)" /dev/null \
            -c "SELECT count(*) FROM \"${DB_SCHEMA}\".\"${table}\"" || problems+=("$table cannot be read")
    done
    [[ "$encrypted" == True ]] || problems+=("$snapshot is not encrypted")
    if [[ ${#problems[@]} -eq 0 ]]; then
        result "data integrity verified" PASS "encrypted snapshot; every table reads in full"
    else
        result "data integrity verified" FAIL "$(join_lines "${problems[@]}")"
    fi
    check_tables "$PGDATABASE" "$WORK_DIR/expected.txt"
    local clients
    if snapshot_read "the count of ${DB_SCHEMA}.oauth2_registered_client" /dev/null -c "SELECT count(*) FROM \"${DB_SCHEMA}\".oauth2_registered_client" \
        && file_text "$WORK_DIR/snapshot-read.out"; then
        clients=$REPLY
    else
        clients=0
    fi
    if [[ "$clients" == 0 ]]; then
        RESULT["all tables present with expected row counts"]=FAIL
        DETAIL["all tables present with expected row counts"]="oauth2_registered_client is empty: a restored server would have no clients"
    fi
}

if [[ "$VERIFY_MODE" == dump ]]; then
    verify_dump
else
    verify_snapshot
fi
for item in "${ITEMS[@]}"; do
    if [[ "${RESULT[$item]:-}" == FAIL ]]; then
        exit "$EX_VERIFY"
    fi
done
exit 0
