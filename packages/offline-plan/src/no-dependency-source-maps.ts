/**
 * Imported first by the CLIs and the planning child: modules under node_modules compile with source maps off.
 *
 * register.cjs turns Node's source maps on, which the planner needs for the checked program's own stack frames (a
 * program's failure is reported at its file:line, program-errors.ts). With them on, Node reads
 * and parses the .js.map of every module it compiles, and the SDK and the providers ship one per file:
 * about a fifth of a plan's CPU for maps nobody reads. Program files still compile with maps on.
 */
import * as path from "path";

const NODE_MODULES = `${path.sep}node_modules${path.sep}`;

interface CompilingModule {
    _compile(content: string, filename: string): unknown;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Module = require("module") as { prototype: CompilingModule };
const compile = Module.prototype._compile;
// process.sourceMapsEnabled exists from Node 20.7; without it the state cannot be restored, so nothing changes.
if (typeof process.sourceMapsEnabled === "boolean" && !(compile as { withoutDependencyMaps?: boolean }).withoutDependencyMaps) {
    const patched = function (this: CompilingModule, content: string, filename: string): unknown {
        if (!filename.includes(NODE_MODULES)) {
            return compile.call(this, content, filename);
        }
        const enabled = process.sourceMapsEnabled;
        process.setSourceMapsEnabled(false);
        try {
            return compile.call(this, content, filename);
        } finally {
            process.setSourceMapsEnabled(enabled);
        }
    };
    Object.assign(patched, { withoutDependencyMaps: true });
    Module.prototype._compile = patched;
}
