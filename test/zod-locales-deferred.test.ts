/**
 * offline-plan's lazy-closure-modules.ts defers zod's locale modules (62, loaded with zod for `z.locales` alone)
 * in the planning processes: loading zod loads only its English messages, and a program reading `z.locales`
 * gets exactly what it gets without the stand-in.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";

const REPO = path.resolve(__dirname, "..");
const PROBE = path.join(__dirname, "fixtures", "zod-locales-probe.ts");

interface Probe {
    afterLoad: string[];
    afterUse: number;
    keys: string[];
    sameObject: boolean;
    message: string;
}

function probe(deferred: boolean): Probe {
    const preload = deferred ? ["--require", "offline-plan/lazy-closure-modules"] : [];
    const run = spawnSync(process.execPath, ["--require", "offline-plan/register.cjs", ...preload, PROBE], { cwd: REPO, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout) as Probe;
}

describe("zod's locales in the planning processes (offline-plan's lazy-closure-modules.ts)", function () {
    this.timeout(60_000);
    let deferred: Probe;
    let eager: Probe;
    before(() => {
        deferred = probe(true);
        eager = probe(false);
    });

    it("loading zod loads its English messages only", () => {
        assert.ok(eager.afterLoad.length > 50, `without the stand-in zod loads every locale (if not, it has no purpose left): ${eager.afterLoad.length}`);
        assert.deepEqual(deferred.afterLoad, ["en.cjs"]);
    });

    it("a program reading z.locales gets the same locales, the same object from core, the same messages", () => {
        assert.equal(deferred.afterUse, eager.afterUse);
        assert.deepEqual(deferred.keys, eager.keys);
        assert.equal(deferred.sameObject, true);
        assert.equal(eager.sameObject, true);
        assert.equal(deferred.message, eager.message);
        assert.match(deferred.message, /Ungültige Eingabe/);
    });
});
