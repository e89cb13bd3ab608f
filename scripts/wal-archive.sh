#!/usr/bin/env bash
# wal-archive.sh: continuous archiving of a self-managed PostgreSQL (WAL segments and base backups) in the
# backup bucket, encrypted like the dumps, and the point-in-time restore from it. The offline analogue of
# what RDS does behind `restore.pointInTime` (its automated backups: snapshots plus WAL shipped every five
# minutes); `npm run drill -- --scenario corruption-pitr` rehearses it end to end.
#
# Usage:
#   wal-archive.sh push PATH NAME        archive_command = '... wal-archive.sh push "%p" "%f"'
#   wal-archive.sh fetch NAME PATH       restore_command = '... wal-archive.sh fetch "%f" "%p"'
#   wal-archive.sh base-backup           pg_basebackup of the server at PGHOST/PGPORT into the bucket
#   wal-archive.sh restore DIR [--target-time TIME | --target-time-file FILE] [--wait-for-target SECONDS]
#                        [--restore-command CMD]
#                                        the newest base backup that ended before TIME into the new data
#                                        directory DIR, set up to recover to just before TIME
#
# Objects (under WAL_PREFIX, default wal/):
#   <NAME>.zst.gpg                  a WAL segment (or history/backup file): zstd -1 | gpg --symmetric AES256,
#                                   with the sha256 of the plain file in its metadata (x-amz-meta-sha256; from
#                                   Secrets Manager also passphrase-secret and passphrase-version)
#   base/<stamp>.tar.zst.gpg        pg_basebackup --format=tar -D - --wal-method=fetch | zstd | gpg: a
#                                   self-contained base backup (the WAL it needs to be consistent is inside)
#   base/<stamp>.json               its manifest, written after the upload was checked: object key, size and
#                                   sha256 of the stored bytes, start and end times (UTC, microseconds), the
#                                   cluster's system identifier, timeline and server version. A restore
#                                   picks base backups through their manifests only.
#
# push: refuses to overwrite a segment archived with other contents (PostgreSQL's rule for archive
#   commands; the same contents again is a success: a retry after a crash). Run by PostgreSQL's archiver (in
#   the data directory of a running postmaster), it uses the cluster's AWS helper, started by the first push
#   and ended with the postmaster (archiver_helper, below): no python start per segment. fetch: a name that is not in
#   the archive exits 7 (PostgreSQL asks for files that do not exist, e.g. the next timeline's history:
#   that is how it finds the end of the archive); any other failure exits 4, 5 or 6 with its cause in the
#   server log. PostgreSQL treats every such exit as "not available"; with a recovery target that means
#   the recovery fails ("recovery ended before configured recovery target was reached") instead of
#   stopping early at a wrong point. The segment is decrypted to PATH.partial, checked against
#   its sha256 and only then renamed to PATH. With a spool (the data directory's wal-archive-spool, which
#   restore prepares: PATH is pg_wal/RECOVERYXLOG in it), a segment found there is copied to PATH and nothing
#   else runs (no helper, no gpg: restore verified it); any other name is fetched as above, and then a
#   failure stops the recovery: exit 200, above 125, which PostgreSQL treats as fatal ("could not restore
#   file ... from archive") instead of as the end of the archive. That covers a segment that fails its
#   check again, and a segment missing from the archive while a later one of its timeline was listed when
#   restore ran (a gap: without a recovery target, ending there would promote an earlier state silently).
# restore: DIR must not exist or be empty. The object is streamed (curl on a presigned URL | sha256 | gpg |
#   zstd -d | tar -x) into DIR.partial, renamed to DIR only when the sha256 of the stored bytes is the
#   manifest's and gpg authenticated the data (MDC); then recovery.signal and, in postgresql.auto.conf,
#   restore_command (a segment in the spool copied by PostgreSQL's own sh, else CMD, default this script's
#   fetch: spool_first), recovery_target_time = TIME with
#   recovery_target_inclusive = off (every transaction committed before TIME, none at or after it) and
#   recovery_target_action = promote. Without --target-time, recovery replays the archive up to the first
#   file that is not in it. Start PostgreSQL on DIR (as the data directory's owner) to recover; it promotes
#   itself at the target.
#   Prefetch: while the base backup streams in, restore downloads and verifies (as fetch: sha256 of the
#   record, gpg's MDC) the segments the recovery will ask for into DIR/wal-archive-spool, WAL_PREFETCH_JOBS
#   at a time through its one helper: those of the manifest's timeline archived (S3 LastModified) from
#   WAL_PREFETCH_SKEW seconds before the backup started, in name order, up to the one after the last
#   archived by TIME + WAL_PREFETCH_SKEW (all of them without TIME), at most WAL_PREFETCH_MAX and what fits
#   in the free space (16 MiB each, 256 MiB kept free); then it keeps those from backup_label's start
#   segment on. It lists the archive's WAL file names there too (archive.list, for the gap check), and
#   when the last listed segment is spooled and holds a commit or abort at or after TIME (pg_waldump, if
#   installed), a segment past it is the recovery's read-ahead and fetch answers 7 for it without a
#   storage call; 00000001.history, which never exists, too.
#   restore_command then only copies local files (one helper, gpg and S2K per segment otherwise, on the
#   recovery's path). The next timeline's history, which PostgreSQL looks up at the start and at the
#   promotion, is asked of the bucket with curl on a GET URL restore presigned (DIR/wal-archive-spool/
#   NAME.url, 0600, valid an hour): a live look-up without the helper; "not there" only on S3's 404, any other
#   answer goes to the full fetch.
#   --target-time-file FILE (instead of --target-time): the target is not known yet (the operator is still
#   finding the corruption) but is in the past: restore takes the newest base backup that ended before it
#   started, downloads, verifies and extracts it and prefetches its WAL (all of it from the backup's start,
#   WAL_PREFETCH_MAX at most), then waits (--wait-for-target's SECONDS, default 600) until FILE holds the
#   target time (its first line; write it whole: echo TIME > FILE.tmp && mv FILE.tmp FILE), and exits 7 when
#   the base backup did not end before it (run again with --target-time). Nothing is at DIR before that.
#   It then waits for the archive as --wait-for-target does (default 600 s, when pg_waldump is installed).
#   --wait-for-target SECONDS (needs pg_waldump): before it finishes, restore waits, at most SECONDS, until
#   the archive holds the WAL that reaches the target (the last listed segment of the timeline holds a commit
#   or abort at or after it), listing the archive again every tenth of a second and prefetching, verified,
#   what arrives: the segment holding the target may still be on its way there (archive_timeout, or the
#   operator's pg_switch_wal()), and a recovery started without it would end before its target. With it the
#   prefetch also goes on, while the base backup is extracted, fetching what is archived meanwhile
#   (prefetch_follow). Running
#   out of time or a segment failing its check end the wait with a WARNING (the recovery then fetches it
#   itself). A segment that fails is logged (WARNING) and recorded (NAME.failed): the recovery
#   fetches it again when it needs it and stops there if it fails again. recovery_end_command removes the
#   spool (what was prefetched past the target).
#
# Environment (see lib.sh for the common variables): BUCKET (required); AWS_REGION; AWS_ENDPOINT_URL (tests);
#   PASSPHRASE_FILE or BACKUP_PASSPHRASE_SECRET_ID (the dumps' passphrase; segments and base backups record
#   the secret's version, which fetch and restore read, so the archive outlives rotations as the dumps do);
#   or, for push and base-backup, BACKUP_GPG_PUBLIC_KEYS_FILE and BACKUP_GPG_RECIPIENTS (public-key mode:
#   segments record encryption=public-key and their recipients in their metadata, base backups in their
#   manifest), and for fetch and restore of such objects RESTORE_GPG_PRIVATE_KEYS_FILE or
#   RESTORE_PRIVATE_KEYS_SECRET_ID (+ _ENDPOINT_URL, _REGION, _ROLE_ARN; see lib.sh);
#   WAL_PREFIX (default wal/); push: sha256, zstd and gpg run while its AWS helper starts (the first push of
#   a cluster's; WAL_PUSH_SHARED_HELPER=off: a helper per push); base-backup: PGHOST PGPORT PGUSER PGPASSWORD (a role with REPLICATION) or
#   DB_CREDENTIALS_SECRET_ID; ZSTD_LEVEL (default 1), ZSTD_THREADS (default 2); restore: WAL_PREFETCH_MAX
#   (segments, default 64; 0 turns the prefetch off), WAL_PREFETCH_JOBS (default 2), WAL_PREFETCH_SKEW
#   (seconds, default 10: the clock difference between the database and S3 it allows for; a segment it
#   misses is fetched by the recovery itself).
#   PostgreSQL runs archive_command and restore_command with its own environment: give it these variables
#   (its service's environment, or a file the command sources first, as the drill does).
#
# Output: push/fetch nothing (progress on stderr, which PostgreSQL writes to its log); base-backup the
#   manifest key; restore one line naming the base backup, DIR and the recovery target.
#
# Exit codes: 0 ok; 2 usage or configuration (restore: also a target time without a zone, relative to the clock ("5 minutes ago") or in the future, a
#   DIR whose parent is missing, a base backup that does not fit where DIR is: no space, ulimit -f); 3 database (base-backup: pg_basebackup or the connection
#   failed); 4 storage (S3 failed, an object is missing or of the wrong size, a segment would be overwritten
#   with other contents); 5 encryption (no passphrase, gpg failed: wrong passphrase, tampered object);
#   6 verification (sha256 of a segment or base backup differs from its record); 7 not in the archive
#   (fetch: no such WAL file; restore: no base backup ended before TIME); 1 other; 130/143 interrupted;
#   200 fetch with a spool: any of 1-6 (the recovery must stop there, see fetch).
set -euo pipefail
set -m

# This script's directory as dirname prints it, without a dirname process (lib.sh script_dir).
if [[ "${BASH_SOURCE[0]}" == */* ]]; then SCRIPT_DIR=${BASH_SOURCE[0]%/*}; else SCRIPT_DIR=.; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

USAGE="usage: wal-archive.sh push PATH NAME | fetch NAME PATH | base-backup | restore DIR [--target-time TIME | --target-time-file FILE] [--wait-for-target SECONDS] [--restore-command CMD]"
WAL_PREFIX="${WAL_PREFIX:-wal/}"
# This script, absolute: lib.sh LIB_DIR is its directory (lib.sh is sourced from there), read without a process.
SCRIPT_PATH="$LIB_DIR/${BASH_SOURCE[0]##*/}"

command=${1:-}
[[ -n "$command" ]] || die "$EX_USAGE" "$USAGE"
shift
require_env BUCKET
require_cmd gpg curl sha256sum zstd jq

# sha256_hex: the sha256 of stdin in hex, on stdout. OpenSSL's when it is installed (its SHA-NI/AVX2 code: 0.14
# CPU-s for the 1 GB bench's 273 MB base backup, against 0.52 s for coreutils' sha256sum, which does not use
# those instructions), else sha256sum's: the same digest either way.
if command -v openssl >/dev/null 2>&1; then SHA256_TOOL=(openssl dgst -sha256 -r); else SHA256_TOOL=(sha256sum); fi
sha256_hex() {
    local out
    out=$("${SHA256_TOOL[@]}") || return 1
    printf '%s\n' "${out%% *}"
}

JOB_PID="" PREFETCH_PID=""
cleanup() {
    local status=$?
    # The default IFS for everything the cleanup calls (lib.sh cleanup_work_dir_on_exit says why).
    local IFS=$' \t\n'
    trap - EXIT INT TERM
    set +e
    kill_job "$JOB_PID"
    kill_job "$PREFETCH_PID"
    [[ -z "${PARTIAL:-}" ]] || rm -rf "$PARTIAL"
    remove_work_dir
    [[ $status -eq 0 || ($command == fetch && $status -eq $EX_NO_BACKUP) ]] || log "FAILED with exit code $status"
    # A recovery prepared by restore (a spool beside PATH) must stop at a segment it cannot have, not end there.
    if [[ -n "${SPOOL:-}" && $status -ne 0 && $status -ne $EX_NO_BACKUP && $status -ne 130 && $status -ne 143 ]]; then
        log "stopping the recovery at ${FETCH_NAME:-this file} (exit $EX_STOP_RECOVERY: PostgreSQL aborts the recovery instead of ending it here)"
        status=$EX_STOP_RECOVERY
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# fetch from a spool: above 125, which PostgreSQL's restore_command treats as fatal (see the header).
readonly EX_STOP_RECOVERY=200
# The spool of prefetched, verified segments: a directory of the data directory that restore prepared.
readonly SPOOL_DIR_NAME=wal-archive-spool
SPOOL="" FETCH_NAME="" WAL_LISTING=""
# A WAL segment's name (timeline, log, segment: 24 hex digits), not a history or backup file.
is_segment() { [[ "$1" =~ ^[0-9A-F]{24}$ ]]; }

# segment_key NAME: the object of a WAL file.
segment_key() { printf '%s%s.zst.gpg' "$WAL_PREFIX" "$1"; }

# stored_sha256 KEY: the sha256 recorded in the object's metadata; "" when the object does not exist. Any
# other failure (bucket, credentials, endpoint) dies with EX_STORAGE: it must never look like "absent".
stored_sha256() { metadata "$1" sha256; }

# passphrase_of ARN VERSION: the passphrase that encrypted an object: PASSPHRASE_FILE when set (the operator's
# choice), else the secret version the object records (through BACKUP_PASSPHRASE_SECRET_ID when it names the
# same secret, e.g. its replica in this region), else the current one. Archives outlive rotations.
passphrase_of() {
    local arn=$1 version=$2 id
    if [[ -n "${PASSPHRASE_FILE:-}" || -z "$version" ]]; then
        load_passphrase
        return
    fi
    id=${BACKUP_PASSPHRASE_SECRET_ID:-$arn}
    [[ "$(secret_name_of "$id")" == "$(secret_name_of "$arn")" ]] \
        || die "$EX_CRYPTO" "encrypted with the secret $arn (version $version), not with BACKUP_PASSPHRASE_SECRET_ID $id"
    load_passphrase "$id" "$version"
}

# metadata KEY NAME: a metadata value of an existing object ("" when absent); storage failures die.
metadata() {
    aws_call GET /s3/metadata - "bucket=$BUCKET" "key=$1" "name=$2" 2>"$WORK_DIR/s3.err" \
        || die "$EX_STORAGE" "cannot read $(s3_uri "$1"): $(one_line_error "$WORK_DIR/s3.err")"
}

# epoch TIME: seconds since 1970 with microseconds, from any time GNU date reads (RFC 3339, PostgreSQL's).
epoch() { date -u -d "$1" +%s.%6N 2>/dev/null || die "$EX_USAGE" "not a time: \"$1\""; }

# TARGET_FUTURE_SECONDS: how far after this machine's clock a recovery target may be (the clocks of this
# machine and of the database server may differ by that much); a later one is refused.
TARGET_FUTURE_SECONDS=60
# target_epoch TIME WHERE: epoch of an operator's recovery target (WHERE: --target-time, or the file that gave
# it). Refused (exit 2) when it names no time zone: GNU date would read "2026-12-04 15:32:29" as UTC here (-u),
# and a time copied from a log or a clock in local time would then silently move the target by the zone's
# offset. Told apart by reading it in two zones 14 hours apart: a time with its zone is the same instant in
# both. Refused too when it is in the future: a recovery to a time after now replays the whole archive, the
# damage included (`restore.pointInTime` refuses the same).
target_epoch() {
    local checked
    checked=$(target_check "$1" "$2")
    [[ "$checked" == ok\ * ]] || die "$EX_USAGE" "${checked#bad }"
    printf '%s\n' "${checked#ok }"
}

# target_check TIME WHERE: "ok EPOCH", or "bad WHY" (target_epoch's checks, without dying: --target-time-file
# waits for a corrected line instead of dropping the base backup it has in place).
target_check() {
    local utc far now
    if ! utc=$(TZ=UTC0 date -d "$1" +%s.%6N 2>/dev/null) || ! far=$(TZ=ZONECHECK-14 date -d "$1" +%s.%6N 2>/dev/null); then
        printf 'bad not a time: "%s" (%s)\n' "$1" "$2"
        return 0
    fi
    # A time relative to the clock ("now", "5 minutes ago"): the two readings differ by the moment between them,
    # not by the zones' 14 hours. Refused too (it moves while the restore runs), but not as a missing zone.
    if [[ "$utc" != "$far" ]] && awk -v a="$utc" -v b="$far" 'BEGIN { d = a - b; exit !(d < 3600 && d > -3600) }'; then
        printf 'bad %s\n' "the target time \"$1\" ($2) is relative to this machine's clock (now $(date -u '+%Y-%m-%d %H:%M:%S+00')): give the moment itself with its zone, e.g. '2026-12-04 14:32:29.104615+00' or '2026-12-04T14:32:29Z' (pg_xact_commit_timestamp prints it so)"
        return 0
    fi
    if [[ "$utc" != "$far" ]]; then
        printf 'bad %s\n' "the target time \"$1\" ($2) names no time zone: read as UTC it is $(date -u -d "@$utc" '+%Y-%m-%d %H:%M:%S+00'), as this machine's local time ($(date +%Z)) $(date -u -d "@$(date -d "$1" +%s)" '+%Y-%m-%d %H:%M:%S+00'); a time copied from a log or clock in local time would move the target: give it with its zone, e.g. '2026-12-04 14:32:29.104615+00' or '2026-12-04T14:32:29Z' (pg_xact_commit_timestamp prints the zone)"
        return 0
    fi
    now=$(date -u +%s.%6N)
    if awk -v t="$utc" -v n="$now" -v s="$TARGET_FUTURE_SECONDS" 'BEGIN { exit !(t > n + s) }'; then
        printf 'bad %s\n' "the target time \"$1\" ($2) is $(date -u -d "@$utc" '+%Y-%m-%d %H:%M:%S+00'), in the future (this machine's clock: $(date -u -d "@$now" '+%Y-%m-%d %H:%M:%S+00')): a recovery to it would replay the whole archive, the damage included; give the last moment before the damage (a local time with a wrong zone does this too)"
        return 0
    fi
    printf 'ok %s\n' "$utc"
}

push() {
    [[ $# -eq 2 ]] || die "$EX_USAGE" "$USAGE"
    local file=$1 name=$2 key sha existing
    [[ "$name" =~ ^[0-9A-Za-z._-]+$ ]] || die "$EX_USAGE" "not a WAL file name: \"$name\""
    [[ -r "$file" ]] || die "$EX_USAGE" "cannot read the WAL file $file"
    key=$(segment_key "$name")
    load_encryption
    # The sha256, zstd and gpg (its S2K) run while the AWS helper starts (make_work_dir started it): the
    # existence check below is the first call that needs it. A retry of a segment archived already wasted them.
    sha256_hex <"$file" >"$WORK_DIR/sha256" &
    local sha_pid=$!
    zstd -q -c -"${ZSTD_LEVEL:-1}" <"$file" 2>"$WORK_DIR/zstd.err" | gpg_encrypt >"$WORK_DIR/segment.gpg" 2>"$WORK_DIR/gpg.err" \
        || die "$EX_CRYPTO" "cannot compress and encrypt $file: $(one_line_error "$WORK_DIR/gpg.err") $(one_line_error "$WORK_DIR/zstd.err")"
    wait "$sha_pid" || die "$EX_USAGE" "cannot read the WAL file $file (${SHA256_TOOL[0]} failed)"
    sha=$(<"$WORK_DIR/sha256")
    existing=$(stored_sha256 "$key")
    if [[ "$existing" == "$sha" ]]; then
        log "$name is archived already with the same contents ($(s3_uri "$key"))"
        return 0
    fi
    [[ -z "$existing" ]] || die "$EX_STORAGE" "refusing to overwrite $(s3_uri "$key"): it holds other contents (sha256 $existing, this file $sha); is another cluster archiving under $WAL_PREFIX?"
    local recorded=()
    [[ "$PASSPHRASE_SOURCE" != secretsmanager ]] \
        || recorded=(--metadata "passphrase-secret=$PASSPHRASE_SECRET_ARN" --metadata "passphrase-version=$PASSPHRASE_VERSION_ID")
    s3_put_file "$WORK_DIR/segment.gpg" "$key" --metadata "sha256=$sha" "${recorded[@]}" "${ENCRYPTION_METADATA[@]}" 2>"$WORK_DIR/s3.err" \
        || die "$EX_STORAGE" "cannot upload $(s3_uri "$key"): $(one_line_error "$WORK_DIR/s3.err")"
    log "archived $name ($(stat -c %s "$file") bytes, $(stat -c %s "$WORK_DIR/segment.gpg") stored) to $(s3_uri "$key")"
}

fetch() {
    [[ $# -eq 2 ]] || die "$EX_USAGE" "$USAGE"
    local name=$1 target=$2 key want got
    [[ "$name" =~ ^[0-9A-Za-z._-]+$ ]] || die "$EX_USAGE" "not a WAL file name: \"$name\""
    key=$(segment_key "$name")
    want=$(stored_sha256 "$key")
    if [[ -z "$want" ]]; then
        local later
        later=$(later_listed_segment "$name")
        [[ -z "$later" ]] || die "$EX_STORAGE" "$name is not in the archive ($(s3_uri "$key")), but $later, later on its timeline, was when the recovery was prepared: a gap in the archive, the recovery cannot go on past it"
        log "$name is not in the archive ($(s3_uri "$key"))"
        exit "$EX_NO_BACKUP"
    fi
    if [[ "$(metadata "$key" encryption)" == public-key ]]; then
        require_private_key "$(metadata "$key" recipients | tr ',' ' ')" "$(s3_uri "$key")"
    else
        passphrase_of "$(metadata "$key" passphrase-secret)" "$(metadata "$key" passphrase-version)"
    fi
    aws_call GET /s3/get "$WORK_DIR/segment.gpg" "bucket=$BUCKET" "key=$key" 2>"$WORK_DIR/s3.err" \
        || die "$EX_STORAGE" "cannot download $(s3_uri "$key"): $(one_line_error "$WORK_DIR/s3.err")"
    PARTIAL="$target.partial"
    gpg_decrypt <"$WORK_DIR/segment.gpg" 2>"$WORK_DIR/gpg.err" | zstd -q -d -c >"$PARTIAL" 2>"$WORK_DIR/zstd.err" \
        || die "$EX_CRYPTO" "cannot decrypt $(s3_uri "$key"): $(one_line_error "$WORK_DIR/gpg.err") $(one_line_error "$WORK_DIR/zstd.err")"
    got=$(sha256_hex <"$PARTIAL")
    [[ "$got" == "$want" ]] || die "$EX_VERIFY" "$(s3_uri "$key") decrypts to sha256 $got, its record says $want"
    mv "$PARTIAL" "$target"
    PARTIAL=""
    log "restored $name from $(s3_uri "$key")"
}

# spool_of PATH: the spool restore prepared for the data directory of PATH (PostgreSQL passes %p as
# pg_wal/RECOVERYXLOG, relative to the data directory), or "" when there is none.
spool_of() {
    local spool
    script_dir "$1"
    spool="$SCRIPT_DIR/../$SPOOL_DIR_NAME"
    [[ -d "$spool" ]] && printf '%s' "$spool"
    return 0
}

# last_listed_segment SPOOL TIMELINE: the last segment of TIMELINE (8 hex digits) in the spool's list of the
# archive (archive.list, in name order, written by restore), "" when none.
last_listed_segment() {
    awk -v t="$2" 'length($0) == 24 && substr($0, 1, 8) == t { last = $0 } END { print last }' "$1/archive.list"
}

# later_listed_segment NAME: the last segment of NAME's timeline after it in the spool's list of the archive,
# "" when none or without a spool: then NAME missing is the end of the archive.
later_listed_segment() {
    [[ -n "$SPOOL" && -f "$SPOOL/archive.list" ]] && is_segment "$1" || return 0
    local last
    last=$(last_listed_segment "$SPOOL" "${1:0:8}")
    [[ "$last" > "$1" ]] && printf '%s\n' "$last"
    return 0
}

# fetch_from_spool NAME PATH: says 7 (not in the archive) for 00000001.history, which never exists (timeline 1
# has no history; PostgreSQL asks for it when it starts timeline 2), and, with a spool whose listed WAL holds
# the target's stop (see mark_covered), for a segment past the last one listed on that timeline: what the
# recovery reads ahead past its target (recovery_prefetch), which it does not replay. Copies the prefetched, verified segment NAME from the spool to PATH (no helper, no
# gpg: restore checked it); false when there is no spool or NAME is not in it, and fetch goes to the bucket.
# A copy, not a move: PostgreSQL asks for the last segment again when the recovery ends (to start the new
# timeline from it); recovery_end_command removes the spool.
fetch_from_spool() {
    [[ $# -eq 2 && "$1" =~ ^[0-9A-Za-z._-]+$ ]] || return 1
    FETCH_NAME=$1
    if [[ "$1" == 00000001.history ]]; then
        log "$1 is not in the archive (timeline 1 has no history file)"
        return "$EX_NO_BACKUP"
    fi
    SPOOL=$(spool_of "$2")
    [[ -n "$SPOOL" ]] || return 1
    # The next timeline's history, asked for at the start and at the promotion: a live look-up in the bucket
    # with the URL restore presigned for it (curl: no helper, no python), "not there" only on S3's 404; any
    # other answer (it exists, an expired URL, a 403) goes to the full fetch below.
    if [[ "$1" == *.history && -f "$SPOOL/$1.url" ]]; then
        local code proto=(--proto "=https")
        [[ -z "${AWS_ENDPOINT_URL:-}" ]] || proto=()
        code=$(sed 's/^/url = "/; s/$/"/' "$SPOOL/$1.url" | curl -q -sS -o /dev/null -w '%{http_code}' "${proto[@]}" "${CURL_STALL_ARGS[@]}" --config - 2>/dev/null) || code=""
        if [[ "$code" == 404 ]]; then
            log "$1 is not in the archive ($(s3_uri "$(segment_key "$1")"): 404 to the URL restore presigned for it)"
            return "$EX_NO_BACKUP"
        fi
    fi
    local covered last
    if is_segment "$1" && [[ -f "$SPOOL/covered" && -f "$SPOOL/archive.list" ]]; then
        covered=$(<"$SPOOL/covered")
        last=$(last_listed_segment "$SPOOL" "${1:0:8}")
        if [[ "${covered:0:8}" == "${1:0:8}" && -n "$last" && "$1" > "$last" ]]; then
            log "$1 is past the archive's end as restore listed it ($last), whose WAL already holds a commit at or after the recovery target (the recovery stops in it): not in the archive"
            return "$EX_NO_BACKUP"
        fi
    fi
    if [[ -f "$SPOOL/$1" ]]; then
        cp --reflink=auto "$SPOOL/$1" "$2.partial"
        mv "$2.partial" "$2"
        log "restored $1 from the spool (prefetched and verified by restore)"
        return 0
    fi
    [[ ! -f "$SPOOL/$1.failed" ]] || log "$1 failed when restore prefetched it ($(head -c 1000 "$SPOOL/$1.failed")); fetching it again"
    return 1
}

# prefetch DIR TIMELINE FROM_EPOCH TARGET_EPOCH: the archived segments the recovery of DIR (a base backup of
# TIMELINE, 8 hex digits, that started at FROM_EPOCH) will ask for, downloaded and verified (as fetch does:
# sha256 of the record, gpg's MDC) into DIR/wal-archive-spool, WAL_PREFETCH_JOBS (default 2) at a time, by
# this run's helper. It needs only the manifest, so it runs while the base backup is extracted. Which: the
# segments of TIMELINE archived (S3's LastModified) at most WAL_PREFETCH_SKEW seconds (default 10) before
# FROM_EPOCH or later (the backup's start segment was still being written then), in name order, up to the
# one after the last archived by TARGET_EPOCH + WAL_PREFETCH_SKEW (all of them without a target), at most
# WAL_PREFETCH_MAX (default 64, 0 = none). The spool also lists every WAL file name in the archive
# (archive.list): fetch uses it to tell a gap from the end of the archive. A segment that fails is recorded
# (NAME.failed) and logged; fetch tries it again when the recovery asks for it and stops the recovery if it
# fails again. Prints the names it prefetched, a line each.
# list_wal_archive FILE: NAME<TAB>LastModified of the WAL files directly under the prefix (not base/), in name
# order, into FILE (one listing of the bucket; prefetch and wait_for_target both read the archive this way).
list_wal_archive() {
    wal_listing
    wal_names "$1"
}
# wal_listing: the bucket's listing of WAL_PREFIX as the helper gives it (KEY<TAB>LastModified), in WAL_LISTING.
wal_listing() {
    WAL_LISTING=$(aws_call GET /s3/keys - "bucket=$BUCKET" "prefix=$WAL_PREFIX" modified=1 2>"$WORK_DIR/s3.err") \
        || die "$EX_STORAGE" "cannot list $(s3_uri "$WAL_PREFIX"): $(one_line_error "$WORK_DIR/s3.err")"
}
# wal_names FILE: WAL_LISTING's WAL files (NAME<TAB>LastModified, in name order) into FILE.
wal_names() {
    awk -F '\t' -v p="$WAL_PREFIX" 'index($1, p) == 1 { n = substr($1, length(p) + 1); if (n ~ /^[0-9A-Za-z._-]+\.zst\.gpg$/) { sub(/\.zst\.gpg$/, "", n); print n "\t" $2 } }' \
        <<<"$WAL_LISTING" | LC_ALL=C sort >"$1"
}

prefetch() {
    local dir=$1 timeline=$2 from_epoch=$3 target_epoch=$4 follow=${5:-} max=${WAL_PREFETCH_MAX:-64} jobs=${WAL_PREFETCH_JOBS:-2} skew=${WAL_PREFETCH_SKEW:-10}
    # Its jobs stay in its process group: the restore's cleanup ends them with it.
    set +m
    [[ "$max" =~ ^[0-9]+$ ]] || die "$EX_USAGE" "WAL_PREFETCH_MAX must be a number of segments, not \"$max\""
    [[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "$EX_USAGE" "WAL_PREFETCH_JOBS must be a positive number, not \"$jobs\""
    [[ "$skew" =~ ^[0-9]+$ ]] || die "$EX_USAGE" "WAL_PREFETCH_SKEW must be a number of seconds, not \"$skew\""
    local spool="$dir/$SPOOL_DIR_NAME" names=() name
    mkdir -m 700 "$spool"
    list_wal_archive "$WORK_DIR/wal.list"
    cut -f1 "$WORK_DIR/wal.list" >"$spool/archive.list"
    # In name order: up to the last one archived by the target (+ skew) and the one after it (a segment
    # uploaded again later, e.g. restored from a copy, does not end the selection early).
    mapfile -t names < <(awk -F '\t' -v tli="$timeline" -v from="$from_epoch" -v t="$target_epoch" -v skew="$skew" -v max="$max" '
        length($1) == 24 && $1 ~ /^[0-9A-F]+$/ && substr($1, 1, 8) == tli && $2 >= from - skew {
            name[++n] = $1
            if (t == "" || $2 <= t + skew) last = n
        }
        END { end = (t == "" ? n : last + 1); if (end > n) end = n; if (end > max) end = max; for (i = 1; i <= end; i++) print name[i] }' "$WORK_DIR/wal.list")
    [[ ${#names[@]} -gt 0 ]] || { prefetch_follow "$spool" "$timeline" "$from_epoch" "$follow"; return 0; }
    local free need=$(( ${#names[@]} * 16 * 1024 * 1024 ))
    free=$(df -P -B1 "$spool" 2>/dev/null | awk 'NR == 2 { print $4 }')
    if [[ "$free" =~ ^[0-9]+$ ]] && (( free < need + 256 * 1024 * 1024 )); then
        local fits=$(( (free - 256 * 1024 * 1024) / (16 * 1024 * 1024) ))
        (( fits > 0 )) || fits=0
        log "only $free bytes free beside $dir: prefetching $fits of ${#names[@]} segments (16 MiB each, 256 MiB kept free); the recovery fetches the others itself"
        names=("${names[@]:0:fits}")
        [[ ${#names[@]} -gt 0 ]] || return 0
        follow=""
    fi
    log "prefetching ${#names[@]} WAL segment(s) ${names[0]} to ${names[-1]} into $spool, $jobs at a time"
    local running=0 base_work=$WORK_DIR
    for name in "${names[@]}"; do
        if (( running >= jobs )); then
            wait -n || true
            running=$((running - 1))
        fi
        (prefetch_one "$name" "$spool" "$base_work") 2>>"$base_work/prefetch.log" &
        running=$((running + 1))
    done
    wait || true
    for name in "${names[@]}"; do
        if [[ -f "$spool/$name" ]]; then
            echo "$name"
        else
            log "WARNING: prefetching $name failed: $(cat "$spool/$name.failed" 2>/dev/null || echo "no reason recorded"); the recovery will fetch it again and stop there if it still fails"
        fi
    done
    prefetch_follow "$spool" "$timeline" "$from_epoch" "$follow"
    mark_covered "$spool" "$timeline" "$target_epoch"
}

# prefetch_follow SPOOL TIMELINE FROM_EPOCH FLAG (in prefetch, with --wait-for-target): until FLAG exists (restore
# creates it when the base backup is extracted), lists the archive every fifth of a second and prefetches,
# verified, WAL_PREFETCH_JOBS at a time, each segment of TIMELINE archived since (from FROM_EPOCH less the skew
# on) that is not in the spool, up to WAL_PREFETCH_MAX in all: the segment holding the target, still on its way
# to the bucket when restore started, is often archived during the extraction, and its fetch (a helper call per
# metadata field, the download, gpg with its S2K) then runs there instead of after it. Prints the names it
# spooled. A segment that fails is recorded (NAME.failed) for wait_for_target and fetch, as in prefetch.
prefetch_follow() {
    local spool=$1 timeline=$2 from_epoch=$3 flag=$4 jobs=${WAL_PREFETCH_JOBS:-2} max=${WAL_PREFETCH_MAX:-64} skew=${WAL_PREFETCH_SKEW:-10}
    [[ -n "$flag" ]] || return 0
    local previous="" name names=() fetched=() running=0 spooled
    while [[ ! -e "$flag" ]]; do
        short_pause 0.2
        [[ ! -e "$flag" ]] || break
        wal_listing
        [[ "$WAL_LISTING" != "$previous" ]] || continue
        previous=$WAL_LISTING
        wal_names "$WORK_DIR/wal.follow"
        mapfile -t names < <(awk -F '\t' -v tli="$timeline" -v from="$from_epoch" -v skew="$skew" \
            'length($1) == 24 && $1 ~ /^[0-9A-F]+$/ && substr($1, 1, 8) == tli && $2 >= from - skew { print $1 }' "$WORK_DIR/wal.follow")
        spooled=$(find "$spool" -maxdepth 1 -regextype posix-extended -regex '.*/[0-9A-F]{24}' | wc -l)
        for name in "${names[@]}"; do
            [[ ! -f "$spool/$name" && ! -f "$spool/$name.failed" ]] || continue
            (( spooled < max )) || break
            if (( running >= jobs )); then
                wait -n || true
                running=$((running - 1))
            fi
            (prefetch_one "$name" "$spool" "$WORK_DIR") 2>>"$WORK_DIR/prefetch.log" &
            running=$((running + 1)) spooled=$((spooled + 1))
            fetched+=("$name")
        done
        wait || true
        running=0
    done
    [[ ${#fetched[@]} -gt 0 ]] || return 0
    for name in "${fetched[@]}"; do
        [[ ! -f "$spool/$name" ]] || echo "$name"
    done
    log "prefetched ${#fetched[@]} more segment(s) archived while the base backup was extracted: ${fetched[0]} to ${fetched[-1]}"
}

# presign_next_history SPOOL TIMELINE: a GET URL (valid for an hour) of the next timeline's history file in
# SPOOL/NAME.url (0600, in the 0700 spool that recovery_end_command removes): PostgreSQL looks it up at the
# start (recovery_target_timeline = latest) and again at the promotion (to pick a new timeline), and fetch
# then asks the bucket with curl instead of starting the helper. The look-up stays live: a history archived
# by another restore meanwhile is seen (200, then the full fetch). A presigning failure only costs that.
presign_next_history() {
    local spool=$1 name url
    name=$(printf '%08X.history' $(($2 + 1)))
    url=$(aws_call GET /s3/presign - "bucket=$BUCKET" "key=$(segment_key "$name")" expires=3600 2>"$WORK_DIR/s3.err") \
        || { log "WARNING: cannot presign $(s3_uri "$(segment_key "$name")"): $(one_line_error "$WORK_DIR/s3.err"); the recovery looks it up through the helper"; return 0; }
    (umask 077 && printf '%s\n' "$url" >"$spool/$name.url")
}

# wait_for_target_file FILE SECONDS (--target-time-file): the target's epoch once FILE holds a time (the whole
# line, written by the operator: "echo TIME > FILE.tmp && mv FILE.tmp FILE"), at most SECONDS; prints it.
wait_for_target_file() {
    local file=$1 seconds=$2 deadline line=""
    # Microseconds since 1970, in bash's own arithmetic: no process per round but the sleep.
    deadline=$(( ${EPOCHREALTIME/[.,]/} + seconds * 1000000 ))
    [[ -s "$file" ]] || log "the base backup is in place; waiting (at most $seconds s) for the target time in $file"
    # The first line, with or without its newline.
    local every started=${EPOCHREALTIME/[.,]/} next
    every=$(progress_every)
    next=$((started + every * 1000000))
    # A line that is not a usable target (no zone, in the future, not a time) is said once, and the wait goes on
    # for a corrected one: the base backup in place is kept (was: exit 2, its download lost).
    local checked="" refused="" problem=""
    while :; do
        if [[ -s "$file" ]] && line=$(<"$file") && line=${line%%$'\n'*} && [[ -n "$line" && "$line" != "$refused" ]]; then
            checked=$(target_check "$line" "$file, --target-time-file")
            [[ "$checked" != ok\ * ]] || break
            refused=$line problem=${checked#bad }
            log "WARNING: $problem; write the corrected time whole (echo TIME > $file.tmp && mv $file.tmp $file): still waiting, at most $seconds s in all"
        fi
        (( ${EPOCHREALTIME/[.,]/} < deadline )) || die "$EX_USAGE" "${problem:-no target time in $file} after $seconds s (--target-time-file)"
        if (( ${EPOCHREALTIME/[.,]/} >= next )); then
            log "still waiting for the target time in $file ($(( (${EPOCHREALTIME/[.,]/} - started) / 1000000 )) s so far; at most $seconds s, --wait-for-target)"
            next=$((next + every * 1000000))
        fi
        short_pause 0.05
    done
    printf '%s\n' "${checked#ok }"
}

# wait_for_target DIR TIMELINE START_SEGMENT TARGET_EPOCH SECONDS (--wait-for-target): until the spool of DIR
# holds the WAL that reaches the target (mark_covered: the last segment of TIMELINE listed in the archive is
# spooled and holds a commit or abort at or after it), at most SECONDS: lists the archive again every tenth
# of a second (a listing unchanged since the last starts nothing else), refreshes archive.list (fetch's gap check) and prefetches, verified as before, each segment of
# TIMELINE from START_SEGMENT on that is not in the spool yet. The segment holding the target may still be on
# its way to the archive when restore starts (archive_timeout, or the operator's pg_switch_wal()): the base
# backup's download does not need it, the recovery does. Prints what it waited for; a segment that fails
# or the time running out end the wait with a WARNING (the recovery then fetches it itself, and fails if the
# archive still does not reach the target: "recovery ended before configured recovery target was reached").
wait_for_target() {
    local dir=$1 timeline=$2 start_segment=$3 target_epoch=$4 seconds=$5 spool="$1/$SPOOL_DIR_NAME" started=${EPOCHREALTIME/[.,]/}
    local names=() name elapsed rounds=0 max=${WAL_PREFETCH_MAX:-64} previous=""
    # Seconds since the wait started, with centiseconds (bash arithmetic on microseconds).
    since() { local us=$(( ${EPOCHREALTIME/[.,]/} - started )); printf '%d.%02d' $((us / 1000000)) $((us % 1000000 / 10000)); }
    [[ -f "$spool/covered" ]] || log "waiting (at most $seconds s) for the archive to reach the target: for a segment of timeline $timeline that holds a commit or abort at or after it"
    local every said=0
    every=$(progress_every)
    while [[ ! -f "$spool/covered" ]]; do
        if (( (${EPOCHREALTIME/[.,]/} - started) / 1000000 >= (said + 1) * every )); then
            said=$((said + 1))
            log "still waiting for the archive to reach the target ($(since) s so far; at most $seconds s, --wait-for-target; newest segment of timeline $timeline listed: $(awk -v tli="$timeline" 'length($0) == 24 && substr($0, 1, 8) == tli' "$spool/archive.list" 2>/dev/null | tail -n 1 | grep . || echo none))"
        fi
        if (( ${EPOCHREALTIME/[.,]/} - started >= seconds * 1000000 )); then
            elapsed=$(since)
            log "WARNING: after $elapsed s the archive does not reach the target yet (no archived WAL of timeline $timeline holds a commit at or after it): the recovery fetches what arrives later itself, and fails if it never does"
            echo "the archive did not reach the target within $seconds s (WARNING above)"
            return 0
        fi
        # The first round lists at once: the prefetch's listing is as old as the base backup's download. Then
        # every tenth of a second; a listing that has not changed starts nothing more (its curl only).
        ((rounds++ == 0)) || short_pause 0.1
        wal_listing
        [[ $rounds -eq 1 || "$WAL_LISTING" != "$previous" ]] || continue
        previous=$WAL_LISTING
        wal_names "$WORK_DIR/wal.list"
        cut -f1 "$WORK_DIR/wal.list" >"$spool/archive.list.new"
        mv "$spool/archive.list.new" "$spool/archive.list"
        mapfile -t names < <(awk -v tli="$timeline" -v from="$start_segment" 'length($0) == 24 && substr($0, 1, 8) == tli && $0 >= from' "$spool/archive.list")
        for name in "${names[@]}"; do
            [[ ! -f "$spool/$name" ]] || continue
            local why=""
            if [[ -f "$spool/$name.failed" ]]; then
                why="its prefetch failed: $(head -c 1000 "$spool/$name.failed")"
            elif (( $(find "$spool" -maxdepth 1 -regextype posix-extended -regex '.*/[0-9A-F]{24}' | wc -l) >= max )); then
                why="the spool holds WAL_PREFETCH_MAX ($max) segments"
            fi
            if [[ -n "$why" ]]; then
                log "WARNING: stopped waiting for the archive to reach the target at $name ($why): the recovery fetches it itself"
                echo "stopped waiting for the archive at $name (WARNING above)"
                return 0
            fi
            # A failure: the next round looks at the listing again (and stops there, above).
            (prefetch_one "$name" "$spool" "$WORK_DIR") 2>>"$WORK_DIR/prefetch.log" \
                || { log "WARNING: prefetching $name failed: $(cat "$spool/$name.failed" 2>/dev/null || echo "no reason recorded")"; previous=""; }
        done
        mark_covered "$spool" "$timeline" "$target_epoch"
    done
    elapsed=$(since)
    echo "the archive reaches the target ($(<"$spool/covered") holds a commit at or after it; waited $elapsed s for it after the base backup)"
}

# mark_covered SPOOL TIMELINE TARGET_EPOCH: writes SPOOL/covered (a segment's name) when a listed segment of
# TIMELINE in the spool holds a transaction's commit or abort at or after the target (pg_waldump, when
# installed): the recovery then stops in the listed WAL, and a segment past the last listed one that it asks
# for is its read-ahead (recovery_prefetch), answered "not there" without a storage call (fetch_from_spool).
# The listed segments that are in the spool are read newest first, at most MARK_COVERED_SEGMENTS of them: the
# first with such a record covers the target; one whose records are all before it ends the search (the older
# ones are older still); one without any (the middle of a bulk load's transaction, a switch on an idle server)
# says nothing, and the one before it is read. Until h32-oncall only the last listed segment was read, and only
# once it was in the spool: a target well inside the archive (the corruption found minutes later, the archive
# 18 segments on: the on-call trial) waited until --wait-for-target had fetched every later segment (13.95 s
# there; past WAL_PREFETCH_MAX of them never, a WARNING after all of its 600 s), and an archive ending in a
# segment without a commit did not count as reaching the target.
MARK_COVERED_SEGMENTS=8
mark_covered() {
    local spool=$1 timeline=$2 target_epoch=$3 target name verdict read=0
    [[ -n "$target_epoch" ]] && command -v pg_waldump >/dev/null 2>&1 || return 0
    target=$(date -u -d "@$target_epoch" '+%Y-%m-%d %H:%M:%S.%6N')
    while IFS= read -r name; do
        [[ -f "$spool/$name" ]] || continue
        ((read++ < MARK_COVERED_SEGMENTS)) || return 0
        # "desc: COMMIT 2026-12-04 19:52:50.188603 UTC" (microseconds always, in TZ): after (one at or after the
        # target), before (only earlier ones), none (no commit or abort in it).
        verdict=$(TZ=UTC pg_waldump --rmgr=Transaction "$spool/$name" 2>/dev/null |
            awk -v t="$target" 'match($0, /desc: (COMMIT|ABORT)[A-Z_]* [0-9-]+ [0-9:.]+ UTC/) {
                s = substr($0, RSTART, RLENGTH); sub(/^desc: [A-Z_]+ /, "", s); sub(/ UTC$/, "", s)
                if ((s "") >= (t "")) { v = "after"; exit }
                seen = 1
            } END { print (v != "" ? v : (seen ? "before" : "none")) }')
        case "$verdict" in
        after) echo "$name" >"$spool/covered"; return 0 ;;
        before) return 0 ;;
        esac
    done < <(awk -v t="$timeline" 'length($0) == 24 && substr($0, 1, 8) == t' "$spool/archive.list" | sort -r)
}

# prefetch_one NAME SPOOL WORK (in a subshell): fetch NAME into SPOOL with its own scratch files under WORK;
# a failure (die) is recorded in SPOOL/NAME.failed for fetch, never the end of the restore.
prefetch_one() {
    local name=$1 spool=$2 WORK_DIR="$3/prefetch.$1"
    mkdir -m 700 "$WORK_DIR"
    PREFETCH_FAILED="$spool/$name.failed"
    trap prefetch_one_exit EXIT
    PARTIAL=""
    fetch "$name" "$spool/$name"
}
prefetch_one_exit() {
    local status=$?
    [[ $status -eq 0 ]] || printf '%s (exit %s)\n' "${LAST_ERROR:-failed}" "$status" >"$PREFETCH_FAILED"
    [[ -z "${PARTIAL:-}" ]] || rm -f "$PARTIAL"
    exit "$status"
}

base_backup() {
    [[ $# -eq 0 ]] || die "$EX_USAGE" "$USAGE"
    require_cmd pg_basebackup psql tee
    load_encryption
    load_db_credentials
    check_db_connection "${PGDATABASE}"
    local info system_id timeline server_version started_at finished_at stamp key manifest_key sha size stored
    info=$(psql_value -d "$PGDATABASE" -F '|' -c "SELECT (SELECT system_identifier FROM pg_control_system()), (SELECT timeline_id FROM pg_control_checkpoint()), current_setting('archive_mode'), current_setting('server_version')" 2>"$WORK_DIR/psql.err") \
        || die "$EX_DATABASE" "cannot read the cluster's identity from $(db_address): $(one_line_error "$WORK_DIR/psql.err")"
    IFS='|' read -r system_id timeline archive_mode server_version <<<"$info"
    [[ "$archive_mode" != off ]] || log "WARNING: archive_mode is off on $(db_address): the WAL after this base backup is not archived, it restores only to its own end"
    stamp=$(time_ordered_stamp)
    key="${WAL_PREFIX}base/${stamp}.tar.zst.gpg"
    manifest_key="${WAL_PREFIX}base/${stamp}.json"
    started_at=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
    mkfifo "$WORK_DIR/sha.fifo" "$WORK_DIR/size.fifo" "$WORK_DIR/upload.fifo"
    sha256_hex <"$WORK_DIR/sha.fifo" >"$WORK_DIR/sha.out" &
    local sha_pid=$!
    wc -c <"$WORK_DIR/size.fifo" | tr -d ' ' >"$WORK_DIR/size.out" &
    local size_pid=$!
    log "pg_basebackup of $(db_address) (system $system_id, timeline $timeline) to $(s3_uri "$key")"
    (
        set +e
        pg_basebackup --format=tar --pgdata=- --wal-method=fetch --checkpoint=fast --no-password --label="oauth2-dr $stamp" 2>"$WORK_DIR/basebackup.err" |
            zstd -q -c -T"${ZSTD_THREADS:-2}" -"${ZSTD_LEVEL:-1}" 2>"$WORK_DIR/zstd.err" |
            gpg_encrypt 2>"$WORK_DIR/gpg.err" |
            tee "$WORK_DIR/sha.fifo" "$WORK_DIR/size.fifo" >"$WORK_DIR/upload.fifo"
        echo "${PIPESTATUS[*]}" >"$WORK_DIR/pipestatus"
    ) &
    JOB_PID=$!
    aws_call POST /s3/upload "$WORK_DIR/upload.answer" "bucket=$BUCKET" "key=$key" "path=$WORK_DIR/upload.fifo" 2>"$WORK_DIR/s3.err" \
        || { kill_job "$JOB_PID"; die "$EX_STORAGE" "upload to $(s3_uri "$key") failed: $(one_line_error "$WORK_DIR/s3.err")"; }
    wait "$JOB_PID" || true
    JOB_PID=""
    wait "$sha_pid" "$size_pid" || true
    local basebackup_rc zstd_rc gpg_rc tee_rc
    read -r basebackup_rc zstd_rc gpg_rc tee_rc <"$WORK_DIR/pipestatus" || die "$EX_FAILURE" "the base backup pipeline did not report"
    [[ $basebackup_rc -eq 0 ]] || die "$EX_DATABASE" "pg_basebackup of $(db_address) failed: $(one_line_error "$WORK_DIR/basebackup.err")"
    [[ $zstd_rc -eq 0 ]] || die "$EX_FAILURE" "zstd failed: $(one_line_error "$WORK_DIR/zstd.err")"
    [[ $gpg_rc -eq 0 ]] || die "$EX_CRYPTO" "gpg failed: $(one_line_error "$WORK_DIR/gpg.err")"
    [[ $tee_rc -eq 0 ]] || die "$EX_FAILURE" "tee failed (exit code $tee_rc)"
    finished_at=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
    sha=$(cat "$WORK_DIR/sha.out")
    size=$(cat "$WORK_DIR/size.out")
    stored=$(s3_size "$key" 2>"$WORK_DIR/s3.err") || die "$EX_STORAGE" "the uploaded object $(s3_uri "$key") is not readable: $(one_line_error "$WORK_DIR/s3.err")"
    [[ "$stored" == "$size" ]] || die "$EX_STORAGE" "the stored object $(s3_uri "$key") has $stored bytes, the stream had $size"
    jq -n --arg object_key "$key" --argjson size "$size" --arg sha256 "$sha" --arg system_identifier "$system_id" \
        --argjson timeline "$timeline" --arg server_version "$server_version" --arg started_at "$started_at" \
        --arg finished_at "$finished_at" --arg finished_epoch "$(epoch "$finished_at")" --arg source "$PASSPHRASE_SOURCE" \
        --arg arn "$PASSPHRASE_SECRET_ARN" --arg version "$PASSPHRASE_VERSION_ID" --argjson encryption "$(encryption_json)" '{
            format: "oauth2-dr/base-backup-manifest/v1",
            object_key: $object_key, size_bytes: $size, sha256: $sha256,
            encryption: $encryption, compression: "zstd", format_of_backup: "pg_basebackup-tar-wal-fetch",
            passphrase: (if $encryption.mode == "public-key" then null elif $source == "secretsmanager" then {source: $source, secret_arn: $arn, version_id: $version} else {source: $source} end),
            system_identifier: $system_identifier, timeline: $timeline, server_version: $server_version,
            started_at: $started_at, finished_at: $finished_at, finished_epoch: ($finished_epoch | tonumber)
        }' >"$WORK_DIR/manifest.json" || die "$EX_FAILURE" "cannot write the manifest"
    s3_put_file "$WORK_DIR/manifest.json" "$manifest_key" --content-type application/json 2>"$WORK_DIR/s3.err" \
        || die "$EX_STORAGE" "cannot write the manifest $(s3_uri "$manifest_key"): $(one_line_error "$WORK_DIR/s3.err")"
    log "done: $key, $size bytes, sha256 $sha"
    echo "$manifest_key"
}

restore() {
    local dir="" target_time="" target_file="" restore_command="" wait_seconds=""
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --target-time) [[ $# -ge 2 && -n "$2" ]] || die "$EX_USAGE" "--target-time needs a time; $USAGE"; target_time=$2; shift ;;
        --restore-command) [[ $# -ge 2 ]] || die "$EX_USAGE" "--restore-command needs a command; $USAGE"; restore_command=$2; shift ;;
        --target-time-file) [[ $# -ge 2 && -n "$2" ]] || die "$EX_USAGE" "--target-time-file needs a file; $USAGE"; target_file=$2; shift ;;
        --wait-for-target) [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]{0,4}$ ]] || die "$EX_USAGE" "--wait-for-target needs a number of seconds (1-99999); $USAGE"; wait_seconds=$2; shift ;;
        -*) die "$EX_USAGE" "unknown option $1; $USAGE" ;;
        *) [[ -z "$dir" ]] || die "$EX_USAGE" "one directory only; $USAGE"; dir=$1 ;;
        esac
        shift
    done
    [[ -n "$dir" ]] || die "$EX_USAGE" "$USAGE"
    [[ ! -e "$dir" || -z "$(ls -A "$dir")" ]] || die "$EX_USAGE" "the data directory $dir is not empty"
    # DIR.partial is made beside DIR: a parent that is not there (a mistyped path) is said now, not after the
    # base backup's manifest was read and the helper started ("mkdir: cannot create directory", exit 1).
    local parent
    parent=$(dirname -- "$dir")
    [[ -d "$parent" && -w "$parent" ]] \
        || die "$EX_USAGE" "the data directory $dir cannot be made: its parent directory $parent $([[ -d "$parent" ]] && echo "is not writable by $(id -un)" || echo "does not exist"); create it first (mkdir -p $parent) or give another path"
    [[ -z "$target_time" || -z "$target_file" ]] || die "$EX_USAGE" "--target-time or --target-time-file, not both; $USAGE"
    local target_epoch="" key best="" best_epoch=0 manifest_epoch select_epoch="" file_wait="" earliest="" earliest_epoch="" backups=0
    if [[ -n "$target_file" ]]; then
        # The target is not known yet (the corruption is still being looked for), only that it is in the past:
        # the newest base backup that ended before now, checked against the target once the file holds it.
        select_epoch=$(date -u +%s.%6N)
        file_wait=${wait_seconds:-600}
        # The archive's wait too, by default, where pg_waldump can judge it.
        if [[ -z "$wait_seconds" ]] && command -v pg_waldump >/dev/null 2>&1; then wait_seconds=600; fi
    fi
    if [[ -n "$target_time" ]]; then
        target_epoch=$(target_epoch "$target_time" --target-time)
        # PostgreSQL's own form, in UTC with microseconds (recovery_target_time refuses e.g. RFC 3339's "T...Z").
        target_time=$(date -u -d "@$target_epoch" '+%Y-%m-%d %H:%M:%S.%6N+00')
    fi
    restore_command=${restore_command:-"'$SCRIPT_PATH' fetch \"%f\" \"%p\""}
    if [[ -n "$wait_seconds" ]]; then
        [[ -n "$target_time" || -n "$target_file" ]] || die "$EX_USAGE" "--wait-for-target needs --target-time or --target-time-file; $USAGE"
        command -v pg_waldump >/dev/null 2>&1 || die "$EX_USAGE" "--wait-for-target reads the archived WAL with pg_waldump, which is not on PATH (PostgreSQL's client binaries)"
    fi
    # Every option read and checked: the AWS helper (python and botocore, ~0.1 CPU-s) only now, so that a usage
    # error is said before any work starts.
    start_aws_helper

    # The newest base backup that ended before the target (with --target-time-file: before now) : recovery can
    # stop only after a backup's end.
    [[ -n "$select_epoch" ]] || select_epoch=$target_epoch
    local keys
    keys=$(s3_keys "${WAL_PREFIX}base/" 2>"$WORK_DIR/s3.err") || die "$EX_STORAGE" "cannot list $(s3_uri "${WAL_PREFIX}base/"): $(one_line_error "$WORK_DIR/s3.err")"
    for key in $(grep '\.json$' <<<"$keys" || true); do
        s3_get_file "$key" "$WORK_DIR/candidate.json" 2>"$WORK_DIR/s3.err" || die "$EX_STORAGE" "cannot read $(s3_uri "$key"): $(one_line_error "$WORK_DIR/s3.err")"
        manifest_epoch=$(jq -r '.finished_epoch // empty' "$WORK_DIR/candidate.json" 2>/dev/null) || manifest_epoch=""
        [[ -n "$manifest_epoch" ]] || { log "skipping $(s3_uri "$key"): not a base backup manifest"; continue; }
        backups=$((backups + 1))
        if [[ -z "$earliest_epoch" ]] || awk -v a="$manifest_epoch" -v b="$earliest_epoch" 'BEGIN { exit !(a < b) }'; then
            earliest_epoch=$manifest_epoch earliest=$(jq -r '.finished_at // empty' "$WORK_DIR/candidate.json")
        fi
        if [[ -n "$select_epoch" ]] && ! awk -v a="$manifest_epoch" -v b="$select_epoch" 'BEGIN { exit !(a < b) }'; then
            continue
        fi
        if awk -v a="$manifest_epoch" -v b="$best_epoch" 'BEGIN { exit !(a > b) }'; then
            best=$key best_epoch=$manifest_epoch
            cp "$WORK_DIR/candidate.json" "$WORK_DIR/manifest.json"
        fi
    done
    if [[ -z "$best" ]]; then
        ((backups > 0)) || die "$EX_NO_BACKUP" "no base backup under $(s3_uri "${WAL_PREFIX}base/")${target_time:+ ended before $target_time}: the prefix holds none (BUCKET, WAL_PREFIX; wal-archive.sh base-backup takes one)"
        die "$EX_NO_BACKUP" "no base backup under $(s3_uri "${WAL_PREFIX}base/") ended before ${target_time:-now}: the earliest of its $backups ended at $earliest, and the archive holds no earlier state; pick a target after it, or a dump from before it (npm run recovery-points; scripts/restore.sh --manifest)"
    fi
    # The manifest's fields, one jq (a line each; its absent fields as before: null, "" for the passphrase's).
    local object_key want_sha finished_at secret_arn version_id started_at timeline
    { IFS= read -r object_key; IFS= read -r want_sha; IFS= read -r finished_at; IFS= read -r secret_arn; IFS= read -r version_id
      IFS= read -r started_at; IFS= read -r timeline; } < <(jq -r '.object_key, .sha256, .finished_at, (.passphrase.secret_arn // ""),
        (.passphrase.version_id // ""), .started_at, (.timeline // 1) | tostring | gsub("\n"; " ")' "$WORK_DIR/manifest.json") \
        || die "$EX_VERIFY" "cannot read the manifest $(s3_uri "$best")"
    local mode recipients
    read -r mode recipients <<<"$(manifest_encryption "$WORK_DIR/manifest.json")"
    if [[ "$mode" == public-key ]]; then
        require_private_key "$recipients" "the base backup $(s3_uri "$object_key")"
    else
        passphrase_of "$secret_arn" "$version_id"
    fi
    log "restoring base backup $(s3_uri "$object_key") (finished $finished_at) into $dir"

    PARTIAL="${dir%/}.partial"
    rm -rf "$PARTIAL"
    mkdir -m 700 "$PARTIAL"
    # The WAL the recovery will ask for, fetched and verified while the base backup streams in, by this run's
    # helper: restore_command then only moves local files (one helper, gpg and S2K per segment otherwise, on
    # the recovery's path).
    local started_epoch
    started_epoch=$(epoch "$started_at")
    [[ "$timeline" =~ ^[0-9]+$ ]] || die "$EX_VERIFY" "the manifest $best has no timeline"
    # With --wait-for-target it goes on fetching what is archived meanwhile, until the extraction is done.
    prefetch "$PARTIAL" "$(printf '%08X' "$timeline")" "$started_epoch" "$target_epoch" ${wait_seconds:+"$WORK_DIR/extracted"} >"$WORK_DIR/prefetched" &
    PREFETCH_PID=$!
    local url
    url=$(aws_call GET /s3/presign - "bucket=$BUCKET" "key=$object_key" 2>"$WORK_DIR/s3.err") \
        || die "$EX_STORAGE" "cannot presign $(s3_uri "$object_key"): $(one_line_error "$WORK_DIR/s3.err")"
    local proto=(--proto "=https")
    [[ -z "${AWS_ENDPOINT_URL:-}" ]] || proto=()
    mkfifo "$WORK_DIR/sha.fifo"
    sha256_hex <"$WORK_DIR/sha.fifo" >"$WORK_DIR/sha.out" &
    local sha_pid=$!
    (
        set +e
        # The URL reaches curl on stdin (a config line), never on its command line.
        printf 'url = "%s"\n' "$url" | curl -q -sS --fail "${proto[@]}" "${CURL_STALL_ARGS[@]}" --config - 2>"$WORK_DIR/curl.err" |
            tee "$WORK_DIR/sha.fifo" |
            gpg_decrypt 2>"$WORK_DIR/gpg.err" |
            zstd -q -d -c 2>"$WORK_DIR/zstd.err" |
            tar -x -C "$PARTIAL" 2>"$WORK_DIR/tar.err"
        echo "${PIPESTATUS[*]}" >"$WORK_DIR/pipestatus"
    ) &
    JOB_PID=$!
    wait "$JOB_PID" || true
    JOB_PID=""
    touch "$WORK_DIR/extracted"
    wait "$sha_pid" || true
    local printf_rc curl_rc tee_rc gpg_rc zstd_rc tar_rc got_sha
    read -r printf_rc curl_rc tee_rc gpg_rc zstd_rc tar_rc <"$WORK_DIR/pipestatus" || die "$EX_FAILURE" "the restore pipeline did not report"
    [[ $printf_rc -eq 0 && $curl_rc -eq 0 ]] || die "$EX_STORAGE" "download of $(s3_uri "$object_key") failed: $(one_line_error "$WORK_DIR/curl.err")"
    [[ $tee_rc -eq 0 ]] || die "$EX_FAILURE" "tee failed (exit code $tee_rc)"
    got_sha=$(cat "$WORK_DIR/sha.out")
    [[ "$got_sha" == "$want_sha" ]] || die "$EX_VERIFY" "$(s3_uri "$object_key") has sha256 $got_sha, its manifest $best says $want_sha"
    # The stored bytes are the manifest's (above). A tar that could not write (a full file system, a file size
    # limit: SIGXFSZ, 128+25) closes the pipe, and gpg then fails with "Broken pipe": the disk, not the
    # encryption, is the cause (was exit 5, "cannot decrypt ...: gpg: handle plaintext failed: Broken pipe").
    if [[ $tar_rc -ne 0 ]] && { ((tar_rc == 153)) || grep -qsE 'No space left on device|File too large|Disk quota exceeded' "$WORK_DIR/tar.err"; }; then
        local cause fix="free space, or restore into a larger volume"
        if ((tar_rc == 153)); then
            cause="the file size limit (ulimit -f: $(ulimit -f) KiB) is below a file of the base backup" fix="raise it (ulimit -f unlimited)"
        else
            cause=$(one_line_error "$WORK_DIR/tar.err")
        fi
        die "$EX_USAGE" "cannot extract $(s3_uri "$object_key") into $PARTIAL: $cause; its file system has $(scratch_free_bytes "$(dirname -- "$PARTIAL")") bytes free (the base backup is $(jq -r '.size_bytes // "?"' "$WORK_DIR/manifest.json") bytes compressed, its data directory larger): $fix, then run again; nothing is left at $dir"
    fi
    if [[ $gpg_rc -ne 0 && ($zstd_rc -ne 0 || $tar_rc -ne 0) ]] && grep -qs 'Broken pipe' "$WORK_DIR/gpg.err"; then
        # gpg lost its reader: what came after it failed first.
        [[ $zstd_rc -eq 0 || $zstd_rc -eq 141 ]] || die "$EX_FAILURE" "zstd failed on $(s3_uri "$object_key"): $(one_line_error "$WORK_DIR/zstd.err")"
        [[ $tar_rc -eq 0 ]] || die "$EX_FAILURE" "tar failed extracting $(s3_uri "$object_key") into $PARTIAL: $(one_line_error "$WORK_DIR/tar.err")"
    fi
    [[ $gpg_rc -eq 0 ]] || die "$EX_CRYPTO" "cannot decrypt $(s3_uri "$object_key"): $(one_line_error "$WORK_DIR/gpg.err")"
    [[ $zstd_rc -eq 0 ]] || die "$EX_FAILURE" "zstd failed on $(s3_uri "$object_key"): $(one_line_error "$WORK_DIR/zstd.err")"
    [[ $tar_rc -eq 0 ]] || die "$EX_FAILURE" "tar failed extracting $(s3_uri "$object_key") into $PARTIAL: $(one_line_error "$WORK_DIR/tar.err")"
    [[ -f "$PARTIAL/PG_VERSION" && -f "$PARTIAL/backup_label" ]] || die "$EX_VERIFY" "$(s3_uri "$object_key") is not a base backup (no PG_VERSION or backup_label)"

    # The prefetch: done, and only what the recovery asks for kept (from backup_label's start segment on).
    local start_segment prefetched=0 name
    start_segment=$(sed -n 's/^START WAL LOCATION: .* (file \([0-9A-F]\{24\}\))$/\1/p' "$PARTIAL/backup_label")
    [[ -n "$start_segment" ]] || die "$EX_VERIFY" "$(s3_uri "$object_key") has a backup_label without its START WAL LOCATION"
    wait "$PREFETCH_PID" || log "WARNING: the WAL prefetch failed (above): the recovery fetches each segment itself"
    PREFETCH_PID=""
    while IFS= read -r name; do
        if [[ "$name" < "$start_segment" ]]; then
            rm -f "$PARTIAL/$SPOOL_DIR_NAME/$name"
        else
            prefetched=$((prefetched + 1))
        fi
    done <"$WORK_DIR/prefetched"
    presign_next_history "$PARTIAL/$SPOOL_DIR_NAME" "$timeline"
    # --target-time-file: the target, once the operator has found it; the base backup must have ended before it.
    if [[ -n "$target_file" ]]; then
        target_epoch=$(wait_for_target_file "$target_file" "$file_wait")
        target_time=$(date -u -d "@$target_epoch" '+%Y-%m-%d %H:%M:%S.%6N+00')
        awk -v a="$best_epoch" -v b="$target_epoch" 'BEGIN { exit !(a < b) }' \
            || die "$EX_NO_BACKUP" "the base backup $(s3_uri "$object_key") ended at $finished_at, not before the target $target_time that $target_file gave: run wal-archive.sh restore again with --target-time (it picks the newest base backup that ended before the target)"
        mark_covered "$PARTIAL/$SPOOL_DIR_NAME" "$(printf '%08X' "$timeline")" "$target_epoch"
    fi
    # --wait-for-target: the archive must reach the target before the recovery starts (else it ends before it).
    local reached=""
    if [[ -n "$wait_seconds" ]]; then
        reached=$(wait_for_target "$PARTIAL" "$(printf '%08X' "$timeline")" "$start_segment" "$target_epoch" "$wait_seconds")
        prefetched=$(find "$PARTIAL/$SPOOL_DIR_NAME" -maxdepth 1 -regextype posix-extended -regex '.*/[0-9A-F]{24}' | wc -l)
    fi

    # Recovery settings: PostgreSQL reads the last value of each in postgresql.auto.conf.
    {
        echo "# wal-archive.sh restore $(now_utc): point-in-time recovery from s3://$BUCKET/$WAL_PREFIX"
        spool_first "$restore_command"
        printf "restore_command = '%s'\n" "${SPOOL_FIRST//\'/\'\'}"
        # Run in the data directory when the recovery ends: the segments prefetched past the target go.
        echo "recovery_end_command = 'rm -rf ./$SPOOL_DIR_NAME'"
        if [[ -n "$target_time" ]]; then
            printf "recovery_target_time = '%s'\n" "${target_time//\'/\'\'}"
            echo "recovery_target_inclusive = off"
            echo "recovery_target_action = promote"
        fi
    } >>"$PARTIAL/postgresql.auto.conf"
    touch "$PARTIAL/recovery.signal"
    if [[ -e "$dir" ]]; then rmdir "$dir"; fi
    mv "$PARTIAL" "$dir"
    PARTIAL=""
    # Run as root (the operator's shell), the directory, recovery.signal and the spool were root's: pg_ctl as
    # postgres then failed ("could not open PID file ... Permission denied"). They go to the data's owner.
    local owner=""
    if [[ $EUID -eq 0 ]]; then
        owner=$(stat -c '%U:%G' "$dir/PG_VERSION")
        chown -R "$owner" "$dir" || die "$EX_FAILURE" "cannot chown -R $owner $dir (PostgreSQL refuses a data directory it does not own)"
    fi
    local recovery="recovery of the whole archive"
    [[ -z "$target_time" ]] || recovery="recovery to just before $target_time (recovery_target_time, exclusive)"
    echo "base backup $object_key (finished $finished_at) restored into $dir${owner:+ (owned by $owner, the owner of its data)}; $recovery: start PostgreSQL on it; $prefetched archived WAL segment(s) from $start_segment on prefetched and verified into $dir/$SPOOL_DIR_NAME${reached:+; $reached}"
}

# spool_first CMD: the restore_command restore writes (in SPOOL_FIRST): a segment that is in the spool (prefetched and verified by
# restore) is copied into place by the shell PostgreSQL runs the command with (sh -c, in the data directory: no
# bash, no lib.sh, no date; the same copy and log line as fetch_from_spool, and a failed copy stops the recovery
# as there: exit 200); every other name (the timelines' history files, a read-ahead past the archive, a segment
# whose prefetch failed or that was not prefetched) goes to CMD, this script's fetch, as before.
spool_first() {
    # shellcheck disable=SC2016 # $f is the command's own variable, expanded by its shell
    printf -v SPOOL_FIRST 'f=%s/%%f; if [ -f "$f" ]; then { cp --reflink=auto "$f" "%%p.partial" && mv "%%p.partial" "%%p"; } || exit %s; echo "wal-archive: restored %%f from the spool (prefetched and verified by restore)" >&2; else %s; fi' \
        "$SPOOL_DIR_NAME" "$EX_STOP_RECOVERY" "$1"
}

# archiver_helper (push): the AWS helper of the PostgreSQL cluster whose archiver runs this push, started by
# the first push and used by the next ones (a python start and botocore's import, about 0.3-0.45 s of CPU,
# per segment otherwise). Only when run by PostgreSQL: in the data directory (pg_wal, postmaster.pid) of a
# running postmaster; WAL_PUSH_SHARED_HELPER=off turns it off. The helper's socket is in a directory of this
# user only (TMPDIR/wal-archive-helper.UID.POSTMASTER_PID, 0700; 0600 socket), named after a hash of this run's
# environment (credentials, region, endpoint, proxies: everything exported, but the shell's own and the work
# directory) and of aws-helper.py's modification time: a changed environment or script gets a helper of its
# own. It ends with the postmaster (aws-helper.py watches its pid); the directory goes with it. False (the
# caller starts a helper of its own, as every other script does) when not run by a postmaster, or when that
# directory is not this user's own.
archiver_helper() {
    [[ "${WAL_PUSH_SHARED_HELPER:-on}" != off && -d pg_wal && -f postmaster.pid ]] || return 1
    local postmaster="" name fingerprint=""
    { IFS= read -r postmaster <postmaster.pid; } 2>/dev/null || return 1
    [[ "$postmaster" =~ ^[1-9][0-9]*$ ]] && kill -0 "$postmaster" 2>/dev/null || return 1
    for name in $(compgen -e); do
        case "$name" in _ | PWD | OLDPWD | SHLVL | GNUPGHOME) continue ;; esac
        fingerprint+="$name=${!name}"$'\n'
    done
    fingerprint+="aws-helper.py $(stat -c %Y "$LIB_DIR/aws-helper.py" 2>/dev/null)"
    fingerprint=$(sha256_hex <<<"$fingerprint") || return 1
    local dir="${TMPDIR:-/tmp}/wal-archive-helper.$EUID.$postmaster" id=${fingerprint:0:12} pid="" args=()
    mkdir -m 700 "$dir" 2>/dev/null || true
    if [[ -L "$dir" || ! -d "$dir" || ! -O "$dir" ]]; then
        log "WARNING: $dir is not a directory of this user's own: this push starts an AWS helper of its own"
        return 1
    fi
    # A Unix socket's path has at most 107 bytes (the helper binds it under its name and ".PID" first).
    if (( ${#dir} > 80 )); then
        log "WARNING: $dir is too long a path for a Unix socket (a shorter TMPDIR): this push starts an AWS helper of its own"
        return 1
    fi
    AWS_HELPER_SOCKET="$dir/aws-$id.sock" AWS_HELPER_ERR="$dir/aws-$id.err" AWS_HELPER_FAULT="$dir/aws-$id.fault" AWS_HELPER_SHARED=1
    # The helper writes a fault of the AWS configuration there once (open "x"), and an endpoint host that does not
    # resolve beside it (lib.sh aws_endpoint_fault_file): a fault a previous push met is
    # not this one's (the archiver runs one push at a time), so this push starts without it.
    rm -f "$AWS_HELPER_FAULT" "$dir/aws-$id-endpoint.fault"
    # Running: its socket is there and its pid is an aws-helper.py on that socket (not a pid used again).
    if [[ -S "$AWS_HELPER_SOCKET" ]] && { IFS= read -r pid <"$dir/aws-$id.pid"; } 2>/dev/null && [[ "$pid" =~ ^[0-9]+$ ]] \
        && { mapfile -d '' args <"/proc/$pid/cmdline"; } 2>/dev/null && [[ " ${args[*]} " == *"/aws-helper.py $AWS_HELPER_SOCKET $postmaster "* ]]; then
        AWS_HELPER_PID=$pid
        aws_helper_note_start
        return 0
    fi
    rm -f "$AWS_HELPER_SOCKET"
    # Started in a process group of its own (set -m) that outlives this run; the subshell removes what is
    # left when the helper ends (with the postmaster, or killed). Its stderr and the helper's go to the error
    # file, kept only when the helper never listened (aws_helper_ready reports it).
    # shellcheck disable=SC2094 # the file is removed only after the helper has ended
    (
        cd /
        start_aws_helper "$AWS_HELPER_SOCKET" "$postmaster"
        echo "$AWS_HELPER_PID" >"$dir/aws-$id.pid"
        listened=""
        # While that helper runs (its pid and start time: a number reused once it has ended is not it).
        while aws_helper_runs; do
            [[ ! -S "$AWS_HELPER_SOCKET" ]] || { listened=1; break; }
            short_pause 0.05
        done
        wait "$AWS_HELPER_PID" || true
        rm -f "$AWS_HELPER_SOCKET" "$dir/aws-$id.pid" "$AWS_HELPER_FAULT" "$dir/aws-$id-endpoint.fault"
        [[ -z "$listened" ]] || rm -f "$AWS_HELPER_ERR"
        rmdir "$dir" 2>/dev/null || true
    ) </dev/null >/dev/null 2>>"$AWS_HELPER_ERR" &
    # Waited for by the first call (aws_helper_ready: until the socket is there, while this subshell runs).
    AWS_HELPER_PID=$!
    aws_helper_note_start
    log "started the AWS helper of the cluster's pushes ($AWS_HELPER_SOCKET; it ends with the postmaster, pid $postmaster)"
}

# A segment restore prefetched: copied into place before any helper or gpg starts (or a file known absent).
if [[ "$command" == fetch ]]; then
    spool_status=0
    fetch_from_spool "$@" || spool_status=$?
    [[ $spool_status -ne 0 && $spool_status -ne $EX_NO_BACKUP ]] || exit "$spool_status"
fi
# A command this script does not have is refused before any work (no work directory, no AWS helper).
case "$command" in
push | fetch | base-backup | restore) ;;
*) die "$EX_USAGE" "unknown command \"$command\"; $USAGE" ;;
esac
if [[ "$command" == push ]]; then
    make_work_dir no-helper
    archiver_helper || start_aws_helper
elif [[ "$command" == restore ]]; then
    # restore starts its helper once it has read and checked its options: a usage error exits 2 first.
    make_work_dir no-helper
else
    make_work_dir
fi
case "$command" in
push) push "$@" ;;
fetch) fetch "$@" ;;
base-backup) base_backup "$@" ;;
restore) restore "$@" ;;
esac
