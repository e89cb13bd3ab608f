/**
 * Environment variables for one test file: set in a before() hook and put back (unset, or their earlier
 * value) in after(), so that the files a mocha worker runs after this one do not see them
 * (test/support/process-state.cjs fails a file that leaves the process changed).
 */
export function useEnv(vars: Record<string, string>): void {
    const saved: Record<string, string | undefined> = {};
    before(function () {
        for (const [name, value] of Object.entries(vars)) {
            saved[name] = process.env[name];
            process.env[name] = value;
        }
    });
    after(function () {
        for (const name of Object.keys(vars)) {
            if (saved[name] === undefined) {
                delete process.env[name];
            } else {
                process.env[name] = saved[name];
            }
        }
    });
}
