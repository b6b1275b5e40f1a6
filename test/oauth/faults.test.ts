import { describe, expect, it } from "vitest";
import { callWorker, createClient, failingD1, requestToken } from "../helpers/oauth";

/*
 * Fault injection (§10): the real Worker runs with a D1 binding that fails every statement, as D1 does when it is
 * unreachable. The answer must be a 5xx, never 401 (which would tell the consumer its credentials are wrong) and
 * never a token.
 */
describe("a D1 failure on the token path", () => {
  it("answers 500 server_error with no-store for a request that would otherwise get a token", async () => {
    const { clientId, clientSecret } = await createClient();
    for (const method of ["basic", "post"] as const) {
      const res = await requestToken({ clientId, clientSecret, method, bindings: { DB: failingD1() } });
      expect(res.status).toBe(500);
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      expect(res.headers.get("Pragma")).toBe("no-cache");
      expect(res.headers.get("WWW-Authenticate")).toBeNull();
      const body = await res.text();
      expect(JSON.parse(body)).toEqual({
        error: "server_error",
        error_description: "The server could not complete the token request.",
      });
      expect(body).not.toContain("access_token");
    }
  });

  it("answers 500, not 401, for a wrong secret or an unknown Client ID", async () => {
    const { clientId } = await createClient();
    for (const id of [clientId, crypto.randomUUID()]) {
      const res = await requestToken({ clientId: id, clientSecret: "asc_wrong", bindings: { DB: failingD1() } });
      expect(res.status).toBe(500);
      expect(((await res.json()) as { error: string }).error).toBe("server_error");
    }
  });

  it("still answers the requests it can refuse without D1", async () => {
    const res = await callWorker(
      "/oauth/token",
      { method: "POST", headers: { "Content-Type": "text/plain" }, body: "x" },
      { DB: failingD1() },
    );
    expect(res.status).toBe(415);
  });
});

describe("a D1 failure on the REST API", () => {
  it("answers 500 JSON and stores nothing", async () => {
    const { site, clientId, clientSecret } = await createClient({ scopes: ["devices:read", "devices:write"] });
    const token = ((await (await requestToken({ clientId, clientSecret })).json()) as { access_token: string })
      .access_token;
    const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    const path = `/api/v1/sites/${site.slug}/devices`;
    for (const init of [
      { headers },
      { method: "POST", headers, body: JSON.stringify({ name: "edge-router", ip_address: "192.0.2.10" }) },
    ]) {
      const res = await callWorker(path, init, { DB: failingD1() });
      expect(res.status).toBe(500);
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      expect(await res.json()).toEqual({
        error: "server_error",
        error_description: "The server could not complete the request.",
      });
    }
    const list = await callWorker(path, { headers });
    expect(await list.json()).toEqual({ devices: [], next_cursor: null });
  });
});
