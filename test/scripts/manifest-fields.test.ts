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
import { SCRIPTS } from "../../tools/sandbox/scripts";

const FIELDS = ["status", "database", "object_key", "size_bytes", "sha256", "compression", "schema", "finished_at", "format_of_dump",
    ".passphrase.secret_arn", ".passphrase.version_id", ".schema_definition.sha256", "passphrase", "row_counts", ".list[0]", '.["a.b"]', "flag", "empty", "multi", "missing"];

/** Per field: manifest_get after manifest_load, then jq's own reading, NUL-separated. */
const PROBE = `
set -euo pipefail
source "$LIB"
file=$1; shift
manifest_load "$file" || { echo "not loaded"; exit 3; }
for field in "$@"; do
    path=$field; [[ "$path" == .* ]] || path=".$path"
    printf '%s\\0%s\\0' "$(manifest_get "$file" "$field")" "$(jq -r "$path // empty | tostring" "$file")"
done
`;

function probe(file: string, fields: string[]): { code: number | null; pairs: [string, string][]; stdout: string } {
    const result = spawnSync("bash", ["-c", PROBE, "probe", file, ...fields], { encoding: "utf8", env: { ...process.env, LIB: path.join(SCRIPTS, "lib.sh") } });
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
        },
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

    it("a manifest rewritten after manifest_load is read anew, not from the earlier reading", function () {
        const file = path.join(dir, "manifest.json");
        fs.writeFileSync(file, JSON.stringify(manifests.v2));
        const script = `set -euo pipefail; source "$LIB"; manifest_load "$1"; manifest_get "$1" status; manifest_get "$1" size_bytes
printf '%s' '{"status":"partial"}' >"$1"; manifest_get "$1" status; printf '[%s]\\n' "$(manifest_get "$1" size_bytes)"
manifest_load "$1"; printf '[%s]\\n' "$(manifest_get "$1" size_bytes)"`;
        const result = spawnSync("bash", ["-c", script, "probe", file], { encoding: "utf8", env: { ...process.env, LIB: path.join(SCRIPTS, "lib.sh") } });
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
