import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createdRegistrationResource,
  createdSecretResource,
  keyListResource,
  problemResource,
  registrationListResource,
  registrationResource,
  secretListResource,
  securityEventListResource,
} from "../../src/api/management/schemas";
import { adminAuditEvents, appRegistrations, clientSecrets, type Site } from "../../src/db/schema";
import { DAY, MINUTE } from "../../src/lib/time";
import { createSite, db, unique } from "../helpers/app";
import { generateClientKeyPair } from "../helpers/key-pairs";
import { callWorker, eventsWithCode, requestToken } from "../helpers/oauth";
import { createRegistration } from "../helpers/registrations";

const MANAGE = ["registrations:read", "registrations:write", "security-log:read"];

interface Automation {
  site: Site;
  clientId: string;
  clientSecret: string;
  registrationId: number;
  token: string;
}

/** A registration granted the management scopes by an administrator, and an access token of it. */
async function automation(site: Site, scopes = MANAGE, now?: number): Promise<Automation> {
  const { registration, clientSecret } = await createRegistration(site.id, {
    name: unique("Pipeline"),
    scopes: scopes as never,
    now,
  });
  const res = await requestToken({ clientId: registration.clientId, clientSecret, now });
  expect(res.status).toBe(200);
  const { access_token: token } = (await res.json()) as { access_token: string };
  return { site, clientId: registration.clientId, clientSecret, registrationId: registration.id, token };
}

/** A management API call with the automation's token. */
function api(
  who: Pick<Automation, "token" | "site">,
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; headers?: Record<string, string>; now?: number; site?: string } = {},
) {
  const headers: Record<string, string> = { Authorization: `Bearer ${who.token}`, ...options.headers };
  let body: string | undefined;
  if (options.raw !== undefined || options.body !== undefined) {
    body = options.raw ?? JSON.stringify(options.body);
    headers["Content-Type"] ??= "application/json";
  }
  const base = `/api/v1/sites/${options.site ?? who.site.slug}`;
  return callWorker(`${base}${path}`, { method, headers, body, now: options.now });
}

async function problemOf(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toContain("application/problem+json");
  return problemResource.parse(await res.json());
}

const future = (days: number) => new Date(Date.now() + days * DAY).toISOString().slice(0, 10);

function auditOf(registrationId: number) {
  return db()
    .select()
    .from(adminAuditEvents)
    .where(eq(adminAuditEvents.registrationId, registrationId))
    .orderBy(adminAuditEvents.id)
    .all();
}

let site: Site;
let bot: Automation;

beforeAll(async () => {
  site = await createSite();
  bot = await automation(site);
});

describe("scopes", () => {
  it("are advertised, granted by the token endpoint and needed by each operation", async () => {
    const metadata = (await (await callWorker("/.well-known/oauth-authorization-server")).json()) as {
      scopes_supported: string[];
    };
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(MANAGE));

    const reader = await automation(site, ["registrations:read"]);
    expect((await api(reader, "GET", "/app-registrations")).status).toBe(200);
    const refused = await api(reader, "POST", "/app-registrations", {
      body: { name: unique("x"), expiration_date: future(30) },
    });
    const body = await problemOf(refused, 403);
    expect(body.code).toBe("insufficient_scope");
    expect(refused.headers.get("WWW-Authenticate")).toContain('error="insufficient_scope"');
    expect(refused.headers.get("WWW-Authenticate")).toContain('scope="registrations:write"');
    expect((await problemOf(await api(reader, "GET", "/security-events"), 403)).code).toBe("insufficient_scope");

    const devicesOnly = await automation(site, ["devices:read"]);
    expect((await api(devicesOnly, "GET", "/app-registrations")).status).toBe(403);

    const anonymous = await callWorker(`/api/v1/sites/${site.slug}/app-registrations`);
    expect((await problemOf(anonymous, 401)).code).toBe("missing_token");
    expect(anonymous.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm=/);

    // Another Site's slug: refused before anything is read.
    const other = await createSite();
    const elsewhere = await api(bot, "GET", "/app-registrations", { site: other.slug });
    expect(elsewhere.status).toBe(403);
  });

  it("refuse a token whose registration was disabled since it was issued, and log it", async () => {
    const doomed = await automation(site);
    await db().update(appRegistrations).set({ enabled: false }).where(eq(appRegistrations.id, doomed.registrationId));
    const res = await api(doomed, "GET", "/app-registrations");
    expect((await problemOf(res, 401)).code).toBe("invalid_token");
    expect(await eventsWithCode(doomed.clientId, "IntegrationBlocked")).toHaveLength(1);
  });
});

describe("App registrations", () => {
  it("creates one with its secret shown once, a Location, an ETag and an audit row naming the registration", async () => {
    const name = unique("Created by pipeline");
    const res = await api(bot, "POST", "/app-registrations", {
      body: {
        name,
        description: "made by CI",
        expiration_date: future(60),
        scopes: ["devices:read", "devices:write"],
        access_token_lifetime: 1800,
      },
    });
    expect(res.status).toBe(201);
    const created = createdRegistrationResource.parse(await res.json());
    expect(created).toMatchObject({
      name,
      description: "made by CI",
      enabled: true,
      state: "active",
      scopes: ["devices:read", "devices:write"],
      access_token_lifetime: 1800,
      last_used_at: null,
      site: site.slug,
    });
    expect(res.headers.get("Location")).toBe(`/api/v1/sites/${site.slug}/app-registrations/${created.client_id}`);
    expect(res.headers.get("ETag")).toMatch(/^"[0-9a-f]{16}"$/);
    const token = await requestToken({ clientId: created.client_id, clientSecret: created.client_secret });
    expect(token.status).toBe(200);

    const row = await db()
      .select()
      .from(appRegistrations)
      .where(eq(appRegistrations.clientId, created.client_id))
      .get();
    const [audit] = await auditOf(row?.id ?? 0);
    expect(audit).toMatchObject({ action: "create", actorUserId: null });
    expect(audit?.actorEmail).toBe(`${(await nameOf(bot.registrationId)) ?? ""} (${bot.clientId})`);
    expect(audit?.changes).not.toContain(created.client_secret);

    // GET never shows the secret again.
    const again = await api(bot, "GET", `/app-registrations/${created.client_id}`);
    const text = await again.text();
    expect(text).not.toContain(created.client_secret);
    expect(registrationResource.strict().parse(JSON.parse(text)).client_id).toBe(created.client_id);
    expect(again.headers.get("ETag")).toBe(res.headers.get("ETag"));
    const notModified = await api(bot, "GET", `/app-registrations/${created.client_id}`, {
      headers: { "If-None-Match": res.headers.get("ETag") ?? "" },
    });
    expect(notModified.status).toBe(304);
  });

  it("honours Idempotency-Key for 24 hours: the same body answers the same registration, another body 409", async () => {
    const body = { name: unique("Idempotent"), expiration_date: future(30) };
    const key = unique("key");
    const first = await api(bot, "POST", "/app-registrations", { body, headers: { "Idempotency-Key": key } });
    expect(first.status).toBe(201);
    const created = createdRegistrationResource.parse(await first.json());

    const replay = await api(bot, "POST", "/app-registrations", { body, headers: { "Idempotency-Key": key } });
    expect(replay.status).toBe(200);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    const replayed = (await replay.json()) as Record<string, unknown>;
    expect(replayed.client_id).toBe(created.client_id);
    expect(replayed).not.toHaveProperty("client_secret");
    const named = await db().select().from(appRegistrations).where(eq(appRegistrations.name, body.name)).all();
    expect(named).toHaveLength(1);

    const other = await api(bot, "POST", "/app-registrations", {
      body: { ...body, description: "changed" },
      headers: { "Idempotency-Key": key },
    });
    expect((await problemOf(other, 409)).code).toBe("idempotency_key_reused");

    // After 24 hours the key is free again: a new registration (the name must then be new too).
    const later = Date.now() + DAY + MINUTE;
    const fresh = await automation(site, MANAGE, later);
    const reuse = await api(fresh, "POST", "/app-registrations", {
      body: { name: unique("After a day"), expiration_date: future(30) },
      headers: { "Idempotency-Key": key },
      now: later,
    });
    expect(reuse.status).toBe(201);
  });

  it("refuses bad input with every field's problem and creates nothing", async () => {
    const before = await db().$count(appRegistrations, eq(appRegistrations.siteId, site.id));
    const invalid = await api(bot, "POST", "/app-registrations", {
      body: { name: "", expiration_date: "2020-02-30", scopes: ["devices:fly"], access_token_lifetime: 90 },
    });
    const problem = await problemOf(invalid, 400);
    expect(problem.code).toBe("validation_failed");
    expect(Object.keys(problem.errors ?? {}).sort()).toEqual(["access_token_lifetime", "expiration_date", "scopes.0"]);

    const rules = await api(bot, "POST", "/app-registrations", {
      body: { name: " ", expiration_date: "2001-01-01", access_token_lifetime: 60 * 500 },
    });
    expect(Object.keys((await problemOf(rules, 400)).errors ?? {}).sort()).toEqual(["access_token_lifetime", "name"]);
    const past = await api(bot, "POST", "/app-registrations", {
      body: { name: unique("p"), expiration_date: "2001-01-01" },
    });
    expect((await problemOf(past, 400)).errors?.expiration_date).toMatch(/after today/);

    const unknown = await api(bot, "POST", "/app-registrations", {
      body: { name: unique("u"), expiration_date: future(10), site_id: 1, client_id: "mine" },
    });
    expect((await problemOf(unknown, 400)).errors).toHaveProperty("body");

    const form = await api(bot, "POST", "/app-registrations", {
      raw: "name=x",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect((await problemOf(form, 415)).code).toBe("unsupported_media_type");
    const huge = await api(bot, "POST", "/app-registrations", {
      body: { name: "x".repeat(40_000), expiration_date: future(10) },
    });
    expect((await problemOf(huge, 413)).code).toBe("body_too_large");
    expect((await problemOf(await api(bot, "POST", "/app-registrations", { raw: "{" }), 400)).code).toBe(
      "malformed_json",
    );
    const grant = await api(bot, "POST", "/app-registrations", {
      body: { name: unique("g"), expiration_date: future(10), scopes: ["devices:read", "security-log:read"] },
    });
    expect((await problemOf(grant, 403)).code).toBe("management_scope_refused");

    const name = unique("Taken");
    expect((await api(bot, "POST", "/app-registrations", { body: { name, expiration_date: future(9) } })).status).toBe(
      201,
    );
    const taken = await api(bot, "POST", "/app-registrations", { body: { name, expiration_date: future(9) } });
    expect((await problemOf(taken, 409)).code).toBe("name_taken");
    expect(await db().$count(appRegistrations, eq(appRegistrations.siteId, site.id))).toBe(before + 1);
  });

  it("lists with state, expires_before and name filters and cursor pagination", async () => {
    const own = await createSite();
    const lister = await automation(own);
    const prefix = unique("Listed");
    for (const [suffix, days, enabled] of [
      ["a", 3, true],
      ["b", 20, true],
      ["c", 200, true],
      ["d", 200, false],
    ] as const) {
      await createRegistration(own.id, { name: `${prefix} ${suffix}`, daysAhead: days, enabled });
    }
    const names = async (query: string) => {
      const res = await api(lister, "GET", `/app-registrations?${query}`);
      expect(res.status).toBe(200);
      return registrationListResource.parse(await res.json()).items.map((r) => r.name);
    };
    expect(await names(`name=${encodeURIComponent(prefix.toUpperCase())}`)).toHaveLength(4);
    expect(await names(`name=${encodeURIComponent(prefix)}&state=expiring`)).toEqual([`${prefix} a`, `${prefix} b`]);
    expect(await names(`name=${encodeURIComponent(prefix)}&state=disabled`)).toEqual([`${prefix} d`]);
    expect(await names(`name=${encodeURIComponent(prefix)}&state=active`)).toEqual([`${prefix} c`]);
    expect(await names(`name=${encodeURIComponent(prefix)}&expires_before=${future(10)}`)).toEqual([`${prefix} a`]);

    const seen: string[] = [];
    let cursor: string | null = "";
    for (let page = 0; cursor !== null && page < 10; page++) {
      const query = `name=${encodeURIComponent(prefix)}&limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const list = registrationListResource.parse(
        await (await api(lister, "GET", `/app-registrations?${query}`)).json(),
      );
      seen.push(...list.items.map((r) => r.name));
      cursor = list.next_cursor;
    }
    expect(seen).toEqual([`${prefix} a`, `${prefix} b`, `${prefix} c`, `${prefix} d`]);

    for (const bad of ["limit=201", "limit=0", "state=soon", "expires_before=tomorrow", "cursor=nope", "colour=red"]) {
      const res = await api(lister, "GET", `/app-registrations?${bad}`);
      expect(res.status, bad).toBe(400);
    }
  });

  it("patches with If-Match: renews, refuses a stale ETag, a missing one, widening its own scopes and granting management scopes", async () => {
    const { registration } = await createRegistration(site.id, { name: unique("Patched"), daysAhead: 5 });
    const path = `/app-registrations/${registration.clientId}`;
    const etag = (await api(bot, "GET", path)).headers.get("ETag") ?? "";

    expect((await problemOf(await api(bot, "PATCH", path, { body: { enabled: false } }), 428)).code).toBe(
      "if_match_required",
    );
    const renewed = await api(bot, "PATCH", path, {
      body: { expiration_date: future(300) },
      headers: { "If-Match": etag },
    });
    expect(renewed.status).toBe(200);
    expect(registrationResource.parse(await renewed.json())).toMatchObject({
      expiration_date: future(300),
      state: "active",
    });
    expect(renewed.headers.get("ETag")).not.toBe(etag);
    const stale = await api(bot, "PATCH", path, { body: { enabled: false }, headers: { "If-Match": etag } });
    expect((await problemOf(stale, 412)).code).toBe("stale_etag");
    const audit = await auditOf(registration.id);
    expect(audit.map((a) => a.action)).toEqual(["update"]);
    expect(JSON.parse(audit[0]?.changes ?? "{}")).toEqual({
      expirationDate: [registration.expirationDate, future(300)],
    });

    const current = renewed.headers.get("ETag") ?? "";
    const grant = await api(bot, "PATCH", path, {
      body: { scopes: ["devices:read", "registrations:write"] },
      headers: { "If-Match": current },
    });
    expect((await problemOf(grant, 403)).code).toBe("management_scope_refused");

    const selfPath = `/app-registrations/${bot.clientId}`;
    const selfTag = (await api(bot, "GET", selfPath)).headers.get("ETag") ?? "";
    const widen = await api(bot, "PATCH", selfPath, {
      body: { scopes: [...MANAGE, "devices:write"] },
      headers: { "If-Match": selfTag },
    });
    expect((await problemOf(widen, 403)).code).toBe("scope_widening_refused");
    const unknown = await api(bot, "PATCH", path, { body: { colour: "red" }, headers: { "If-Match": current } });
    expect(await problemOf(unknown, 400)).toMatchObject({ code: "validation_failed" });
    expect(
      await problemOf(await api(bot, "PATCH", path, { body: {}, headers: { "If-Match": current } }), 400),
    ).toMatchObject({ code: "validation_failed" });
  });

  it("deletes: 204, then the Client ID is gone; another Site's Client ID is 404", async () => {
    const { registration, clientSecret } = await createRegistration(site.id, { name: unique("Deleted") });
    const path = `/app-registrations/${registration.clientId}`;
    expect((await api(bot, "DELETE", path)).status).toBe(204);
    expect((await problemOf(await api(bot, "GET", path), 404)).code).toBe("not_found");
    expect((await requestToken({ clientId: registration.clientId, clientSecret })).status).toBe(401);
    expect((await auditOf(registration.id)).map((a) => a.action)).toEqual(["delete"]);

    const elsewhere = await createSite();
    const foreign = (await createRegistration(elsewhere.id)).registration;
    for (const [method, suffix] of [
      ["GET", ""],
      ["DELETE", ""],
      ["GET", "/secrets"],
      ["POST", "/secrets"],
      ["GET", "/keys"],
    ] as const) {
      const res = await api(bot, method, `/app-registrations/${foreign.clientId}${suffix}`, {
        body: method === "POST" ? {} : undefined,
      });
      expect(res.status, `${method} ${suffix}`).toBe(404);
    }
    expect(await db().select().from(appRegistrations).where(eq(appRegistrations.id, foreign.id)).get()).toBeDefined();
    expect((await api(bot, "GET", "/app-registrations/not-a-uuid")).status).toBe(404);
  });
});

describe("secrets and keys", () => {
  it("rotates, lists hints only, refuses a third live secret and revokes", async () => {
    const { registration, clientSecret: old } = await createRegistration(site.id, { name: unique("Rotated") });
    const base = `/app-registrations/${registration.clientId}/secrets`;
    const rotated = await api(bot, "POST", base, { body: { old_secret_expires_in: "1d" } });
    expect(rotated.status).toBe(201);
    const issued = createdSecretResource.parse(await rotated.json());
    expect(issued).toMatchObject({ state: "live", hint: issued.client_secret.slice(0, 8), expires_at: null });
    expect(issued.previous).toMatchObject({ state: "live" });
    expect(Date.parse(issued.previous?.expires_at ?? "")).toBeGreaterThan(Date.now() + DAY - MINUTE);
    expect((await requestToken({ clientId: registration.clientId, clientSecret: issued.client_secret })).status).toBe(
      200,
    );
    expect((await requestToken({ clientId: registration.clientId, clientSecret: old })).status).toBe(200);

    const listed = await api(bot, "GET", base);
    const text = await listed.text();
    expect(text).not.toContain(issued.client_secret);
    expect(text).not.toContain(old);
    const items = secretListResource.parse(JSON.parse(text)).items;
    expect(items.map((s) => s.state)).toEqual(["live", "live"]);
    for (const item of items) expect(Object.keys(item)).not.toContain("client_secret");

    expect((await problemOf(await api(bot, "POST", base, { body: {} }), 409)).code).toBe("too_many_live_secrets");
    expect((await problemOf(await api(bot, "POST", base, { body: { old_secret_expires_in: "2d" } }), 400)).code).toBe(
      "validation_failed",
    );

    const oldId = items[1]?.id ?? 0;
    expect((await api(bot, "DELETE", `${base}/${oldId}`)).status).toBe(204);
    expect((await requestToken({ clientId: registration.clientId, clientSecret: old })).status).toBe(401);
    expect(await eventsWithCode(registration.clientId, "SecretRevoked")).toHaveLength(1);
    expect((await problemOf(await api(bot, "DELETE", `${base}/${oldId}`), 409)).code).toBe("secret_not_live");

    // Another registration's secret id under this registration: 404, and it stays live.
    const other = await createRegistration(site.id, { name: unique("Other") });
    const [otherSecret] = await db()
      .select()
      .from(clientSecrets)
      .where(eq(clientSecrets.registrationId, other.registration.id))
      .all();
    expect((await api(bot, "DELETE", `${base}/${otherSecret?.id}`)).status).toBe(404);
    expect(
      (await requestToken({ clientId: other.registration.clientId, clientSecret: other.clientSecret })).status,
    ).toBe(200);

    const audit = await auditOf(registration.id);
    expect(audit.map((a) => a.action)).toEqual(["add_secret", "set_secret_expiry", "revoke_secret"]);
    for (const row of audit) {
      expect(row.actorEmail).toBe(`${await nameOf(bot.registrationId)} (${bot.clientId})`);
      expect(row.changes).not.toContain(issued.client_secret);
    }
  });

  it("lets a registration rotate its own secret without a human", async () => {
    const self = await automation(site, ["registrations:write"]);
    const base = `/app-registrations/${self.clientId}/secrets`;
    const rotated = createdSecretResource.parse(
      await (await api(self, "POST", base, { body: { old_secret_expires_in: "now" } })).json(),
    );
    expect((await requestToken({ clientId: self.clientId, clientSecret: rotated.client_secret })).status).toBe(200);
    expect((await requestToken({ clientId: self.clientId, clientSecret: self.clientSecret })).status).toBe(401);
    expect(await eventsWithCode(self.clientId, "SecretExpired")).toHaveLength(1);
  });

  it("adds, lists and removes public keys with the page's rules", async () => {
    const { registration } = await createRegistration(site.id, { name: unique("Keys") });
    const base = `/app-registrations/${registration.clientId}/keys`;
    const pair = await generateClientKeyPair("ES256");
    const added = await api(bot, "POST", base, {
      body: { key: JSON.stringify(pair.publicJwk), kid: "ci-key", expires: future(100) },
    });
    expect(added.status).toBe(201);
    const key = (await added.json()) as { id: number; kid: string; alg: string };
    expect(key).toMatchObject({ kid: "ci-key", alg: "ES256" });
    const list = keyListResource.parse(await (await api(bot, "GET", base)).json());
    expect(list.items.map((k) => k.kid)).toEqual(["ci-key"]);
    const duplicate = await api(bot, "POST", base, { body: { key: JSON.stringify(pair.publicJwk), kid: "ci-key" } });
    expect((await problemOf(duplicate, 409)).code).toBe("duplicate_kid");
    const junk = await api(bot, "POST", base, { body: { key: "not a key" } });
    expect((await problemOf(junk, 400)).errors).toHaveProperty("key");
    expect((await api(bot, "DELETE", `${base}/${key.id}`)).status).toBe(204);
    expect((await api(bot, "DELETE", `${base}/${key.id}`)).status).toBe(404);
    expect((await auditOf(registration.id)).map((a) => a.action)).toEqual(["add_key", "remove_key"]);
  });
});

describe("security events", () => {
  it("feeds settled rows after since_id, without gaps or duplicates, with the page's filters", async () => {
    const own = await createSite();
    const siem = await automation(own, ["security-log:read"]);
    const { registration } = await createRegistration(own.id, { name: unique("Watched") });
    const t0 = Math.floor(Date.now() / MINUTE) * MINUTE;
    for (const at of [t0, t0 + 1000, t0 + MINUTE]) {
      await requestToken({ clientId: registration.clientId, clientSecret: "asc_wrong", now: at, ip: "192.0.2.7" });
    }
    const poll = async (query: string, now: number) => {
      const res = await api(siem, "GET", `/security-events?${query}`, { now });
      expect(res.status).toBe(200);
      return securityEventListResource.parse(await res.json());
    };
    // While a row's minute is open it is not served: its count may still grow.
    expect((await poll("since_id=0", t0 + 30_000)).items).toEqual([]);
    const first = await poll("since_id=0", t0 + 2 * MINUTE);
    expect(first.items.map((e) => [e.detail_code, e.count, e.ip])).toEqual([["InvalidSecret", 2, "192.0.2.7"]]);
    const second = await poll(`since_id=${first.next_since_id}`, t0 + 3 * MINUTE);
    expect(second.items.map((e) => [e.detail_code, e.count])).toEqual([["InvalidSecret", 1]]);
    const third = await poll(`since_id=${second.next_since_id}`, t0 + 10 * MINUTE);
    expect(third).toEqual({ items: [], next_since_id: second.next_since_id });
    expect((await poll("code=InvalidSecret&ip=192.0.2.8", t0 + 10 * MINUTE)).items).toEqual([]);
    expect((await poll(`client_id=${registration.clientId}`, t0 + 10 * MINUTE)).items).toHaveLength(2);
    expect((await api(siem, "GET", "/security-events?since_id=-1")).status).toBe(400);
    expect((await api(siem, "GET", "/security-events?event=nope")).status).toBe(400);
  });
});

async function nameOf(registrationId: number) {
  return (await db().select().from(appRegistrations).where(eq(appRegistrations.id, registrationId)).get())?.name;
}
