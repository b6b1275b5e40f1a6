import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { appRegistrations, clientSecrets, sites } from "../../src/db/schema";
import {
  CLIENT_CACHE_MAX_ENTRIES,
  CLIENT_CACHE_REFRESH_MS,
  CLIENT_CACHE_TTL_MS,
  cachedLookup,
  rememberLookup,
} from "../../src/oauth/client-cache";
import type { StoredClient } from "../../src/oauth/client-store";
import { blockMarkerKey, throttleKeys, throttleWindowStart } from "../../src/oauth/throttle";
import { generateClientSecret, hashClientSecret } from "../../src/registrations/secrets";
import { db } from "../helpers/app";
import { countingD1, createClient, eventsFor, requestToken, uniqueIp } from "../helpers/oauth";
import { clientFor, regPath } from "../helpers/registration-pages";

/*
 * The isolate's cache of the client lookup (src/oauth/client-cache.ts). Changes written straight to D1 here stand for
 * an admin change made in another isolate, which this isolate's cache does not hear of; changes made through the
 * admin pages stand for one made in this isolate. Every request pins `now`, so the cache's age is exact.
 */

/** A client with one warm cache entry for `ip`, made by a successful token request at `now`. */
async function warmClient(options: Parameters<typeof createClient>[0] = {}) {
  const client = await createClient(options);
  const ip = uniqueIp();
  // Early in a throttle window, so that a test's requests (at most ~15 s later) never straddle two of them.
  const now = throttleWindowStart(Date.now()) + 1_000;
  const token = (at: number, extra: Partial<Parameters<typeof requestToken>[0]> = {}) =>
    requestToken({ clientId: client.clientId, clientSecret: client.clientSecret, ip, now: at, ...extra });
  expect((await token(now)).status).toBe(200);
  return { ...client, ip, now, token };
}

const setRegistration = (id: number, values: Partial<typeof appRegistrations.$inferInsert>) =>
  db().update(appRegistrations).set(values).where(eq(appRegistrations.id, id)).run();

async function detailOf(clientId: string) {
  const events = await eventsFor(clientId);
  return events.map((e) => e.detailCode);
}

describe("warm token requests", () => {
  it("are served without a D1 read, and the tokens are the same as a cold one's", async () => {
    const { token, now } = await warmClient();
    const { binding, tally } = countingD1();
    for (let i = 1; i <= 20; i++) {
      const res = await token(now + i * 100, { bindings: { DB: binding } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { token_type: string }).token_type).toBe("Bearer");
    }
    expect(tally.reads).toBe(0);
    // Past the TTL the entry is read again, once.
    expect((await token(now + CLIENT_CACHE_TTL_MS + 50, { bindings: { DB: binding } })).status).toBe(200);
    expect(tally.reads).toBe(1);
  });
});

describe("refresh ahead", () => {
  it("re-reads an entry once it is CLIENT_CACHE_REFRESH_MS old, after one request's answer, and no request waits", async () => {
    const { registration, token, now } = await warmClient();
    const { binding, tally } = countingD1();
    // Younger than the refresh age: nothing is read.
    expect((await token(now + CLIENT_CACHE_REFRESH_MS - 1, { bindings: { DB: binding } })).status).toBe(200);
    expect(tally.reads).toBe(0);
    await setRegistration(registration.id, { enabled: false });
    // The first request past it is answered from the cache, then re-reads the lookup after its answer…
    expect((await token(now + CLIENT_CACHE_REFRESH_MS, { bindings: { DB: binding } })).status).toBe(200);
    expect(tally.reads).toBe(1);
    // …while the next ones do not read again: the refreshed entry already knows the registration is disabled, and
    // that refusal is confirmed on the primary (one read each).
    const next = await token(now + CLIENT_CACHE_REFRESH_MS + 1, { bindings: { DB: binding } });
    expect(next.status).toBe(401);
    expect(tally.sessions).toEqual(["first-unconstrained", "first-primary"]);
  });
});

describe("revocations made in another isolate take effect within the bound", () => {
  it("refuses a disabled registration once the cached lookup is CLIENT_CACHE_TTL_MS old", async () => {
    const { registration, clientId, token, now } = await warmClient();
    await setRegistration(registration.id, { enabled: false });
    // Within the bound the cached lookup still answers: this is the documented delay.
    expect((await token(now + CLIENT_CACHE_TTL_MS - 1)).status).toBe(200);
    const refused = await token(now + CLIENT_CACHE_TTL_MS);
    expect(refused.status).toBe(401);
    expect(await detailOf(clientId)).toContain("IntegrationBlocked");
  });

  it("refuses a deleted registration within the bound", async () => {
    const { registration, clientId, token, now } = await warmClient();
    await db().delete(appRegistrations).where(eq(appRegistrations.id, registration.id)).run();
    expect((await token(now + CLIENT_CACHE_TTL_MS)).status).toBe(401);
    expect(await detailOf(clientId)).toContain("InvalidIntegration");
  });

  it("refuses a revoked secret, and a Site whose REST API was turned off, within the bound", async () => {
    const revoked = await warmClient();
    await db()
      .update(clientSecrets)
      .set({ revokedAt: revoked.now })
      .where(eq(clientSecrets.registrationId, revoked.registration.id))
      .run();
    expect((await revoked.token(revoked.now + CLIENT_CACHE_TTL_MS)).status).toBe(401);

    const off = await warmClient();
    await db().update(sites).set({ restApiEnabled: false }).where(eq(sites.id, off.site.id)).run();
    expect((await off.token(off.now + CLIENT_CACHE_TTL_MS)).status).toBe(401);
    expect(await detailOf(off.clientId)).toContain("FeatureDisabled");
  });

  it("narrows the scopes within the bound", async () => {
    const { registration, token, now } = await warmClient({ scopes: ["devices:read", "devices:write"] });
    await setRegistration(registration.id, { scopes: "devices:read" });
    const refused = await token(now + CLIENT_CACHE_TTL_MS, { scope: "devices:write" });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toBe("invalid_scope");
  });

  it("picks up another isolate's throttle block marker for the caller's IP within the bound", async () => {
    const { clientId, clientSecret } = await createClient();
    const ip = uniqueIp();
    // Inside one throttle window for the whole test.
    const windowStart = throttleWindowStart(Date.now());
    const at = windowStart + 1_000;
    const token = (t: number) => requestToken({ clientId, clientSecret, ip, now: t });
    expect((await token(at)).status).toBe(200);
    await env.DB.prepare("INSERT INTO throttle_counters (key, window_start, count) VALUES (?, ?, 1)")
      .bind(blockMarkerKey(throttleKeys(ip, null).ip), windowStart)
      .run();
    expect((await token(at + 1)).status).toBe(200);
    expect((await token(at + CLIENT_CACHE_TTL_MS)).status).toBe(429);
  });
});

describe("the isolate that makes an admin change forgets its cached entry at once", () => {
  it("refuses on the very next request after a disable, a REST API switch or a delete made here", async () => {
    const { site, registration, clientId, clientSecret } = await createClient();
    const admin = await clientFor("global", null, Date.now());
    const ip = uniqueIp();
    const token = () => requestToken({ clientId, clientSecret, ip, now: Date.now() });
    expect((await token()).status).toBe(200);
    expect((await admin.post(`${regPath(site, registration.id)}/enabled`, { enabled: "false" })).status).toBe(303);
    expect((await token()).status).toBe(401);
    expect((await admin.post(`${regPath(site, registration.id)}/enabled`, { enabled: "true" })).status).toBe(303);
    expect((await token()).status).toBe(200);
    expect((await admin.post(`/admin/sites/${site.slug}/rest-api`, { value: "false", confirmed: "yes" })).status).toBe(
      303,
    );
    expect((await token()).status).toBe(401);
    expect((await admin.post(`/admin/sites/${site.slug}/rest-api`, { value: "true" })).status).toBe(303);
    expect((await token()).status).toBe(200);
    expect((await admin.post(`${regPath(site, registration.id)}/delete`, {})).status).toBe(303);
    expect((await token()).status).toBe(401);
  });
});

describe("grants work on the very next request, whatever the cache holds", () => {
  it("a re-enabled registration", async () => {
    const { registration, token, now } = await warmClient();
    await setRegistration(registration.id, { enabled: false });
    // Refused once the entry is re-read, and that refused state is cached too…
    expect((await token(now + CLIENT_CACHE_TTL_MS)).status).toBe(401);
    await setRegistration(registration.id, { enabled: true });
    // …yet a refusal from the cache is confirmed on the primary, which says yes.
    expect((await token(now + CLIENT_CACHE_TTL_MS + 1)).status).toBe(200);
  });

  it("a renewed registration, refused by its cached expiry", async () => {
    const { registration, token, now } = await warmClient();
    await setRegistration(registration.id, { expiresAt: now });
    // Expired, and that row is what the cache holds now…
    expect((await token(now + CLIENT_CACHE_TTL_MS)).status).toBe(401);
    await setRegistration(registration.id, { expiresAt: now + 90 * 86_400_000 });
    // …yet the refusal is confirmed on the primary, which has the renewal.
    expect((await token(now + CLIENT_CACHE_TTL_MS + 1)).status).toBe(200);
  });

  it("a new secret, next to the cached one", async () => {
    const { registration, clientId, ip, now } = await warmClient();
    const secret = generateClientSecret();
    await db()
      .insert(clientSecrets)
      .values({
        registrationId: registration.id,
        secretHash: await hashClientSecret(env.SECRET_PEPPER, secret),
        createdAt: now,
      })
      .run();
    expect((await requestToken({ clientId, clientSecret: secret, ip, now: now + 1 })).status).toBe(200);
  });

  it("a widened scope", async () => {
    const { registration, token, now } = await warmClient({ scopes: ["devices:read"] });
    await setRegistration(registration.id, { scopes: "devices:read devices:write" });
    const res = await token(now + 1, { scope: "devices:write" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { scope: string }).scope).toBe("devices:write");
  });

  it("never lets cached and fresh answers disagree about a grant under concurrency", async () => {
    const { registration, token, now } = await warmClient();
    await setRegistration(registration.id, { enabled: false });
    expect((await token(now + CLIENT_CACHE_TTL_MS)).status).toBe(401);
    await setRegistration(registration.id, { enabled: true });
    // 40 requests at once: some find the refused state cached, some the fresh grant; every one is granted.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => token(now + CLIENT_CACHE_TTL_MS + 1 + (i % 5))),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
  });
});

describe("expiry stays exact", () => {
  it("refuses at the very instant of expires_at, computed from the cached row", async () => {
    const client = await createClient();
    const ip = uniqueIp();
    // On a whole second (an access token's exp has whole seconds, so none is issued in the last partial one), in the
    // middle of a throttle window.
    const expiresAt = throttleWindowStart(Date.now()) + 30_000;
    await setRegistration(client.registration.id, { expiresAt });
    const token = (at: number) =>
      requestToken({ clientId: client.clientId, clientSecret: client.clientSecret, ip, now: at });
    expect((await token(expiresAt - 2_000)).status).toBe(200);
    const { binding, tally } = countingD1();
    const last = await requestToken({
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      ip,
      now: expiresAt - 1,
      bindings: { DB: binding },
    });
    expect(last.status).toBe(200);
    expect(tally.reads).toBe(0);
    expect((await token(expiresAt)).status).toBe(401);
    expect(await detailOf(client.clientId)).toContain("IntegrationExpired");
  });
});

describe("the cache's bounds", () => {
  const stored = (n: number): StoredClient => ({
    registrationId: n,
    clientId: `client-${n}`,
    name: `Registration ${n}`,
    enabled: true,
    scopes: ["devices:read"],
    accessTokenLifetime: 3600,
    expiresAt: Number.MAX_SAFE_INTEGER,
    lastUsedAt: null,
    siteId: 1,
    siteSlug: "main",
    siteRestApiEnabled: true,
    secrets: [],
    keys: [],
  });

  it("holds at most CLIENT_CACHE_MAX_ENTRIES Client IDs, dropping the oldest first", () => {
    const now = 1_000_000;
    const windowStart = throttleWindowStart(now);
    const id = (n: number) => `bounds-${n}`;
    for (let n = 0; n <= CLIENT_CACHE_MAX_ENTRIES; n++) {
      rememberLookup(
        { client: stored(n), ipBlocked: false, clientBlocked: false },
        id(n),
        "192.0.2.1",
        now,
        windowStart,
      );
    }
    expect(cachedLookup(id(0), "192.0.2.1", now, windowStart)).toBeUndefined();
    expect(cachedLookup(id(1), "192.0.2.1", now, windowStart)?.client?.registrationId).toBe(1);
    expect(cachedLookup(id(CLIENT_CACHE_MAX_ENTRIES), "192.0.2.1", now, windowStart)).toBeDefined();
  });

  it("trusts an entry for CLIENT_CACHE_TTL_MS, never from the future, and ends a block with its throttle window", () => {
    const now = 60_000 * 1000 + 58_000;
    const windowStart = throttleWindowStart(now);
    rememberLookup({ client: stored(1), ipBlocked: true, clientBlocked: true }, "ttl", "192.0.2.2", now, windowStart);
    expect(cachedLookup("ttl", "192.0.2.2", now + CLIENT_CACHE_TTL_MS - 1, windowStart)).toMatchObject({
      ipBlocked: true,
      clientBlocked: true,
    });
    expect(cachedLookup("ttl", "192.0.2.2", now + CLIENT_CACHE_TTL_MS, windowStart)).toBeUndefined();
    expect(cachedLookup("ttl", "192.0.2.2", now - 1, windowStart)).toBeUndefined();
    // The next minute: the entry still serves (no herd of reads at every window), but its blocks have ended.
    expect(cachedLookup("ttl", "192.0.2.2", now + 3_000, windowStart + 60_000)).toMatchObject({
      ipBlocked: false,
      clientBlocked: false,
    });
    // Another caller IP needs its own read (its throttle marker).
    expect(cachedLookup("ttl", "192.0.2.3", now, windowStart)).toBeUndefined();
  });
});
