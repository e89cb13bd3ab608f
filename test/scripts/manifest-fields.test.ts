/**
 * lib.sh's manifest_load and manifest_get: the fields restore.sh and restore-verification.sh read from one
 * jq per manifest are exactly those jq reads field by field (`PATH // empty | tostring`), on manifests of
 * every shape (v1 without the passphrase and schema fields, odd values, keys with dots, a file that changed
 * after it was loaded); anything else is refused as not a manifest.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BASH_C, SCRIPTS } from "../../tools/sandbox/scripts";

const FIELDS = ["status", "database", "object_key", "size_bytes", "sha256", "compression", "schema", "finished_at", "format_of_dump",
    ".passphrase.secret_arn", ".passphrase.version_id", ".schema_definition.sha256", "passphrase", "row_counts", ".list[0]", '.["a.b"]', "flag", "empty", "multi", "missing",
    // Paths the fields lack: absent on the way, through null or false, into a scalar, an array or the lists manifest_load holds apart.
    ".missing.deeper", ".passphrase.missing", ".sha256.x", ".compression", ".compression.x", ".status.x", ".flag.x", ".size_bytes.x", ".list", ".list.x",
    ".row_counts.oauth2_authorization", ".schema_definition", ".schema_definition.tables", ".schema_definition.tables.x", ".schema_definition.missing", ".nested.inner.value", ".nested.none.x", ".nested.arr"];

/** Per field: manifest_get after manifest_load, then jq's own reading (output, error and exit code), NUL-separated. */
const PROBE = `
set -euo pipefail
source "$LIB"
file=$1; shift
manifest_load "$file" || { echo "not loaded"; exit 3; }
for field in "$@"; do
    path=$field; [[ "$path" == .* ]] || path=".$path"
    printf '%s\\0%s\\0' "$(manifest_get "$file" "$field" 2>&1; echo "rc=$?")" "$(jq -r "$path // empty | tostring" "$file" 2>&1; echo "rc=$?")"
done
`;

function probe(file: string, fields: string[]): { code: number | null; pairs: [string, string][]; stdout: string } {
    const result = spawnSync("bash", [...BASH_C, PROBE, "probe", file, ...fields], { encoding: "utf8", env: { ...process.env, LIB: path.join(SCRIPTS, "lib.sh") } });
    const parts = result.stdout.split("\0");
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
        pairs.push([parts[i], parts[i + 1]]);
    }
    return { code: result.status, pairs, stdout: result.stdout + result.stderr };
}

describe("lib.sh manifest_load / manifest_get", function () {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-manifest-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const manifests: Record<string, unknown> = {
        v2: {
            status: "complete", database: "oauth2db", object_key: "database/dumps/oauth2db-20261202T101500Z-0001.dump.gpg", size_bytes: 1048576, sha256: "ab".repeat(32),
            compression: "zstd", schema: "public", finished_at: "2026-12-02T10:15:09Z", format_of_dump: "custom",
            passphrase: { secret_arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:backup-passphrase-AbCdEf", version_id: "v-7" },
            row_counts: { oauth2_authorization: 3, oauth2_registered_client: 2 }, schema_definition: { sha256: "cd".repeat(32), tables: { oauth2_registered_client: [{ column: "id", type: "varchar(100)", not_null: true }] } },
        },
        // Written before manifest v2: no compression, passphrase or schema_definition.
        v1: { status: "complete", database: "oauth2db", object_key: "database/oauth2db-20250101T000000Z.dump.gpg", size_bytes: 2048, sha256: "ef".repeat(32), finished_at: "2025-01-01T00:00:09Z" },
        odd: {
            status: "partial", database: "it's $(not run) `either`", size_bytes: 1e21, sha256: null, compression: false, schema: "",
            passphrase: { secret_arn: null, version_id: "quote' and \"double\" and \\ backslash" }, multi: "line one\nline two\ttab", empty: "", flag: true,
            "a.b": "dotted key", list: ["first", "second"], finished_at: 1733136909,
            nested: { inner: { value: 0 }, none: null, arr: [] }, row_counts: false,
        },
        // A symmetric dump's (PASSPHRASE_FILE): no secret to name.
        file: { status: "complete", passphrase: { source: "file" }, row_counts: { a: 1 }, schema_definition: { sha256: "cd".repeat(32), tables: {} } },
    };

    for (const [name, manifest] of Object.entries(manifests)) {
        it(`${name}: every field is what jq reads`, function () {
            const file = path.join(dir, "manifest.json");
            fs.writeFileSync(file, JSON.stringify(manifest, null, 2));
            const result = probe(file, FIELDS);
            assert.equal(result.code, 0, result.stdout);
            assert.equal(result.pairs.length, FIELDS.length, result.stdout);
            result.pairs.forEach(([cached, jq], i) => assert.equal(cached, jq, `${name} ${FIELDS[i]}`));
        });
    }

    it("a path the manifest lacks (a symmetric dump's passphrase secret, a v1 manifest's fields) is answered without a jq", function () {
        const file = path.join(dir, "manifest.json");
        const count = path.join(dir, "jq-starts");
        const script = `set -euo pipefail; source "$LIB"; manifest_load "$1"
jq() { echo "jq started" >>"$COUNT"; command jq "$@"; }
printf '[%s]' "$(manifest_get "$1" .passphrase.secret_arn)" "$(manifest_get "$1" .passphrase.version_id)" "$(manifest_get "$1" compression)" "$(manifest_get "$1" .schema_definition.sha256)"`;
        for (const manifest of [manifests.file, manifests.v1]) {
            fs.writeFileSync(file, JSON.stringify(manifest));
            fs.writeFileSync(count, "");
            const result = spawnSync("bash", [...BASH_C, script, "probe", file], { encoding: "utf8", env: { ...process.env, LIB: path.join(SCRIPTS, "lib.sh"), COUNT: count } });
            assert.equal(result.stdout, manifest === manifests.v1 ? "[][][][]" : `[][][][${"cd".repeat(32)}]`, result.stderr);
            assert.equal(fs.readFileSync(count, "utf8"), "", "manifest_get started a jq after manifest_load");
        }
    });

    it("a manifest rewritten after manifest_load is read anew, not from the earlier reading", function () {
        const file = path.join(dir, "manifest.json");
        fs.writeFileSync(file, JSON.stringify(manifests.v2));
        const script = `set -euo pipefail; source "$LIB"; manifest_load "$1"; manifest_get "$1" status; manifest_get "$1" size_bytes
printf '%s' '{"status":"partial"}' >"$1"; manifest_get "$1" status; printf '[%s]\\n' "$(manifest_get "$1" size_bytes)"
manifest_load "$1"; printf '[%s]\\n' "$(manifest_get "$1" size_bytes)"`;
        const result = spawnSync("bash", [...BASH_C, script, "probe", file], { encoding: "utf8", env: { ...process.env, LIB: path.join(SCRIPTS, "lib.sh") } });
        assert.equal(result.stdout, "complete\n1048576\npartial\n[]\n[]\n", result.stderr);
    });

    for (const [name, text] of [["an array", "[1, 2]"], ["not JSON", "<Error><Code>AccessDenied</Code></Error>"], ["empty", ""], ["a string", '"complete"']]) {
        it(`refuses ${name} as a manifest`, function () {
            const file = path.join(dir, "manifest.json");
            fs.writeFileSync(file, text);
            const result = probe(file, ["status"]);
            assert.equal(result.code, 3, result.stdout);
            assert.equal(result.stdout.trim(), "not loaded");
        });
    }
});

/**
 * manifest_row_counts and manifest_schema_lines answer from manifest_load's one jq (restore.sh and the
 * verification read both) instead of a jq each: byte for byte what their own jq programs print, with the same
 * exit code and error when those fail on a manifest, and no jq at all once the manifest is loaded.
 */
describe("lib.sh manifest_row_counts / manifest_schema_lines / manifest_schema_size after manifest_load", function () {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-manifest-lists-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    // Each list's own jq program (lib.sh's fall-back, as it was before manifest_load read them), run directly.
    const OWN = `
set -uo pipefail
f=$1
jq -r '.row_counts // {} | to_entries[] | "\\(.key) \\(.value)"' "$f"; echo "rc=$?"
jq -r '.schema_definition.tables // {} | to_entries[] | .key as $t | .value[] | [$t, .column, .type, (.not_null | tostring)] | @tsv' "$f" | LC_ALL=C sort; echo "rc=$?"
jq -r '"\\([.schema_definition.tables[] | length] | add // 0) columns in \\(.schema_definition.tables | length) tables"' "$f"; echo "rc=$?"
`;
    // After manifest_load, with every later jq counted (a function that stands in for it and then runs it).
    const CACHED = `
set -uo pipefail
source "$LIB"
f=$1
manifest_load "$f" || echo "not loaded"
jq() { echo "jq started" >>"$COUNT"; command jq "$@"; }
manifest_row_counts "$f"; echo "rc=$?"
manifest_schema_lines "$f"; echo "rc=$?"
manifest_schema_size "$f"; echo "rc=$?"
`;
    function run(script: string, file: string): { stdout: string; stderr: string; jqStarts: number } {
        const count = path.join(dir, "jq-starts");
        fs.writeFileSync(count, "");
        const result = spawnSync("bash", [...BASH_C, script, "probe", file], { encoding: "utf8", env: { ...process.env, LIB: path.join(SCRIPTS, "lib.sh"), COUNT: count } });
        return { stdout: result.stdout, stderr: result.stderr, jqStarts: fs.readFileSync(count, "utf8").split("\n").filter(Boolean).length };
    }

    const table = (columns: [string, string, boolean | undefined][]) => columns.map(([column, type, notNull]) => ({ column, type, ...(notNull === undefined ? {} : { not_null: notNull }) }));
    const readable: Record<string, unknown> = {
        v2: {
            status: "complete", row_counts: { oauth2_registered_client: 14, oauth2_authorization: 120, oauth2_authorization_consent: 30 },
            schema_definition: { sha256: "ab".repeat(32), tables: {
                "public.oauth2_registered_client": table([["id", "character varying(100)", true], ["client_name", "character varying(200)", true]]),
                "audit.login_event": table([["at", "timestamp with time zone", false]]),
            } },
        },
        v1: { status: "complete", row_counts: { oauth2_authorization: 3 } },
        "no lists": { status: "complete" },
        "empty lists": { row_counts: {}, schema_definition: { tables: {} } },
        odd: {
            row_counts: { "a b": "x\ny", nested: { n: 1 }, none: null, yes: true, "é": 1e21 },
            schema_definition: { tables: { "public.z": table([["é", "a\tb", undefined], ["q'\"", "int\\", true]]), "public.a": table([["id", "text", false]]) } },
        },
    };
    // The schema's size ("N columns in M tables", the verification's PASS line) fails without
    // schema_definition.tables: its own jq then runs, with its error and exit code (the one jq started).
    const noTables = new Set(["v1", "no lists"]);
    for (const [name, manifest] of Object.entries(readable)) {
        it(`${name}: what their own jq prints, and no jq started${noTables.has(name) ? " but the schema size's" : ""}`, function () {
            const file = path.join(dir, "manifest.json");
            fs.writeFileSync(file, JSON.stringify(manifest, null, 2));
            const own = run(OWN, file);
            const cached = run(CACHED, file);
            assert.equal(cached.stdout, own.stdout);
            assert.equal(cached.stderr, own.stderr);
            assert.equal(cached.jqStarts, noTables.has(name) ? 1 : 0, "manifest_row_counts, manifest_schema_lines or manifest_schema_size started a jq after manifest_load");
        });
    }

    // Lists their programs fail on, or print a NUL for (a shell variable cannot hold it): left to those programs,
    // whose output, error and exit code stay. [manifest, jq starts after manifest_load]
    const unreadable: Record<string, [unknown, number]> = {
        "row_counts a string, tables an array of numbers": [{ status: "complete", row_counts: "3", schema_definition: { tables: [1] } }, 2],
        "a column that is not an object": [{ row_counts: { a: 1 }, schema_definition: { tables: { "public.a": ["id"] } } }, 1],
        // @tsv writes a NUL as \0: the schema lines hold none.
        "a NUL in a row count's table name": [{ row_counts: { "a\u0000b": 1 }, schema_definition: { tables: { "public.a\u0000": table([["id", "text", true]]) } } }, 1],
    };
    for (const [name, [manifest, jqStarts]] of Object.entries(unreadable)) {
        it(`${name}: their own jq runs, with its output, error and exit code`, function () {
            const file = path.join(dir, "manifest.json");
            fs.writeFileSync(file, JSON.stringify(manifest));
            const own = run(OWN, file);
            const cached = run(CACHED, file);
            assert.equal(cached.stdout, own.stdout);
            assert.equal(cached.stderr, own.stderr);
            assert.equal(cached.jqStarts, jqStarts);
        });
    }

    it("a manifest rewritten after manifest_load: its new lists, not the earlier reading", function () {
        const file = path.join(dir, "manifest.json");
        fs.writeFileSync(file, JSON.stringify(readable.v2));
        const script = `set -euo pipefail; source "$LIB"; manifest_load "$1"; manifest_row_counts "$1"
printf '%s' '{"row_counts":{"other":1},"schema_definition":{"tables":{"t":[{"column":"c","type":"int","not_null":true}]}}}' >"$1"
manifest_row_counts "$1"; manifest_schema_lines "$1"`;
        const result = spawnSync("bash", [...BASH_C, script, "probe", file], { encoding: "utf8", env: { ...process.env, LIB: path.join(SCRIPTS, "lib.sh") } });
        assert.equal(result.stdout, "oauth2_registered_client 14\noauth2_authorization 120\noauth2_authorization_consent 30\nother 1\nt\tc\tint\ttrue\n", result.stderr);
    });
});

describe("lib.sh restore_added_objects_sql", function () {
    it("names the dump's tables and its own objects (one jq for both lists), in the TOC's order", function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-toc-"));
        try {
            const toc = path.join(dir, "toc.list");
            fs.writeFileSync(toc, [
                ";", "; Archive created at 2026-12-05", ";",
                "215; 1259 16385 TABLE public oauth2_authorization postgres",
                "216; 1259 16390 TABLE public \"weird\" postgres",
                "3350; 0 16385 TABLE DATA public oauth2_authorization postgres",
                "3200; 2606 16400 CONSTRAINT public oauth2_authorization oauth2_authorization_pkey postgres",
                "3201; 1259 16401 INDEX public idx_é postgres",
                "217; 1259 16391 TABLE audit login_event postgres",
                "3202; 2606 16402 FK CONSTRAINT public a b_fk postgres",
                "3203; 2620 16403 TRIGGER public a trg postgres",
                "3204; 3256 16404 POLICY public a pol postgres",
                "3205; 0 0 ROW SECURITY public a postgres",
            ].join("\n") + "\n");
            const result = spawnSync("bash", [...BASH_C, 'set -euo pipefail; source "$LIB"; restore_added_objects_sql "$1"', "probe", toc], { encoding: "utf8", env: { ...process.env, LIB: path.join(SCRIPTS, "lib.sh") } });
            assert.equal(result.status, 0, result.stderr);
            const lists = [...result.stdout.matchAll(/jsonb_array_elements_text\(\$oauth2_dr\$(.*?)\$oauth2_dr\$::jsonb\)/g)].map((m) => m[1]);
            assert.deepEqual(lists, [
                JSON.stringify(["public.oauth2_authorization", 'public."weird"', "audit.login_event"]),
                JSON.stringify(["constraint:public.oauth2_authorization.oauth2_authorization_pkey", "index:public.idx_é", "constraint:public.a.b_fk", "trigger:public.a.trg", "policy:public.a.pol", "rowsecurity:public.a"]),
            ]);
            const empty = path.join(dir, "empty.list");
            fs.writeFileSync(empty, "");
            const none = spawnSync("bash", [...BASH_C, 'set -euo pipefail; source "$LIB"; restore_added_objects_sql "$1"', "probe", empty], { encoding: "utf8", env: { ...process.env, LIB: path.join(SCRIPTS, "lib.sh") } });
            assert.deepEqual([...none.stdout.matchAll(/jsonb_array_elements_text\(\$oauth2_dr\$(.*?)\$oauth2_dr\$::jsonb\)/g)].map((m) => m[1]), ["[]", "[]"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
