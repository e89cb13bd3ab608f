/**
 * Stand-ins written into a temp directory that the tests put first on PATH: a slow or failing pg_dump,
 * a slow pg_restore, and kubectl (no cluster is reachable in CI) printing fixtures.
 */
import * as fs from "fs";
import { spawnSync } from "child_process";
import * as path from "path";
import { BASH_C } from "../../tools/sandbox/scripts";
import { PG_BIN } from "../../tools/sandbox/servers";

function write(dir: string, name: string, body: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    return file;
}

/** Written into the shims' directory by slowPgDump's pg_dump once its pause is over (a run that waited for it). */
export const SLOW_DUMP_ENDED = "slow-pg_dump-ended";

/** pg_dump that writes the real dump, then keeps the stream open for `seconds` (a slow dump); SLOW_DUMP_ENDED after. */
export function slowPgDump(dir: string, seconds: number): string {
    return write(dir, "pg_dump", `[[ "\${1:-}" == --version ]] && exec ${PG_BIN}/pg_dump "$@"
${PG_BIN}/pg_dump "$@"
sleep ${seconds}
: >'${path.join(dir, SLOW_DUMP_ENDED)}'`);
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

/**
 * date whose object-name stamp (lib.sh time_ordered_stamp) is always `second`, with nanoseconds that grow
 * with real time (a hundredth of it, from now): runs that fall within one second, as if the machine were fast.
 */
export function frozenSecondDate(dir: string, second: string): string {
    const base = `${Date.now()}000000`;
    return write(dir, "date", `if [[ "$*" == "-u +%Y%m%dT%H%M%SZ %N" ]]; then echo "${second} $(( ($(/usr/bin/date +%s%N) - ${base}) / 100 ))"; else exec /usr/bin/date "$@"; fi`);
}

/** psql that appends its arguments (one line per run) to `log`, then runs the real psql. */
export function loggingPsql(dir: string, log: string): string {
    return write(dir, "psql", `printf '%s\\n' "$*" >>${JSON.stringify(log)}
exec ${PG_BIN}/psql "$@"`);
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

/**
 * pg_restore whose restore script ends with `sql`: a lossy restore. The script of everything but the rows
 * (`-s -f FILE`: what the one pass's swap runs, restore.sh's and the verification's), and a whole restore
 * script on stdout (`-f -` without -a: a dump restored in one stream); the rows alone (`-a`) are left as they are.
 */
export function lossyPgRestore(dir: string, sql: string): string {
    return write(dir, "pg_restore", `${PG_BIN}/pg_restore "$@" || exit
out="" prev=""
for a in "$@"; do [[ "$prev" == -f ]] && out=$a; prev=$a; done
if [[ " $* " == *" -s "* && -n "$out" && "$out" != - ]]; then printf '%s\\n' ${JSON.stringify(sql)} >>"$out"
elif [[ "$out" == - && " $* " != *" -a "* ]]; then printf '%s\\n' ${JSON.stringify(sql)}; fi`);
}

/**
 * A sitecustomize.py for aws-helper.py (put `dir` on PYTHONPATH): S3 refuses uploads of dumps (*.dump.gpg) as
 * it refuses a role without s3:PutObject, AccessDenied on PutObject and CreateMultipartUpload; every other
 * call reaches moto. botocore's before-call event is how a real refusal surfaces: a ClientError.
 */
export function refusingDumpUploads(dir: string): string {
    return refusingUploads(dir, ".dump.gpg");
}

/** The same refusal for the keys ending in `suffix` (e.g. "latest.json": a role that may not write the pointer). */
export function refusingUploads(dir: string, suffix: string): string {
    return refusingCalls(dir, suffix, ["PutObject", "CreateMultipartUpload"], { Code: "AccessDenied", Message: "Access Denied" });
}

/**
 * HeadObject of the keys ending in `suffix` refused as S3 refuses a role without s3:GetObject (which HEAD needs):
 * a bare 403, HEAD having no body (botocore's ClientError code "403", "Forbidden"); PutObject still allowed.
 */
export function refusingHeads(dir: string, suffix: string): string {
    return refusingCalls(dir, suffix, ["HeadObject"], { Code: "403", Message: "Forbidden" }, 403);
}

/** A sitecustomize.py (in `dir`) refusing the S3 `operations` on the keys ending in `suffix` with `error` (and `status`, the HTTP status botocore saw). */
function refusingCalls(dir: string, suffix: string, operations: string[], error: { Code: string; Message: string }, status?: number): string {
    const file = path.join(dir, "sitecustomize.py");
    fs.writeFileSync(file, `import botocore.exceptions
import botocore.session

_create_client = botocore.session.Session.create_client


def _refuse(model, params, **_):
    if str(params.get("url_path", "")).endswith(${JSON.stringify(suffix)}):
        raise botocore.exceptions.ClientError({"Error": ${JSON.stringify(error)}${status ? `, "ResponseMetadata": {"HTTPStatusCode": ${status}}` : ""}}, model.name)


def create_client(self, service, *args, **kwargs):
    client = _create_client(self, service, *args, **kwargs)
    if service == "s3":
${operations.map((op) => `        client.meta.events.register("before-call.s3.${op}", _refuse)`).join("\n")}
    return client


botocore.session.Session.create_client = create_client
`);
    return file;
}

/**
 * A sitecustomize.py for aws-helper.py (put `dir` on PYTHONPATH) that makes botocore's S3 model the one of
 * botocore before 1.35 (Debian bookworm's python3-botocore 1.29, the backup image's): PutObject without the
 * IfMatch / IfNoneMatch parameters, so that passing them is "Unknown parameter in input" as there.
 */
export function botocoreWithoutConditionalPuts(dir: string): string {
    const file = path.join(dir, "sitecustomize.py");
    fs.writeFileSync(file, `import botocore.session

_create_client = botocore.session.Session.create_client


def create_client(self, service, *args, **kwargs):
    client = _create_client(self, service, *args, **kwargs)
    if service == "s3":
        members = client.meta.service_model.operation_model("PutObject").input_shape.members
        members.pop("IfMatch", None)
        members.pop("IfNoneMatch", None)
    return client


botocore.session.Session.create_client = create_client
`);
    return file;
}

/**
 * curl that appends each call's arguments, one line a call, to `dir`/curl.calls (returned), then runs the real
 * curl: what a script asked of S3 or of the AWS helper, counted by a test.
 */
export function recordingCurl(dir: string): string {
    const calls = path.join(dir, "curl.calls");
    const curl = spawnSync("bash", [...BASH_C, "command -v curl"], { encoding: "utf8" }).stdout.trim();
    write(dir, "curl", `printf '%s\\n' "$*" >>${calls}\nexec ${curl} "$@"`);
    return calls;
}
