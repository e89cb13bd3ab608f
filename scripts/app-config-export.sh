#!/usr/bin/env bash
# app-config-export.sh: the namespace's ConfigMaps to s3://$BUCKET/config/ (the runbook's "Application
# configs: On change, 90 days").
#
# kubectl get configmaps -n $NAMESPACE -o yaml (without kube-root-ca.crt, which the cluster manages, and
# without the server-managed fields, so that the export can be re-applied) is uploaded to the stable key
# config/configmaps.yaml only when its sha256 differs from the stored object's x-amz-meta-sha256; the
# versioned bucket keeps the earlier versions for the retention period.
#
# Environment: BUCKET (required), AWS_REGION, AWS_ENDPOINT_URL; NAMESPACE (the server's namespace, default
#   oauth2-system; the CronJob sets serverNamespace);
#   CONFIG_PREFIX (default config/); KUBECTL (default kubectl).
#
# Output: "uploaded <key>" or "unchanged <key>" on stdout.
# Exit codes: 0 uploaded or unchanged; 2 configuration; 4 storage; 8 kubectl failed or the namespace has no
#   ConfigMaps (nothing is uploaded); 1 other; 130/143.
set -euo pipefail

# This script's directory as dirname prints it, without a dirname process (lib.sh script_dir).
if [[ "${BASH_SOURCE[0]}" == */* ]]; then SCRIPT_DIR=${BASH_SOURCE[0]%/*}; else SCRIPT_DIR=.; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

require_env BUCKET
NAMESPACE="${NAMESPACE:-oauth2-system}"
CONFIG_PREFIX="${CONFIG_PREFIX:-config/}"
KUBECTL="${KUBECTL:-kubectl}"
require_cmd "$KUBECTL" python3 curl sha256sum

trap_work_dir_cleanup

make_work_dir

# A job, `wait`ed for: a SIGTERM to the script alone (a pod's deadline) interrupts `wait` at once, and the cleanup ends
# kubectl (lib.sh cleanup_work_dir_on_exit); in the foreground (until h39) the trap waited for kubectl, which waits
# as long as an API server that accepts and never answers.
"$KUBECTL" get configmaps -n "$NAMESPACE" --field-selector metadata.name!=kube-root-ca.crt -o yaml \
    >"$WORK_DIR/raw.yaml" 2>"$WORK_DIR/kubectl.err" &
wait $! \
    || die "$EX_SOURCE" "kubectl get configmaps -n $NAMESPACE failed: $(tail -n 1 "$WORK_DIR/kubectl.err")"
strip_server_fields <"$WORK_DIR/raw.yaml" >"$WORK_DIR/configmaps.yaml"
# An empty list is no backup: the wrong namespace (NAMESPACE must be the server's, serverNamespace), a namespace
# that does not exist (kubectl lists nothing and succeeds) or ConfigMaps gone. Fail; never store it as a success.
count=$(grep -c '^- apiVersion:' "$WORK_DIR/configmaps.yaml" || true)
[[ "$count" -gt 0 ]] \
    || die "$EX_SOURCE" "no ConfigMaps in namespace $NAMESPACE (besides kube-root-ca.crt): nothing exported; is NAMESPACE the server's namespace (serverNamespace), and does it exist?"

key="${CONFIG_PREFIX}configmaps.yaml"
hash=$(sha256sum <"$WORK_DIR/configmaps.yaml" | cut -d' ' -f1)
stored_sha256 "$key"
stored=$REPLY
if [[ "$hash" == "$stored" ]]; then
    log "ConfigMaps of $NAMESPACE unchanged (sha256 $hash)"
    echo "unchanged $key"
    exit 0
fi
s3_put_file "$WORK_DIR/configmaps.yaml" "$key" --metadata "sha256=${hash}" --content-type application/yaml 2>"$WORK_DIR/put.err" \
    || upload_failed "$key" "$WORK_DIR/put.err"
log "ConfigMaps of $NAMESPACE uploaded to $key ($count ConfigMaps)"
echo "uploaded $key"
