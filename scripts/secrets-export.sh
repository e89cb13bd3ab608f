#!/usr/bin/env bash
# secrets-export.sh: the server's secrets and keys to s3://$BUCKET/secrets/ (the runbook's "Secrets Backup").
#
# Three items, each under a stable key of the versioned bucket (which keeps 7 versions: "Secrets/Keys,
# On rotation, 7 versions"), each uploaded only when its content changed, so that the 7 versions are 7
# rotations and not 7 days of identical copies:
#   secrets/oauth2-server-secrets.yaml.gpg  kubectl get secret oauth2-server-secrets -o yaml, without the
#                                           server-managed fields (uid, resourceVersion, creationTimestamp,
#                                           managedFields) so that it can be re-applied; gpg AES256
#   secrets/jwk-private-key.json.gpg        the JWK private key from Secrets Manager; gpg AES256
#   secrets/jwks.json                       the public JWKS from the server (public keys only, not encrypted)
# The plaintext's sha256 is stored as object metadata (x-amz-meta-sha256) and compared on the next run.
# Plaintext never touches disk: it is held in shell variables and encrypted from a pipe.
#
# Environment: BUCKET (required), AWS_REGION, AWS_ENDPOINT_URL; PASSPHRASE_FILE or
#   BACKUP_PASSPHRASE_SECRET_ID; NAMESPACE (default oauth2-system); K8S_SECRET_NAME (default
#   oauth2-server-secrets); JWK_SECRET_ID (default oauth2/jwk-private-key); JWKS_URL (default
#   http://oauth2-server:9000/oauth2/jwks); SECRETS_PREFIX (default secrets/); KUBECTL (default kubectl).
#
# Output: one line per item on stdout: "uploaded <key>" or "unchanged <key>".
# Exit codes: 0 every item exported or unchanged; 2 configuration; 4 storage; 5 encryption; 8 a source
#   failed (kubectl, Secrets Manager, JWKS URL: the other items are still exported); 1 other; 130/143.
set -euo pipefail

# This script's directory as dirname prints it, without a dirname process (lib.sh script_dir).
if [[ "${BASH_SOURCE[0]}" == */* ]]; then SCRIPT_DIR=${BASH_SOURCE[0]%/*}; else SCRIPT_DIR=.; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

require_env BUCKET
NAMESPACE="${NAMESPACE:-oauth2-system}"
K8S_SECRET_NAME="${K8S_SECRET_NAME:-oauth2-server-secrets}"
JWK_SECRET_ID="${JWK_SECRET_ID:-oauth2/jwk-private-key}"
JWKS_URL="${JWKS_URL:-http://oauth2-server:9000/oauth2/jwks}"
SECRETS_PREFIX="${SECRETS_PREFIX:-secrets/}"
KUBECTL="${KUBECTL:-kubectl}"
require_cmd "$KUBECTL" gpg python3 curl jq sha256sum

trap_work_dir_cleanup

make_work_dir
load_encryption


failures=0
# export_item KEY ENCRYPT(yes|no) CONTENT: upload when the content's sha256 differs from the stored one.
export_item() {
    local key=$1 encrypt=$2 content=$3 hash stored
    hash=$(printf '%s' "$content" | sha256sum | cut -d' ' -f1)
    stored_sha256 "$key"
    stored=$REPLY
    if [[ "$stored" == "$hash" ]]; then
        echo "unchanged $key"
        return 0
    fi
    if [[ "$encrypt" == yes ]]; then
        printf '%s' "$content" | gpg_encrypt | s3_put_file - "$key" --metadata "sha256=${hash}" "${ENCRYPTION_METADATA[@]}" 2>"$WORK_DIR/put.err" \
            || upload_failed "$key" "$WORK_DIR/put.err"
    else
        printf '%s' "$content" | s3_put_file - "$key" --metadata "sha256=${hash}" \
            --content-type application/json 2>"$WORK_DIR/put.err" || upload_failed "$key" "$WORK_DIR/put.err"
    fi
    echo "uploaded $key"
    log "uploaded $key (sha256 of the content ${hash:0:12}..., previous ${stored:0:12}...)"
}

# 1. The Kubernetes secret. kubectl is a job whose output is read through a FIFO (no file holds the secret): bash's
# read returns at once on a trapped signal, where the command substitution that read it until h39 held a SIGTERM to
# the script alone (a pod's deadline) as long as kubectl waited (an API server that accepts and never answers); the
# cleanup (lib.sh cleanup_work_dir_on_exit) ends kubectl.
mkfifo -m 600 "$WORK_DIR/secret.fifo"
"$KUBECTL" get secret "$K8S_SECRET_NAME" -n "$NAMESPACE" -o yaml >"$WORK_DIR/secret.fifo" 2>"$WORK_DIR/kubectl.err" &
kubectl_job=$!
secret_yaml=""
IFS= read -r -d '' secret_yaml <"$WORK_DIR/secret.fifo" || true
if wait "$kubectl_job"; then
    # Its trailing newlines go as they went from the command substitution (strip_server_fields's own substitution).
    # Through a pipe, not a here-string: bash 5.2 writes a here-string above the pipe's 64 KiB to a temporary file,
    # which would put the secret on disk for a moment (a Secret may hold 1 MiB).
    secret_yaml=$(printf '%s\n' "$secret_yaml" | strip_server_fields)
    export_item "${SECRETS_PREFIX}${K8S_SECRET_NAME}.yaml.gpg" yes "$secret_yaml"
else
    log "ERROR: kubectl get secret $K8S_SECRET_NAME -n $NAMESPACE failed: $(tail -n 1 "$WORK_DIR/kubectl.err")"
    failures=$((failures + 1))
fi

# 2. The JWK private key.
if jwk=$(secret_string "$JWK_SECRET_ID" 2>"$WORK_DIR/sm.err"); then
    export_item "${SECRETS_PREFIX}jwk-private-key.json.gpg" yes "$jwk"
else
    log "ERROR: cannot read $JWK_SECRET_ID from Secrets Manager: $(tail -n 1 "$WORK_DIR/sm.err")"
    failures=$((failures + 1))
fi
unset jwk secret_yaml

# 3. The public JWKS.
if jwks=$(curl -fsS --max-time "${JWKS_TIMEOUT_SECONDS:-20}" --retry 2 "$JWKS_URL" 2>"$WORK_DIR/curl.err"); then
    if [[ "$jwks" == *'"keys"'* ]]; then
        export_item "${SECRETS_PREFIX}jwks.json" no "$jwks"
    else
        log "ERROR: $JWKS_URL did not return a JWK set"
        failures=$((failures + 1))
    fi
else
    log "ERROR: cannot fetch $JWKS_URL: $(tail -n 1 "$WORK_DIR/curl.err")"
    failures=$((failures + 1))
fi

[[ $failures -eq 0 ]] || die "$EX_SOURCE" "$failures source(s) failed"
