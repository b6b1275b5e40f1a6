import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { devices, securityEvents, sites } from "../../src/db/schema";
import { db, ORIGIN } from "../helpers/app";
import { callWorker, countingD1, createClient, eventsFor, midMinute, requestToken, uniqueIp } from "../helpers/oauth";

const BOTH = ["devices:read", "devices:write"];
/** One caller for the file: identical refusals coalesce per IP (§8). */
const CALLER_IP = uniqueIp();

async function tokenOf(client: { clientId: string; clientSecret: string }, scope?: string, now?: number) {
  const res = await requestToken({ ...client, scope, now });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

function devicesPath(slug: string, query = "") {
  return `/api/v1/sites/${slug}/devices${query}`;
}

function listDevices(slug: string, token: string | null, extra: { now?: number; ip?: string; query?: string } = {}) {
  return callWorker(devicesPath(slug, extra.query), {
    headers: token === null ? undefined : { Authorization: `Bearer ${token}`, "User-Agent": "siem-connector/1.0" },
    now: extra.now,
    ip: extra.ip ?? CALLER_IP,
  });
}

function createDevice(slug: string, token: string, body: unknown, contentType = "application/json", now?: number) {
  return callWorker(devicesPath(slug), {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": contentType },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ip: CALLER_IP,
    now,
  });
}

/** Signs a JWT with the deployment's own first key (test key material), for tokens the token endpoint never issues. */
async function signWithOwnKey(payload: JWTPayload, header: Record<string, unknown> = {}) {
  const jwk = (JSON.parse(env.SIGNING_KEYS) as { keys: JWK[] }).keys[0] as JWK;
  const key = await importJWK(jwk, "ES256");
  return new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid: jwk.kid, typ: "at+jwt", ...header }).sign(key);
}

function claimsFor(client: { clientId: string; site: { slug: string } }, overrides: JWTPayload = {}): JWTPayload {
  const iat = Math.floor(Date.now() / 1000);
  return {
    iss: ORIGIN,
    aud: env.AUDIENCE,
    sub: client.clientId,
    client_id: client.clientId,
    iat,
    exp: iat + 600,
    jti: crypto.randomUUID(),
    scope: "devices:read",
    site: client.site.slug,
    ...overrides,
  };
}

async function expectInvalidToken(res: Response, description: string) {
  expect(res.status).toBe(401);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  expect(res.headers.get("WWW-Authenticate")).toBe(
    `Bearer realm="AlloyScan API", error="invalid_token", error_description="${description}"`,
  );
  expect(await res.json()).toEqual({ error: "invalid_token", error_description: description });
}

async function deniedEvents(clientId: string) {
  return (await eventsFor(clientId)).filter((e) => e.event === "api_access_denied");
}

describe("Bearer authentication (RFC 6750)", () => {
  it("challenges a request without a token, with no error code", async () => {
    const { site } = await createClient();
    const attempts: Record<string, string>[] = [{}, { Authorization: "Basic YTpi" }, { Authorization: "Bearer" }];
    for (const headers of attempts) {
      const res = await callWorker(devicesPath(site.slug), { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="AlloyScan API"');
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      expect(await res.json()).toEqual({
        error_description: "This API requires an access token: Authorization: Bearer <token>.",
      });
    }
  });

  it("refuses a token whose signature does not verify and records InvalidSignature", async () => {
    const client = await createClient();
    const now = midMinute();
    const token = await tokenOf(client, undefined, now);
    const [header, payload, signature] = token.split(".");
    const tampered = JSON.parse(atob((payload ?? "").replace(/-/g, "+").replace(/_/g, "/")));
    tampered.scope = "devices:read devices:write";
    const forgedPayload = btoa(JSON.stringify(tampered)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const ip = uniqueIp();
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const kid = (JSON.parse(env.SIGNING_KEYS) as { keys: JWK[] }).keys[0]?.kid;
    const otherKey = await new SignJWT(claimsFor(client))
      .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt" })
      .sign(privateKey);
    const unsigned = `${btoa(JSON.stringify({ alg: "none", typ: "at+jwt" })).replace(/=+$/, "")}.${payload}.`;
    for (const bad of [`${header}.${forgedPayload}.${signature}`, otherKey, unsigned, "not-a-jwt"]) {
      await expectInvalidToken(
        await listDevices(client.site.slug, bad, { ip, now }),
        "The access token's signature does not verify.",
      );
    }
    const events = await deniedEvents(client.clientId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      siteId: client.site.id,
      detailCode: "InvalidSignature",
      registrationName: client.registration.name,
      ip,
      userAgent: "siem-connector/1.0",
      endpoint: `GET /api/v1/sites/${client.site.slug}/devices`,
      count: 3,
    });
    // "not-a-jwt" names no client: recorded under the Site in the path.
    const anonymous = await db()
      .select()
      .from(securityEvents)
      .where(and(eq(securityEvents.ip, ip), eq(securityEvents.siteId, client.site.id)))
      .all();
    expect(anonymous.map((e) => [e.clientId, e.detailCode])).toContainEqual([null, "InvalidSignature"]);
  });

  it("refuses an expired token with invalid_token and records AccessTokenExpired", async () => {
    const client = await createClient();
    const issuedAt = Date.now();
    const token = await tokenOf(client, undefined, issuedAt);
    expect((await listDevices(client.site.slug, token, { now: issuedAt + 3599_000 })).status).toBe(200);
    await expectInvalidToken(
      await listDevices(client.site.slug, token, { now: issuedAt + 3600_000 }),
      "The access token expired.",
    );
    expect((await deniedEvents(client.clientId)).map((e) => e.detailCode)).toEqual(["AccessTokenExpired"]);
  });

  it("refuses tokens of another issuer or audience with InvalidIssuer", async () => {
    const client = await createClient();
    const otherIssuer = await requestToken({ ...client, bindings: { ISSUER: "https://staging.alloyscan.example" } });
    const otherAudience = await requestToken({ ...client, bindings: { AUDIENCE: "https://other-api.example" } });
    const t1 = ((await otherIssuer.json()) as { access_token: string }).access_token;
    const t2 = ((await otherAudience.json()) as { access_token: string }).access_token;
    await expectInvalidToken(await listDevices(client.site.slug, t1), "The access token was issued by another issuer.");
    await expectInvalidToken(
      await listDevices(client.site.slug, t2),
      "The access token was issued for another audience.",
    );
    expect((await deniedEvents(client.clientId)).map((e) => [e.detailCode, e.count])).toEqual([["InvalidIssuer", 2]]);
  });

  it("refuses a JWT that is not an access token (typ) with InvalidTokenType", async () => {
    const client = await createClient();
    for (const typ of ["JWT", "client-authentication+jwt"]) {
      const token = await signWithOwnKey(claimsFor(client), { typ });
      await expectInvalidToken(
        await listDevices(client.site.slug, token),
        "The token is not an access token (typ at+jwt).",
      );
    }
    const noSite = await signWithOwnKey(claimsFor(client, { site: undefined }));
    await expectInvalidToken(
      await listDevices(client.site.slug, noSite),
      "The access token's site claim is missing or invalid.",
    );
    expect((await deniedEvents(client.clientId)).map((e) => e.detailCode)).toEqual(["InvalidTokenType"]);
  });

  it("answers 403 insufficient_scope for a token without scope (InvalidScope) or without the needed one (ScopeMismatched)", async () => {
    const client = await createClient({ scopes: BOTH });
    const noScope = await signWithOwnKey(claimsFor(client, { scope: undefined }));
    const res = await listDevices(client.site.slug, noScope);
    expect(res.status).toBe(403);
    expect(res.headers.get("WWW-Authenticate")).toBe(
      'Bearer realm="AlloyScan API", error="insufficient_scope", error_description="The access token has no scope.", scope="devices:read"',
    );

    const readOnly = await tokenOf(client, "devices:read");
    const write = await createDevice(client.site.slug, readOnly, { name: "router", ip_address: "192.0.2.1" });
    expect(write.status).toBe(403);
    expect(write.headers.get("WWW-Authenticate")).toBe(
      'Bearer realm="AlloyScan API", error="insufficient_scope", error_description="This request needs the devices:write scope.", scope="devices:write"',
    );
    expect(await write.json()).toEqual({
      error: "insufficient_scope",
      error_description: "This request needs the devices:write scope.",
    });
    const writeOnly = await tokenOf(client, "devices:write");
    expect((await listDevices(client.site.slug, writeOnly)).status).toBe(403);
    // Identical refusals within a minute share one row (§8 coalescing), whatever the endpoint.
    const codes = (await deniedEvents(client.clientId)).map((e) => [e.detailCode, e.count]).sort();
    expect(codes).toEqual([
      ["InvalidScope", 1],
      ["ScopeMismatched", 2],
    ]);
    expect(await db().select().from(devices).where(eq(devices.siteId, client.site.id)).all()).toEqual([]);
  });

  it("answers 403 for a token of another Site and records SiteMismatch under the token's Site", async () => {
    const mine = await createClient({ scopes: BOTH });
    const theirs = await createClient({ scopes: BOTH });
    const now = midMinute();
    const token = await tokenOf(mine, undefined, now);
    const read = await listDevices(theirs.site.slug, token, { now });
    expect(read.status).toBe(403);
    expect(await read.json()).toEqual({
      error: "insufficient_scope",
      error_description: "The access token belongs to another Site.",
    });
    const write = await createDevice(
      theirs.site.slug,
      token,
      { name: "implant", ip_address: "192.0.2.66" },
      "application/json",
      now,
    );
    expect(write.status).toBe(403);
    // A Site that does not exist answers the same (no probing for Site slugs).
    expect((await listDevices("no-such-site", token, { now })).status).toBe(403);
    expect(await db().select().from(devices).where(eq(devices.siteId, theirs.site.id)).all()).toEqual([]);
    const events = await deniedEvents(mine.clientId);
    expect(events.map((e) => [e.detailCode, e.siteId])).toEqual([["SiteMismatch", mine.site.id]]);
    expect(events[0]?.count).toBe(3);
  });

  it("refuses tokens of a Site whose REST API was disabled after they were issued (FeatureDisabled)", async () => {
    const client = await createClient();
    const token = await tokenOf(client);
    expect((await listDevices(client.site.slug, token)).status).toBe(200);
    await db().update(sites).set({ restApiEnabled: false }).where(eq(sites.id, client.site.id));
    const res = await listDevices(client.site.slug, token);
    expect(res.status).toBe(403);
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="AlloyScan API"');
    expect(await res.json()).toEqual({
      error: "access_denied",
      error_description: "The REST API is disabled for this Site.",
    });
    expect((await deniedEvents(client.clientId)).map((e) => [e.detailCode, e.siteId])).toEqual([
      ["FeatureDisabled", client.site.id],
    ]);
    await db().update(sites).set({ restApiEnabled: true }).where(eq(sites.id, client.site.id));
    expect((await listDevices(client.site.slug, token)).status).toBe(200);
  });

  it("stores nothing through a token of a Site whose REST API is off", async () => {
    const client = await createClient({ scopes: BOTH });
    const token = await tokenOf(client);
    await db().update(sites).set({ restApiEnabled: false }).where(eq(sites.id, client.site.id));
    const res = await createDevice(client.site.slug, token, { name: "router", ip_address: "192.0.2.1" });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toBe("access_denied");
    expect(await db().select().from(devices).where(eq(devices.siteId, client.site.id)).all()).toEqual([]);
  });

  it("answers 404 once the token's Site no longer exists", async () => {
    const client = await createClient({ scopes: BOTH });
    const token = await tokenOf(client);
    await db().delete(sites).where(eq(sites.id, client.site.id));
    for (const res of [
      await listDevices(client.site.slug, token),
      await createDevice(client.site.slug, token, { name: "router", ip_address: "192.0.2.1" }),
    ]) {
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: "not_found", error_description: "There is no such Site." });
    }
  });

  it("costs one D1 statement per call: verification is local", async () => {
    const client = await createClient({ scopes: BOTH });
    const token = await tokenOf(client);
    const list = countingD1();
    const res = await callWorker(
      devicesPath(client.site.slug),
      { headers: { Authorization: `Bearer ${token}` } },
      { DB: list.binding },
    );
    expect(res.status).toBe(200);
    expect(list.tally).toMatchObject({ reads: 1, writes: 0 });
    const create = countingD1();
    const created = await callWorker(
      devicesPath(client.site.slug),
      {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ name: "router", ip_address: "192.0.2.1" }),
      },
      { DB: create.binding },
    );
    expect(created.status).toBe(201);
    expect(create.tally).toMatchObject({ reads: 0, writes: 1 });
  });
});

describe("devices", () => {
  it("creates devices in the Site of the path and lists them by name, page by page", async () => {
    const client = await createClient({ scopes: BOTH });
    const token = await tokenOf(client);
    const created = [];
    for (const [name, ip] of [
      ["switch-b", "192.0.2.2"],
      ["switch-a", "2001:db8::1"],
      ["camera", "198.51.100.7"],
    ]) {
      const res = await createDevice(client.site.slug, token, { name, ip_address: ip });
      expect(res.status).toBe(201);
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      created.push(await res.json());
    }
    expect(created[1]).toEqual({
      id: expect.any(Number),
      name: "switch-a",
      ip_address: "2001:db8::1",
      last_seen: null,
    });

    const first = await listDevices(client.site.slug, token, { query: "?limit=2" });
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as { devices: { name: string }[]; next_cursor: string | null };
    expect(page1.devices.map((d) => d.name)).toEqual(["camera", "switch-a"]);
    expect(page1.next_cursor).toEqual(expect.any(String));
    const second = await listDevices(client.site.slug, token, {
      query: `?limit=2&cursor=${encodeURIComponent(page1.next_cursor ?? "")}`,
    });
    const page2 = (await second.json()) as { devices: { name: string }[]; next_cursor: string | null };
    expect(page2).toEqual({ devices: [created[0]], next_cursor: null });

    const rows = await db().select().from(devices).where(eq(devices.siteId, client.site.id)).orderBy(devices.id).all();
    expect(rows.map((r) => [r.name, r.createdByClientId])).toEqual([
      ["switch-b", client.clientId],
      ["switch-a", client.clientId],
      ["camera", client.clientId],
    ]);
  });

  it("keeps each Site's devices apart", async () => {
    const a = await createClient({ scopes: BOTH });
    const b = await createClient({ scopes: BOTH });
    await createDevice(a.site.slug, await tokenOf(a), { name: "only-in-a", ip_address: "192.0.2.3" });
    const list = await listDevices(b.site.slug, await tokenOf(b));
    expect(await list.json()).toEqual({ devices: [], next_cursor: null });
  });

  it("stores last_seen from an ISO date and ignores unknown fields", async () => {
    const client = await createClient({ scopes: BOTH });
    const other = await createClient();
    const res = await createDevice(client.site.slug, await tokenOf(client), {
      name: "  nas  ",
      ip_address: "203.0.113.9",
      last_seen: "2026-03-01T10:15:00+01:00",
      id: 1,
      site_id: other.site.id,
      created_by_client_id: "someone-else",
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: number };
    expect(body).toEqual({
      id: body.id,
      name: "nas",
      ip_address: "203.0.113.9",
      last_seen: "2026-03-01T09:15:00.000Z",
    });
    const row = await db().select().from(devices).where(eq(devices.id, body.id)).get();
    expect(row).toMatchObject({
      siteId: client.site.id,
      lastSeenAt: Date.UTC(2026, 2, 1, 9, 15),
      createdByClientId: client.clientId,
    });
  });

  it("refuses invalid devices with the reason per field and stores nothing", async () => {
    const client = await createClient({ scopes: BOTH });
    const token = await tokenOf(client);
    const cases: [unknown, Record<string, string>][] = [
      [{ ip_address: "192.0.2.1" }, { name: "name is required." }],
      [{ name: "   ", ip_address: "192.0.2.1" }, { name: "name must not be empty." }],
      [{ name: "x".repeat(101), ip_address: "192.0.2.1" }, { name: "name is at most 100 characters." }],
      [{ name: "a", ip_address: "999.0.2.1" }, { ip_address: "ip_address must be an IPv4 or IPv6 address." }],
      [{ name: "a", ip_address: "localhost" }, { ip_address: "ip_address must be an IPv4 or IPv6 address." }],
      [
        { name: "a", ip_address: "192.0.2.1", last_seen: "yesterday" },
        { last_seen: "last_seen must be an ISO 8601 date and time, such as 2026-01-31T12:00:00Z." },
      ],
    ];
    for (const [body, fields] of cases) {
      const res = await createDevice(client.site.slug, token, body);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: "invalid_request",
        error_description: "The request has invalid fields.",
        fields,
      });
    }
    const malformed = await createDevice(client.site.slug, token, "{not json");
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      error: "invalid_request",
      error_description: "The body is not valid JSON.",
    });
    const form = await createDevice(
      client.site.slug,
      token,
      "name=a&ip_address=192.0.2.1",
      "application/x-www-form-urlencoded",
    );
    expect(form.status).toBe(415);
    const huge = await createDevice(client.site.slug, token, {
      name: "a",
      ip_address: "192.0.2.1",
      pad: "x".repeat(20_000),
    });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error_description: string }).error_description).toBe(
      "The body is larger than 16384 bytes.",
    );
    expect(await db().select().from(devices).where(eq(devices.siteId, client.site.id)).all()).toEqual([]);
  });

  it("refuses a page size or cursor it did not give out", async () => {
    const client = await createClient();
    const token = await tokenOf(client);
    for (const query of ["?limit=0", "?limit=101", "?limit=ten"]) {
      const res = await listDevices(client.site.slug, token, { query });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { fields: object }).fields).toHaveProperty("limit");
    }
    const res = await listDevices(client.site.slug, token, { query: "?cursor=bm90LWEtY3Vyc29y" });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: "invalid_request",
      error_description: "The cursor is not one this API gave out.",
    });
  });

  it("answers JSON 404 for an API path that does not exist", async () => {
    const res = await callWorker("/api/v1/sites/main/printers");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: "not_found",
      error_description: "There is no API resource at this address.",
    });
  });
});
