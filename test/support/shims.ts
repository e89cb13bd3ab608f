/**
 * Stand-ins written into a temp directory that the tests put first on PATH: a slow or failing pg_dump,
 * a slow pg_restore, and kubectl (no cluster is reachable in CI) printing fixtures.
 */
import * as fs from "fs";
import * as path from "path";
import { PG_BIN } from "./servers";

function write(dir: string, name: string, body: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    return file;
}

/** pg_dump that writes the real dump, then keeps the stream open for SHIM_SLEEP seconds (a slow dump). */
export function slowPgDump(dir: string, seconds: number): string {
    return write(dir, "pg_dump", `[[ "\${1:-}" == --version ]] && exec ${PG_BIN}/pg_dump "$@"
${PG_BIN}/pg_dump "$@"
sleep ${seconds}`);
}

/** pg_dump that writes the first `bytes` bytes of the real dump, then fails (a dump that dies mid-way). */
export function failingPgDump(dir: string, bytes: number): string {
    return write(dir, "pg_dump", `[[ "\${1:-}" == --version ]] && exec ${PG_BIN}/pg_dump "$@"
${PG_BIN}/pg_dump "$@" | head -c ${bytes}
echo "pg_dump: error: connection to server lost" >&2
exit 1`);
}

/** pg_dump that first commits a row through another connection: the dump's snapshot must not see it. */
export function racingPgDump(dir: string, sql: string): string {
    return write(dir, "pg_dump", `[[ "\${1:-}" == --version ]] && exec ${PG_BIN}/pg_dump "$@"
${PG_BIN}/psql -X -q -c ${JSON.stringify(sql)} >/dev/null
exec ${PG_BIN}/pg_dump "$@"`);
}

/** pg_restore that sleeps before restoring (not before --list). */
export function slowPgRestore(dir: string, seconds: number): string {
    return write(dir, "pg_restore", `if [[ " $* " != *" --list "* ]]; then sleep ${seconds}; fi
exec ${PG_BIN}/pg_restore "$@"`);
}

/** kubectl that logs its arguments and prints SHIM_SECRET_FILE or SHIM_CONFIGMAPS_FILE. */
export function fakeKubectl(dir: string): string {
    return write(dir, "kubectl", `echo "$*" >>"\${SHIM_KUBECTL_LOG:-/dev/null}"
case " $* " in
*" get secret "*) [[ -f "\${SHIM_SECRET_FILE:-}" ]] || { echo 'Error from server (NotFound): secrets not found' >&2; exit 1; }; cat "$SHIM_SECRET_FILE" ;;
*" get configmaps "*) [[ -f "\${SHIM_CONFIGMAPS_FILE:-}" ]] || { echo 'The connection to the server was refused' >&2; exit 1; }; cat "$SHIM_CONFIGMAPS_FILE" ;;
*) echo "fake kubectl: unexpected arguments: $*" >&2; exit 1 ;;
esac`);
}

/** pg_restore whose SQL output (restore.sh and the verification use -f -) ends with `sql`: a lossy restore. */
export function lossyPgRestore(dir: string, sql: string): string {
    return write(dir, "pg_restore", `${PG_BIN}/pg_restore "$@" || exit
if [[ " $* " == *" -f - "* ]]; then printf '%s\\n' ${JSON.stringify(sql)}; fi`);
}

/** aws whose streamed upload (s3 cp - s3://...) is refused as S3 refuses it; every other call is the real CLI. */
export function refusingUploadAws(dir: string, realAws: string): string {
    return write(dir, "aws", `if [[ " $* " == *" s3 cp - s3://"* ]]; then
  cat >/dev/null
  for a in "$@"; do [[ "$a" == s3://* ]] && target=$a; done
  echo "upload failed: - to $target An error occurred (AccessDenied) when calling the PutObject operation: Access Denied" >&2
  exit 1
fi
exec ${realAws} "$@"`);
}
