#!/usr/bin/env bash
# validate-service.sh: the runbook's last DR step ("5. Validate") as checks, run after a promotion, a
# restore or on demand. It talks to the server the way a client does (through the public name, so through
# whatever DNS points at) and prints one line per check on stdout:
#   PASS|FAIL health: GET <HEALTH_URL> reports status UP
#   PASS|FAIL discovery: /.well-known/openid-configuration names ISSUER as its issuer; the JWKS serves keys;
#             the token endpoint answers an unauthenticated request with an OAuth error
#   PASS|FAIL token: a client_credentials token for the smoke-test client (its secret from Secrets Manager)
#             is a JWT whose signature verifies against a key of the live JWKS, iss is ISSUER, exp is ahead
#   PASS|FAIL key continuity: every kid of the last backed-up secrets/jwks.json is still served (tokens
#             issued before the failover stay valid); the missing kids are named
#   PASS|FAIL database: the token just issued is recorded in oauth2_authorization of the database at
#             PGHOST (Spring Authorization Server's JdbcOAuth2AuthorizationService saves every
#             authorization), so the server writes to the database this stack declares as primary
#
# Environment:
#   ISSUER (required)                 the public issuer, e.g. https://auth.example.com
#   SERVER_URL                        where discovery is fetched (default ISSUER)
#   HEALTH_URL                        default SERVER_URL/actuator/health
#   SMOKE_CLIENT_SECRET_ID (required) Secrets Manager id of {"client_id": ..., "client_secret": ...}
#   SMOKE_SCOPE                       scope to request (default: none, the client's default)
#   BUCKET (required), SECRETS_PREFIX (default secrets/), AWS_REGION, AWS_ENDPOINT_URL
#   PG* or DB_CREDENTIALS_SECRET_ID   the database the server should be using (PGDATABASE default oauth2db)
#   DB_SCHEMA                         schema of oauth2_authorization (default public)
#   HTTP_TIMEOUT                      seconds per HTTP request (default 10); CLOCK_SKEW seconds (default 60)
#
# Usage: validate-service.sh [--wait-for-stdin]
#   --wait-for-stdin  start now, check later: the sources that do not depend on the service (the AWS
#                     helper's start, the smoke-test client's secret from Secrets Manager, the backed-up
#                     JWKS from S3) are read at once, then the script waits for a line on stdin before the
#                     first check; every check runs after that line, against the service as it is then.
#                     For a caller that knows when the service is ready (the drill starts it while the
#                     restored database promotes and writes the line once the server is switched to it).
#                     stdin closed without a line: exit 2, nothing checked.
# The sources are read in the background in either mode, while health and discovery are fetched.
# After discovery, the requests that need only its fields (the live JWKS, the token endpoint without
# credentials, the smoke-test client's token) are made at once, and the database query runs while the
# token's signature and the key continuity are checked; the lines are printed in the order above.
#
# Exit codes: 0 every check PASS; 6 at least one check FAIL because of the service; otherwise the code of
#   the source this job could not read: 8 Secrets Manager, 4 the backup bucket, 3 the database;
#   2 configuration; 1 other; 130/143 interrupted. No secret or token is printed or put on a command line.
set -euo pipefail

# This script's directory as dirname prints it, without a dirname process (lib.sh script_dir).
if [[ "${BASH_SOURCE[0]}" == */* ]]; then SCRIPT_DIR=${BASH_SOURCE[0]%/*}; else SCRIPT_DIR=.; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

USAGE="usage: validate-service.sh [--wait-for-stdin]"
WAIT_FOR_STDIN=0
while [[ $# -gt 0 ]]; do
    case "$1" in
    --wait-for-stdin) WAIT_FOR_STDIN=1 ;;
    *) die "$EX_USAGE" "unknown argument \"$1\"; $USAGE" ;;
    esac
    shift
done
require_env ISSUER SMOKE_CLIENT_SECRET_ID BUCKET
require_cmd curl jq openssl python3 psql od
SERVER_URL="${SERVER_URL:-$ISSUER}"
SERVER_URL="${SERVER_URL%/}"
HEALTH_URL="${HEALTH_URL:-$SERVER_URL/actuator/health}"
SECRETS_PREFIX="${SECRETS_PREFIX:-secrets/}"
HTTP_TIMEOUT="${HTTP_TIMEOUT:-10}"
CLOCK_SKEW="${CLOCK_SKEW:-60}"
[[ "$HTTP_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "$EX_USAGE" "HTTP_TIMEOUT must be a positive number of seconds, not $HTTP_TIMEOUT"
[[ "$CLOCK_SKEW" =~ ^[0-9]+$ ]] || die "$EX_USAGE" "CLOCK_SKEW must be a number of seconds, not $CLOCK_SKEW"
[[ "$ISSUER" =~ ^https?://[^/]+ ]] || die "$EX_USAGE" "ISSUER must be an http(s) URL, not $ISSUER"
[[ "$DB_SCHEMA" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "$EX_USAGE" "DB_SCHEMA must be a plain identifier, not $DB_SCHEMA"

trap_work_dir_cleanup
make_work_dir

SERVICE_FAILED=0
SOURCE_CODE=0
# check NAME PASS|FAIL DETAIL [SOURCE_EXIT_CODE|-]: print the line; a FAIL with a code is our source's
# fault; "-" marks a check not reached because of an earlier FAIL (which decided the exit code).
AWS_FAULT_SAID=""
check() {
    local name=$1 verdict=$2 detail=$3 code=${4:-}
    printf '%s %s: %s\n' "$verdict" "$name" "$detail"
    [[ "$verdict" == PASS || "$code" == - ]] && return 0
    if [[ -n "$code" ]]; then
        # exit_code: 2 instead when the AWS profile or credentials are the cause (lib.sh), whose line is said once.
        local mapped
        mapped=$(exit_code "$code")
        if [[ "$mapped" != "$code" && -z "$AWS_FAULT_SAID" ]]; then
            AWS_FAULT_SAID=1
            log "ERROR: $(aws_config_fault)"
        fi
        [[ $SOURCE_CODE -ne 0 ]] || SOURCE_CODE=$mapped
    else
        SERVICE_FAILED=1
    fi
}

# http_get URL OUT: the status code ("000" when unreachable); the body in OUT, curl's error in OUT.err.
http_get() {
    curl -sS --max-time "$HTTP_TIMEOUT" -o "$2" -w '%{http_code}' "$1" 2>"$2.err" || true
}

curl_error() { tail -n 1 "$1.err" 2>/dev/null | sed 's/^curl: ([0-9]*) //'; }

# http_get_pair URL1 OUT1 URL2 OUT2: both GETs in one curl (one process, one connection when the host is the
# same); their status codes, a line each ("000" when unreachable); each body in OUTn, curl's error in OUTn.err.
http_get_pair() {
    local outs=("$2" "$4") code msg i=0
    while IFS=$'\t' read -r code msg; do
        [[ -z "$msg" ]] || printf '%s\n' "$msg" >"${outs[i]}.err"
        echo "$code"
        i=$((i + 1))
    done < <(curl -sS --max-time "$HTTP_TIMEOUT" -w '%{http_code}\t%{errormsg}\n' -o "$2" "$1" -o "$4" "$3" 2>/dev/null || true)
}

# --- the sources, read at once ----------------------------------------------------------------------
# The smoke-test client's secret (Secrets Manager) and the backed-up JWKS (S3) do not depend on the service:
# both are read in the background as soon as the AWS helper answers, while health and discovery are fetched
# (the helper's start, python and botocore, is then off the checks' path). The secret comes back through a
# pipe (fd SECRET_FD: "ok", the client id and the form-encoded "id:secret" a line each, or "failed"), never a file; the JWKS into a file, with its
# status in backup-jwks.rc.
SECRET_FD="" SECRET_PID="" BACKUP_JWKS_PID="" JWKS_PID="" TOKEN_PROBE_PID="" TOKEN_PID="" DATABASE_PID=""
read_sources() {
    exec {SECRET_FD}< <(
        if value=$(secret_string "$SMOKE_CLIENT_SECRET_ID" 2>"$WORK_DIR/token.sm.err"); then
            echo ok
            # One jq: the client id (for the messages), then "id:secret" form-encoded (RFC 6749 2.3.1) for
            # curl; nothing unless both are there. The secret stays in pipes, never on a command line.
            jq -r '[.client_id, .client_secret] | select(all(. != null and . != false)) | map(tostring)
                | select(all(. != "")) | (.[0] | gsub("\n"; " ")), ((.[0] | @uri) + ":" + (.[1] | @uri))' <<<"$value" 2>/dev/null || true
        else
            echo failed
        fi
    )
    SECRET_PID=$!
    (
        rc=0
        s3_get_file "${SECRETS_PREFIX}jwks.json" "$WORK_DIR/backup-jwks.json" 2>"$WORK_DIR/backup-jwks.json.err" || rc=$?
        echo "$rc" >"$WORK_DIR/backup-jwks.rc"
    ) &
    BACKUP_JWKS_PID=$!
}

# shellcheck disable=SC2317 # run from the EXIT trap
# On any exit: the reads end before the work directory they write into is removed (a few hundred ms at most
# when the script stops early, e.g. --wait-for-stdin's stdin closed while the helper starts).
wait_for_source_reads() {
    [[ -z "$SECRET_FD" ]] || exec {SECRET_FD}<&-
    SECRET_FD=""
    local pid
    for pid in "$SECRET_PID" "$BACKUP_JWKS_PID" "$JWKS_PID" "$TOKEN_PROBE_PID" "$TOKEN_PID" "$DATABASE_PID"; do
        [[ -z "$pid" ]] || wait "$pid" 2>/dev/null || true
    done
}
# shellcheck disable=SC2317 # the EXIT trap
validate_cleanup_on_exit() {
    local status=$?
    wait_for_source_reads
    # The run's status for cleanup_work_dir_on_exit ($?), through a subshell's exit: under set -e that exit ended the
    # trap itself whenever the status was not 0, and the work directory was never removed (every failed or refused
    # validation left /tmp/validate-service.XXXXXX: 437 on this machine, found by h39-drill's trial).
    set +e
    (exit "$status")
    cleanup_work_dir_on_exit
}
trap validate_cleanup_on_exit EXIT

# Health and discovery, fetched together before the checks read them.
HEALTH_CODE="" DISCOVERY_CODE=""
fetch_health_and_discovery() {
    { IFS= read -r HEALTH_CODE; IFS= read -r DISCOVERY_CODE; } < <(http_get_pair "$HEALTH_URL" "$WORK_DIR/health" "$SERVER_URL/.well-known/openid-configuration" "$WORK_DIR/discovery") || true
    HEALTH_CODE=${HEALTH_CODE:-000} DISCOVERY_CODE=${DISCOVERY_CODE:-000}
}

# --- health ---------------------------------------------------------------------------------------------

check_health() {
    local out="$WORK_DIR/health" code=$HEALTH_CODE status
    if [[ "$code" == 000 ]]; then
        check health FAIL "$HEALTH_URL is unreachable: $(curl_error "$out")"
        return
    fi
    status=$(jq -r '.status // "none"' "$out" 2>/dev/null) || status="not JSON"
    if [[ "$status" == UP ]]; then
        check health PASS "$HEALTH_URL reports UP (HTTP $code)"
    else
        check health FAIL "$HEALTH_URL reports ${status} (HTTP $code)"
    fi
}

# --- discovery ------------------------------------------------------------------------------------------

TOKEN_ENDPOINT=""
JWKS_URI=""
ISSUER_SERVED=""
JWKS_FILE="$WORK_DIR/jwks.json"
# discovery_fields: issuer, token_endpoint and jwks_uri of the discovery document (one jq; not JSON or not
# fetched: all three empty).
discovery_fields() {
    [[ "$DISCOVERY_CODE" == 200 ]] || return 0
    { IFS= read -r ISSUER_SERVED; IFS= read -r TOKEN_ENDPOINT; IFS= read -r JWKS_URI; } < <(jq -r '.issuer, .token_endpoint, .jwks_uri | . // "" | tostring | gsub("\n"; " ")' "$WORK_DIR/discovery" 2>/dev/null || true) || true
}

# start_requests: the requests that need only discovery's fields, all at once in the background (each one's
# status code in a file, read by its check): the live JWKS, the token endpoint without credentials
# (discovery), and the smoke-test client's token request (token; its credentials from read_sources' pipe,
# on curl's stdin). The checks then read their answers in order.
CLIENT_ID="" SECRET_STATUS=""
# read_secret_answer: read_sources' answer on SECRET_FD, read once: its status line into SECRET_STATUS, then
# (when ok) the client id into CLIENT_ID and the credentials into the caller's local `credentials` (empty when
# the secret does not hold both); the descriptor is closed.
read_secret_answer() {
    IFS= read -r SECRET_STATUS <&"$SECRET_FD" || true
    if [[ "$SECRET_STATUS" == ok ]]; then
        IFS= read -r CLIENT_ID <&"$SECRET_FD" || true
        IFS= read -r credentials <&"$SECRET_FD" || true
    fi
    exec {SECRET_FD}<&-
    SECRET_FD=""
}

start_requests() {
    local credentials=""
    if [[ -n "$JWKS_URI" ]]; then
        { http_get "$JWKS_URI" "$JWKS_FILE" >"$JWKS_FILE.code"; } &
        JWKS_PID=$!
    fi
    [[ -n "$TOKEN_ENDPOINT" ]] || return 0
    # Without credentials a live token endpoint answers 400/401 with an OAuth error object.
    { curl -sS --max-time "$HTTP_TIMEOUT" -o "$WORK_DIR/discovery.token" -w '%{http_code}' -d grant_type=client_credentials "$TOKEN_ENDPOINT" \
        >"$WORK_DIR/discovery.token.code" 2>"$WORK_DIR/discovery.token.err" || true; } &
    TOKEN_PROBE_PID=$!
    read_secret_answer
    [[ "$SECRET_STATUS" == ok && -n "$CLIENT_ID" && -n "$credentials" ]] || return 0
    # client_secret_basic (RFC 6749 2.3.1: form-encoded id and secret); the credentials reach curl on stdin.
    { printf 'user = "%s"\n' "$credentials" |
        curl -sS --max-time "$HTTP_TIMEOUT" --config - -o "$WORK_DIR/token" -w '%{http_code}' \
            --data-urlencode grant_type=client_credentials ${SMOKE_SCOPE:+--data-urlencode "scope=$SMOKE_SCOPE"} \
            "$TOKEN_ENDPOINT" >"$WORK_DIR/token.code" 2>"$WORK_DIR/token.err" || true; } &
    TOKEN_PID=$!
}

# answer PID CODE_FILE: waits for a request of start_requests (in this shell, never in $(...): the request
# is its child); its status code in ANSWER ("000" when none).
ANSWER=""
answer() {
    ANSWER=""
    [[ -z "$1" ]] || wait "$1" 2>/dev/null || true
    [[ ! -f "$2" ]] || ANSWER=$(<"$2")
    ANSWER=${ANSWER:-000}
}

check_discovery() {
    local out="$WORK_DIR/discovery" url="$SERVER_URL/.well-known/openid-configuration" code issuer jwks_keys="" problems=()
    code=$DISCOVERY_CODE
    if [[ "$code" != 200 ]]; then
        check discovery FAIL "$url answered HTTP $code $(curl_error "$out")"
        return
    fi
    issuer=$ISSUER_SERVED
    [[ "${issuer%/}" == "${ISSUER%/}" ]] || problems+=("issuer is \"$issuer\", expected \"$ISSUER\"")
    if [[ -z "$JWKS_URI" ]]; then
        problems+=("no jwks_uri")
    else
        answer "$JWKS_PID" "$JWKS_FILE.code"
        code=$ANSWER
        # The number of keys when there are any, else nothing.
        jwks_keys=$(jq -r '.keys | length | select(. > 0)' "$JWKS_FILE" 2>/dev/null) || jwks_keys=""
        if [[ "$code" != 200 || -z "$jwks_keys" ]]; then
            problems+=("JWKS $JWKS_URI answered HTTP $code without keys $(curl_error "$JWKS_FILE")")
            rm -f "$JWKS_FILE"
        fi
    fi
    if [[ -z "$TOKEN_ENDPOINT" ]]; then
        problems+=("no token_endpoint")
    else
        answer "$TOKEN_PROBE_PID" "$out.token.code"
        code=$ANSWER
        if [[ ! "$code" =~ ^40[01]$ ]] || ! jq -e '.error' "$out.token" >/dev/null 2>&1; then
            problems+=("token endpoint $TOKEN_ENDPOINT answered HTTP $code $(curl_error "$out.token") instead of an OAuth error")
        fi
    fi
    if [[ ${#problems[@]} -eq 0 ]]; then
        check discovery PASS "issuer $issuer; JWKS serves $jwks_keys key(s); token endpoint answers"
    else
        local joined
        joined=$(printf '%s; ' "${problems[@]}")
        check discovery FAIL "${joined%; }"
    fi
}

# --- token ----------------------------------------------------------------------------------------------

# b64url_decode: base64url (no padding) on stdin to bytes on stdout.
b64url_decode() {
    local data=""
    IFS= read -r -d '' data || true
    data=${data//$'\n'/}
    data=${data//_//}
    data=${data//-/+}
    while (( ${#data} % 4 != 0 )); do data+="="; done
    printf '%s' "$data" | base64 -d 2>/dev/null
}

b64url_hex() {
    local hex
    hex=$(b64url_decode | od -An -v -tx1)
    printf '%s' "${hex//[$' \n']/}"
}

# rsa_public_pem N E OUT: the PEM public key of a JWK's n and e (RSAPublicKey built with asn1parse).
rsa_public_pem() {
    local conf="$WORK_DIR/rsa.asn1"
    printf 'asn1=SEQUENCE:rsa\n[rsa]\nn=INTEGER:0x%s\ne=INTEGER:0x%s\n' \
        "$(printf '%s' "$1" | b64url_hex)" "$(printf '%s' "$2" | b64url_hex)" >"$conf"
    openssl asn1parse -genconf "$conf" -noout -out "$WORK_DIR/rsa.der" >/dev/null 2>&1 &&
        openssl rsa -RSAPublicKey_in -inform DER -in "$WORK_DIR/rsa.der" -pubout -out "$3" >/dev/null 2>&1
}

# ec_public_pem X Y CURVE OUT: the PEM public key of an EC JWK (SubjectPublicKeyInfo built with asn1parse).
ec_public_pem() {
    local conf="$WORK_DIR/ec.asn1"
    printf 'asn1=SEQUENCE:spki\n[spki]\nalg=SEQUENCE:alg\nkey=FORMAT:HEX,BITSTRING:04%s%s\n[alg]\noid=OID:id-ecPublicKey\ncurve=OID:%s\n' \
        "$(printf '%s' "$1" | b64url_hex)" "$(printf '%s' "$2" | b64url_hex)" "$3" >"$conf"
    openssl asn1parse -genconf "$conf" -noout -out "$WORK_DIR/ec.der" >/dev/null 2>&1 &&
        openssl pkey -pubin -inform DER -in "$WORK_DIR/ec.der" -out "$4" >/dev/null 2>&1
}

# ecdsa_der_signature FILE: a JWS ECDSA signature (r || s, RFC 7518 3.4) rewritten in place as DER.
ecdsa_der_signature() {
    local hex half conf="$WORK_DIR/sig.asn1"
    hex=$(od -An -v -tx1 "$1")
    hex=${hex//[$' \n']/}
    half=$(( ${#hex} / 2 ))
    printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' "${hex:0:half}" "${hex:half}" >"$conf"
    openssl asn1parse -genconf "$conf" -noout -out "$1" >/dev/null 2>&1
}

# verify_jwt TOKEN ALG KID: "" when the signature verifies against a key of JWKS_FILE, else the reason (ALG
# and KID from the token's header). RS256/384/512 and PS256/384/512 (RSA), ES256/ES384 (P-256/P-384): what
# Spring Authorization Server signs with.
verify_jwt() {
    local token=$1 alg=$2 kid=$3 kty digest curve="" found="" a="" b="" opts=()
    case "$alg" in
    RS256 | RS384 | RS512) kty=RSA ;;
    PS256 | PS384 | PS512) kty=RSA; opts=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest) ;;
    ES256) kty=EC; curve=prime256v1 ;;
    ES384) kty=EC; curve=secp384r1 ;;
    *) echo "unsupported or missing alg \"$alg\" (RS*, PS*, ES256 and ES384 are verified)"; return ;;
    esac
    digest="-sha${alg:2}"
    # The first JWK of that type and kid: "found", then its n and e (RSA) or x and y (EC), a line each.
    { IFS= read -r found; IFS= read -r a; IFS= read -r b; } < <(jq -r --arg kid "$kid" --arg kty "$kty" \
        '[.keys[] | select(.kty == $kty and ($kid == "" or .kid == $kid))][0] // empty | "found", (if $kty == "RSA" then .n, .e else .x, .y end | tostring)' "$JWKS_FILE" || true) || true
    if [[ "$found" != found ]]; then
        echo "signed with kid \"$kid\" ($alg), which the live JWKS does not serve"
        return
    fi
    if [[ "$kty" == RSA ]]; then
        rsa_public_pem "$a" "$b" "$WORK_DIR/key.pem" || { echo "cannot read JWK \"$kid\" as an RSA key"; return; }
    else
        ec_public_pem "$a" "$b" "$curve" "$WORK_DIR/key.pem" || { echo "cannot read JWK \"$kid\" as an EC key"; return; }
    fi
    printf '%s' "${token%.*}" >"$WORK_DIR/signed"
    printf '%s' "${token##*.}" | b64url_decode >"$WORK_DIR/signature"
    if [[ "$kty" == EC ]]; then
        ecdsa_der_signature "$WORK_DIR/signature" || { echo "the $alg signature is malformed"; return; }
    fi
    openssl dgst "$digest" "${opts[@]}" -verify "$WORK_DIR/key.pem" -signature "$WORK_DIR/signature" "$WORK_DIR/signed" >/dev/null 2>&1 ||
        echo "signature does not verify against JWK \"$kid\" of the live JWKS"
}

# jwt_claims_problem CLAIMS: "" when iss is ISSUER and exp/iat/nbf hold now, else the reason.
jwt_claims_problem() {
    local claims=$1 now iss="" exp=0 iat=0 nbf=0
    printf -v now '%(%s)T' -1
    # One jq, a line each; a time that is not a number counts as 0 (exp then fails).
    { IFS= read -r iss; IFS= read -r exp; IFS= read -r iat; IFS= read -r nbf; } < <(jq -r \
        '(.iss // "" | tostring | gsub("\n"; " ")), (.exp, .iat, .nbf | if type == "number" then floor else 0 end)' <<<"$claims" 2>/dev/null || true) || true
    [[ "$exp" =~ ^-?[0-9]+$ ]] || exp=0
    [[ "$iat" =~ ^-?[0-9]+$ ]] || iat=0
    [[ "$nbf" =~ ^-?[0-9]+$ ]] || nbf=0
    if [[ "${iss%/}" != "${ISSUER%/}" ]]; then echo "iss is \"$iss\", expected \"$ISSUER\""
    elif (( exp <= now - CLOCK_SKEW )); then echo "exp $exp is not ahead of now ($now)"
    elif (( iat > now + CLOCK_SKEW || nbf > now + CLOCK_SKEW )); then echo "iat/nbf $iat/$nbf are in the future (now $now)"
    fi
}

ACCESS_TOKEN=""
check_token() {
    local client_id="" credentials="" out="$WORK_DIR/token" code token payload claims problem header alg="" kid=""
    local status=$SECRET_STATUS
    if [[ -z "$status" && -n "$SECRET_FD" ]]; then
        # Discovery gave no token endpoint (start_requests did not read the secret): read it now.
        read_secret_answer
        status=$SECRET_STATUS
    fi
    client_id=$CLIENT_ID
    if [[ "$status" != ok ]]; then
        check token FAIL "cannot read the smoke-test client from Secrets Manager ($SMOKE_CLIENT_SECRET_ID): $(tail -n 1 "$out.sm.err")" "$EX_SOURCE"
        return
    fi
    if [[ -z "$client_id" || ( -z "$credentials" && -z "$TOKEN_PID" ) ]]; then
        check token FAIL "secret $SMOKE_CLIENT_SECRET_ID is not {\"client_id\", \"client_secret\"}" "$EX_USAGE"
        return
    fi
    if [[ -z "$TOKEN_ENDPOINT" || ! -s "$JWKS_FILE" ]]; then
        check token FAIL "not checked: discovery gave no token endpoint or no JWKS" -
        return
    fi
    # The request start_requests made.
    answer "$TOKEN_PID" "$out.code"
    code=$ANSWER
    token=$(jq -r '.access_token // ""' "$out" 2>/dev/null) || token=""
    if [[ "$code" != 200 || -z "$token" ]]; then
        check token FAIL "client $client_id got HTTP $code from $TOKEN_ENDPOINT: $(jq -r '[.error, .error_description] | map(select(.)) | join(": ")' "$out" 2>/dev/null || curl_error "$out")"
        return
    fi
    if [[ ! "$token" =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]]; then
        check token FAIL "client $client_id got an access token that is not a signed JWT"
        return
    fi
    ACCESS_TOKEN=$token
    start_database_query
    header=$(printf '%s' "${token%%.*}" | b64url_decode) || header=""
    { IFS= read -r alg; IFS= read -r kid; } < <(jq -r '.alg, .kid | . // "" | tostring | gsub("\n"; " ")' <<<"$header" 2>/dev/null || true) || true
    problem=$(verify_jwt "$token" "$alg" "$kid")
    if [[ -z "$problem" ]]; then
        payload=${token#*.}
        claims=$(printf '%s' "${payload%%.*}" | b64url_decode) || claims="{}"
        problem=$(jwt_claims_problem "$claims")
    fi
    if [[ -n "$problem" ]]; then
        check token FAIL "client $client_id: $problem"
    else
        check token PASS "client $client_id got a JWT (kid ${kid:-none}) that verifies against the live JWKS; iss and exp are right"
    fi
}

# --- key continuity -------------------------------------------------------------------------------------

# continuity BACKUP LIVE: one jq over the backed-up JWKS and the live one (/dev/null when it was not read):
# "keys" when the backup has any, the number of distinct backed-up key identities (a kid, or the modulus/x
# coordinate when there is none), then those the live JWKS does not serve, comma-separated in byte order.
continuity() {
    jq -rn --slurpfile backup "$1" --slurpfile live "$2" '
        def ids: [(.keys // [])[]? | (.kid // .n // .x // empty) | tostring] | unique;
        ($backup[0] // {}) as $b | select(($b | .keys | length) > 0) | ($b | ids) as $ids
        | "keys", ($ids | length), ($ids - ($live[0] // {} | ids) | join(","))'
}

check_key_continuity() {
    local backup="$WORK_DIR/backup-jwks.json" key="${SECRETS_PREFIX}jwks.json" live="$JWKS_FILE" has_keys="" count="" missing=""
    local rc=""
    wait "$BACKUP_JWKS_PID" || true
    [[ ! -f "$WORK_DIR/backup-jwks.rc" ]] || rc=$(<"$WORK_DIR/backup-jwks.rc")
    if [[ "$rc" != 0 ]]; then
        check "key continuity" FAIL "cannot read $(s3_uri "$key"): $(tail -n 1 "$backup.err")" "$EX_STORAGE"
        return
    fi
    [[ -s "$live" ]] || live=/dev/null
    { IFS= read -r has_keys; IFS= read -r count; IFS= read -r missing; } < <(continuity "$backup" "$live" 2>/dev/null || true) || true
    if [[ "$has_keys" != keys ]]; then
        check "key continuity" FAIL "$(s3_uri "$key") holds no keys" "$EX_STORAGE"
        return
    fi
    if [[ "$live" == /dev/null ]]; then
        check "key continuity" FAIL "not checked: the live JWKS could not be read" -
        return
    fi
    if [[ -n "$missing" ]]; then
        check "key continuity" FAIL "kid(s) $missing of the backed-up JWKS are no longer served: tokens they signed stop verifying"
    else
        check "key continuity" PASS "all $count backed-up kid(s) are served"
    fi
}

# --- database -------------------------------------------------------------------------------------------

# database_query: one psql: the column's type, then the count of the token's rows. The generic schema stores
# token values as blob (bytea in PostgreSQL), the PostgreSQL one as text. Its answer: "missing" (no such
# column) or "count N". The token goes to psql on stdin, not on its command line.
database_query() {
    printf '\\set token %s\n%s\n' "$ACCESS_TOKEN" "SELECT coalesce((SELECT data_type FROM information_schema.columns WHERE table_schema = '$DB_SCHEMA' AND table_name = 'oauth2_authorization' AND column_name = 'access_token_value'), '') AS type \\gset
SELECT :'type' = '' AS missing, :'type' = 'bytea' AS bytea \\gset
\\if :missing
SELECT 'missing';
\\elif :bytea
SELECT 'count ' || count(*) FROM \"$DB_SCHEMA\".oauth2_authorization WHERE access_token_value = convert_to(:'token', 'UTF8');
\\else
SELECT 'count ' || count(*) FROM \"$DB_SCHEMA\".oauth2_authorization WHERE access_token_value = :'token';
\\endif" | psql_value 2>"$WORK_DIR/db.err"
}

# start_database_query: once the token is issued, its query runs in the background while the token's
# signature and the key continuity are checked (answer in db.answer, status in db.rc), unless the database
# credentials must first be read from Secrets Manager (check_database reads them in its turn: a failure
# there ends the script after the lines before it, as it always did).

start_database_query() {
    [[ -n "$ACCESS_TOKEN" ]] || return 0
    [[ -z "${DB_CREDENTIALS_SECRET_ID:-}" || -n "${PGPASSWORD:-}" ]] || return 0
    { rc=0; database_query >"$WORK_DIR/db.answer" || rc=$?; echo "$rc" >"$WORK_DIR/db.rc"; } &
    DATABASE_PID=$!
}

check_database() {
    local where answer rc=0
    if [[ -z "$ACCESS_TOKEN" ]]; then
        check database FAIL "not checked: no token was issued" -
        return
    fi
    load_db_credentials
    where="${PGDATABASE} at ${PGHOST:-local socket}:${PGPORT:-5432}"
    if [[ -n "$DATABASE_PID" ]]; then
        wait "$DATABASE_PID" 2>/dev/null || true
        rc=$(<"$WORK_DIR/db.rc") || rc=1
        answer=$(<"$WORK_DIR/db.answer") || rc=1
    else
        answer=$(database_query) || rc=$?
    fi
    if [[ "$rc" != 0 ]]; then
        check database FAIL "cannot query $where: $(tail -n 1 "$WORK_DIR/db.err")" "$EX_DATABASE"
        return
    fi
    if [[ "$answer" == missing ]]; then
        check database FAIL "$where has no $DB_SCHEMA.oauth2_authorization.access_token_value"
        return
    fi
    if [[ "$answer" =~ ^count\ ([0-9]+)$ && ${BASH_REMATCH[1]} -ge 1 ]]; then
        check database PASS "the token just issued is recorded in $where: the server uses this database"
    else
        check database FAIL "the token just issued is not in $where: the server writes to another database"
    fi
}

read_sources
if [[ $WAIT_FOR_STDIN -eq 1 ]]; then
    go=""
    IFS= read -r go || [[ -n "$go" ]] || die "$EX_USAGE" "--wait-for-stdin: stdin closed before the line that starts the checks; nothing was checked"
fi
fetch_health_and_discovery
discovery_fields
start_requests
check_health
check_discovery
check_token
check_key_continuity
check_database

if [[ $SERVICE_FAILED -ne 0 ]]; then
    exit "$EX_VERIFY"
fi
exit "$SOURCE_CODE"
