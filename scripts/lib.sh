# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables set here are read by the scripts that source this file
# lib.sh: helpers shared by the oauth2-dr backup scripts. Sourced by them, never run on its own.
#
# Exit codes (the same in every script; each script's header lists the ones it uses):
#   0    success (for the exports: also "unchanged, nothing uploaded")
#   1    unexpected error
#   2    usage or configuration error (a required variable is missing, a bad argument; an AWS_PROFILE not in
#        the config files, no AWS credentials, expired or invalid ones: die, exit_code)
#   3    database error (cannot connect, pg_dump/pg_restore/psql failed, no answer for DB_STALL_SECONDS)
#   4    storage error (S3 upload, download or listing failed; an object is missing or the wrong size)
#   5    encryption error (no passphrase, gpg failed: wrong passphrase, corrupt or truncated object)
#   6    verification failed (restore-verification.sh: at least one checklist item is FAIL)
#   7    nothing to restore (no manifest of the database under <BACKUP_PREFIX>manifests/)
#   8    source error (kubectl, Secrets Manager or the JWKS URL failed)
#   130  interrupted (SIGINT); 143 terminated (SIGTERM). Partial objects are hidden before exiting.
#
# Common environment:
#   BUCKET                      backup bucket name (required by every script)
#   AWS_REGION                  region of the bucket and secrets (optional; the CLI's default otherwise)
#   AWS_HELPER_PYTHON           python3 with botocore and s3transfer for aws-helper.py, used as it is (default:
#                               the first of python3 and /usr/bin/python3 that has them)
#   AWS_HELPER_MALLOC_MMAP_THRESHOLD  the helper's MALLOC_MMAP_THRESHOLD_ (default 131072: the upload's freed
#                               parts go back to the system; empty: glibc's dynamic threshold)
#   AWS_ENDPOINT_URL            S3/Secrets Manager/RDS endpoint override, for tests (moto). The AWS CLI v1
#                               ignores it for some services (rds), so it is passed as --endpoint-url.
#   PASSPHRASE_FILE             file holding the backup passphrase (first line), or
#   BACKUP_PASSPHRASE_SECRET_ID Secrets Manager id of the backup passphrase (SecretString)
#   BACKUP_GPG_PUBLIC_KEYS_FILE writers: armored OpenPGP public keys; when set, public-key mode (no passphrase)
#   BACKUP_GPG_RECIPIENTS       writers: 40-hex fingerprints in that file (space/comma; empty: all of them)
#   RESTORE_GPG_PRIVATE_KEYS_FILE  readers of public-key dumps: armored secret keys, or
#   RESTORE_PRIVATE_KEYS_SECRET_ID Secrets Manager id of them (+ RESTORE_PRIVATE_KEYS_ENDPOINT_URL, _REGION,
#                               _ROLE_ARN for the vault account); see "public-key encryption" below
#   PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGCONNECT_TIMEOUT  the standard libpq variables
#                               (PGDATABASE defaults to oauth2db, PGCONNECT_TIMEOUT to 10 seconds), or
#   DB_CREDENTIALS_SECRET_ID    Secrets Manager id of {"username","password"} (RDS-managed secret; needs jq)
#   DB_SCHEMA                   schema of the oauth2_* tables (default public)
#   BACKUP_PREFIX               prefix of the dumps, manifests and latest.json (default database/)
#   TMPDIR                      scratch directory (default /tmp; an emptyDir in the CronJobs)
#   S3_STALL_SECONDS            a dump's download that receives nothing for this long fails (default 60)
#   DB_STALL_SECONDS            a wait on the database (db-backup.sh's row counts and pg_dump stream, and its
#                               snapshot's COMMIT: a warning; restore.sh's pass and its session: the load, the
#                               swap, the COMMIT; restore-verification.sh's CREATE DATABASE, pass, swap, checks and
#                               cleanup DROP, on its verification server) ends with exit 3 once the
#                               server has not answered a new connection for this long (default 300; db_watch_tick)
#   WAIT_PROGRESS_SECONDS       how often a long wait says that it still waits (default 60; progress_every)
#   TEST_ONLY_GPG_S2K_COUNT     the test suite's lower passphrase S2K count (1025..65011712); never in production
#   TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT  the test suite's lower default connect timeout (2..10 s); never in production

readonly EX_OK=0 EX_FAILURE=1 EX_USAGE=2 EX_DATABASE=3 EX_STORAGE=4 EX_CRYPTO=5 EX_VERIFY=6 EX_NO_BACKUP=7 EX_SOURCE=8
export EX_OK EX_FAILURE EX_USAGE EX_DATABASE EX_STORAGE EX_CRYPTO EX_VERIFY EX_NO_BACKUP EX_SOURCE

# script_dir PATH: sets SCRIPT_DIR to PATH's directory as dirname prints it, for a path that names a file (a
# script's $0 or BASH_SOURCE), without a dirname process: three such starts (dirname twice, basename) were a tenth
# of a short script run's process starts. A name with no slash is in the working directory.
script_dir() {
    SCRIPT_DIR=.
    [[ "$1" != */* ]] || SCRIPT_DIR=${1%/*}
    [[ -n "$SCRIPT_DIR" ]] || SCRIPT_DIR=/
}
if [[ -z "${SCRIPT_NAME:-}" ]]; then
    # basename "$0" .sh: the last part of the path, without a trailing .sh unless that is all of it.
    SCRIPT_NAME=${0##*/}
    [[ "$SCRIPT_NAME" == .sh ]] || SCRIPT_NAME=${SCRIPT_NAME%.sh}
fi
export PGDATABASE="${PGDATABASE:-oauth2db}"
# libpq waits forever for a server that accepts the TCP connection and never answers (a stuck proxy, a
# half-dead host, a firewall that accepts): every connection of a run gets a timeout unless one is set (below,
# after die: PGCONNECT_TIMEOUT_DEFAULT).
# A dump's GET (curl on a presigned URL) that receives no byte for S3_STALL_SECONDS fails (exit 4) instead of
# waiting forever on an S3 endpoint that stopped answering mid-transfer; so does a connect over 30 s.
S3_STALL_SECONDS="${S3_STALL_SECONDS:-60}"
CURL_STALL_ARGS=(--connect-timeout 30 --speed-limit 1 --speed-time "$S3_STALL_SECONDS")
DB_SCHEMA="${DB_SCHEMA:-public}"
# The tables of Spring Authorization Server's JDBC schema.
EXPECTED_TABLES="${EXPECTED_TABLES:-oauth2_authorization oauth2_authorization_consent oauth2_registered_client}"

# The time by bash's printf (%(...)T, its strftime; TZ=UTC0 for that builtin alone), not a subshell and a date
# process per line: a run logs dozens of lines. The same text as `date -u +%Y-%m-%dT%H:%M:%SZ`.
log() { TZ=UTC0 printf '%(%Y-%m-%dT%H:%M:%SZ)T %s: %s\n' -1 "$SCRIPT_NAME" "$*" >&2; }

# aws_config_fault: the line aws-helper.py wrote when the run's AWS profile or credentials are unusable (a
# profile not in the config files, no credentials, expired or invalid ones: it names the profile or variable
# and what to do); fails when there was none.
aws_config_fault() {
    local fault
    aws_config_fault_file fault
    [[ -n "$fault" && -s "$fault" ]] && head -n 1 "$fault"
}

# aws_config_fault_file VAR: sets VAR (no subshell) to where the helper writes that line: AWS_HELPER_FAULT, else the
# run's work directory (wal-archive.sh's shared helper outlives the push that started it: its file is in the helper's directory).
aws_config_fault_file() { printf -v "$1" '%s' "${AWS_HELPER_FAULT:-${WORK_DIR:+$WORK_DIR/aws-config.fault}}"; }

# aws_endpoint_fault_file VAR: the same for the run's first AWS endpoint whose host does not resolve (aws-helper.py
# HostNotResolved), beside the configuration fault's file.
aws_endpoint_fault_file() {
    local config
    aws_config_fault_file config
    printf -v "$1" '%s' "${config:+${config%.fault}-endpoint.fault}"
}

# aws_endpoint_fault: that line, when the run met such a host.
aws_endpoint_fault() {
    local fault
    aws_endpoint_fault_file fault
    [[ -n "$fault" && -s "$fault" ]] && head -n 1 "$fault"
}

# exit_code CODE: CODE, or EX_USAGE when CODE is one an AWS call's failure ends a run with (storage 4, source
# 8, encryption 5 for the passphrase's secret, database 3 for the credentials' secret) and the run met a fault
# of its AWS configuration (aws_config_fault): that is a configuration error, whichever step first needed AWS.
exit_code() {
    if [[ "$1" =~ ^[3458]$ ]] && aws_config_fault >/dev/null; then echo "$EX_USAGE"; else echo "$1"; fi
}

# die CODE MESSAGE...: log and exit with CODE (the EXIT trap of the script cleans up); exit 2 with the fault's
# line first when an AWS configuration fault is the cause (exit_code).
LAST_ERROR=""
die() {
    local code=$1 fault
    shift
    # A delete-marker check still to decide (running in the background, hidden_manifests_start, or not started yet):
    # its verdict comes first, as when it ran before the step that failed (HIDDEN_ON_DIE, the script's own: restore.sh
    # exits 7 with it; it does nothing once the verdict was taken).
    [[ -z "${HIDDEN_ON_DIE:-}" || "$BASHPID" != "$$" ]] || "$HIDDEN_ON_DIE"
    if [[ "$(exit_code "$code")" != "$code" ]] && fault=$(aws_config_fault); then
        code=$EX_USAGE
        set -- "$fault ($*)"
    elif [[ "$code" =~ ^[358]$ ]] && fault=$(aws_endpoint_fault); then
        # An AWS endpoint whose host does not resolve (a typo in AWS_REGION or in an endpoint URL), met first by a
        # Secrets Manager read: the network's, exit 4 as when S3 meets it, said first; not the step's 5 (the
        # passphrase's secret, which sent the on-call to the passphrase), 3 (the credentials' secret) or 8 (a source).
        code=$EX_STORAGE
        set -- "$fault ($*)"
    fi
    LAST_ERROR="$*"
    log "ERROR: $*"
    exit "$code"
}

[[ "$S3_STALL_SECONDS" =~ ^[1-9][0-9]{0,4}$ ]] || die "$EX_USAGE" "S3_STALL_SECONDS must be a number of seconds, not $S3_STALL_SECONDS"
DB_STALL_SECONDS="${DB_STALL_SECONDS:-300}"
[[ "$DB_STALL_SECONDS" =~ ^[1-9][0-9]{0,4}$ ]] || die "$EX_USAGE" "DB_STALL_SECONDS must be a number of seconds, not $DB_STALL_SECONDS"

# The connect timeout of every connection when PGCONNECT_TIMEOUT is unset: 10 s, always in production.
# TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT lowers it for the test suite alone (test/scripts/operator-trial.test.ts,
# whose case of an endpoint that never answers sat through the whole 10 s; another case there reads the
# production value); never set it for a real run (scripts/README.md). From 2 to 10: libpq reads 1 as 2 and
# 0 as "wait forever". An explicit PGCONNECT_TIMEOUT wins over both.
PGCONNECT_TIMEOUT_DEFAULT=10
if [[ -n "${TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT:-}" ]]; then
    [[ "$TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT" =~ ^([2-9]|10)$ ]] \
        || die "$EX_USAGE" "TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT must be a whole number of seconds from 2 to 10 (and unset outside the tests), not $TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT"
    PGCONNECT_TIMEOUT_DEFAULT=$TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT
    log "WARNING: TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT=$PGCONNECT_TIMEOUT_DEFAULT: the default connect timeout (PGCONNECT_TIMEOUT unset) is lowered from 10 s, for tests only"
fi
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-$PGCONNECT_TIMEOUT_DEFAULT}"

# The passphrase's S2K count (gpg_encrypt): 65011712, the most OpenPGP can express, always in production.
# TEST_ONLY_GPG_S2K_COUNT lowers it for the test suite alone (.mocharc.js), where each encryption and decryption
# would otherwise spend an eighth of a second of CPU on it; never set it for a real backup (scripts/README.md).
# Accepted from 1025 to 65011712: gpg reads 1024 or less as "calibrate" (a second of gpg-agent's CPU, for the
# calibrated count, not a lower one) and clamps what is above. Decryption reads the count from each packet, so
# dumps written with either count restore alike.
GPG_S2K_COUNT=65011712
if [[ -n "${TEST_ONLY_GPG_S2K_COUNT:-}" ]]; then
    if [[ ! "$TEST_ONLY_GPG_S2K_COUNT" =~ ^[1-9][0-9]{3,7}$ ]] || (( TEST_ONLY_GPG_S2K_COUNT < 1025 || TEST_ONLY_GPG_S2K_COUNT > 65011712 )); then
        die "$EX_USAGE" "TEST_ONLY_GPG_S2K_COUNT must be a whole number from 1025 to 65011712 (and unset outside the tests), not $TEST_ONLY_GPG_S2K_COUNT"
    fi
    GPG_S2K_COUNT=$TEST_ONLY_GPG_S2K_COUNT
fi

require_env() {
    local name
    for name in "$@"; do
        [[ -n "${!name:-}" ]] || die "$EX_USAGE" "$name is required"
        [[ "$name" != BUCKET ]] || require_bucket_name
    done
}

# require_bucket_name: BUCKET is a bucket's name, not a URL, an ARN or a path (every call passes it to the API
# as Bucket=, where "s3://b" would fail only later as a storage error). Usage error before any work, saying
# what to set instead. Names S3 accepted before 2018 (capitals, underscores) pass.
require_bucket_name() {
    local bucket=${BUCKET:-} rest hint
    if [[ "$bucket" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$ ]]; then
        return 0
    fi
    rest=$bucket
    rest=${rest#s3://}
    rest=${rest#s3a://}
    rest=${rest#arn:aws*:s3:::}
    if [[ "$rest" =~ ^([A-Za-z0-9][A-Za-z0-9._-]{1,254})(/(.*))?$ ]]; then
        hint="set BUCKET=${BASH_REMATCH[1]}"
        [[ -z "${BASH_REMATCH[3]}" ]] || hint+=" and BACKUP_PREFIX=${BASH_REMATCH[3]%/}/ (when that is the prefix of the backups)"
    else
        hint="set BUCKET to the bucket's name alone"
    fi
    die "$EX_USAGE" "BUCKET must be a bucket name, not '$bucket': $hint"
}

require_cmd() {
    local cmd
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null 2>&1 || die "$EX_USAGE" "$cmd is not installed"
    done
}

# short_pause SECONDS: a poll loop's pause without starting a process (a `sleep 0.02` per round was a sleep process
# each time: 416 in one test file's runs of the AWS helper's start alone). A read with a timeout on a pipe this
# shell holds open at both ends (opened once per shell), so nothing ever arrives and it returns after SECONDS.
short_pause() {
    [[ -n "${PAUSE_FD:-}" ]] || exec {PAUSE_FD}<> <(:)
    read -r -t "$1" -u "$PAUSE_FD" _ || true
}

# file_text FILE: sets REPLY to FILE's text as $(cat FILE 2>/dev/null) gives it (its trailing newlines dropped);
# status 1 and REPLY "" when it is not a readable file. Read by bash: a verification read some 25 status, count and
# checksum files each with a subshell and a cat, a tenth of its process starts.
file_text() {
    REPLY=""
    [[ -f "$1" && -r "$1" ]] || return 1
    { IFS= read -r -d '' REPLY <"$1"; } 2>/dev/null || true
    while [[ "$REPLY" == *$'\n' ]]; do REPLY=${REPLY%$'\n'}; done
}

# file_is FILE TEXT: whether FILE's text (file_text) is TEXT; "" for a file that cannot be read.
file_is() { file_text "$1" || true; [[ "$REPLY" == "$2" ]]; }

now_utc() { TZ=UTC0 printf '%(%Y-%m-%dT%H:%M:%SZ)T\n' -1; }

# A short random suffix so that two runs in the same second never share an object key.
# time_ordered_stamp: "YYYYMMDDTHHMMSSZ-" and 12 hex digits, the nanoseconds of that second (8) then 4 random,
# for object names that sort by time even within one second: two backups in the same second (a manual run
# next to the CronJob's) must not leave "the newest" to chance. Older names (8 random hex digits) still match.
time_ordered_stamp() {
    local second nanos
    read -r second nanos < <(date -u '+%Y%m%dT%H%M%SZ %N')
    printf '%s-%08x%s' "$second" "$((10#$nanos))" "$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')"
}

# The AWS CLI with the test endpoint (if any) passed explicitly. Used only for the RDS calls of the
# verification's snapshot mode; S3 and Secrets Manager go through the helper below.
awscli() {
    local args=()
    [[ -n "${AWS_ENDPOINT_URL:-}" ]] && args+=(--endpoint-url "$AWS_ENDPOINT_URL")
    [[ -n "${AWS_REGION:-}" ]] && args+=(--region "$AWS_REGION")
    aws "${args[@]}" "$@"
}

s3_uri() { printf 's3://%s/%s' "$BUCKET" "$1"; }

# reader_went_away RC ERRFILE: the filter stopped because the process reading its output did (SIGPIPE: exit
# 141 and no message; or its own "Broken pipe"/"write error"), not because of its input. Its failure is then
# the reader's to report (pg_restore refusing the archive), not a corrupt dump.
reader_went_away() {
    [[ "$1" == 141 ]] || grep -Eqi 'broken pipe|write error' "$2" 2>/dev/null
}

# one_line_error FILE: the real cause from a tool's stderr, on one line: the first line that says error
# (psql's and pg_dump's "error:", the server's "ERROR:", the CLI's "An error occurred"), else the first
# non-empty line, followed by the other lines of the message; tabs and the tool's own prefix removed.
one_line_error() {
    [[ -s "$1" ]] || { echo "no error message"; return; }
    awk 'NF { gsub(/\t/, " "); sub(/^ +/, ""); lines[n++] = $0 }
         END {
             first = 0
             for (i = 0; i < n; i++) if (lines[i] ~ /(error:|ERROR:|FATAL:|An error occurred|fatal error|failed)/) { first = i; break }
             out = lines[first]
             for (i = first + 1; i < n && i < first + 3; i++) if (lines[i] !~ /^(pg_dump|pg_restore|psql): detail: Query was/) out = out " " lines[i]
             sub(/^(psql|pg_dump|pg_restore|pg_dumpall): (error: )?/, "", out)
             sub(/^psql:[^ ]*:[0-9]+: /, "", out)
             if (sub(/^(upload|download) failed: /, "", out)) sub(/^[^ ]+ to [^ ]+ /, "", out)
             print out
         }' "$1"
}

# --- S3 and Secrets Manager through aws-helper.py -------------------------------------------------------
# Each `aws` CLI call costs about half a second of start-up; a restore made five before its download. The
# helper (botocore: the CLI's own library, credential chain and signing) is started once per run by
# make_work_dir and answers on a Unix socket in the private work directory (curl --unix-socket; curl 7.87
# or newer for --url-query: Debian bookworm has 7.88).

# This file's directory, absolute and without . or .. parts (what `cd DIR && pwd` prints), read without a process
# where the path given is one already (the jobs and the tests run scripts by their absolute path).
script_dir "${BASH_SOURCE[0]}"
if [[ "$SCRIPT_DIR" == /* && "/$SCRIPT_DIR/" != *"/./"* && "/$SCRIPT_DIR/" != *"/../"* && "$SCRIPT_DIR" != *//* ]]; then
    LIB_DIR=${SCRIPT_DIR%/}
    LIB_DIR=${LIB_DIR:-/}
else
    LIB_DIR=$(cd "$SCRIPT_DIR" && pwd)
fi
AWS_HELPER_PID="" AWS_HELPER_SOCKET="" AWS_HELPER_ERR="" AWS_HELPER_FAULT="" AWS_HELPER_SHARED="" AWS_CALL_OBJECT_SIZE=""

# require_curl_for_helper: aws_call needs curl 7.87 or newer (--url-query); said before any work.
require_curl_for_helper() {
    local version="" major minor
    # Its first line's second word, read by bash (an awk and a subshell less per helper start).
    read -r _ version _ < <(curl --version 2>/dev/null) || true
    IFS=. read -r major minor _ <<<"$version"
    if [[ ! "$major" =~ ^[0-9]+$ || ! "$minor" =~ ^[0-9]+$ ]] || (( major < 7 || (major == 7 && minor < 87) )); then
        die "$EX_USAGE" "curl ${version:-(not found)} is too old: the scripts need curl 7.87 or newer (--url-query; Debian bookworm has 7.88)"
    fi
}

# start_aws_helper [SOCKET WATCH_PID]: the helper on SOCKET (default: the work directory's), for as long as
# WATCH_PID (default: this script) runs; its stderr in AWS_HELPER_ERR (default: the work directory's).
# shellcheck disable=SC2120 # the arguments are optional: only wal-archive.sh's shared helper passes them
start_aws_helper() {
    require_curl_for_helper
    AWS_HELPER_SOCKET=${1:-"$WORK_DIR/aws.sock"}
    local watch_pid=${2:-$$} err=${AWS_HELPER_ERR:-"$WORK_DIR/aws-helper.err"} watch_start=""
    # The watched process's start time, for the helper (AWS_HELPER_WATCH_START): its pid alone may be another
    # process's once it has ended, and the helper would then wait for that one.
    ! proc_start "$watch_pid" || watch_start=$PROC_START
    # AWS_HELPER_PYTHON when set, as it is: a python3 there without botocore fails with the helper's own line
    # naming it, never a silent fall-back to another python. Otherwise the first of python3, /usr/bin/python3
    # that has botocore and s3transfer (Debian's python3-botocore and python3-s3transfer serve
    # /usr/bin/python3; a python3 earlier on PATH may lack them). Started in the background: no wait here.
    (
        local candidates=(python3 /usr/bin/python3) python
        # fd 3 is the script's stderr: the helper says there when a call gets no answer and is retried.
        export AWS_HELPER_PROGRESS_FD=3 AWS_HELPER_LOG_NAME="$SCRIPT_NAME" AWS_HELPER_WATCH_START="$watch_start"
        # Where the helper writes a fault of the AWS profile or credentials (die: exit 2 with it).
        aws_config_fault_file AWS_HELPER_CONFIG_FAULT_FILE
        # And where it writes an endpoint host that does not resolve (die: exit 4 with it, whichever service met it).
        aws_endpoint_fault_file AWS_HELPER_ENDPOINT_FAULT_FILE
        export AWS_HELPER_CONFIG_FAULT_FILE AWS_HELPER_ENDPOINT_FAULT_FILE
        # glibc's malloc serves the upload's parts (5 MB each, several in flight) from mmap only up to a threshold
        # it raises after the first one is freed: later parts then come from the heap and its freed holes stay
        # resident (the helper's peak during a backup's upload 92-99 MB instead of 84, and a different layout
        # of the helper's own code moved it by 2 MB). A fixed threshold (128 KiB, glibc's default, not raised)
        # gives every large buffer back as soon as it is freed. AWS_HELPER_MALLOC_MMAP_THRESHOLD="" leaves glibc's.
        [[ -z "${AWS_HELPER_MALLOC_MMAP_THRESHOLD-131072}" ]] || export MALLOC_MMAP_THRESHOLD_="${AWS_HELPER_MALLOC_MMAP_THRESHOLD-131072}"
        [[ -z "${AWS_HELPER_PYTHON:-}" ]] || exec "$AWS_HELPER_PYTHON" "$LIB_DIR/aws-helper.py" "$AWS_HELPER_SOCKET" "$watch_pid"
        for python in "${candidates[@]}"; do
            # find_spec looks the packages up without importing them (the helper imports them once).
            "$python" -c 'import importlib.util as u, sys; sys.exit(not (u.find_spec("botocore") and u.find_spec("s3transfer")))' 2>/dev/null \
                && exec "$python" "$LIB_DIR/aws-helper.py" "$AWS_HELPER_SOCKET" "$watch_pid"
        done
        echo "no python3 with botocore and s3transfer (tried ${candidates[*]}): install python3-botocore python3-s3transfer, or name one in AWS_HELPER_PYTHON" >&2
        exit 1
    ) </dev/null >/dev/null 3>&2 2>"$err" &
    AWS_HELPER_PID=$!
    aws_helper_note_start
}

# aws_helper_note_start: notes AWS_HELPER_PID's start time (AWS_HELPER_START) for aws_helper_runs; "" when it has
# ended already (it is then not running).
AWS_HELPER_START=""
aws_helper_note_start() {
    AWS_HELPER_START=""
    ! proc_start "$AWS_HELPER_PID" || AWS_HELPER_START=$PROC_START
}

# aws_helper_runs: whether the helper (AWS_HELPER_PID) runs: the process of that pid and the start time noted with
# it (aws_helper_note_start), not ended (a zombie has). Not `kill -0 PID`: once the helper has ended and been reaped
# its number may be any new process's, which kill -0 took for the helper (aws_helper_ready then waited its 20 s).
aws_helper_runs() { proc_runs "$AWS_HELPER_PID" "$AWS_HELPER_START"; }

# AWS_HELPER_SHARED=1: the helper outlives this run (wal-archive.sh push's, one per PostgreSQL cluster): not stopped.
stop_aws_helper() {
    [[ -n "$AWS_HELPER_PID" && -z "${AWS_HELPER_SHARED:-}" ]] || return 0
    # KILL, not TERM: a TERM that reaches the helper's subshell before it has reset the script's traps (a
    # usage error right after make_work_dir) is lost, and the `wait` below then waited forever (about one
    # run in 3000). The helper handles no signal: TERM ended it as abruptly.
    kill_own KILL "$AWS_HELPER_PID"
    wait "$AWS_HELPER_PID" 2>/dev/null || true
    AWS_HELPER_PID="" AWS_HELPER_START=""
    rm -f "$AWS_HELPER_SOCKET"
}

# aws_helper_ready: waits (at most 20 s) for the helper's socket; says why when the helper died instead.
aws_helper_ready() {
    local waited=0
    while [[ ! -S "$AWS_HELPER_SOCKET" ]]; do
        if ! aws_helper_runs || [[ $waited -ge 1000 ]]; then
            # Stopped on a fault of the AWS configuration (a profile not in the files): die says its line first.
            aws_config_fault >/dev/null && { echo "the AWS helper stopped: the AWS configuration is not usable" >&2; return 1; }
            echo "the AWS helper ($LIB_DIR/aws-helper.py, python3 with botocore and s3transfer) is not running: $(one_line_error "${AWS_HELPER_ERR:-$WORK_DIR/aws-helper.err}")" >&2
            return 1
        fi
        short_pause 0.02
        waited=$((waited + 1))
        # A python3 that starts slowly (a loaded node): said once, not a silent pause of up to 20 s.
        ((waited != 250)) || log "waiting for the AWS helper to start ($LIB_DIR/aws-helper.py: 5 s so far; at most 20 s)"
    done
}

# aws_call METHOD CALL OUT [NAME=VALUE ...] [--body FILE|-]: one call of aws-helper.py (see its header). OUT
# is a file, or - for stdout (kept in memory on the way: secrets never touch the disk). On failure the
# AWS message (the CLI's own text) is on stderr and the status is 1. Sets AWS_CALL_OBJECT_SIZE (s3/get).
aws_call() {
    local method=$1 call=$2 out=$3 args=() answer status
    shift 3
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --body) args+=(--data-binary "@$2"); shift ;;
        *) args+=(--url-query "$1") ;;
        esac
        shift
    done
    [[ "$method" == POST && " ${args[*]} " != *" --data-binary "* ]] && args+=(--data-binary @/dev/null)
    aws_helper_ready || return 1
    # -q first: a user's ~/.curlrc must not change what is parsed here.
    local curl_args=(-q -sS --unix-socket "$AWS_HELPER_SOCKET" "${args[@]}" "http://aws-helper${call}")
    if [[ "$out" == - ]]; then
        answer=$(curl "${curl_args[@]}" -w '\n%{http_code} %header{x-object-size}') || { echo "the AWS helper did not answer ${call}" >&2; return 1; }
        status=${answer##*$'\n'}
        answer=${answer%$'\n'*}
        AWS_CALL_OBJECT_SIZE=${status#* }
        if [[ "${status%% *}" == 200 ]]; then printf '%s' "$answer"; return 0; fi
        printf '%s\n' "$answer" >&2
        return 1
    fi
    status=$(curl "${curl_args[@]}" -o "$out" -w '%{http_code} %header{x-object-size}') || { echo "the AWS helper did not answer ${call}" >&2; return 1; }
    AWS_CALL_OBJECT_SIZE=${status#* }
    [[ "${status%% *}" == 200 ]] && return 0
    cat "$out" >&2
    echo >&2
    # Only a file of ours: OUT may be /dev/null or another device, which root would remove.
    [[ ! -f "$out" ]] || rm -f "$out"
    return 1
}

# s3_size KEY: the stored object's size in bytes; fails (with the AWS message on stderr) if it does not exist.
s3_size() { aws_call GET /s3/size - "bucket=$BUCKET" "key=$1"; }

# s3_version KEY: the VersionId of the object's current version ("" in an unversioned bucket).
s3_version() { aws_call GET /s3/version - "bucket=$BUCKET" "key=$1"; }

# s3_metadata KEY NAME: a user metadata value of an object ("" when the object or the value is absent: the helper
# answers S3's 404 so); fails, the AWS message on stderr, on any other answer. Until h37 every failure read as ""
# (absent), and the exports uploaded again: a missing bucket or a silent endpoint was then said as "upload of X
# failed" without its cause, and a HeadObject denied (a role without s3:GetObject, which HEAD needs) while PutObject
# is allowed uploaded a new version at every run, pushing the rotations out of the versions the bucket keeps.
s3_metadata() { aws_call GET /s3/metadata - "bucket=$BUCKET" "key=$1" "name=$2"; }

# stored_sha256 KEY: sets REPLY to the sha256 stored with KEY (x-amz-meta-sha256; "" when there is none), or dies
# (exit 4) naming the object and the cause, before anything is uploaded.
stored_sha256() {
    REPLY=$(s3_metadata "$1" sha256 2>"$WORK_DIR/s3.err") \
        || die "$EX_STORAGE" "cannot read the stored sha256 of $(s3_uri "$1") (its x-amz-meta-sha256; nothing was uploaded): $(one_line_error "$WORK_DIR/s3.err")"
}

# upload_failed KEY ERRFILE: dies (exit 4) naming the object and the cause (s3_put_file's stderr in ERRFILE).
upload_failed() { die "$EX_STORAGE" "upload of $(s3_uri "$1") failed: $(one_line_error "$2")"; }

# s3_keys PREFIX: every key under PREFIX, one a line, sorted (every page). Fails with EX_STORAGE (the AWS
# message on stderr) when the bucket cannot be listed.
s3_keys() {
    local out
    out=$(aws_call GET /s3/keys - "bucket=$BUCKET" "prefix=$1") || return "$EX_STORAGE"
    [[ -z "$out" ]] || printf '%s\n' "$out" | sed '/^$/d' | LC_ALL=C sort
}

# s3_put_file FILE|- KEY [--metadata NAME=VALUE] [--content-type TYPE]: upload a small file or stdin
# (manifests, pointers, exports).
s3_put_file() {
    local file=$1 key=$2 query=()
    shift 2
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --metadata) query+=("meta.${2%%=*}=${2#*=}"); shift ;;
        --content-type) query+=("content_type=$2"); shift ;;
        *) echo "s3_put_file: unknown option $1" >&2; return 2 ;;
        esac
        shift
    done
    # Its answer read, not sent to /dev/null: S3's error is in it (with /dev/null as OUT, "upload of X failed" had no
    # cause until h37).
    aws_call POST /s3/put - "bucket=$BUCKET" "key=$key" "${query[@]}" --body "$file" >/dev/null
}

# s3_get_file KEY FILE: download a small object (a manifest); the AWS message on stderr on failure.
s3_get_file() { aws_call GET /s3/get "$2" "bucket=$BUCKET" "key=$1"; }

# s3_delete KEY: delete an object (a versioned bucket keeps it behind a delete marker).
s3_delete() { aws_call POST /s3/delete - "bucket=$BUCKET" "key=$1" >/dev/null; }

# secret_value ID [VERSION_ID]: Secrets Manager's answer as JSON ({ARN, Name, VersionId, SecretString}), on
# stdout (a pipe or a variable, never a file); the AWS message on stderr on failure.
secret_value() {
    local query=("id=$1")
    [[ -n "${2:-}" ]] && query+=("version=$2")
    aws_call GET /secretsmanager/get - "${query[@]}"
}

# secret_string ID: the current SecretString of a secret, on stdout (same rules as secret_value).
secret_string() { secret_value "$1" | jq -j '.SecretString // empty'; }

# --- scratch space and cleanup ------------------------------------------------------------------------

WORK_DIR=""
# make_work_dir [no-helper]
# shellcheck disable=SC2120 # "no-helper" is optional: only wal-archive.sh push passes it
make_work_dir() {
    local err
    # A scratch directory the run cannot write (read-only, missing, not its own) is the configuration's fault.
    if ! err=$(mktemp -d "${TMPDIR:-/tmp}/${SCRIPT_NAME}.XXXXXX" 2>&1); then
        die "$EX_USAGE" "scratch directory ${TMPDIR:-/tmp} (TMPDIR) is not usable: ${err#mktemp: }"
    fi
    WORK_DIR=$err
    chmod 700 "$WORK_DIR"
    export GNUPGHOME="$WORK_DIR/gnupg"
    mkdir -m 700 "$GNUPGHOME"
    # "no-helper": the caller starts or finds its helper itself (wal-archive.sh push: the cluster's shared one).
    [[ "${1:-}" == no-helper ]] || start_aws_helper
}

remove_work_dir() {
    stop_aws_helper
    # A probe still decrypting (restore_probe_start; the run ended before its answer was read): its gpg ends
    # first, so that the gpg-agent it uses is there to be killed below.
    if [[ -n "${RESTORE_PROBE_FD:-}" ]]; then
        cat <&"$RESTORE_PROBE_FD" >/dev/null 2>&1 || true
        exec {RESTORE_PROBE_FD}<&-
        RESTORE_PROBE_FD=""
    fi
    if [[ -n "$WORK_DIR" && -d "$WORK_DIR" ]]; then
        # The run's gpg-agent, if gpg started one: its socket is in GNUPGHOME, or below /run/user/UID/gnupg where
        # that exists (gpgconf --list-dirs agent-socket). Neither: no agent, and no gpgconf and gpg-connect-agent
        # started to find none (about 15 ms of CPU per run that used no gpg: usage errors, checks, wal pushes).
        if [[ -S "$GNUPGHOME/S.gpg-agent" || -d "/run/user/$UID/gnupg" ]]; then
            gpgconf --kill gpg-agent >/dev/null 2>&1 || true
        fi
        rm -rf "$WORK_DIR"
    fi
}

# For scripts whose only state is the work directory: on any exit remove it, log a failure and keep the
# exit code; INT and TERM exit with 130 and 143 through the same path.
cleanup_work_dir_on_exit() {
    local status=$?
    # The default IFS for everything the cleanup calls (bash's scoping is dynamic): a signal's trap that interrupts
    # `IFS= read ...` (a wait for psql's answer) runs with that empty IFS, and no read or expansion here splits then.
    local IFS=$' \t\n'
    trap - EXIT INT TERM
    # The run's jobs that still run (a signal's trap ended it during one: client-config-export.sh's COPY queued on a
    # lock), with their process groups where the script has set -m; bash's notices of their end are not the run's words.
    kill_unnoted_jobs 2>/dev/null
    remove_work_dir
    [[ $status -eq 0 ]] || log "FAILED with exit code $status"
    exit "$status"
}
trap_work_dir_cleanup() {
    trap cleanup_work_dir_on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# kill_job PID: TERM to a background job of this shell (with its process group: set -m), only while PID is still
# that job (kill_own), and reap it.
kill_job() {
    local pid=$1
    [[ -n "$pid" ]] || return 0
    kill_own TERM "$pid"
    wait "$pid" 2>/dev/null || true
}

# proc_start PID: sets PROC_START to the process's start time (clock ticks after boot, /proc/PID/stat field 22),
# PROC_PPID to its parent, PROC_STATE to its state (Z: ended, not yet reaped), PROC_PGRP and PROC_SESSION to its
# process group and session; all "" (status 1) when no process has that pid. A pid is reused once its process
# has ended (within a minute where processes start by the thousands: pid_max is often 32768); a pid and its
# start time name one process for good. Read by bash itself: no process is started.
PROC_START="" PROC_PPID="" PROC_STATE="" PROC_PGRP="" PROC_SESSION=""
proc_start() {
    # IFS of its own: a trap that interrupts `IFS= read ...` (db-backup.sh's psql_ask, SIGTERM while a count
    # waits) runs with that empty IFS, which left the fields unsplit, and the cleanup died on fields[1] (set -u).
    local stat fields IFS=' '
    PROC_START="" PROC_PPID="" PROC_STATE="" PROC_PGRP="" PROC_SESSION=""
    { read -r stat </proc/"$1"/stat; } 2>/dev/null || return 1
    # After "(comm) ": state, ppid, pgrp, session, ..., starttime (the 20th); comm may hold spaces and parentheses.
    read -ra fields <<<"${stat##*) }"
    PROC_STATE=${fields[0]:-} PROC_PPID=${fields[1]:-} PROC_PGRP=${fields[2]:-} PROC_SESSION=${fields[3]:-} PROC_START=${fields[19]:-}
}

# run_group PGID: whether process group PGID (its leader gone) is in this shell's session, the run's: a job's
# group whose leader has ended. Its id stays taken while it has members, but once they have ended too it can be
# a new process's, and the leader of a new group may end before its members (a pipeline's first command, a
# daemon's intermediate process, another run's job): that group is someone else's. A group lies within one
# session (setpgid cannot join one of another), so one member in this session is enough. Scans /proc: only
# called for a group without a leader, which exists.
run_group() {
    local group=$1 session entry
    kill -0 -- "-$group" 2>/dev/null || return 1
    proc_start "$BASHPID" || return 1
    session=$PROC_SESSION
    for entry in /proc/[1-9]*/stat; do
        entry=${entry#/proc/}
        proc_start "${entry%/stat}" || continue
        [[ "$PROC_PGRP" == "$group" ]] || continue
        [[ "$PROC_SESSION" == "$session" ]]
        return
    done
    return 1
}

# proc_runs PID START: whether the process of that pid and start time (proc_start's, taken when it was noted) runs:
# not ended (a zombie has), and not another process given the number since. Not `kill -0 PID`, which takes any
# process with that number for it. Status 1 when PID or START is "".
proc_runs() { [[ -n "$1" && -n "$2" ]] && proc_start "$1" && [[ "$PROC_START" == "$2" && "$PROC_STATE" != Z ]]; }

# proc_is_child: whether the process proc_start last read is a child of this shell (of the script, or of the
# subshell this runs in).
proc_is_child() { [[ "$PROC_PPID" == "$$" || "$PROC_PPID" == "$BASHPID" ]]; }

# child_runs PID: whether PID is a child of this shell that has not ended. Not `kill -0 PID`: bash reaps a job that
# ends at once (its SIGCHLD), and the number is then free for any new process, which kill -0 takes for the job.
child_runs() { proc_start "$1" && [[ "$PROC_STATE" != Z ]] && proc_is_child; }

# kill_own SIGNAL PID [START]: signals a job of this run with its process group (set -m: each job its own), only
# while PID is still that job: with START (proc_start's, taken when the job was noted), the process of that pid
# and start time; without, a child of this shell. The pid of a job that has ended may be another process's by
# now: a kill of it, or of its group, hits an unrelated process (every restore's cleanup killed each job it had
# noted, the long-ended ones too). When no process has the pid, its group alone is signalled, and only while it is
# in the run's session (run_group): its id stays taken while a member of the job lives, but a group of that id
# whose members all ended may be another's by now, with its own leader gone too.
kill_own() {
    local signal=$1 pid=$2 start=${3:-}
    [[ "$pid" =~ ^[1-9][0-9]*$ ]] || return 0
    if proc_start "$pid"; then
        if [[ -n "$start" ]]; then
            [[ "$PROC_START" == "$start" ]] || return 0
        else
            proc_is_child || return 0
        fi
        kill "-$signal" -- "-$pid" 2>/dev/null || kill "-$signal" "$pid" 2>/dev/null || true
    elif run_group "$pid"; then
        kill "-$signal" -- "-$pid" 2>/dev/null || true
    fi
}

# --- passphrase and encryption ------------------------------------------------------------------------

BACKUP_PASSPHRASE=""
# Where the passphrase came from: "file" or "secretsmanager", and for the latter the secret's ARN, name and
# the VersionId that was read (recorded in the manifest, so that a restore reads the same version).
PASSPHRASE_SOURCE="" PASSPHRASE_SECRET_ARN="" PASSPHRASE_SECRET_NAME="" PASSPHRASE_VERSION_ID=""

# secret_name_of ID: the secret's name from a name, a full ARN (with AWS's -XXXXXX suffix) or a partial ARN.
secret_name_of() {
    local id=$1
    if [[ "$id" == arn:* ]]; then
        id=${id#*:secret:}
        [[ "$id" =~ ^(.+)-[A-Za-z0-9]{6}$ ]] && id=${BASH_REMATCH[1]}
    fi
    printf '%s' "$id"
}

# load_passphrase [SECRET_ID VERSION_ID]: the passphrase from PASSPHRASE_FILE, or from Secrets Manager: the
# current version of BACKUP_PASSPHRASE_SECRET_ID, or the given version of the given secret. The secret's
# JSON answer stays in memory and in pipes (printf is a builtin): never on a command line or on disk.
load_passphrase() {
    local secret_id=${1:-${BACKUP_PASSPHRASE_SECRET_ID:-}} version_id=${2:-}
    if [[ -n "${PASSPHRASE_FILE:-}" && -z "${1:-}" ]]; then
        [[ -r "$PASSPHRASE_FILE" ]] || die "$EX_CRYPTO" "PASSPHRASE_FILE $PASSPHRASE_FILE is not readable"
        IFS= read -r BACKUP_PASSPHRASE <"$PASSPHRASE_FILE" || true
        PASSPHRASE_SOURCE="file"
        # A file saved with CRLF line ends, or a line ending in spaces or tabs (a paste, an editor): they are part of
        # the line read, so of the passphrase. Said at once (a backup encrypts with them; a secret's value or a file
        # without them will not decrypt that dump).
        local blanks
        blanks=$(passphrase_file_blanks)
        if [[ "$blanks" == $'\r' ]]; then
            log "warning: PASSPHRASE_FILE $PASSPHRASE_FILE ends its first line with a carriage return (CRLF line ends, e.g. saved on Windows): the \\r is used as the last character of the passphrase; if it is not part of the passphrase, convert the file: sed -i 's/\\r\$//' $PASSPHRASE_FILE"
        elif [[ -n "$blanks" ]]; then
            log "warning: PASSPHRASE_FILE $PASSPHRASE_FILE ends its first line with $(blanks_words "$blanks"): used as the end of the passphrase; if not part of it, remove them: $(blanks_fix)"
        fi
    elif [[ -n "$secret_id" ]]; then
        require_cmd jq
        local answer err
        err=$(mktemp "${WORK_DIR:-${TMPDIR:-/tmp}}/secret.err.XXXXXX")
        answer=$(secret_value "$secret_id" "$version_id" 2>"$err") || {
            local cause hint="" region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
            cause=$(one_line_error "$err")
            rm -f "$err"
            # A run in another region than the manifest's secret (AWS_REGION of the DR side, a typo): said.
            # A version that no longer exists (Secrets Manager deletes versions left without a staging label):
            # the dump cannot be decrypted through its manifest's secret any more.
            if [[ -n "$version_id" && "$cause" == *"secret value for VersionId"* ]]; then
                hint=" (version $version_id is gone: a dump of that version restores only with its passphrase from elsewhere, PASSPHRASE_FILE, e.g. the vault's copy: docs/runbook.md §6; or pick another dump)"
            elif [[ "$secret_id" =~ ^arn:[^:]+:secretsmanager:([^:]+): && -n "$region" && "${BASH_REMATCH[1]}" != "$region" ]]; then
                hint=" (the secret is in ${BASH_REMATCH[1]}, this run's AWS_REGION is $region: set AWS_REGION=${BASH_REMATCH[1]}, or BACKUP_PASSPHRASE_SECRET_ID=$(secret_name_of "$secret_id") to read its replica in $region)"
            fi
            die "$EX_CRYPTO" "cannot read the backup passphrase $secret_id${version_id:+ version $version_id} from Secrets Manager: $cause$hint"
        }
        rm -f "$err"
        # One jq for the four fields, each ended by a NUL (a pipe, never a file); as a command substitution
        # read them, without the passphrase's trailing newlines.
        local fields=()
        mapfile -d '' -t fields < <(printf '%s' "$answer" \
            | jq -j '(.SecretString // empty), "\u0000", (.ARN // empty), "\u0000", (.Name // empty), "\u0000", (.VersionId // empty), "\u0000"')
        BACKUP_PASSPHRASE=${fields[0]-}
        while [[ "$BACKUP_PASSPHRASE" == *$'\n' ]]; do BACKUP_PASSPHRASE=${BACKUP_PASSPHRASE%$'\n'}; done
        PASSPHRASE_SECRET_ARN=${fields[1]-} PASSPHRASE_SECRET_NAME=${fields[2]-} PASSPHRASE_VERSION_ID=${fields[3]-}
        fields=()
        PASSPHRASE_SOURCE=secretsmanager
        [[ "$(secret_name_of "$PASSPHRASE_SECRET_ARN")" == "$(secret_name_of "$secret_id")" || "$PASSPHRASE_SECRET_ARN" == "$secret_id" ]] \
            || die "$EX_CRYPTO" "Secrets Manager answered $secret_id with another secret ($PASSPHRASE_SECRET_ARN)"
        # The database credentials and the JWK secrets are JSON objects; a passphrase is a plain string.
        [[ "$BACKUP_PASSPHRASE" != "{"* ]] \
            || die "$EX_CRYPTO" "the secret $PASSPHRASE_SECRET_ARN holds a JSON object, not a backup passphrase: is $secret_id the right secret?"
    else
        die "$EX_USAGE" "set PASSPHRASE_FILE or BACKUP_PASSPHRASE_SECRET_ID"
    fi
    [[ -n "$BACKUP_PASSPHRASE" ]] || die "$EX_CRYPTO" "the backup passphrase${PASSPHRASE_SECRET_ARN:+ in $PASSPHRASE_SECRET_ARN} is empty"
}

# The passphrase reaches gpg on file descriptor 3 from a shell builtin: never on a command line, never on disk.
# No compression: pg_dump's custom format is compressed already. The S2K count is the largest OpenPGP can
# express (65,011,712 bytes hashed), which is what gpg-agent's own calibration chooses on current CPUs; named
# here, it is never lower on a slow node, and the fresh agent of each run does not spend a second of CPU
# calibrating it. Decryption reads the count from the packet.
# gpg_encrypt [exec]: with "exec", gpg replaces the calling shell: for a pipeline stage of its own (the stage's
# subshell would otherwise wait beside gpg for the whole stream, about 4 MB of memory); never in the script's
# own shell.
# shellcheck disable=SC2120 # "exec" is optional: the other callers pass nothing
gpg_encrypt() {
    local run=()
    [[ "${1:-}" != exec ]] || run=(exec)
    [[ "$ENCRYPTION_MODE" != public-key ]] || { gpg_pubkey_encrypt "${run[@]}"; return; }
    "${run[@]}" gpg --batch --quiet --no-tty --yes --pinentry-mode loopback --no-symkey-cache --passphrase-fd 3 \
        --symmetric --cipher-algo AES256 --s2k-digest-algo SHA512 --s2k-count "$GPG_S2K_COUNT" --compress-algo none --force-mdc \
        --output - 3< <(printf '%s' "$BACKUP_PASSPHRASE")
}

gpg_decrypt() {
    [[ "$ENCRYPTION_MODE" != public-key ]] || { gpg_pubkey_decrypt; return; }
    gpg --batch --quiet --no-tty --yes --pinentry-mode loopback --no-symkey-cache --passphrase-fd 3 \
        --decrypt --output - 3< <(printf '%s' "$BACKUP_PASSPHRASE")
}

# --- database -----------------------------------------------------------------------------------------

load_db_credentials() {
    if [[ -n "${DB_CREDENTIALS_SECRET_ID:-}" && -z "${PGPASSWORD:-}" ]]; then
        require_cmd jq
        local secret
        secret=$(secret_string "$DB_CREDENTIALS_SECRET_ID" 2>"$WORK_DIR/credentials.err") || secret=""
        [[ -n "$secret" ]] || die "$EX_DATABASE" "cannot read the database credentials ($DB_CREDENTIALS_SECRET_ID): $(one_line_error "$WORK_DIR/credentials.err")"
        PGUSER=$(printf '%s' "$secret" | jq -er .username) || die "$EX_DATABASE" "the credentials secret $DB_CREDENTIALS_SECRET_ID has no username"
        PGPASSWORD=$(printf '%s' "$secret" | jq -er .password) || die "$EX_DATABASE" "the credentials secret $DB_CREDENTIALS_SECRET_ID has no password"
        export PGUSER PGPASSWORD
    fi
}

# psql_value SQL...: one unaligned value per row, no psqlrc, stop at the first error.
PSQL_VALUE=(psql -X -q -At -v ON_ERROR_STOP=1)
psql_value() { "${PSQL_VALUE[@]}" "$@"; }

# db_address [HOST PORT]: host:port/database as libpq will use them, for messages.
db_address() { printf '%s:%s/%s' "${1:-${PGHOST:-local socket}}" "${2:-${PGPORT:-5432}}" "${3:-$PGDATABASE}"; }
# db_address_in VAR: sets VAR to db_address's text, without the subshell of $(db_address) (a process start): for a
# watched wait's WHAT on the normal path, where the watch starts nothing.
db_address_in() { printf -v "$1" '%s:%s/%s' "${PGHOST:-local socket}" "${PGPORT:-5432}" "$PGDATABASE"; }

# check_db_connection DB [HOST PORT]: connects and reads, in one query, the server version, whether the server is a
# standby (pg_is_in_recovery()) and whether the session is read-only (transaction_read_only, with where
# default_transaction_read_only was set), or dies naming host:port/db and the cause.
# Sets DB_SERVER_VERSION_NUM (e.g. 150018) and DB_READ_ONLY ("" writable, "standby", or the pg_settings source of
# default_transaction_read_only: database, user, configuration file, ...) from that connection, for
# refuse_read_only_db: the same psql process, no second connection.
DB_SERVER_VERSION_NUM="" DB_READ_ONLY=""
check_db_connection() {
    local err="${WORK_DIR:-${TMPDIR:-/tmp}}/connect.err" answer recovery read_only
    answer=$(PGHOST="${2:-${PGHOST:-}}" PGPORT="${3:-${PGPORT:-5432}}" psql_value -d "$1" -c "SELECT current_setting('server_version_num'), pg_is_in_recovery(),
            current_setting('transaction_read_only'), (SELECT source FROM pg_settings WHERE name = 'default_transaction_read_only')" 2>"$err") \
        || die "$EX_DATABASE" "cannot connect to $(db_address "${2:-}" "${3:-}" "$1"): $(one_line_error "$err")$(
            grep -q 'timeout expired' "$err" 2>/dev/null && printf ' (no answer within PGCONNECT_TIMEOUT=%ss)' "$PGCONNECT_TIMEOUT")"
    IFS='|' read -r DB_SERVER_VERSION_NUM recovery read_only DB_READ_ONLY <<<"$answer"
    if [[ "$recovery" == t ]]; then
        DB_READ_ONLY=standby
    elif [[ "$read_only" != on ]]; then
        DB_READ_ONLY=""
    fi
}

# refuse_read_only_db WHAT HOST PORT DB: after check_db_connection, a server that cannot take the writes WHAT
# needs ("restore into", "create the scratch database on") is refused (exit 3) before any download, naming it,
# why and what to do: a standby (a read replica, an Aurora reader endpoint) or sessions that are read-only by
# default_transaction_read_only. Without this the run downloaded the whole dump and failed at its first write with
# "cannot execute CREATE SCHEMA in a read-only transaction".
refuse_read_only_db() {
    local where fix
    where=$(db_address "$2" "$3" "$4")
    [[ -n "$DB_READ_ONLY" ]] || return 0
    if [[ "$DB_READ_ONLY" == standby ]]; then
        die "$EX_DATABASE" "cannot $1 $where: the server is a standby (read replica): pg_is_in_recovery() is true, it takes no writes; restore into the primary: point PGHOST/PGPORT at its writer endpoint (the dump was not downloaded)"
    fi
    case "$DB_READ_ONLY" in
    database) fix="ALTER DATABASE \"$4\" RESET default_transaction_read_only" ;;
    user) fix="ALTER ROLE \"${PGUSER:-$(id -un)}\" RESET default_transaction_read_only" ;;
    "database user") fix="ALTER ROLE \"${PGUSER:-$(id -un)}\" IN DATABASE \"$4\" RESET default_transaction_read_only" ;;
    client) fix="remove default_transaction_read_only from PGOPTIONS" ;;
    *) fix="turn default_transaction_read_only off where it is set (the server's configuration or parameter group)" ;;
    esac
    die "$EX_DATABASE" "cannot $1 $where: its sessions are read-only (transaction_read_only on: default_transaction_read_only = on, pg_settings source: $DB_READ_ONLY); if this is the intended target, $fix (the dump was not downloaded)"
}

# Tables and sequences of the database that the connected role cannot SELECT (pg_dump would stop at them
# with "LOCK TABLE ... IN ACCESS SHARE MODE"), as "table schema.name" lines.
UNREADABLE_RELATIONS_SQL="SELECT CASE c.relkind WHEN 'S' THEN 'sequence ' ELSE 'table ' END || n.nspname || '.' || c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND NOT has_table_privilege(c.oid, 'SELECT')
ORDER BY 1"

# The schema of every table of the database (the dumped schema): one JSON array of
# [schema.table, column, type, not null], sorted. jsonb keeps it on one line (psql coprocess protocol).
SCHEMA_JSON_SQL="SELECT coalesce(jsonb_agg(jsonb_build_array(n.nspname || '.' || c.relname, a.attname,
    format_type(a.atttypid, a.atttypmod), a.attnotnull) ORDER BY n.nspname, c.relname, a.attname), '[]')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'"

# schema_lines < SCHEMA_JSON: "table<TAB>column<TAB>type<TAB>not_null" lines; their sha256 is the schema hash.
schema_lines() { jq -r '.[] | map(tostring) | @tsv' | LC_ALL=C sort; }
schema_hash() { schema_lines | sha256sum | cut -d' ' -f1; }

# Spring Authorization Server's JDBC schema, from its published DDL (oauth2-authorization-schema.sql,
# oauth2-registered-client-schema.sql, oauth2-authorization-consent-schema.sql):
#   0.2.x-0.3.x  the columns of server_core_columns;
#   0.4.0        + oauth2_authorization.authorized_scopes;
#   1.1.0        + oauth2_registered_client.post_logout_redirect_uris, oauth2_authorization.user_code_* and
#                  device_code_* (unchanged since, through 1.5 and 2.0).
# server_core_columns TABLE: the columns every release has (a restore without one of them is broken).
server_core_columns() {
    case "$1" in
    oauth2_registered_client)
        echo "id client_id client_id_issued_at client_secret client_secret_expires_at client_name client_authentication_methods authorization_grant_types redirect_uris scopes client_settings token_settings" ;;
    oauth2_authorization)
        echo "id registered_client_id principal_name authorization_grant_type attributes state authorization_code_value authorization_code_issued_at authorization_code_expires_at authorization_code_metadata access_token_value access_token_issued_at access_token_expires_at access_token_metadata access_token_type access_token_scopes oidc_id_token_value oidc_id_token_issued_at oidc_id_token_expires_at oidc_id_token_metadata refresh_token_value refresh_token_issued_at refresh_token_expires_at refresh_token_metadata" ;;
    oauth2_authorization_consent)
        echo "registered_client_id principal_name authorities" ;;
    esac
}

# server_later_columns TABLE: "column:release" for the columns added after 0.2, in release order.
server_later_columns() {
    case "$1" in
    oauth2_registered_client) echo "post_logout_redirect_uris:1.1" ;;
    oauth2_authorization)
        echo "authorized_scopes:0.4 user_code_value:1.1 user_code_issued_at:1.1 user_code_expires_at:1.1 user_code_metadata:1.1 device_code_value:1.1 device_code_issued_at:1.1 device_code_expires_at:1.1 device_code_metadata:1.1" ;;
    esac
}

# server_lookup_columns TABLE: the columns the server looks rows up by (its WHERE clauses: findById,
# findByClientId; findByToken for each token type; the consent's primary key).
server_lookup_columns() {
    case "$1" in
    oauth2_registered_client) echo "id client_id" ;;
    oauth2_authorization) echo "id state authorization_code_value access_token_value oidc_id_token_value refresh_token_value user_code_value device_code_value" ;;
    oauth2_authorization_consent) echo "registered_client_id,principal_name" ;;
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
# A manifest is the JSON written by db-backup.sh (v2) or by its version before schema and key versions (v1,
# the same scalar fields without "passphrase", "compression" and "schema_definition"). Read with jq.

BACKUP_PREFIX="${BACKUP_PREFIX:-database/}"
[[ "$BACKUP_PREFIX" == */ ]] || BACKUP_PREFIX="$BACKUP_PREFIX/"

# manifest_load FILE: reads the scalars of the manifest FILE (all but row_counts and the schema's columns) with
# one jq, for manifest_get; fails when FILE is not a JSON object. A restore or a verification reads a dozen
# fields of its manifest, and each jq process costs about 35 ms of CPU. Call it in the script's own shell:
# manifest_get runs in command substitutions, whose subshells cannot fill a cache for the calls after them.
# The same jq also prints what manifest_row_counts, manifest_schema_lines and manifest_schema_size print
# (their jq programs, one output per line as jq -r writes it), for them to answer from instead of a jq each; a
# manifest whose row_counts or schema those programs fail on (or print a NUL byte for) has no such reading,
# and they run their own jq as before (same output, same error).
declare -gA MANIFEST_FIELDS=() MANIFEST_TEXTS=() MANIFEST_LISTS=() MANIFEST_KINDS=()
manifest_load() {
    local listing fields lists text="" i key
    # -n and input: an empty file is an error, not zero outputs.
    listing=$(jq -nr 'input | if type != "object" then error("not a JSON object") else . end
        | [(try ([.row_counts // {} | to_entries[] | "\(.key) \(.value)" + "\n"] | add // "") catch null),
           (try ([.schema_definition.tables // {} | to_entries[] | .key as $t | .value[]
                  | [$t, .column, .type, (.not_null | tostring)] | @tsv + "\n"] | add // "") catch null),
           (try "\([.schema_definition.tables[] | length] | add // 0) columns in \(.schema_definition.tables | length) tables"
            catch null)] as $lists
        | . as $doc
        | del(.row_counts, .schema_definition.tables)
        | ($lists | map(if type == "string" and (explode | all(. != 0)) then "+" + . else "-" end))
          + [paths(scalars) as $p | getpath($p) as $v
           | select($v != null and $v != false and all($p[]; type == "string" and test("^[A-Za-z_][A-Za-z0-9_]*$")))
           | ($p | "." + join(".")), ($v | tostring)]
          + [$doc | paths(type == "object" or type == "array" or . == null or . == false) as $p
           | select(all($p[]; type == "string" and test("^[A-Za-z_][A-Za-z0-9_]*$")))
           | ($p | "?." + join(".")),
             (if $p == ["row_counts"] or $p == ["schema_definition", "tables"] then "held"
              else $doc | getpath($p) | if . == null then "null" elif . == false then "false" else type end end)] | @sh' "$1" 2>/dev/null) || return 1
    # @sh quotes every key and value, so the eval only ever assigns words. The first three: "+TEXT" for the row
    # counts, the schema lines and the schema's size, "-" when they are left to their own jq; then the fields'
    # paths and values; then "?PATH" and the kind of every other value at such a path (object, array, null,
    # false; "held" for the lists above, whose values are not among the fields), for manifest_get to answer a
    # path the fields lack without a jq.
    eval "fields=($listing)"
    lists=("${fields[@]:0:3}")
    fields=("${fields[@]:3}")
    # This file's earlier reading, in each cache (a for loop over a nameref names each array in turn).
    local -n cache
    for cache in MANIFEST_FIELDS MANIFEST_LISTS MANIFEST_KINDS; do
        for key in "${!cache[@]}"; do
            [[ "$key" != "$1"$'\x1f'* ]] || unset 'cache[$key]'
        done
    done
    for ((i = 0; i < ${#fields[@]}; i += 2)); do
        if [[ "${fields[i]}" == "?"* ]]; then
            MANIFEST_KINDS["$1"$'\x1f'"${fields[i]#"?"}"]=${fields[i + 1]}
        else
            MANIFEST_FIELDS["$1"$'\x1f'"${fields[i]}"]=${fields[i + 1]}
        fi
    done
    [[ "${lists[0]}" != +* ]] || MANIFEST_LISTS["$1"$'\x1f'row_counts]=${lists[0]#+}
    [[ "${lists[1]}" != +* ]] || MANIFEST_LISTS["$1"$'\x1f'schema_lines]=${lists[1]#+}
    [[ "${lists[2]}" != +* ]] || MANIFEST_LISTS["$1"$'\x1f'schema_size]=${lists[2]#+}
    IFS= read -r -d '' text <"$1" || true
    MANIFEST_TEXTS["$1"]=$text
}

# manifest_is_loaded FILE: manifest_load read FILE, and FILE has not changed since.
manifest_is_loaded() {
    local text=""
    [[ -n "${MANIFEST_TEXTS["$1"]+set}" ]] || return 1
    IFS= read -r -d '' text <"$1" || true
    [[ "$text" == "${MANIFEST_TEXTS["$1"]}" ]]
}

# manifest_get FILE KEY: a scalar at a jq path (".passphrase.version_id") or a top-level key; "" when absent
# (null and false count as absent, as jq's //). From manifest_load's reading when FILE is loaded and has the
# scalar, or when the path is absent there (nothing printed, as jq's `empty`: a missing key, or a null or false on
# the way, through objects only: a symmetric dump's .passphrase.version_id, a v1 manifest's fields); by jq
# otherwise (an object or array at the path, a path through a scalar or an array: jq's own output or error).
manifest_get() {
    local path=$2 key prefix="" part kind
    local -a parts
    [[ "$path" == .* ]] || path=".$path"
    key="$1"$'\x1f'"$path"
    if [[ -n "${MANIFEST_FIELDS["$key"]+set}" ]] && manifest_is_loaded "$1"; then
        printf '%s\n' "${MANIFEST_FIELDS["$key"]}"
        return 0
    fi
    if [[ "$path" =~ ^(\.[A-Za-z_][A-Za-z0-9_]*)+$ && -n "${MANIFEST_TEXTS["$1"]+set}" ]] && manifest_is_loaded "$1"; then
        IFS=. read -ra parts <<<"${path#.}"
        for part in "${parts[@]}"; do
            prefix+=".$part"
            key="$1"$'\x1f'"$prefix"
            # A scalar on the way (jq: "Cannot index string"): jq says it.
            [[ -z "${MANIFEST_FIELDS["$key"]+set}" ]] || break
            kind=${MANIFEST_KINDS["$key"]-absent}
            case "$kind" in
            absent | null) return 0 ;;
            false) [[ "$prefix" != "$path" ]] || return 0; break ;;
            object) [[ "$prefix" != "$path" ]] || break ;;
            *) break ;;
            esac
        done
    fi
    jq -r "$path // empty | tostring" "$1"
}

# manifest_row_counts FILE: "table count" lines (from manifest_load's reading when FILE is loaded).
manifest_row_counts() {
    if [[ -n "${MANIFEST_LISTS["$1"$'\x1f'row_counts]+set}" ]] && manifest_is_loaded "$1"; then
        printf '%s' "${MANIFEST_LISTS["$1"$'\x1f'row_counts]}"
        return 0
    fi
    jq -r '.row_counts // {} | to_entries[] | "\(.key) \(.value)"' "$1"
}

# manifest_keys [DATABASE]: the manifests of DATABASE (default: every database) under BACKUP_PREFIX, oldest
# first (keys sort by their UTC timestamp). Fails with EX_STORAGE when the bucket cannot be listed.
manifest_keys() {
    local keys
    keys=$(s3_keys "${BACKUP_PREFIX}manifests/") || return "$EX_STORAGE"
    printf '%s\n' "$keys" | grep -E "$(manifest_key_regex "${1:-}")\$" || true
}

# manifests_hint DB OTHER: what the prefix holds, for an error that found no manifest of DB (a typo in the key, a
# PGDATABASE that is not the backed-up database): "nothing to restore" would be a wrong verdict there. OTHER: the
# advice when only other databases have manifests, a printf format given the first of them (restore.sh:
# "... pass --source-database %s").
manifests_hint() {
    local all summary
    all=$(manifest_keys 2>/dev/null | sed '/^$/d') || return 0
    if [[ -z "$all" ]]; then
        printf 's3://%s/%smanifests/ holds no manifest of any database (BUCKET, BACKUP_PREFIX?)' "$BUCKET" "$BACKUP_PREFIX"
        return 0
    fi
    summary=$(printf '%s\n' "$all" | awk -v db="$1" '{ name = $0; sub(/^.*\//, "", name); sub(/-[0-9]+T[0-9]+Z-[0-9a-f]+\.json$/, "", name)
        n[name]++; newest[name] = $0 } END { for (d in n) printf "%s%s\t%d\t%s\n", (d == db ? "0" : "1"), d, n[d], newest[d] }' | LC_ALL=C sort)
    if [[ "$summary" == 0* ]]; then
        printf '%s' "$summary" | awk -F'\t' 'NR == 1 { printf "the newest manifest of %s is %s (%d in all)", substr($1, 2), $3, $2 }'
    else
        printf '%s' "$summary" | awk -F'\t' -v other="$2" '{ dbs = dbs (NR > 1 ? ", " : "") substr($1, 2) " (" $2 ", newest " $3 ")"; if (NR == 1) first = substr($1, 2) }
            END { printf "the manifests there are of %s: ", dbs; printf other, first }'
    fi
}

# refuse_missing_bucket: after an S3 read of a manifest answered 404 (a HEAD has no body: S3's NoSuchKey and
# NoSuchBucket look the same), a bucket that is not there is said as such, a storage error naming it and where
# its name comes from (was, in restore.sh, "no manifest ... (no such key): " with an empty hint, exit 7: a BUCKET
# typo looked like a key typo). Also appended to a listing's NoSuchBucket.
BUCKET_HINT="a typo in BUCKET? the stack's bucket is oauth2-backups-<stack>, and npm run recovery-points prints each restore command with it"
refuse_missing_bucket() {
    if ! manifest_keys >/dev/null 2>"$WORK_DIR/bucket.err" && grep -q 'NoSuchBucket' "$WORK_DIR/bucket.err"; then
        die "$EX_STORAGE" "no bucket s3://$BUCKET (${AWS_REGION:-AWS_REGION unset}: $(one_line_error "$WORK_DIR/bucket.err")): $BUCKET_HINT"
    fi
}

# manifest_key_regex [DATABASE]: an ERE for the start of a line holding a manifest key of DATABASE (of any
# database when empty) under BACKUP_PREFIX, up to its ".json": the caller says what may follow it.
manifest_key_regex() {
    local name='[^/]*-' prefix
    if [[ -n "${1:-}" ]]; then
        ere_escape "$1-"
        name=$REPLY
    fi
    ere_escape "${BACKUP_PREFIX}manifests/"
    prefix=$REPLY
    printf '^%s%s%s' "$prefix" "$name" '[0-9]{8}T[0-9]{6}Z-[0-9a-f]+\.json'
}

# ere_escape TEXT: sets REPLY to TEXT with each character an ERE gives a meaning (][\.*^$+?(){}|) escaped by a
# backslash, as `sed 's/[][\.*^$+?(){}|]/\\&/g'` did, without its two processes (twice per manifest listing).
ere_escape() {
    local text=$1 i c
    REPLY=""
    for ((i = 0; i < ${#text}; i++)); do
        c=${text:i:1}
        case "$c" in
        [][\\.*^\$+?\(\){}\|]) REPLY+="\\$c" ;;
        *) REPLY+=$c ;;
        esac
    done
}

# last_line TEXT: TEXT's last line that is not empty, with its newline (nothing when it has none), as
# `printf '%s\n' TEXT | sed '/^$/d' | tail -n 1` printed it, without their processes.
last_line() {
    local text=$1
    while [[ "$text" == *$'\n' ]]; do text=${text%$'\n'}; done
    text=${text##*$'\n'}
    [[ -z "$text" ]] || printf '%s\n' "$text"
}

# latest_manifest_key [DATABASE]: the newest manifest, or "" when there is none; EX_STORAGE on listing errors.
latest_manifest_key() {
    local keys
    keys=$(manifest_keys "${1:-}") || return "$EX_STORAGE"
    last_line "$keys"
}

# latest_manifest_by_name DATABASE: sets MANIFEST_LATEST to the newest manifest of DATABASE (by the time in its name,
# as latest_manifest_key; "" when there is none) and MANIFEST_ORDER_NOTE to "" or, when S3 stored another manifest of
# DATABASE at least a second after that one (LastModified: S3's clock) although its name's time (the backup host's
# clock) is earlier, "KEY<TAB>HOW LONG AFTER" (the one S3 stored last). The names decide (a manifest written again
# later keeps its backup's time), but a backup host whose clock ran behind or ahead by more than the time between
# two backups made an older dump "the newest" without a word: the caller says it. One listing, with S3's times;
# EX_STORAGE on listing errors (the AWS message on stderr).
latest_manifest_by_name() {
    local listing picked
    MANIFEST_LATEST="" MANIFEST_ORDER_NOTE=""
    listing=$(aws_call GET /s3/keys - "bucket=$BUCKET" "prefix=${BACKUP_PREFIX}manifests/" modified=1) || return "$EX_STORAGE"
    # The helper's lines are sorted by key (Python's code point order, LC_ALL=C's for these names): the last is the newest.
    # awk's last line is "end": a grep that matched nothing fails the pipeline (pipefail), an awk that failed does not
    # print it (never read as "no manifest", exit 7).
    picked=$(printf '%s\n' "$listing" | grep -E "$(manifest_key_regex "$1")"$'\t' | awk -F'\t' '
        { key[NR] = $1; at[NR] = $2 }
        END {
            late = 0
            for (i = 1; i < NR; i++) if (at[i] - at[NR] >= 1 && (!late || at[i] > at[late])) late = i
            if (NR) print key[NR]
            d = int(at[late] - at[NR])
            # (A ">" among print arguments would be a redirection.)
            how = (d >= 3600) ? int(d / 3600) " h " int(d % 3600 / 60) " min" : (d >= 60) ? int(d / 60) " min" : d " s"
            if (late) printf "%s\t%s\n", key[late], how
            print "end"
        }') || true
    [[ "$picked" == end || "$picked" == *$'\n'end ]] || { echo "cannot read the listing of $(s3_uri "${BACKUP_PREFIX}manifests/") (awk failed)" >&2; return "$EX_FAILURE"; }
    picked=${picked%end}
    MANIFEST_LATEST=${picked%%$'\n'*}
    picked=${picked#*$'\n'}
    MANIFEST_ORDER_NOTE=${picked%$'\n'}
}

# hidden_manifests [DATABASE]: the manifests of DATABASE (default: every database) under BACKUP_PREFIX that a
# delete marker hides (a DELETE without a version id on the versioned bucket: the version stays, and stays
# locked, but ListObjectsV2 and so manifest_keys no longer see the key), oldest first, as aws-helper.py's
# /s3/hidden lines: KEY VERSION_ID WRITTEN MARKER_VERSION_ID MARKER_TIME, tab-separated. EX_STORAGE when the
# versions cannot be listed (s3:ListBucketVersions), the AWS message on stderr.
hidden_manifests() {
    local out
    if [[ "$HIDDEN_JOB_DONE" == 1 ]]; then
        # The answer of hidden_manifests_start's job (hidden_manifests_join waited for it).
        file_is "$WORK_DIR/hidden.rc" 0 || { cat "$WORK_DIR/hidden.job.err" >&2 2>/dev/null; return "$EX_STORAGE"; }
        out=$(<"$WORK_DIR/hidden.out")
    else
        out=$(aws_call GET /s3/hidden - "bucket=$BUCKET" "prefix=${BACKUP_PREFIX}manifests/") || return "$EX_STORAGE"
    fi
    printf '%s\n' "$out" | grep -E "$(manifest_key_regex "${1:-}")"$'\t' | LC_ALL=C sort || true
}

# hidden_manifests_start: hidden_manifests' ListObjectVersions, in the background from now on, so that it runs while
# the passphrase's S2K runs and the database is connected to (moto walks, and copies, every version in the bucket:
# 0.3-1.0 s with 200 MB dumps, holding its one process, so the scripts start it after their other S3 reads, not
# before them; real S3 answers in milliseconds). Nothing may depend on its verdict before hidden_manifests_join, in
# the main shell, has waited for it (the helper must still run until then); die asks for the verdict first once the
# script has set HIDDEN_ON_DIE. A job of the run: the cleanup kills it.
HIDDEN_JOB_PID="" HIDDEN_JOB_DONE=0
hidden_manifests_start() {
    rm -f "$WORK_DIR/hidden.out" "$WORK_DIR/hidden.rc"
    {
        set +e
        aws_call GET /s3/hidden - "bucket=$BUCKET" "prefix=${BACKUP_PREFIX}manifests/" >"$WORK_DIR/hidden.out" 2>"$WORK_DIR/hidden.job.err"
        echo $? >"$WORK_DIR/hidden.rc"
    } &
    HIDDEN_JOB_PID=$!
    restore_note_job "$HIDDEN_JOB_PID"
}

# hidden_manifests_join: waits for hidden_manifests_start's job (nothing when none runs); hidden_manifests then reads
# its answer. In the main shell only (a $(...) cannot wait for its parent's job).
hidden_manifests_join() {
    [[ -n "$HIDDEN_JOB_PID" ]] || return 0
    wait "$HIDDEN_JOB_PID" 2>/dev/null || true
    HIDDEN_JOB_PID="" HIDDEN_JOB_DONE=1
}

# hidden_newest_manifest LISTED_NEWEST [DATABASE]: the hidden_manifests line of the newest manifest of DATABASE when a
# delete marker hides it and it is newer than LISTED_NEWEST (the newest that the listing shows; "" for none);
# nothing otherwise. EX_STORAGE as hidden_manifests.
hidden_newest_manifest() {
    local lines
    lines=$(hidden_manifests "${2:-}") || return "$EX_STORAGE"
    printf '%s\n' "$lines" | sed '/^$/d' | awk -F '\t' -v listed="$1" '$1 > listed' | tail -n 1
}

# hidden_manifest_words LINE LISTED_NEWEST DATABASE [CHOICE]: what an operator reads about a newest manifest that a
# delete marker hides (LINE from hidden_newest_manifest): its key, version and write time, the marker's version
# and time, and how to bring it back; LISTED_NEWEST is the older manifest the listing would have given instead,
# and CHOICE how the script is told to take it (default "--manifest ", restore.sh's option; the verification's
# "VERIFY_MANIFEST_KEY=").
hidden_manifest_words() {
    local key version written marker marked older choice=${4:---manifest }
    IFS=$'\t' read -r key version written marker marked <<<"$1"
    older="The newest manifest still listed is ${2:-none}"
    [[ -z "$2" ]] || older="$older: it is older, and is not taken instead of the newest without your word (${choice}$2 takes it knowingly)"
    printf 'the newest manifest of %s, %s (version %s, written %s), is hidden by a delete marker (version %s, placed %s): someone deleted the key without a version id; the manifest version and its dump are kept (Object Lock). %s. To make that manifest current again: aws s3api copy-object --bucket %s --key %s --copy-source "%s/%s?versionId=%s" (needs s3:GetObjectVersion and s3:PutObject; the manifest pins its dump version, so a hidden dump restores too), then run again; find who placed the marker in CloudTrail (DeleteObject on %s around %s)' \
        "$3" "$(s3_uri "$key")" "$version" "$written" "$marker" "$marked" "$older" "$BUCKET" "$key" "$BUCKET" "$key" "$version" "$key" "$marked"
}

# hidden_newest_manifest_says DATABASE LISTED_NEWEST [CHOICE]: hidden_manifest_words when a delete marker hides a manifest of
# DATABASE newer than LISTED_NEWEST, nothing otherwise; a warning (log), and nothing, when the bucket's versions
# cannot be listed (s3:ListBucketVersions): the check gives no verdict then, and says so.
hidden_newest_manifest_says() {
    local line
    if ! line=$(hidden_newest_manifest "$2" "$1" 2>"$WORK_DIR/hidden.err"); then
        log "WARNING: cannot list the versions under s3://$BUCKET/${BACKUP_PREFIX}manifests/ to check for a newer manifest hidden by a delete marker (s3:ListBucketVersions): $(one_line_error "$WORK_DIR/hidden.err")"
        return 0
    fi
    [[ -z "$line" ]] || hidden_manifest_words "$line" "$2" "$1" "${3:-}"
}

# refuse_hidden_newest_manifest DATABASE LISTED_NEWEST: dies (EX_NO_BACKUP) when a delete marker hides the newest
# manifest of DATABASE (hidden_newest_manifest_says), so that "the newest manifest" is never silently an older one.
refuse_hidden_newest_manifest() {
    local words
    hidden_manifests_join
    words=$(hidden_newest_manifest_says "$1" "$2")
    [[ -z "$words" ]] || die "$EX_NO_BACKUP" "$words"
}

# previous_manifest_key KEY [DATABASE]: the manifest before KEY, or "".
previous_manifest_key() {
    local keys
    keys=$(manifest_keys "${2:-}") || return "$EX_STORAGE"
    printf '%s\n' "$keys" | sed '/^$/d' | awk -v k="$1" '$0 < k' | tail -n 1
}

# --- the dump stream ------------------------------------------------------------------------------------

# decompress_dump COMPRESSION: the filter between gpg and pg_restore. "zstd": pg_dump -Z0 | zstd (v2);
# "none" or "": pg_dump's own compression inside the custom archive (v1 dumps).
decompress_dump() {
    case "$1" in
    zstd) zstd -d -q -c ;;
    none | "") cat ;;
    *) echo "unknown compression $1" >&2; return 2 ;;
    esac
}

# passphrase_for_manifest FILE: loads the passphrase that encrypted the dump of a manifest: PASSPHRASE_FILE
# when set (the operator's choice), else the secret version the manifest records, else (v1 manifests) the
# current version of BACKUP_PASSPHRASE_SECRET_ID.
passphrase_for_manifest() {
    local arn version configured=${BACKUP_PASSPHRASE_SECRET_ID:-}
    arn=$(manifest_get "$1" .passphrase.secret_arn)
    version=$(manifest_get "$1" .passphrase.version_id)
    if [[ -n "${PASSPHRASE_FILE:-}" || -z "$version" ]]; then
        load_passphrase
        return
    fi
    # The secret of the manifest, or its replica in this region (same name, same VersionIds) when configured.
    local id=$arn
    if [[ -n "$configured" ]]; then
        [[ "$(secret_name_of "$configured")" == "$(secret_name_of "$arn")" ]] \
            || die "$EX_CRYPTO" "the dump was encrypted with the secret $arn (version $version), not with BACKUP_PASSPHRASE_SECRET_ID $configured"
        id=$configured
    fi
    load_passphrase "$id" "$version"
}

# probe_object KEY [FILE]: reads the first 64 KiB of a stored dump (one ranged GET) into FILE (default
# $WORK_DIR/probe.gpg) and prints the object's full size (from Content-Range); fails with the AWS message on stderr.
probe_object() {
    aws_call GET /s3/get "${2:-$WORK_DIR/probe.gpg}" "bucket=$BUCKET" "key=$1" "range=bytes=0-65535" || return "$EX_STORAGE"
    printf '%s' "$AWS_CALL_OBJECT_SIZE"
}

# probe_passphrase KEY WHAT: decrypts the probe of probe_object to find a wrong passphrase before the
# download: gpg checks the session key on the first bytes ("Bad session key").
probe_passphrase() {
    restore_probe_start "$WORK_DIR/probe.gpg"
    probe_passphrase_finish "$@"
}

# probe_passphrase_finish KEY WHAT: probe_passphrase's verdict on a probe started earlier with
# restore_probe_start "$WORK_DIR/probe.gpg" (its S2K runs while the caller goes on with other checks).
probe_passphrase_finish() {
    local probe="$WORK_DIR/probe.gpg" err="$WORK_DIR/probe.err"
    # restore_probe_finish keeps the dump's session key: the pass's gpg then skips the passphrase's S2K.
    if ! restore_probe_finish && grep -Eqi 'bad session key|bad passphrase|no secret key|decryption failed' "$err"; then
        local cause hint
        cause=$(grep -Eim1 'bad session key|bad passphrase|no secret key|decryption failed' "$err" | sed 's/^gpg: //')
        hint=$(passphrase_crlf_hint "$probe")
        rm -f "$probe"
        die "$EX_CRYPTO" "the passphrase ($2) does not decrypt $(s3_uri "$1"): ${cause}${hint}"
    fi
    rm -f "$probe"
}

# passphrase_file_blanks: the blanks that end a passphrase read from PASSPHRASE_FILE (spaces, tabs, the \r of CRLF
# line ends), which an editor does not show and `read -r` keeps as part of the passphrase; "" when none, or when
# the passphrase is not from a file.
passphrase_file_blanks() {
    [[ "${PASSPHRASE_SOURCE:-}" == file ]] || return 0
    local kept=$BACKUP_PASSPHRASE
    while [[ "$kept" == *[$' \t\r'] ]]; do kept=${kept%?}; done
    printf '%s' "${BACKUP_PASSPHRASE:${#kept}}"
}

# blanks_words BLANKS: what they are, for messages: "a trailing space", "2 trailing spaces", "a trailing tab",
# "3 trailing blanks (spaces, tabs or a carriage return)"; never the passphrase itself.
blanks_words() {
    local n=${#1} only
    only=$(printf '%s' "$1" | tr -d ' ')
    if [[ -z "$only" ]]; then
        [[ $n -eq 1 ]] && printf 'a trailing space' || printf '%d trailing spaces' "$n"
    elif [[ "$1" == $'\t' ]]; then
        printf 'a trailing tab'
    else
        printf '%d trailing blanks (spaces, tabs or a carriage return)' "$n"
    fi
}

# blanks_fix: the command that removes the blanks at the end of PASSPHRASE_FILE's first line.
blanks_fix() {
    printf "sed -i '1s/[[:space:]]*\$//' %s" "${PASSPHRASE_FILE:-}"
}

# passphrase_crlf_hint PROBE: for a passphrase from a file whose line ends with \r (CRLF) or other blanks that
# did not decrypt PROBE: whether the passphrase without them does, as a clause for the error message ("" otherwise).
passphrase_crlf_hint() {
    local blanks file=${PASSPHRASE_FILE:-} outcome
    blanks=$(passphrase_file_blanks)
    [[ -n "$blanks" ]] || return 0
    if [[ "$blanks" == $'\r' ]]; then
        if BACKUP_PASSPHRASE=${BACKUP_PASSPHRASE%$'\r'} gpg_decrypt <"$1" >/dev/null 2>&1; then
            outcome="without the \\r it does decrypt this dump: convert the file (sed -i 's/\\r\$//' $file) and run again"
        else
            outcome="without the \\r it does not decrypt either"
        fi
        printf '; PASSPHRASE_FILE %s ends its line with a carriage return (CRLF line ends), read as part of the passphrase; %s' "$file" "$outcome"
        return 0
    fi
    if BACKUP_PASSPHRASE=${BACKUP_PASSPHRASE:0:${#BACKUP_PASSPHRASE}-${#blanks}} gpg_decrypt <"$1" >/dev/null 2>&1; then
        outcome="without them it does decrypt this dump: remove them ($(blanks_fix)) and run again"
    else
        outcome="without them it does not decrypt either"
    fi
    printf '; PASSPHRASE_FILE %s ends its line with %s, read as part of the passphrase; %s' "$file" "$(blanks_words "$blanks")" "$outcome"
}

# passphrase_origin: for messages, where the loaded passphrase came from (never the passphrase itself).
passphrase_origin() {
    [[ "$ENCRYPTION_MODE" != public-key ]] || { private_keys_origin; return; }
    if [[ "$PASSPHRASE_SOURCE" == secretsmanager ]]; then
        printf 'secret %s version %s' "$PASSPHRASE_SECRET_ARN" "$PASSPHRASE_VERSION_ID"
    else
        printf 'PASSPHRASE_FILE %s' "${PASSPHRASE_FILE:-}"
        local blanks
        blanks=$(passphrase_file_blanks)
        if [[ "$blanks" == $'\r' ]]; then
            printf ' (its line ends with a carriage return, CRLF: read as part of the passphrase)'
        elif [[ -n "$blanks" ]]; then
            printf ' (its line ends with %s: read as part of the passphrase)' "$(blanks_words "$blanks")"
        fi
    fi
}

# release_fifo FIFO: a GET that failed before opening the fifo leaves its reader blocked in open(): an O_RDWR
# open never blocks, and closing it gives the reader its end of file.
release_fifo() {
    local release
    exec {release}<>"$1"
    exec {release}>&-
}

# credentials_check_after_refusal: after S3 refused a presigned GET with 400 or 403 (curl --fail sees the status,
# not S3's error code), asks the helper whether the run's credentials are the cause (STS GetCallerIdentity): keys
# that expired since the run started (static ones; refreshable ones, web identity, SSO, assumed roles, are renewed
# by botocore before each presign). The helper records such a fault, and the caller's die then exits 2 naming
# the credentials' source and expiry, not 4 (storage). restore.sh stops its helper before the download: a helper
# of its own answers then (in this subshell), stopped after.
credentials_check_after_refusal() {
    local own=""
    if ! aws_helper_ready 2>/dev/null; then
        start_aws_helper "$WORK_DIR/aws-check.sock"
        own=1
    fi
    aws_call GET /credentials/check /dev/null >/dev/null 2>&1 || true
    [[ -z "$own" ]] || stop_aws_helper
}

# progress_every: WAIT_PROGRESS_SECONDS, how often a long wait says that it still waits (default 60; a value that is
# not a whole number of seconds above 0 is 60 too): wait_with_progress, db_watch_tick and wal-archive.sh's waits.
progress_every() { local every; progress_every_in every; printf '%s' "$every"; }
# progress_every_in VAR: sets VAR to progress_every's value, without the subshell of $(progress_every) (a process start).
progress_every_in() { if [[ "${WAIT_PROGRESS_SECONDS:-}" =~ ^[1-9][0-9]*$ ]]; then printf -v "$1" '%s' "$WAIT_PROGRESS_SECONDS"; else printf -v "$1" 60; fi; }

# wait_with_progress WHAT LIMIT COMMAND...: runs COMMAND (its exit status is this function's) after saying
# "waiting for WHAT (at most LIMIT)", and every WAIT_PROGRESS_SECONDS while it runs "still waiting for WHAT
# (N s so far; at most LIMIT)": a wait of minutes (an RDS waiter) is never silent. The lines go to the caller's
# stderr: a redirection of COMMAND's own goes inside COMMAND (a function), not on this call. COMMAND runs as a
# job of the run (a function's variables it sets are not seen here).
wait_with_progress() {
    local what=$1 limit=$2 every ticker rc=0
    shift 2
    every=$(progress_every)
    log "waiting for $what (at most $limit)"
    (
        local waited=0
        # One second at a time, its sleep's output closed: a sleep left when the ticker is killed holds nothing open.
        while sleep 1 >/dev/null 2>&1; do
            waited=$((waited + 1))
            ((waited % every != 0)) || log "still waiting for $what (${waited} s so far; at most $limit)"
        done
    ) &
    ticker=$!
    [[ -z "$WORK_DIR" ]] || restore_note_job "$ticker"
    # COMMAND as a job too, and `wait`ed for: a signal's trap interrupts `wait` at once, where a foreground command
    # held it until the command ended (h39-term: SIGTERM to the script alone, a pod's deadline, during the RDS waiter
    # waited up to its 30 min, and the ticker then outlived the run, saying "still waiting" on its output). Both
    # noted (restore_note_job; in the run's work directory, when there is one): the cleanup's restore_kill_jobs ends them.
    "$@" &
    local waiter=$!
    [[ -z "$WORK_DIR" ]] || restore_note_job "$waiter"
    wait "$waiter" || rc=$?
    kill_own TERM "$ticker"
    wait "$ticker" 2>/dev/null || true
    return "$rc"
}

# A wait on the database's answer (pg_dump's stream, the row counts, restore.sh's swap) that no client timeout ends:
# a frozen or unreachable PostgreSQL (SIGSTOP, a hung host, a stuck proxy) keeps the connection open, its peer's
# TCP still acknowledging, and the statement's answer never comes (until h34-hangs db-backup.sh and restore.sh
# waited as long as the server was frozen, saying nothing). db_watch_start WHAT, then db_watch_tick about once
# a second while waiting: every WAIT_PROGRESS_SECONDS (at most DB_STALL_SECONDS apart) the tick asks the server
# for a new connection's SELECT 1 (PGCONNECT_TIMEOUT, at most 10 s, and 5 s for the answer) and says how long
# WHAT has waited and whether the server answers; once it has not answered for DB_STALL_SECONDS (counted from its
# last answer, or the start), the tick returns 1 and db_watch_error says so, for the caller's exit 3.
db_watch_start() {
    DB_WATCH_WHAT=$1
    DB_WATCH_STARTED=$SECONDS
    DB_WATCH_ANSWERED=$SECONDS
    DB_WATCH_CAUSE=""
    db_watch_next
}
# db_watch_next: the next tick's time, WAIT_PROGRESS_SECONDS from now (at most DB_STALL_SECONDS): set by bash alone (each
# watched wait's start was two subshells, $(db_watch_every) and its $(progress_every): every session_ask of a restore).
db_watch_next() { local every; progress_every_in every; DB_WATCH_NEXT=$((SECONDS + (every < DB_STALL_SECONDS ? every : DB_STALL_SECONDS))); }
# probe_connect_timeout_in VAR: sets VAR to the connect timeout of a connection the scripts make only to look or to
# clean up (the watch's probe, the cleanups' session ends): PGCONNECT_TIMEOUT, at most 10 s; 10 when it is unset, 0
# (libpq's "wait forever") or not a whole number. One source for the watch and the cleanups (until h39 db-backup.sh's
# end_sessions had its own copy without the cap, restore_end_sessions a fixed 10).
probe_connect_timeout_in() {
    if [[ "${PGCONNECT_TIMEOUT:-}" =~ ^[1-9][0-9]*$ ]] && ((PGCONNECT_TIMEOUT <= 10)); then printf -v "$1" '%s' "$PGCONNECT_TIMEOUT"; else printf -v "$1" 10; fi
}
db_watch_tick() {
    ((SECONDS >= DB_WATCH_NEXT)) || return 0
    local connect err
    probe_connect_timeout_in connect
    if err=$(PGCONNECT_TIMEOUT=$connect PGAPPNAME="${PGAPPNAME:-oauth2-dr}-probe" timeout -k 1 $((connect + 5)) psql -X -q -At -c "SELECT 1" 2>&1 >/dev/null); then
        DB_WATCH_ANSWERED=$SECONDS
        log "still waiting for $DB_WATCH_WHAT ($((SECONDS - DB_WATCH_STARTED)) s so far; $(db_address) answers a new connection)"
    else
        DB_WATCH_CAUSE=$(printf '%s' "${err:-a new connection had no answer within $((connect + 5)) s}" | tr -s '\t\n' '  ')
        log "still waiting for $DB_WATCH_WHAT ($((SECONDS - DB_WATCH_STARTED)) s so far); $(db_address) has not answered for $((SECONDS - DB_WATCH_ANSWERED)) s (at most DB_STALL_SECONDS=$DB_STALL_SECONDS): $DB_WATCH_CAUSE"
    fi
    db_watch_next
    ((SECONDS - DB_WATCH_ANSWERED < DB_STALL_SECONDS))
}
# db_watch_ok ENDED...: db_watch_tick, except that a stall the tick finds counts only while the wait goes on. The
# tick's probe of a server that does not answer takes up to PGCONNECT_TIMEOUT (and 5 s for the answer), and the
# awaited answer or job's end may come meanwhile (the server frozen just after it answered). ENDED, a command,
# says whether the wait has ended (jobs_ended PID..., input_ready FD); status 1 only for a stall. Until h38 such a
# wait was called a stall: db-backup.sh exit 3 on a complete dump (CI), and a swap whose COMMIT had been answered
# would have said "nothing committed".
db_watch_ok() { db_watch_tick || "$@"; }
# jobs_ended PID...: whether none of these children of this shell still runs.
jobs_ended() {
    local pid
    for pid in "$@"; do
        ! child_runs "$pid" || return 1
    done
}
# input_ready FD: whether FD has something to read (a line, a part of one, or its end): bash's read -t 0 reads nothing.
input_ready() { read -r -t 0 -u "$1"; }
db_watch_error() {
    printf '%s has not answered for %s s (DB_STALL_SECONDS=%s) while waiting for %s (%s s in all): %s' "$(db_address)" \
        $((SECONDS - DB_WATCH_ANSWERED)) "$DB_STALL_SECONDS" "$DB_WATCH_WHAT" $((SECONDS - DB_WATCH_STARTED)) "$DB_WATCH_CAUSE"
}

# get_into_fifo URL DIR: the dump's GET, curl on a presigned URL (passed on stdin as a config line, never on its
# command line) into DIR/body.fifo, with the stall limits (S3_STALL_SECONDS). DIR/s3.rc gets 0 for a 200 only: a
# redirect (AWS_REGION is not the bucket's region) or an error page must not reach gpg; DIR/s3.err the cause.
# Plain http only for a test endpoint. The fifo is released either way.
get_into_fifo() {
    local url=$1 d=$2 code proto=(--proto "=https")
    [[ -z "${AWS_ENDPOINT_URL:-}" ]] || proto=()
    if code=$(printf 'url = "%s"\n' "$url" | curl -q -sS --fail "${proto[@]}" "${CURL_STALL_ARGS[@]}" --config - --output "$d/body.fifo" -w '%{http_code}' 2>"$d/s3.err"); then
        if [[ "$code" == 200 ]]; then
            echo 0 >"$d/s3.rc"
        else
            echo "HTTP $code from S3 for the dump's GET (is AWS_REGION ${AWS_REGION:-unset} the bucket's region?)" >>"$d/s3.err"
            echo 1 >"$d/s3.rc"
        fi
    else
        if grep -Eq 'returned error: 40[03]' "$d/s3.err"; then
            credentials_check_after_refusal
        fi
        echo 1 >"$d/s3.rc"
    fi
    release_fifo "$d/body.fifo"
}

STREAM_PID="" STREAM_SHA_PID=""
# stream_restore OBJECT_KEY SHA256 COMPRESSION DATABASE [pg_restore options...]: one pass over the stored
# dump: curl on a presigned GET (into a fifo) | tee (sha256) | gpg --decrypt | zstd -d | pg_restore -f - | psql,
# inside BEGIN ... and a
# COMMIT that is sent only when the download, the decryption (gpg's MDC), the decompression and pg_restore
# succeeded and the sha256 of the stored bytes is the manifest's; otherwise ROLLBACK: all or nothing, and
# nothing of a corrupt or forged object is kept. PGHOST/PGPORT select the server. Results in
# $WORK_DIR/stream/: s3.rc gpg.rc decompress.rc restore.rc psql.rc, sha.out, verdict ("verified" or why not),
# and each step's .err.
stream_restore() {
    local key=$1 want_sha=$2 compression=$3 db=$4
    shift 4
    local d="$WORK_DIR/stream"
    rm -rf "$d"
    mkdir "$d"
    mkfifo "$d/sha.fifo" "$d/body.fifo"
    { sha256sum <"$d/sha.fifo" | cut -d' ' -f1 >"$d/sha.tmp"; mv "$d/sha.tmp" "$d/sha.out"; } &
    STREAM_SHA_PID=$!
    (
        set +e
        # One GET written into a fifo: memory stays flat however slow the restore is (`aws s3 cp ... -`
        # buffers up to 256 MB of parts ahead of a slow reader). curl on a URL presigned by the helper costs a
        # fraction of the CPU of the CLI's Python download, CPU the restore's database server needs; the URL
        # reaches curl on stdin (a config line), not on its command line.
        {
            local url
            if url=$(aws_call GET /s3/presign - "bucket=$BUCKET" "key=$key" 2>"$d/s3.err"); then
                get_into_fifo "$url" "$d"
            else
                echo 1 >"$d/s3.rc"
                release_fifo "$d/body.fifo"
            fi
        } &
        tee "$d/sha.fifo" <"$d/body.fifo" |
            { gpg_decrypt 2>"$d/gpg.err"; echo $? >"$d/gpg.rc"; } |
            { decompress_dump "$compression" 2>"$d/decompress.err"; echo $? >"$d/decompress.rc"; } |
            {
                echo "BEGIN;"
                pg_restore --exit-on-error "$@" -f - 2>"$d/restore.err"
                echo $? >"$d/restore.rc"
                # To the end of the stream, so that gpg checks the MDC, also after a failure: the steps before it
                # then end on their own (a consumer that stopped reading left them blocked until the 60 s wait
                # below gave up, and gpg then reported its "Broken pipe" as the failure).
                cat >/dev/null
                commit_if_verified "$d" "$want_sha"
            } |
            psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null 2>"$d/psql.err"
        echo $? >"$d/psql.rc"
        wait
    ) &
    STREAM_PID=$!
    # Watched (db_wait_watched: exit 3 naming the server of PGHOST/PGPORT/PGDATABASE once it has not answered for
    # DB_STALL_SECONDS; until h38 a server frozen during the stream was waited for silently, as long as the freeze).
    local where
    local -x PGDATABASE=$db
    db_address_in where
    db_wait_watched "the dump's download, its verification and its restore in one stream into $where" \
        "nothing committed: the stream's one transaction ends with its connection" "$STREAM_PID"
    wait "$STREAM_PID" || true
    STREAM_PID=""
    wait "$STREAM_SHA_PID" || true
    STREAM_SHA_PID=""
}

# commit_if_verified DIR SHA256: prints COMMIT or ROLLBACK for stream_restore (every upstream step has
# exited and written its exit code before pg_restore saw the end of its input).
commit_if_verified() {
    local d=$1 want=$2 step waited=0 why=""
    # pg_restore failed (also: psql is gone, a broken pipe for pg_restore): ROLLBACK at once. Waiting for the
    # steps upstream would wait for nothing: they are blocked writing into this pipeline until it ends.
    if ! file_is "$d/restore.rc" 0; then
        echo "restore failed" >"$d/verdict"
        echo "ROLLBACK;"
        return 0
    fi
    while [[ (! -f "$d/sha.out" || ! -f "$d/s3.rc") && $waited -lt 600 ]]; do short_pause 0.1; waited=$((waited + 1)); done
    for step in s3 gpg decompress restore; do
        file_is "$d/$step.rc" 0 || { why="$step failed"; break; }
    done
    [[ -n "$why" ]] || file_is "$d/sha.out" "$want" || why="sha256 mismatch"
    if [[ -z "$why" ]]; then
        echo verified >"$d/verdict"
        echo "COMMIT;"
    else
        echo "$why" >"$d/verdict"
        echo "ROLLBACK;"
    fi
}

# stream_rc STEP: an exit code of the last stream_restore ("1" when the step did not report).
stream_rc() { if file_text "$WORK_DIR/stream/$1.rc"; then printf '%s\n' "$REPLY"; else echo 1; fi; }
stream_error() { one_line_error "$WORK_DIR/stream/$1.err"; }

# manifest_schema_lines MANIFEST: the manifest's dumped schema as schema_lines prints a live one (from
# manifest_load's reading when MANIFEST is loaded).
manifest_schema_lines() {
    if [[ -n "${MANIFEST_LISTS["$1"$'\x1f'schema_lines]+set}" ]] && manifest_is_loaded "$1"; then
        printf '%s' "${MANIFEST_LISTS["$1"$'\x1f'schema_lines]}" | LC_ALL=C sort
        return 0
    fi
    jq -r '.schema_definition.tables // {} | to_entries[] | .key as $t | .value[] | [$t, .column, .type, (.not_null | tostring)] | @tsv' "$1" | LC_ALL=C sort
}

# manifest_schema_size MANIFEST: "N columns in M tables" of the manifest's dumped schema (from manifest_load's
# reading when MANIFEST is loaded; jq's error and status when it has no schema_definition.tables).
manifest_schema_size() {
    if [[ -n "${MANIFEST_LISTS["$1"$'\x1f'schema_size]+set}" ]] && manifest_is_loaded "$1"; then
        printf '%s\n' "${MANIFEST_LISTS["$1"$'\x1f'schema_size]}"
        return 0
    fi
    jq -r '"\([.schema_definition.tables[] | length] | add // 0) columns in \(.schema_definition.tables | length) tables"' "$1"
}

# schema_diff MANIFEST RESTORED_SCHEMA_JSON: what the restored schema lacks or adds, on one line
# ("missing table public.x; missing column public.y.z (text); extra column ...").
schema_diff() {
    local want="$WORK_DIR/schema.want" got="$WORK_DIR/schema.got"
    local -x LC_ALL=C
    manifest_schema_lines "$1" >"$want"
    schema_lines <"$2" >"$got"
    {
        # Tables missing entirely are named once, not column by column.
        comm -23 <(cut -f1 "$want" | sort -u) <(cut -f1 "$got" | sort -u) | sed 's/^/missing table /'
        comm -23 "$want" "$got" | awk -F'\t' -v tables="$(comm -23 <(cut -f1 "$want" | sort -u) <(cut -f1 "$got" | sort -u) | tr '\n' ' ')" \
            'index(" " tables, " " $1 " ") == 0 { printf "missing or changed column %s.%s (%s%s)\n", $1, $2, $3, $4 == "true" ? " not null" : "" }'
        comm -13 "$want" "$got" | awk -F'\t' '{ printf "unexpected column %s.%s (%s)\n", $1, $2, $3 }'
    } | head -n 20 | paste -sd';' - | sed 's/;/; /g'
}

# --- restore.sh: one pass that verifies and stages, then a swap in one transaction ------------------------
# restore.sh and restore-verification.sh (which keeps stream_restore above for a dump that cannot be staged)
# read the dump once: the download is
# spooled in its work directory (the encrypted object as stored: no plaintext on disk), hashed, decrypted
# (gpg's integrity check, MDC, at the end of the object) and, at the same time, its rows are loaded by
# parallel COPY sessions into staging schemas of the target database. The staging tables are the run's own
# (oauth2_dr_stage_<run id>_<n>, created from the archive's column names and types only: no default, check
# or other expression of the not yet verified archive is evaluated). The target's own tables are touched only
# by the swap, one transaction that only the script itself commits, and the swap starts only once the sha256
# of every stored byte is the manifest's and gpg's MDC passed; otherwise the staging schemas are dropped
# (see restore.sh's header and scripts/README.md).

RESTORE_APP="oauth2-dr-restore"
RESTORE_SESSION_PID="" RESTORE_WATCHDOG_PID="" RESTORE_JOB_PIDS=()

# scratch_free_bytes DIR: the bytes available to this user in DIR's file system.
scratch_free_bytes() { df -P -B1 "$1" 2>/dev/null | awk 'NR == 2 { print $4 }'; }

# restore_check_file_limit BYTES: dies (EX_USAGE) when the file size limit (ulimit -f, KiB blocks in bash) is
# below BYTES, the dump spooled in TMPDIR. Called before the first byte of the dump is written (the probe):
# the helper writing it died of SIGXFSZ and the run blamed storage ("the AWS helper did not answer /s3/get", 4).
restore_check_file_limit() {
    local limit
    limit=$(ulimit -f)
    if [[ "$limit" =~ ^[0-9]+$ ]] && ((limit * 1024 < $1)); then
        die "$EX_USAGE" "the file size limit (ulimit -f: $limit KiB) is below the dump's $1 bytes, which are spooled in the scratch directory ${TMPDIR:-/tmp}: raise it (ulimit -f unlimited) and run again"
    fi
}

# restore_check_scratch BYTES: dies (EX_USAGE: TMPDIR or the scratch volume is too small) unless the work
# directory's file system has BYTES free, plus 16 MiB for the schema script and gpg's home.
restore_check_scratch() {
    local need=$(($1 + 16777216)) free
    free=$(scratch_free_bytes "$WORK_DIR")
    [[ "$free" =~ ^[0-9]+$ ]] || die "$EX_FAILURE" "cannot read the free space of the scratch directory ${TMPDIR:-/tmp} (df)"
    ((free >= need)) \
        || die "$EX_USAGE" "scratch directory ${TMPDIR:-/tmp} has $free bytes free, needs $need (the dump's $1 bytes are spooled there before the load): free space or point TMPDIR at a larger volume"
}

# restore_presign KEY VERSION_ID: a GET URL of the object (of that version when one is given).
restore_presign() {
    local query=("bucket=$BUCKET" "key=$1")
    [[ -z "$2" ]] || query+=("version_id=$2")
    aws_call GET /s3/presign - "${query[@]}"
}

# restore_spool KEY VERSION_ID: downloads the object into $WORK_DIR/spool/dump.gpg, hashing it (spool/sha.out),
# without decrypting it: for a probe that did not decrypt (a corrupt header or a wrong passphrase: the sha256
# tells them apart). Results: spool/s3.rc and s3.err (curl), spool/tee.rc and tee.err (a full disk).
restore_spool() {
    local key=$1 version=$2 d="$WORK_DIR/spool" url
    rm -rf "$d"
    mkdir "$d"
    mkfifo "$d/body.fifo" "$d/sha.fifo"
    url=$(restore_presign "$key" "$version" 2>"$d/s3.err") || { echo 1 >"$d/s3.rc"; return 0; }
    { sha256sum <"$d/sha.fifo" | cut -d' ' -f1 >"$d/sha.out"; } &
    RESTORE_JOB_PIDS+=($!)
    restore_note_job $!
    {
        set +e
        tee -p "$d/sha.fifo" <"$d/body.fifo" >"$d/dump.gpg" 2>"$d/tee.err"
        echo $? >"$d/tee.rc"
    } &
    RESTORE_JOB_PIDS+=($!)
    restore_note_job $!
    { set +e; get_into_fifo "$url" "$d"; } &
    RESTORE_JOB_PIDS+=($!)
    restore_note_job $!
    wait "${RESTORE_JOB_PIDS[@]}" 2>/dev/null || true
    RESTORE_JOB_PIDS=()
}

# restore_pass_start KEY VERSION_ID JOBS PG_RESTORE_OPTION...: starts the one pass over the object, in the
# background, and returns at once (RESTORE_PASS_URL: the object's GET URL when the caller presigned it
# already; RESTORE_PASS_SPOOL: where the stored bytes go, default spool/dump.gpg, /dev/null for none):
#   curl (body.fifo) | restore-spool spool/dump.gpg (sha256) | gpg --decrypt | tee -p plain.fifo >/dev/null
#   plain.fifo | zstd -d | restore-fanout toc.fifo schema.fifo | pg_restore -a -f - | restore_load_gate JOBS
# and from toc.fifo and schema.fifo the archive's table of contents (spool/toc.list, toc.rc) and its restore
# script without data (pg_restore -s with the options given: spool/schema.sql, schema.rc), both read from the
# start of the archive; restore_pass_toc waits for them. The rows wait in restore_load_gate (the pipes fill
# and the download pauses) until the caller has created the staging tables and called restore_pass_gate.
# gpg's output goes through a tee -p whose own output is /dev/null: whatever happens after it (a load that
# failed, a zstd that stopped on garbage), gpg reads the whole object and checks its MDC, and the sha256 and
# the spool see every byte. Results, once restore_pass_wait returned: spool/s3.rc s3.err (curl), tee.rc
# tee.err (restore-spool: the spool's disk), sha.out, gpg.rc gpg.err, and in $WORK_DIR/load: status
# ("decompress fanout pg_restore load" exit codes), decompress.err, restore.err, and the loader's files (restore-load).
# RESTORE_PASS_KEY_LATER=1: the pass's processes start while the probe still decrypts (its S2K), but nothing
# is downloaded: gpg waits for the session key and the GET is not sent until restore_pass_key, called once
# the probe's verdict is known (a run stopped before, a wrong passphrase, kills them with the other jobs).
RESTORE_PASS_PIDS=() RESTORE_TOC_PIDS=() RESTORE_PASS_KEY_FD="" RESTORE_PASS_GET_URL=""
restore_pass_start() {
    local key=$1 version=$2 jobs=$3 d="$WORK_DIR/spool" l="$WORK_DIR/load" url
    shift 3
    rm -rf "$d" "$l"
    mkdir "$d" "$l"
    mkfifo "$d/body.fifo" "$d/plain.fifo" "$d/toc.fifo" "$d/schema.fifo" "$l/gate.fifo"
    RESTORE_PASS_PIDS=() RESTORE_TOC_PIDS=() RESTORE_PASS_KEY_FD="" RESTORE_PASS_GET_URL=""
    url=${RESTORE_PASS_URL:-}
    [[ -n "$url" ]] || url=$(restore_presign "$key" "$version" 2>"$d/s3.err") || { echo 1 >"$d/s3.rc"; return 1; }
    if [[ "${RESTORE_PASS_KEY_LATER:-0}" == 1 ]]; then
        # The key's way to the gpg stage: a fifo held open read-write (an open that never blocks; the key stays
        # in the pipe, in memory, until the stage reads it).
        mkfifo -m 600 "$d/key.fifo"
        exec {RESTORE_PASS_KEY_FD}<>"$d/key.fifo"
    fi
    { pg_restore -l -f "$d/toc.list" <"$d/toc.fifo" 2>"$d/toc.err"; echo $? >"$d/toc.rc"; } &
    RESTORE_TOC_PIDS+=($!)
    restore_note_job $!
    { pg_restore "$@" -s -f "$d/schema.sql" <"$d/schema.fifo" 2>"$d/schema.err"; echo $? >"$d/schema.rc"; } &
    RESTORE_TOC_PIDS+=($!)
    restore_note_job $!
    {
        set +e
        restore_python restore-spool "${RESTORE_PASS_SPOOL:-$d/dump.gpg}" "$d/sha.out" <"$d/body.fifo" 2>"$d/tee.err" | restore_pass_gpg 2>"$d/gpg.err" | tee -p "$d/plain.fifo" >/dev/null 2>&1
        local piped=("${PIPESTATUS[@]}")
        echo "${piped[0]}" >"$d/tee.rc"
        echo "${piped[1]}" >"$d/gpg.rc"
    } &
    RESTORE_PASS_PIDS+=($!)
    restore_note_job $!
    {
        set +e
        decompress_dump "$RESTORE_COMPRESSION" <"$d/plain.fifo" 2>"$l/decompress.err" | restore_python restore-fanout "$d/toc.fifo" "$d/schema.fifo" 2>/dev/null |
            pg_restore -a -f - 2>"$l/restore.err" | restore_load_gate "$jobs"
        echo "${PIPESTATUS[*]}" >"$l/status"
    } &
    RESTORE_PASS_PIDS+=($!)
    restore_note_job $!
    if [[ -n "$RESTORE_PASS_KEY_FD" ]]; then
        RESTORE_PASS_GET_URL=$url
        return 0
    fi
    restore_pass_get "$url"
}

# restore_pass_get URL: the pass's GET (get_into_fifo), in the background: a trapped SIGTERM interrupts `wait`,
# not a foreground command.
restore_pass_get() {
    { set +e; get_into_fifo "$1" "$WORK_DIR/spool"; } &
    RESTORE_PASS_PIDS+=($!)
    restore_note_job $!
}

# restore_pass_key: for a pass started with RESTORE_PASS_KEY_LATER=1, once the probe's verdict is known
# (restore_probe_finish): gives the gpg stage the session key (none: gpg derives it from the passphrase) and
# sends the GET.
restore_pass_key() {
    [[ -n "$RESTORE_PASS_KEY_FD" ]] || return 0
    printf '%s\n' "$RESTORE_SESSION_KEY" >&"$RESTORE_PASS_KEY_FD"
    exec {RESTORE_PASS_KEY_FD}>&-
    RESTORE_PASS_KEY_FD=""
    restore_pass_get "$RESTORE_PASS_GET_URL"
}

# restore_pass_gpg: the pass's gpg stage (restore_gpg_decrypt); with RESTORE_PASS_KEY_LATER=1 it first waits for
# the session key from restore_pass_key.
restore_pass_gpg() {
    if [[ -n "$RESTORE_PASS_KEY_FD" ]]; then
        IFS= read -r RESTORE_SESSION_KEY <&"$RESTORE_PASS_KEY_FD" || RESTORE_SESSION_KEY=""
        exec {RESTORE_PASS_KEY_FD}<&-
    fi
    restore_gpg_decrypt
}

# restore_pass_toc: waits until the table of contents and the schema script were read (from the first bytes).
restore_pass_toc() {
    wait "${RESTORE_TOC_PIDS[@]}" 2>/dev/null || true
    RESTORE_TOC_PIDS=()
}

# restore_pass_gate load|drain: lets the rows go to the staging tables (load), or to nowhere (drain: the
# dump is restored from the spool in one stream after the pass, or the pass only verifies the object).
restore_pass_gate() {
    # Fails (never an empty gate, read as "drain") when the scratch directory is full.
    printf '%s\n' "$1" >"$WORK_DIR/load/gate.tmp" || return 1
    mv "$WORK_DIR/load/gate.tmp" "$WORK_DIR/load/gate" || return 1
    # Wakes restore_load_gate at once (<> never blocks; a wake-up written while it is not reading is lost, and
    # it then sees the gate at its next look, at most 50 ms later, as it did before without a wake-up).
    [[ ! -p "$WORK_DIR/load/gate.fifo" ]] || { printf 'open\n' 1<>"$WORK_DIR/load/gate.fifo"; } 2>/dev/null || true
}

# restore_pass_wait: waits for the whole pass (download, hash, MDC, load).
restore_pass_wait() {
    wait "${RESTORE_PASS_PIDS[@]}" 2>/dev/null || true
    RESTORE_PASS_PIDS=()
}

# db_wait_watched WHAT LEFT PID...: waits for the background jobs PID... (children of this shell) that wait on the
# database, watched from this shell: the wait is said (db_watch_tick) and, when the server stops answering (frozen:
# the jobs' sessions wait on it without end), the jobs are killed (KILL, with their process groups: their subshells
# may still hold the script's TERM trap) after DB_STALL_SECONDS: exit 3 naming the server (the server of
# PGHOST/PGPORT/PGDATABASE as the caller set them), LEFT in parentheses after it. Looks every 50 ms with bash's own
# pause (short_pause): no process beside the jobs (a watching subshell and its sleep were 5 MB more at the restore's
# peak, 147 -> 152 MB). Returns once none of them runs; their exit statuses are the caller's `wait`.
db_wait_watched() {
    local what=$1 left=$2
    shift 2
    db_wait_bounded "$what" "$@" || die "$EX_DATABASE" "$(db_watch_error) ($left)"
}

# db_wait_bounded WHAT PID...: db_wait_watched's wait without its exit: status 1 once the server has not answered
# for DB_STALL_SECONDS, the jobs killed and reaped (db_watch_error says why), for a caller that must go on (a
# cleanup: restore-verification.sh's DROP of its scratch database) or names what is left in its own words.
db_wait_bounded() {
    local what=$1 pid
    shift
    db_watch_start "$what"
    while :; do
        ! jobs_ended "$@" || return 0
        short_pause 0.05
        db_watch_ok jobs_ended "$@" && continue
        for pid in "$@"; do kill_own KILL "$pid"; done
        wait "$@" 2>/dev/null || true
        return 1
    done
}

# restore_pass_load_what: what a pass that loads into the database (restore.sh's, restore-verification.sh's) is said
# to wait for, as restore_pass_wait_watched's WHAT: the server of PGHOST/PGPORT/PGDATABASE as the caller set them.
restore_pass_load_what() {
    printf '%s' "the dump's download, its verification and the load into the staging schemas of "
    db_address
}

# restore_pass_wait_watched WHAT [LEFT]: restore_pass_wait for a pass that loads into the database, watched
# (db_wait_watched; until h34-hangs a server frozen mid-COPY held the run silently): LEFT defaults to restore.sh's
# "nothing committed: the target's tables were not touched" (restore-verification.sh: its scratch database's).
restore_pass_wait_watched() {
    db_wait_watched "$1" "${2:-"nothing committed: the target's tables were not touched"}" "${RESTORE_PASS_PIDS[@]}"
    restore_pass_wait
}

# restore_psql_watched WHAT LEFT ERR ARGS...: psql_value ARGS (its output discarded, its errors in ERR) as a job of
# the run (restore_note_job) that execs psql (a job running a function would fork once more: a process start),
# watched (db_wait_watched: exit 3 with LEFT once the server of PGHOST/PGPORT/PGDATABASE has not answered for
# DB_STALL_SECONDS); psql's exit status is this function's. The staging tables' creation, which until h37 waited
# silently on a server frozen during it.
restore_psql_watched() {
    local what=$1 left=$2 err=$3 pid
    shift 3
    { exec "${PSQL_VALUE[@]}" "$@" >/dev/null 2>"$err"; } &
    pid=$!
    restore_note_job "$pid"
    db_wait_watched "$what" "$left" "$pid"
    wait "$pid"
}

# restore_load_gate JOBS: the pass's last step. Holds the rows (reads nothing) until restore_pass_gate says
# what to do with them: load them into the staging tables with JOBS sessions (restore-pipe.py restore-load), or
# drain them. A gate never opened (the script killed) holds them until the cleanup or the watchdog kills it.
restore_load_gate() {
    local l="$WORK_DIR/load" verdict=""
    # Looks every 50 ms, or at once when restore_pass_gate's wake-up arrives on gate.fifo (bash's read, no process).
    while [[ ! -e "$l/gate" ]]; do
        if [[ -p "$l/gate.fifo" ]]; then read -r -t 0.05 _ <>"$l/gate.fifo" || true; else sleep 0.05; fi
    done
    read -r verdict <"$l/gate" || true
    if [[ "$verdict" == load ]]; then
        restore_python restore-load "$1" "$l" "$WORK_DIR/spool/stage.map" "$WORK_DIR/spool/setval.sql" "$l/counts"
    else
        cat >/dev/null
    fi
}

# restore_python ARGS: restore-pipe.py's commands (no botocore needed: any python3; -S: without the
# site packages, a smaller process, several of which run at once during the pass).
restore_python() { "${AWS_HELPER_PYTHON:-python3}" -S "$LIB_DIR/restore-pipe.py" "$@"; }

# The dump's session key, once the probe derived it from the passphrase: each later decryption of the same
# object skips the passphrase's S2K (65M iterations of SHA-512, a few tenths of a second of CPU each time).
# In memory only, passed to gpg on a file descriptor; gpg's lines that print it are filtered out.
RESTORE_SESSION_KEY=""

# restore_probe_decrypt FILE: decrypts FILE (the probe) to nothing, keeping the session key; gpg's status.
# gpg's messages (without the lines that print the key) in $WORK_DIR/probe.err.
restore_probe_decrypt() {
    restore_probe_start "$1"
    restore_probe_finish
}

# restore_probe_start FILE: restore_probe_decrypt's gpg, started in the background: the passphrase's S2K
# (gpg-agent: 65M iterations of SHA-512, 0.2-0.4 s) runs while the caller goes on with checks that do not
# need it (the target's connection, the listing); restore_probe_finish waits for it. Its answer (the
# session key among gpg's status lines) comes back through a pipe, in memory, never a file.
RESTORE_PROBE_FD=""
restore_probe_start() {
    local probe=$1
    exec {RESTORE_PROBE_FD}< <(
        rc=0
        gpg --batch --quiet --no-tty --yes --pinentry-mode loopback --no-symkey-cache --passphrase-fd 3 \
            --status-fd 1 --show-session-key --decrypt --output /dev/null <"$probe" 3< <(printf '%s' "$BACKUP_PASSPHRASE") 2>&1 || rc=$?
        printf '\n[PROBE-STATUS] %s\n' "$rc"
    )
}

# restore_probe_finish: waits for restore_probe_start's gpg; its status, as restore_probe_decrypt.
restore_probe_finish() {
    local out rc
    out=$(cat <&"$RESTORE_PROBE_FD")
    exec {RESTORE_PROBE_FD}<&-
    RESTORE_PROBE_FD=""
    rc=$(printf '%s\n' "$out" | awk '$1 == "[PROBE-STATUS]" { rc = $2 } END { print (rc == "" ? 1 : rc) }')
    RESTORE_SESSION_KEY=$(printf '%s\n' "$out" | awk '$1 == "[GNUPG:]" && $2 == "SESSION_KEY" { print $3; exit }')
    printf '%s\n' "$out" | grep -v -i -e '^\[GNUPG:\]' -e 'session key: ' -e 'seskey' -e '^\[PROBE-STATUS\]' -e '^$' >"$WORK_DIR/probe.err" || true
    return "$rc"
}

# restore_gpg_decrypt: gpg_decrypt, with the probe's session key when there is one (gpg 2.2 prints the key it
# was given on stderr: that line is filtered out before stderr, in the same pipeline, so nothing lags).
restore_gpg_decrypt() {
    if [[ -z "$RESTORE_SESSION_KEY" ]]; then
        gpg_decrypt
        return
    fi
    local piped
    {
        gpg --batch --quiet --no-tty --yes --no-symkey-cache --override-session-key-fd 3 --decrypt --output - \
            3< <(printf '%s' "$RESTORE_SESSION_KEY") 2>&1 1>&4 4>&- | grep -v -i -e 'seskey' -e 'session key: ' >&2
        piped=("${PIPESTATUS[@]}")
    } 4>&1
    return "${piped[0]}"
}

# restore_decrypted: the spooled dump, decrypted and decompressed, on stdout (a pg_dump custom archive).
restore_decrypted() {
    restore_gpg_decrypt <"$WORK_DIR/spool/dump.gpg" | decompress_dump "$RESTORE_COMPRESSION"
}

# restore_watchdog_start: a process outside the script's own process group that waits for the script to
# end. When the script ends without its cleanup (kill -9), it kills the load's jobs (restore.jobs), ends the
# run's server sessions (application_name), drops the staging schemas and removes the work directory: a
# restore never goes on, and never leaves a session or a spool, once its script is gone.
restore_watchdog_start() {
    local script_pid=$$ script_start
    proc_start "$$"
    script_start=$PROC_START
    (
        trap '' INT TERM HUP
        exec </dev/null >/dev/null 2>&1
        # The script, not its pid: a pid reused within the half second would keep the watchdog waiting. Its pause
        # starts no process (short_pause: two sleep processes a second of every restore were a tenth of its starts).
        while proc_runs "$script_pid" "$script_start"; do short_pause 0.5; done
        [[ -d "$WORK_DIR" ]] || exit 0
        restore_end_sessions
        rm -rf "$WORK_DIR"
    ) &
    RESTORE_WATCHDOG_PID=$!
}

restore_watchdog_stop() {
    [[ -n "$RESTORE_WATCHDOG_PID" ]] || return 0
    # Its process group (set -m: a job of its own), the sleep it waits in with it: killed alone, the sleep went
    # on for up to 0.5 s holding the descriptors it inherited, the script's output among them (its reader saw
    # the end of the run that much later).
    kill_own KILL "$RESTORE_WATCHDOG_PID"
    wait "$RESTORE_WATCHDOG_PID" 2>/dev/null || true
    RESTORE_WATCHDOG_PID=""
}

# restore_note_job PID: a job (its process group) that restore_end_sessions stops; noted with its start time, so
# that the watchdog (this script gone: the job is no child of its shell) kills it only while it is that job.
restore_note_job() {
    proc_start "$1" || true
    echo "$1 $PROC_START" >>"$WORK_DIR/restore.jobs"
}

# kill_unnoted_jobs: at a run's end, kills every job of this shell that still runs, but the AWS helper (its cleanup
# stops it). A job is started (`... &`) and noted (restore_note_job) on the next line, and a signal's trap (Ctrl-C)
# may run between the two: the job, unnoted, outlived the run (h38: a staging psql ran on a minute after restore.sh
# had ended, and could create again the staging schemas the cleanup had dropped). A job's pid is killed only while it
# is a child of this shell (kill_own). Not for restore-verification.sh, whose report still needs its own jobs.
kill_unnoted_jobs() {
    local pid
    for pid in $(jobs -p); do
        [[ "$pid" == "${AWS_HELPER_PID:-}" ]] || kill_own KILL "$pid"
    done
}
# restore_kill_jobs: kills the pass's jobs (restore_note_job) that still run, each with its process group.
restore_kill_jobs() {
    local pid start
    [[ -f "$WORK_DIR/restore.jobs" ]] || return 0
    while read -r pid start; do
        kill_own KILL "$pid" "$start"
    done <"$WORK_DIR/restore.jobs"
}

# restore_end_sessions: stops the load's jobs and psql sessions, terminates the run's server sessions
# (application_name oauth2-dr-restore:<run id>) and drops its staging schemas. Used by the cleanup on every
# exit, and by the watchdog. Nothing here commits: only the script sends COMMIT.
# When the server cannot be reached (it stopped answering: the run's own failure), RESTORE_LEFT_BEHIND says what
# is left there and the statement that drops it, for the script's last lines (until h34-hangs nothing was said,
# and the next restore listed the staging tables as "tables not in the dump, left as they are").
RESTORE_LEFT_BEHIND=""
restore_end_sessions() {
    restore_kill_jobs
    [[ -f "$WORK_DIR/restore.sessions" ]] || return 0
    local staging="" app
    app=$(cat "$WORK_DIR/restore.sessions")
    [[ -f "$WORK_DIR/spool/stage.map" ]] && staging=$(cut -f2 "$WORK_DIR/spool/stage.map" | sed 's/.*/DROP SCHEMA IF EXISTS & CASCADE;/')
    local connect
    probe_connect_timeout_in connect
    PGAPPNAME="$RESTORE_APP-cleanup" PGCONNECT_TIMEOUT=$connect timeout -k 1 70 psql -X -q -At -v ON_ERROR_STOP=1 -d "$PGDATABASE" >/dev/null 2>"$WORK_DIR/end-sessions.err" <<SQL \
        || RESTORE_LEFT_BEHIND="could not end this run's server sessions (application_name $app)${staging:+ nor drop its staging schemas} in $(db_address): $(one_line_error "$WORK_DIR/end-sessions.err" | sed 's/^no error message$/no answer within 70 s/')${staging:+; once the server answers, drop them: $(tr '\n' ' ' <<<"$staging")}"
SET lock_timeout = '30s';
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '$app' AND pid <> pg_backend_pid();
SELECT pg_sleep(0.1) FROM pg_stat_activity WHERE application_name = '$app' LIMIT 1;
$staging
SQL
    rm -f "$WORK_DIR/restore.sessions"
}

# restore_session_start DB: the script's own psql session (a coprocess): it runs the swap and commits only
# when the script writes COMMIT. Its server session notices a vanished client within a second
# (client_connection_check_interval) even while it waits for a lock.
# The session is silent from before the download to the swap (minutes for a large dump): TCP keepalives on both
# ends of it, after DB_KEEPALIVES_IDLE seconds of silence (default 30) and then every 10 s, 6 unanswered ones
# ending it: libpq's keepalives_* on psql's socket, the server's tcp_keepalives_* on its own. A NAT or load
# balancer that drops idle connections (an AWS NAT gateway after 350 s) then keeps it, instead of the swap
# failing with exit 3 after the download. (libpq has no environment variable for them: a connection string.)
restore_session_start() {
    local db=$1 idle=${DB_KEEPALIVES_IDLE:-30}
    [[ "$idle" =~ ^[1-9][0-9]*$ ]] || die "$EX_USAGE" "DB_KEEPALIVES_IDLE must be a whole number of seconds, at least 1, not $idle"
    db=${db//\\/\\\\}
    db=${db//\'/\\\'}
    coproc RESTORE_PSQL { exec psql -X -q -At -v ON_ERROR_STOP=1 -d "dbname='$db' keepalives=1 keepalives_idle=$idle keepalives_interval=10 keepalives_count=6" 2>"$WORK_DIR/session.err"; }
    RESTORE_SESSION_PID=$RESTORE_PSQL_PID
    restore_note_job "$RESTORE_SESSION_PID"
    session_ask "SET client_connection_check_interval = '1s'; SET tcp_keepalives_idle = $idle; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 6;"
}

# session_ask SQL: runs SQL (statements or psql meta-commands) in the script's session; its output (one line
# per row) in SESSION_OUT. Fails when the session ended (a server error: ON_ERROR_STOP; session.err has it).
# Called in the script's own shell, never in $(...): the coprocess's pipes belong to this shell.
# The answer is read a second at a time (db_watch_tick): a server that stops answering (frozen mid-swap) is said
# every WAIT_PROGRESS_SECONDS as "still waiting for SESSION_STEP", and after DB_STALL_SECONDS without an answer
# to a new connection the run ends with exit 3 (db_watch_error; nothing is committed before the COMMIT's answer).
SESSION_OUT=""
SESSION_STEP=""
session_ask() {
    local line="" part status marker="__oauth2_dr_restore_${RANDOM}${RANDOM}__"
    SESSION_OUT=""
    [[ -n "$RESTORE_SESSION_PID" ]] || return 1
    local to=${RESTORE_PSQL[1]:-} from=${RESTORE_PSQL[0]:-}
    [[ -n "$to" && -n "$from" ]] || return 1
    { printf '%s\n\\echo %s\n' "$1" "$marker" 1>&"$to"; } 2>/dev/null || return 1
    db_watch_start "${SESSION_STEP:-an answer of the restore session} in $(db_address)"
    while true; do
        part=""
        # 2>/dev/null before <&: a psql that stopped at a server error (ON_ERROR_STOP) has had its pipes closed by
        # bash, and the redirection's "Bad file descriptor" would sit above the run's ERROR line; the read fails (1).
        IFS= read -r -t 1 part 2>/dev/null <&"$from" && {
            line+=$part
            [[ "$line" == "$marker" ]] && return 0
            SESSION_OUT+="$line"$'\n'
            line=""
            continue
        }
        status=$?
        line+=$part
        ((status > 128)) || return 1
        db_watch_ok input_ready "$from" || die "$EX_DATABASE" "$(db_watch_error)"
    done
}

# session_end: closes the script's session (after COMMIT or ROLLBACK; without either, the server rolls back).
session_end() {
    [[ -n "$RESTORE_SESSION_PID" ]] || return 0
    local input=${RESTORE_PSQL[1]:-}
    [[ -z "$input" ]] || exec {input}>&-
    kill_own TERM "$RESTORE_SESSION_PID"
    wait "$RESTORE_SESSION_PID" 2>/dev/null || true
    RESTORE_SESSION_PID=""
}

# lock_holder_sql [EXTRA]: an SQL text expression naming a session that holds (or waits ahead for) a lock a run
# gave up on, and how to end it, from pg_stat_activity alone (alias a; nothing guessed): "pid N (application_name
# 'x', user u, client 10.0.0.7:51234, state s, transaction since T, connected since T)EXTRA: to end it (its
# transaction is rolled back), SELECT pg_terminate_backend(N)". EXTRA: an SQL text expression put after the
# parenthesis (default none). The client is "local (Unix socket)" for a socket connection; a field this role may
# not read (another role's session without pg_read_all_stats) is said to be "not visible", never filled in.
lock_holder_sql() {
    cat <<SQL
format('pid %s (application_name %L, user %s, client %s, state %s, transaction since %s, connected since %s)%s: to end it (its transaction is rolled back), SELECT pg_terminate_backend(%s)',
    a.pid, a.application_name, coalesce(a.usename::text, 'not visible'),
    CASE WHEN a.client_port = -1 THEN 'local (Unix socket)' WHEN a.client_addr IS NULL THEN 'not visible to this role (pg_read_all_stats)'
         ELSE host(a.client_addr) || ':' || a.client_port END,
    coalesce(a.state, 'not visible'),
    CASE WHEN a.xact_start IS NOT NULL THEN to_char(a.xact_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
         WHEN a.state IS NULL THEN 'not visible' ELSE 'none open' END,
    coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'not visible'),
    ${1:-''}, a.pid)
SQL
}

# lock_waiter_sql [SUFFIX]: an SQL expression (over pg_stat_activity as a) for a wait's progress line: the
# session a script waits for, "pid N (application_name 'a', user u, state s, query since T)SUFFIX: to end it
# (its transaction is rolled back), SELECT pg_terminate_backend(N)", as the final timeout error names it.
lock_waiter_sql() {
    cat <<SQL
format('pid %s (application_name %L, user %s, state %s, query since %s)%s: to end it (its transaction is rolled back), SELECT pg_terminate_backend(%s)',
    a.pid, a.application_name, coalesce(a.usename::text, 'not visible'), coalesce(a.state, 'not visible'),
    coalesce(to_char(a.query_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'not visible'),
    ${1:-''}, a.pid)
SQL
}

# restore_lock_sql TOC_LIST: a DO block that takes ACCESS EXCLUSIVE locks on the archive's tables that exist
# in the target, one by one under lock_timeout; on a timeout it names the table and the sessions holding it.
restore_lock_sql() {
    local pairs
    pairs=$(awk '$4 == "TABLE" && $5 != "DATA" && NF >= 6 { gsub(/\x27/, "\x27\x27"); printf "%s[\x27%s\x27,\x27%s\x27]", (n++ ? "," : ""), $5, $6 }' "$1")
    [[ -n "$pairs" ]] || return 0
    cat <<SQL
DO \$restore_lock\$
DECLARE
    pair text[];
    t regclass;
    holders text;
BEGIN
    FOREACH pair SLICE 1 IN ARRAY ARRAY[$pairs]::text[] LOOP
        t := to_regclass(format('%I.%I', pair[1], pair[2]));
        CONTINUE WHEN t IS NULL;
        BEGIN
            EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', t);
        EXCEPTION WHEN lock_not_available THEN
            -- One line per session: a session holds a table in several modes (an UPDATE ... WHERE id = (SELECT ...)
            -- takes ROW EXCLUSIVE and ACCESS SHARE), one pg_locks row each.
            SELECT string_agg($(lock_holder_sql "CASE WHEN l.granted THEN '' ELSE ' (waiting for it too, ahead of the restore)' END"), '; ' ORDER BY l.granted DESC, a.pid)
              INTO holders
              FROM (SELECT pl.pid, bool_or(pl.granted) AS granted FROM pg_locks pl
                     WHERE pl.relation = t AND pl.pid <> pg_backend_pid() GROUP BY pl.pid) l
              JOIN pg_stat_activity a ON a.pid = l.pid;
            RAISE EXCEPTION 'lock timeout: table % stayed locked for % (RESTORE_LOCK_TIMEOUT) by %', t, current_setting('lock_timeout'), coalesce(holders, 'another session');
        END;
    END LOOP;
END
\$restore_lock\$;
SQL
}

# --- objects added to the target's tables since the backup --------------------------------------------------
# The swap drops each of the dump's tables with everything on it (as pg_restore --clean does). Indexes,
# constraints, triggers, row-level security and its policies that an operator added to those tables after the
# backup are not in the dump: restore.sh reads them (with their definitions) before the swap and recreates them
# after it, naming each; one that no longer fits the restored data is named with the server's reason.

# restore_added_objects_sql TOC_LIST: a query, one JSON line per such object on the dump's tables in the target:
# {"key", "kind", "table", "ddl"}. Definitions come fully qualified (run with search_path = pg_catalog).
restore_added_objects_sql() {
    local tables known lists
    # Two JSON arrays of lines from one jq (a jq start is about 35 ms of CPU): the dump's tables (schema.name),
    # each line marked "t", then the dump's own objects, marked "k": INDEX schema name; [FK ]CONSTRAINT,
    # TRIGGER, POLICY schema table name.
    lists=$(awk '$4 == "TABLE" && $5 != "DATA" && NF >= 6 { print "t" $5 "." $6 }
        $4 == "INDEX" { print "kindex:" $5 "." $6 }
        $4 == "CONSTRAINT" { print "kconstraint:" $5 "." $6 "." $7 }
        $4 == "FK" && $5 == "CONSTRAINT" { print "kconstraint:" $6 "." $7 "." $8 }
        $4 == "TRIGGER" { print "ktrigger:" $5 "." $6 "." $7 }
        $4 == "POLICY" { print "kpolicy:" $5 "." $6 "." $7 }
        $4 == "ROW" && $5 == "SECURITY" { print "krowsecurity:" $6 "." $7 }' "$1" \
        | jq -nRr '[inputs] | (map(select(startswith("t")) | .[1:]) | tojson), (map(select(startswith("k")) | .[1:]) | tojson)')
    # tojson escapes newlines: one line each.
    tables=${lists%%$'\n'*}
    known=${lists#*$'\n'}
    cat <<SQL
SET LOCAL search_path = pg_catalog;
WITH dump_tables AS (
    SELECT c.oid AS rel, n.nspname, c.relname FROM jsonb_array_elements_text(\$oauth2_dr\$${tables}\$oauth2_dr\$::jsonb) t
    JOIN pg_class c ON c.oid = to_regclass(t) JOIN pg_namespace n ON n.oid = c.relnamespace
), present AS (
    SELECT 'index' AS kind, format('index:%s.%s', t.nspname, ic.relname) AS key, t.rel, pg_get_indexdef(i.indexrelid) || ';' AS ddl
    FROM pg_index i JOIN dump_tables t ON t.rel = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
    WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)
    UNION ALL
    SELECT 'constraint', format('constraint:%s.%s.%s', t.nspname, t.relname, k.conname), t.rel,
           format('ALTER TABLE %s ADD CONSTRAINT %I %s;', t.rel::regclass, k.conname, pg_get_constraintdef(k.oid))
    FROM pg_constraint k JOIN dump_tables t ON t.rel = k.conrelid WHERE k.contype IN ('c', 'f', 'p', 'u', 'x')
    UNION ALL
    SELECT 'trigger', format('trigger:%s.%s.%s', t.nspname, t.relname, g.tgname), t.rel, pg_get_triggerdef(g.oid) || ';'
    FROM pg_trigger g JOIN dump_tables t ON t.rel = g.tgrelid WHERE NOT g.tgisinternal
    UNION ALL
    SELECT 'policy', format('policy:%s.%s.%s', t.nspname, t.relname, p.polname), t.rel,
           format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s;', p.polname, t.rel::regclass,
                  CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                  CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                  (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END, ', ') FROM unnest(p.polroles) r),
                  ' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', ' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')')
    FROM pg_policy p JOIN dump_tables t ON t.rel = p.polrelid
    UNION ALL
    SELECT 'row level security', format('rowsecurity:%s.%s', t.nspname, t.relname), t.rel,
           format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY;', t.rel::regclass)
           || CASE WHEN c.relforcerowsecurity THEN format(' ALTER TABLE %s FORCE ROW LEVEL SECURITY;', t.rel::regclass) ELSE '' END
    FROM dump_tables t JOIN pg_class c ON c.oid = t.rel WHERE c.relrowsecurity
)
SELECT json_build_object('key', key, 'kind', kind, 'table', rel::regclass::text, 'ddl', ddl)
FROM present WHERE key NOT IN (SELECT jsonb_array_elements_text(\$oauth2_dr\$${known}\$oauth2_dr\$::jsonb)) ORDER BY key;
RESET search_path;
SQL
}

# restore_recreate_sql ADDED_JSONL: one DO block per object: its definition run in a subtransaction, a failure
# recorded (with the server's reason) in a temporary table instead of ending the restore's transaction.
restore_recreate_sql() {
    local tag="oauth2_dr_${RANDOM}${RANDOM}"
    printf '%s\n' "CREATE TEMP TABLE IF NOT EXISTS oauth2_dr_not_recreated (key text, reason text) ON COMMIT DROP;"
    jq -r --arg tag "$tag" '"DO $\($tag)$ BEGIN EXECUTE $\($tag)_ddl$\(.ddl)$\($tag)_ddl$; EXCEPTION WHEN others THEN INSERT INTO pg_temp.oauth2_dr_not_recreated VALUES ($\($tag)_key$\(.key)$\($tag)_key$, SQLERRM); END $\($tag)$;"' "$1"
    printf '%s\n' "SELECT key || ': ' || reason FROM pg_temp.oauth2_dr_not_recreated ORDER BY key;"
}

# --- public-key encryption (issue 23: the writers cannot read what they write) ----------------------------
# Writers: BACKUP_GPG_PUBLIC_KEYS_FILE (armored OpenPGP public keys, a ConfigMap) switches every writer from the
# passphrase to `gpg --encrypt` to BACKUP_GPG_RECIPIENTS (40-hex primary fingerprints, space- or
# comma-separated; empty: every primary key of the file). The writer holds no passphrase and no private key:
# nothing in its pod or in the production account decrypts what it wrote. Readers: the manifest's
# `encryption.mode` says how a dump was written ("public-key" with its recipients, else symmetric: the
# passphrase as before); the private keys come from RESTORE_GPG_PRIVATE_KEYS_FILE or from Secrets Manager
# (RESTORE_PRIVATE_KEYS_SECRET_ID, in the vault account: RESTORE_PRIVATE_KEYS_ENDPOINT_URL,
# RESTORE_PRIVATE_KEYS_REGION, RESTORE_PRIVATE_KEYS_ROLE_ARN). Keys are imported into the run's throwaway
# GNUPGHOME ($WORK_DIR/gnupg, never ~/.gnupg); its gpg-agent (gpg 2 keeps secret keys through one) is killed
# and the directory removed on every exit (remove_work_dir). Private key material is never printed or written
# to a file of ours: it reaches gpg --import on a pipe.

# ENCRYPTION_MODE: "symmetric" or "public-key": what a writer encrypts with, what a reader's manifest says.
# ENCRYPTION_METADATA: s3_put_file options recording the mode (and recipients) on an export's object.
ENCRYPTION_MODE="" GPG_RECIPIENTS=() PRIVATE_KEYS_ORIGIN="" PRIVATE_KEYS_LOADED=0 ENCRYPTION_METADATA=()

# load_encryption: a writer's key material: the public keys when BACKUP_GPG_PUBLIC_KEYS_FILE is set (no
# passphrase is read), else the passphrase exactly as before (load_passphrase).
load_encryption() {
    if [[ -n "${BACKUP_GPG_PUBLIC_KEYS_FILE:-}" ]]; then
        load_public_keys
        local IFS=,
        ENCRYPTION_METADATA=(--metadata encryption=public-key --metadata "recipients=${GPG_RECIPIENTS[*]}")
    else
        ENCRYPTION_MODE=symmetric
        load_passphrase
        ENCRYPTION_METADATA=(--metadata encryption=symmetric)
        # Said by every writer that encrypts with it (not at lib.sh's start: a reader's S2K is the packet's).
        [[ "$GPG_S2K_COUNT" == 65011712 ]] \
            || log "WARNING: TEST_ONLY_GPG_S2K_COUNT=$GPG_S2K_COUNT: the passphrase's S2K count is lowered from 65011712, for tests only"
    fi
}

# gpg_key_listing [--secret]: "fingerprint validity capabilities" of every primary key in GNUPGHOME.
gpg_key_listing() {
    local what=--list-keys
    [[ "${1:-}" != --secret ]] || what=--list-secret-keys
    gpg --batch --no-tty --with-colons --fixed-list-mode --trust-model always "$what" 2>/dev/null \
        | awk -F: '$1 == "pub" || $1 == "sec" { p = 1; v = $2; c = $12; next } p && $1 == "fpr" { print $10, v, c; p = 0 }'
}

# gpg_primary_of_subkey FPR: the primary fingerprint of the key in GNUPGHOME that has FPR as a subkey, if any.
gpg_primary_of_subkey() {
    gpg --batch --no-tty --with-colons --fixed-list-mode --list-keys 2>/dev/null \
        | awk -F: -v f="$1" '$1 == "pub" { p = ""; want = "primary"; next } $1 == "sub" { want = "sub"; next }
              $1 == "fpr" && want == "primary" { p = $10; want = ""; next } $1 == "fpr" && want == "sub" && $10 == f { print p; exit }'
}

# load_public_keys: imports BACKUP_GPG_PUBLIC_KEYS_FILE and checks every recipient before any dump starts:
# present in the file (by primary fingerprint), not expired, not revoked, able to encrypt. Exit 5 naming the
# fingerprint otherwise; exit 2 for a recipient that is not a 40-hex fingerprint.
load_public_keys() {
    local file=$BACKUP_GPG_PUBLIC_KEYS_FILE listing wanted fpr line validity caps primary
    [[ -r "$file" && -s "$file" ]] || die "$EX_CRYPTO" "BACKUP_GPG_PUBLIC_KEYS_FILE $file is not readable or is empty"
    # The writers hold public keys only: a file with secret key material is a custody mistake, refused.
    if gpg --batch --no-tty --with-colons --show-keys "$file" 2>/dev/null | grep -q '^sec:'; then
        die "$EX_CRYPTO" "BACKUP_GPG_PUBLIC_KEYS_FILE $file holds secret key material: give the backup jobs the public keys only (gpg --armor --export)"
    fi
    gpg --batch --quiet --no-tty --import "$file" 2>"$WORK_DIR/gpg-import.err" \
        || die "$EX_CRYPTO" "cannot import the public keys of BACKUP_GPG_PUBLIC_KEYS_FILE $file: $(one_line_error "$WORK_DIR/gpg-import.err")"
    listing=$(gpg_key_listing)
    [[ -n "$listing" ]] || die "$EX_CRYPTO" "BACKUP_GPG_PUBLIC_KEYS_FILE $file holds no OpenPGP public key"
    wanted=${BACKUP_GPG_RECIPIENTS:-}
    wanted=${wanted//,/ }
    wanted=${wanted^^}
    [[ -n "$wanted" ]] || wanted=$(cut -d' ' -f1 <<<"$listing")
    # gpg --fingerprint prints a fingerprint in groups of 4 ("013D 4B84 ... 9DD8"): spaces separate recipients
    # here, so such a value is refused with the fingerprint to write instead (guessing could pin the wrong key).
    if [[ "$wanted" =~ ^[[:space:]]*([0-9A-F]{4}[[:space:]]+){9}[0-9A-F]{4}[[:space:]]*$ ]]; then
        die "$EX_USAGE" "BACKUP_GPG_RECIPIENTS: '${BACKUP_GPG_RECIPIENTS}' is a fingerprint in groups of 4 as gpg --fingerprint prints it; spaces separate recipients: write it without spaces: $(tr -d '[:space:]' <<<"$wanted")"
    fi
    GPG_RECIPIENTS=()
    for fpr in $wanted; do
        fpr=${fpr#0X}
        [[ "$fpr" =~ ^[0-9A-F]{40}$ ]] || die "$EX_USAGE" "BACKUP_GPG_RECIPIENTS: '$fpr' is not a 40-hex-digit OpenPGP fingerprint"
        line=$(awk -v f="$fpr" '$1 == f' <<<"$listing")
        if [[ -z "$line" ]]; then
            primary=$(gpg_primary_of_subkey "$fpr")
            [[ -z "$primary" ]] || die "$EX_CRYPTO" "recipient $fpr in BACKUP_GPG_PUBLIC_KEYS_FILE $file is a subkey of $primary: give the primary key's fingerprint $primary (the manifests and the restores match primary fingerprints)"
            die "$EX_CRYPTO" "recipient $fpr is not in BACKUP_GPG_PUBLIC_KEYS_FILE $file (it holds $(cut -d' ' -f1 <<<"$listing" | paste -sd' ' -))"
        fi
        read -r _ validity caps <<<"$line"
        case "$validity" in
        e) die "$EX_CRYPTO" "recipient $fpr in $file has expired: extend its expiry and its subkeys' (gpg --quick-set-expire $fpr 1y, then gpg --quick-set-expire $fpr 1y '*') and publish the public key again, or remove it from BACKUP_GPG_RECIPIENTS" ;;
        r) die "$EX_CRYPTO" "recipient $fpr in $file is revoked: remove it from BACKUP_GPG_RECIPIENTS" ;;
        esac
        [[ "$caps" == *E* ]] || die "$EX_CRYPTO" "recipient $fpr in $file cannot encrypt: no valid encryption subkey (expired, revoked or none: capabilities '$caps'); extend an expired one (gpg --quick-set-expire $fpr 1y '*') or add one (gpg --quick-add-key $fpr cv25519 encr 1y), and publish the public key again"
        GPG_RECIPIENTS+=("$fpr")
    done
    ENCRYPTION_MODE=public-key
    log "encrypting to ${#GPG_RECIPIENTS[@]} public key(s): ${GPG_RECIPIENTS[*]} (no passphrase, no private key in this job)"
}

# gpg_pubkey_encrypt [exec]: stdin encrypted to GPG_RECIPIENTS on stdout (exec: as gpg_encrypt's). --trust-model always: the recipients are
# pinned by their full fingerprint in configuration and checked above (present, valid, not expired or revoked);
# there is no web of trust in a job's throwaway keyring to consult, and without it gpg would refuse the
# "untrusted" key in batch mode.
gpg_pubkey_encrypt() {
    local args=() fpr run=("$@")
    for fpr in "${GPG_RECIPIENTS[@]}"; do args+=(--recipient "$fpr"); done
    "${run[@]}" gpg --batch --quiet --no-tty --yes --trust-model always "${args[@]}" --encrypt --cipher-algo AES256 \
        --compress-algo none --output -
}

# gpg_pubkey_decrypt: stdin decrypted with the imported secret keys (unprotected: Secrets Manager or the
# file's permissions protect them), on stdout.
gpg_pubkey_decrypt() {
    gpg --batch --quiet --no-tty --yes --pinentry-mode loopback --trust-model always --decrypt --output -
}

# encryption_json: the manifest's "encryption" object of what this writer used.
encryption_json() {
    if [[ "$ENCRYPTION_MODE" == public-key ]]; then
        printf '%s\n' "${GPG_RECIPIENTS[@]}" | jq -nRc '{mode: "public-key", recipients: [inputs], cipher: "AES256"}'
    else
        echo '{"mode":"symmetric","cipher":"AES256"}'
    fi
}

# manifest_encryption FILE: "public-key FPR..." or "symmetric" (manifests before this field, or with the old
# string "gpg-symmetric-aes256", are symmetric).
manifest_encryption() {
    # Loaded by manifest_load (restore.sh, the verification): only a public-key manifest needs jq, for its recipients.
    if manifest_is_loaded "$1" && [[ "${MANIFEST_FIELDS["$1"$'\x1f'.encryption.mode]:-}" != public-key ]]; then
        echo symmetric
        return
    fi
    jq -r 'if (.encryption | type) == "object" and .encryption.mode == "public-key"
           then (["public-key"] + (.encryption.recipients // [])) | join(" ") else "symmetric" end' "$1"
}

# private_keys_secret: the SecretString of RESTORE_PRIVATE_KEYS_SECRET_ID on stdout (a pipe, never a file),
# through the helper. In the run's own account; with RESTORE_PRIVATE_KEYS_ENDPOINT_URL, _REGION or _ROLE_ARN
# (the vault account) with that endpoint and region (each defaults to the run's: AWS_ENDPOINT_URL, AWS_REGION)
# and, when a role is named, that role's credentials (sts:AssumeRole at the same endpoint first).
private_keys_secret() {
    local query=("id=$RESTORE_PRIVATE_KEYS_SECRET_ID")
    if [[ -n "${RESTORE_PRIVATE_KEYS_ENDPOINT_URL:-}${RESTORE_PRIVATE_KEYS_REGION:-}${RESTORE_PRIVATE_KEYS_ROLE_ARN:-}" ]]; then
        query+=("endpoint_url=${RESTORE_PRIVATE_KEYS_ENDPOINT_URL:-${AWS_ENDPOINT_URL:-}}" "region=${RESTORE_PRIVATE_KEYS_REGION:-${AWS_REGION:-}}")
        [[ -z "${RESTORE_PRIVATE_KEYS_ROLE_ARN:-}" ]] \
            || query+=("role_arn=$RESTORE_PRIVATE_KEYS_ROLE_ARN" "role_session_name=oauth2-dr-${SCRIPT_NAME}-$$")
    fi
    aws_call GET /secretsmanager/get - "${query[@]}" | jq -j '.SecretString // empty'
}

# load_private_keys NEEDED: imports the restore's private keys once (RESTORE_GPG_PRIVATE_KEYS_FILE, else
# RESTORE_PRIVATE_KEYS_SECRET_ID). NEEDED (the dump's recipients) only names what is missing in the errors.
load_private_keys() {
    local needed=$1 armored
    ((PRIVATE_KEYS_LOADED == 0)) || return 0
    if [[ -n "${RESTORE_GPG_PRIVATE_KEYS_FILE:-}" ]]; then
        PRIVATE_KEYS_ORIGIN="RESTORE_GPG_PRIVATE_KEYS_FILE $RESTORE_GPG_PRIVATE_KEYS_FILE"
        [[ -r "$RESTORE_GPG_PRIVATE_KEYS_FILE" ]] \
            || die "$EX_CRYPTO" "$PRIVATE_KEYS_ORIGIN is not readable; the dump needs the private key of $needed"
        gpg --batch --quiet --no-tty --import "$RESTORE_GPG_PRIVATE_KEYS_FILE" >/dev/null 2>"$WORK_DIR/gpg-import.err" || true
    elif [[ -n "${RESTORE_PRIVATE_KEYS_SECRET_ID:-}" ]]; then
        PRIVATE_KEYS_ORIGIN="secret $RESTORE_PRIVATE_KEYS_SECRET_ID${RESTORE_PRIVATE_KEYS_ENDPOINT_URL:+ at $RESTORE_PRIVATE_KEYS_ENDPOINT_URL}${RESTORE_PRIVATE_KEYS_ROLE_ARN:+ as $RESTORE_PRIVATE_KEYS_ROLE_ARN}"
        armored=$(private_keys_secret 2>"$WORK_DIR/keys.err") || armored=""
        if [[ -z "$armored" ]]; then
            # Read, but no SecretString: an empty secret, or the keys put as SecretBinary (gpg --export without --armor).
            [[ -s "$WORK_DIR/keys.err" ]] || die "$EX_CRYPTO" "the restore private keys' $PRIVATE_KEYS_ORIGIN has no SecretString (empty, or stored as SecretBinary): put the armored secret keys (gpg --armor --export-secret-keys) as its SecretString; the dump needs the private key of $needed"
            die "$EX_CRYPTO" "cannot read the restore private keys ($PRIVATE_KEYS_ORIGIN): $(one_line_error "$WORK_DIR/keys.err"); the dump needs the private key of $needed"
        fi
        printf '%s' "$armored" | gpg --batch --quiet --no-tty --import >/dev/null 2>"$WORK_DIR/gpg-import.err" || true
        armored=""
    else
        die "$EX_CRYPTO" "the dump is encrypted to the public key(s) $needed: set RESTORE_GPG_PRIVATE_KEYS_FILE or RESTORE_PRIVATE_KEYS_SECRET_ID (the vault account's restore key)"
    fi
    [[ -n "$(gpg_key_listing --secret)" ]] \
        || die "$EX_CRYPTO" "$PRIVATE_KEYS_ORIGIN holds no usable OpenPGP secret key (corrupt, or public keys only: $(one_line_error "$WORK_DIR/gpg-import.err")); the dump needs the private key of $needed"
    PRIVATE_KEYS_LOADED=1
}

# encryption_for_manifest FILE: loads what decrypts the manifest's dump: the passphrase (symmetric, as
# passphrase_for_manifest) or the private keys, checked against the manifest's recipients before anything
# else happens (exit 5 naming the recipients when none of them is loaded).
encryption_for_manifest() {
    local mode recipients
    read -r mode recipients <<<"$(manifest_encryption "$1")"
    if [[ "$mode" != public-key ]]; then
        ENCRYPTION_MODE=symmetric
        # A dump written before the switch to public keys: the private keys do not decrypt it, the passphrase does.
        if [[ -z "${PASSPHRASE_FILE:-}${BACKUP_PASSPHRASE_SECRET_ID:-}" && -z "$(manifest_get "$1" .passphrase.version_id)" ]]; then
            local keys=${RESTORE_GPG_PRIVATE_KEYS_FILE:-${RESTORE_PRIVATE_KEYS_SECRET_ID:-}}
            die "$EX_USAGE" "the dump is symmetric (encrypted with the backup passphrase, written before public-key mode)${keys:+: the private keys do not decrypt it}: set PASSPHRASE_FILE or BACKUP_PASSPHRASE_SECRET_ID (in the vault account, its copy oauth2-dr/backup-passphrase)"
        fi
        passphrase_for_manifest "$1"
        return
    fi
    [[ -n "$recipients" ]] || die "$EX_CRYPTO" "the manifest $1 says public-key encryption but names no recipient"
    require_private_key "$recipients" "the dump"
}

# require_private_key RECIPIENTS WHAT: public-key mode for an object encrypted to RECIPIENTS (fingerprints):
# the private keys are loaded and one of them is a recipient's, else exit 5 naming the recipients.
require_private_key() {
    local recipients=$1 what=$2 have fpr
    ENCRYPTION_MODE=public-key
    load_private_keys "$recipients"
    have=$(gpg_key_listing --secret | cut -d' ' -f1)
    local protected=()
    for fpr in $recipients; do
        grep -qx "$fpr" <<<"$have" || continue
        secret_key_protected "$fpr" || return 0
        protected+=("$fpr")
    done
    # The scripts run unattended (--batch): a key under a passphrase cannot decrypt, and gpg would only say
    # "No secret key" (restore) or "can't get input" (the verification, which would blame the backup).
    ((${#protected[@]} == 0)) || die "$EX_CRYPTO" "$what is encrypted to $recipients; the private key of ${protected[*]} in $PRIVATE_KEYS_ORIGIN is protected by a passphrase, which these scripts cannot enter: give them the key without its passphrase (on a tmpfs: gpg --import the protected copy into a throwaway GNUPGHOME, gpg --passwd ${protected[0]}: the old passphrase, then an empty new one for the key and each subkey; gpg --armor --export-secret-keys ${protected[0]} > /dev/shm/keys.asc), then shred it"
    die "$EX_CRYPTO" "$what is encrypted to $recipients; $PRIVATE_KEYS_ORIGIN holds the secret key(s) of $(paste -sd' ' - <<<"$have") only: load the private key of $recipients"
}

# secret_key_protected FPR: true when every encryption subkey of the secret key FPR in GNUPGHOME is protected
# by a passphrase (the agent's KEYINFO protection flag "P"; "C" is clear). Nothing of the key is printed.
secret_key_protected() {
    local grip grips flag any=0
    grips=$(gpg --batch --no-tty --with-colons --fixed-list-mode --with-keygrip --list-secret-keys "$1" 2>/dev/null \
        | awk -F: '$1 == "sec" || $1 == "ssb" { e = ($12 ~ /e/) } $1 == "grp" && e { print $10 }')
    for grip in $grips; do
        flag=$(gpg-connect-agent "KEYINFO $grip" /bye 2>/dev/null | awk '$1 == "S" && $2 == "KEYINFO" { print $8 }')
        [[ "$flag" == P ]] || return 1
        any=1
    done
    ((any == 1))
}

# private_keys_origin: for messages (fingerprints and where the keys came from, never the keys).
private_keys_origin() { printf 'private keys from %s' "$PRIVATE_KEYS_ORIGIN"; }
