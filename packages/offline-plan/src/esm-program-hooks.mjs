/**
 * Module resolve hook for an ES-module JavaScript program (src/esm-program.ts registers it): a program file
 * imported from a file of the same run (`?offline-plan-run=N`) is given the same query, so that each stack's run
 * evaluates the program's own modules afresh (the ESM loader caches a module by its URL for the process's life).
 * Dependencies (node_modules) and non-file URLs are left as they are: loaded once, as for a CommonJS program.
 */
const RUN = "?offline-plan-run=";

export async function resolve(specifier, context, nextResolve) {
    const result = await nextResolve(specifier, context);
    const parent = context.parentURL;
    const at = parent === undefined ? -1 : parent.indexOf(RUN);
    if (at < 0 || !result.url.startsWith("file:") || result.url.includes("?") || result.url.includes("/node_modules/")) {
        return result;
    }
    return { ...result, url: result.url + parent.slice(at) };
}
