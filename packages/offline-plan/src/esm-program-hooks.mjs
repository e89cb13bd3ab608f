/**
 * Module resolve hook for an ES-module JavaScript program (src/esm-program.ts registers it): a program file
 * imported from a file of the same run (`?offline-plan-run=N`) is given the same query, so that each stack's run
 * evaluates the program's own modules afresh (the ESM loader caches a module by its URL for the process's life).
 * Dependencies (node_modules) and non-file URLs are left as they are: loaded once, as for a CommonJS program, but
 * for the packages that keep one stack's objects in module-level variables (program-entry.ts STACK_STATE_PACKAGES,
 * given as `data`), which a program's file imports per run: the CommonJS loader under them has forgotten them.
 */
const RUN = "?offline-plan-run=";
let stackStatePackages = [];

export function initialize(data) {
    stackStatePackages = data?.stackStatePackages ?? [];
}

/** The package a node_modules URL belongs to ("@pulumi/awsx"), that of its nearest node_modules. */
function packageOf(url) {
    const rest = url.slice(url.lastIndexOf("/node_modules/") + "/node_modules/".length).split("/");
    return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
}

export async function resolve(specifier, context, nextResolve) {
    const result = await nextResolve(specifier, context);
    const parent = context.parentURL;
    const at = parent === undefined ? -1 : parent.indexOf(RUN);
    const dependency = result.url.includes("/node_modules/");
    if (at < 0 || !result.url.startsWith("file:") || result.url.includes("?") || (dependency && !stackStatePackages.includes(packageOf(result.url)))) {
        return result;
    }
    return { ...result, url: result.url + parent.slice(at) };
}
