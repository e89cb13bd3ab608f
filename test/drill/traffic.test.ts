/**
 * The drill's traffic (tools/drill/world.ts Traffic) against a token endpoint that answers late, as a loaded machine
 * does: a write step goes on past its seconds until a token is acknowledged, so that the window it measures holds a
 * write (a CI run at load 14 gave the region drill's 0.5 s none, and its RPO was NOT MEASURED). No drill runs here: a
 * local HTTP server on 127.0.0.1 plays the token endpoint.
 */
import { strict as assert } from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import { Traffic } from "../../tools/drill/world";

/** A token endpoint whose answers each take `delayMs`; `answer: false` answers 401 instead. */
async function tokenEndpoint(delayMs: number, answer = true): Promise<{ url: string; close: () => Promise<void> }> {
    const server = http.createServer((req, res) => {
        req.resume();
        setTimeout(() => {
            res.writeHead(answer ? 200 : 401, { "content-type": "application/json" });
            res.end(JSON.stringify(answer ? { access_token: `token-${Date.now()}-${Math.random()}` } : { error: "invalid_client" }));
        }, delayMs);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/token`, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

describe("the drill's traffic: a write step holds at least one acknowledged write", function () {
    this.timeout(30_000);

    it("a token acknowledged after the step's seconds: the step waits for it and says so (was: 0 written, the RPO not measured)", async function () {
        const endpoint = await tokenEndpoint(700);
        const traffic = new Traffic(endpoint.url, "drill-traffic", "secret", 10);
        try {
            const written = await traffic.writeFor(0.2);
            assert.ok(written.count >= 1, `${written.count} acknowledged`);
            assert.match(written.note, /^ \(written \d+\.\d\d s, not 0\.2: the first token of the window was acknowledged late\)$/);
        } finally {
            await traffic.stop();
            await endpoint.close();
        }
    });

    it("tokens acknowledged within the seconds: no note, and the count is the window's own", async function () {
        const endpoint = await tokenEndpoint(0);
        const traffic = new Traffic(endpoint.url, "drill-traffic", "secret", 10);
        try {
            const first = await traffic.writeFor(0.3);
            const second = await traffic.writeFor(0.3);
            assert.ok(first.count >= 1 && second.count >= 1);
            assert.equal(traffic.acks.length, first.count + second.count);
        } finally {
            await traffic.stop();
            await endpoint.close();
        }
    });

    it("a traffic that is stopped while a step waits for its first token ends the wait with 0 and the failures said", async function () {
        const endpoint = await tokenEndpoint(0, false);
        const traffic = new Traffic(endpoint.url, "drill-traffic", "secret", 10);
        try {
            const written = traffic.writeFor(0.2);
            setTimeout(() => void traffic.stop(), 600);
            const { count, note } = await written;
            assert.equal(count, 0);
            assert.match(note, /^ \(no token acknowledged in \d+\.\d\d s: \d+ requests failed\)$/);
        } finally {
            await traffic.stop();
            await endpoint.close();
        }
    });
});
