/**
 * A TypeScript file that declares, at its top level, a name the CommonJS module wrapper already binds
 * (`exports`, `require`, `module`, `__filename`, `__dirname`) fails under the Pulumi CLI, which runs a
 * TypeScript program as CommonJS through ts-node:
 * - type-checked (ts-node's default), `exports` or `require` declared in a module is TS2441 ("Compiler reserves
 *   name 'exports' in top level scope of a module");
 * - transpile-only, a `const`, `let` or `class` of any of the five is a SyntaxError when Node loads the emitted
 *   file ("Identifier 'exports' has already been declared"), and a `var exports` quietly replaces the module's
 *   exports object, so the stack's outputs are lost.
 * esbuild, the planner's compiler (register.cjs), renames such a declaration (`exports2`) and the program runs:
 * an offline plan would pass a program `pulumi preview` rejects. So the planner refuses it, naming file:line.
 *
 * Cheap for every other file: a regular expression looks for a declaration keyword before one of the names, and
 * only a file it matches is parsed (with the `typescript` package, loaded then) to find the declarations that
 * are really at the top level.
 */
"use strict";

const WRAPPER_NAMES = ["exports", "require", "module", "__filename", "__dirname"];
/** TS2441's two names: reserved in a module whatever declares them. */
const TS2441_NAMES = new Set(["exports", "require"]);
const NAMES = WRAPPER_NAMES.join("|");
/**
 * A declaration of one of the names that starts a line (or follows a `;` or `}` on it): where formatters put
 * top-level statements. A nested declaration is indented, so the planner's own modules and most programs are
 * never parsed (loading `typescript` costs a plan about 0.2 s); a top-level one written indented is missed.
 */
const CANDIDATE = new RegExp(
    `(?:^|[;}][ \\t]*)(?:export[ \\t]+)?(?:(?:const|let|var|class|function|enum|namespace)[ \\t]+(?:${NAMES})\\b|(?:const|let|var)[ \\t]*[{[][^=;]*\\b(?:${NAMES})\\b)`,
    "m",
);

/** The identifiers a binding name declares (`{ a, b: [c] }` declares a and c). */
function boundNames(ts, name) {
    if (ts.isIdentifier(name)) {
        return [name];
    }
    return name.elements.flatMap((element) => (ts.isOmittedExpression(element) ? [] : boundNames(ts, element.name)));
}

function isExternalModule(ts, file) {
    return file.statements.some(
        (statement) =>
            ts.isImportDeclaration(statement) ||
            ts.isExportDeclaration(statement) ||
            ts.isExportAssignment(statement) ||
            (ts.isImportEqualsDeclaration(statement) && ts.isExternalModuleReference(statement.moduleReference)) ||
            hasModifier(ts, statement, ts.SyntaxKind.ExportKeyword),
    );
}

function hasModifier(ts, statement, kind) {
    return ts.canHaveModifiers(statement) && (ts.getModifiers(statement) ?? []).some((modifier) => modifier.kind === kind);
}

function isAmbient(ts, statement) {
    return hasModifier(ts, statement, ts.SyntaxKind.DeclareKeyword) || ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement);
}

/** Each top-level declaration of a wrapper name, with whether it is lexical (const, let, class). */
function topLevelDeclarations(ts, file) {
    const found = [];
    for (const statement of file.statements) {
        if (isAmbient(ts, statement)) {
            // `declare var require: any` (older programs, before @types/node) emits nothing: tsc accepts it.
            continue;
        }
        if (ts.isVariableStatement(statement)) {
            const lexical = (statement.declarationList.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) !== 0;
            for (const declaration of statement.declarationList.declarations) {
                found.push(...boundNames(ts, declaration.name).map((identifier) => ({ identifier, lexical })));
            }
        } else if ((ts.isClassDeclaration(statement) || ts.isFunctionDeclaration(statement) || ts.isEnumDeclaration(statement)) && statement.name) {
            found.push({ identifier: statement.name, lexical: ts.isClassDeclaration(statement) });
        } else if (ts.isModuleDeclaration(statement) && ts.isIdentifier(statement.name)) {
            found.push({ identifier: statement.name, lexical: false });
        }
    }
    return found.filter(({ identifier }) => WRAPPER_NAMES.includes(identifier.text));
}

/**
 * Throws when `source` (the text of `filename`) declares a wrapper name at its top level in a way the Pulumi CLI
 * rejects; the error's code is OFFLINE_PLAN_RESERVED_NAME, its `file` the filename, and its message starts with `filename:line:column: `.
 */
function checkReservedNames(filename, source) {
    if (!CANDIDATE.test(source)) {
        return;
    }
    const ts = require("typescript");
    const file = ts.createSourceFile(filename, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const inModule = isExternalModule(ts, file);
    const offending = topLevelDeclarations(ts, file).find(({ identifier, lexical }) => lexical || (inModule && TS2441_NAMES.has(identifier.text)));
    if (!offending) {
        return;
    }
    const name = offending.identifier.text;
    const { line, character } = file.getLineAndCharacterOfPosition(offending.identifier.getStart(file));
    const why = TS2441_NAMES.has(name) && inModule
        ? `TS2441 (Duplicate identifier '${name}'. Compiler reserves name '${name}' in top level scope of a module)`
        : `Node's SyntaxError on the compiled module (Identifier '${name}' has already been declared)`;
    const error = new Error(
        `${filename}:${line + 1}:${character + 1}: '${name}' is declared at the top level, where CommonJS already binds it: the Pulumi CLI (ts-node) refuses the program with ${why}; rename it`,
    );
    error.code = "OFFLINE_PLAN_RESERVED_NAME";
    error.file = filename;
    throw error;
}

module.exports = { checkReservedNames };
