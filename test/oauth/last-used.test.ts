import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { clientSecrets } from "../../src/db/schema";
import { MINUTE } from "../../src/lib/time";
import { recordLastUsed, recordUse } from "../../src/oauth/last-used";
import { TOKEN_FAILURE_LIMIT } from "../../src/oauth/throttle";
import { db } from "../helpers/app";
import {
  countingD1,
  createClient,
  eventsFor,
  registrationRow,
  requestToken,
  stallingD1,
  uniqueIp,
} from "../helpers/oauth";

const isFailureCount = (sql: string) => /^INSERT INTO throttle_counters \(key, window_start, count\) VALUES/.test(sql);
const isLastUsedUpdate = (sql: string) => /^UPDATE app_registrations SET last_used_at/.test(sql);
const isSecretLastUsedUpdate = (sql: string) => /^UPDATE client_secrets SET last_used_at/.test(sql);
const secretOf = (registrationId: number) =>
  db().select().from(clientSecrets).where(eq(clientSecrets.registrationId, registrationId)).get();

describe("Last used (§7)", () => {
  it("is empty until the first token, then shows its time and caller IP", async () => {
    const { registration, clientId, clientSecret } = await createClient();
    expect((await registrationRow(registration.id))?.lastUsedAt).toBeNull();
    const now = Date.now();
    const ip = uniqueIp();
    expect((await requestToken({ clientId, clientSecret, now, ip })).status).toBe(200);
    const row = await registrationRow(registration.id);
    expect(row?.lastUsedAt).toBe(now);
    expect(row?.lastUsedIp).toBe(ip);
  });

  it("is not touched by failed token requests", async () => {
    const { registration, clientId } = await createClient();
    expect((await requestToken({ clientId, clientSecret: "asc_wrong" })).status).toBe(401);
    expect((await registrationRow(registration.id))?.lastUsedAt).toBeNull();
  });

  it("coalesces N token requests inside a minute into one D1 round trip (the registration's and the secret's Last used)", async () => {
    const { registration, clientId, clientSecret } = await createClient();
    const start = Date.now();
    const { binding, tally } = countingD1();
    const n = 25;
    for (let i = 0; i < n; i++) {
      const res = await requestToken({ clientId, clientSecret, now: start + i * 2000, bindings: { DB: binding } });
      expect(res.status).toBe(200);
    }
    expect(tally.reads).toBe(n);
    expect(tally.statements.filter(isLastUsedUpdate)).toHaveLength(1);
    expect(tally.statements.filter(isSecretLastUsedUpdate)).toHaveLength(1);
    // One batch: the registration's and the secret's Last used, and the token counts (hourly and daily, of the
    // registration and of its Site).
    expect(tally.batches).toBe(1);
    expect(tally.writes).toBe(6);
    expect(tally.changes).toBe(6);
    expect((await registrationRow(registration.id))?.lastUsedAt).toBe(start);
    expect((await secretOf(registration.id))?.lastUsedAt).toBe(start);

    // A minute after the recorded time, the next token moves it on.
    const later = start + MINUTE + 1;
    expect((await requestToken({ clientId, clientSecret, now: later, bindings: { DB: binding } })).status).toBe(200);
    expect(tally.batches).toBe(2);
    expect(tally.writes).toBe(12);
    expect((await registrationRow(registration.id))?.lastUsedAt).toBe(later);
    expect((await secretOf(registration.id))?.lastUsedAt).toBe(later);
  });

  it("writes at most once a minute even when isolates race: the UPDATE is conditional", async () => {
    const { registration } = await createClient();
    const now = Date.now();
    // Three isolates that all believe the column is stale.
    const changes = await Promise.all([
      recordLastUsed(env.DB, registration.id, "192.0.2.1", now),
      recordLastUsed(env.DB, registration.id, "192.0.2.2", now + 1000),
      recordLastUsed(env.DB, registration.id, "192.0.2.3", now + 2000),
    ]);
    expect(changes.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await recordLastUsed(env.DB, registration.id, "192.0.2.4", now + 59_000)).toBe(0);
    expect(await recordLastUsed(env.DB, registration.id, "192.0.2.5", now + 61_000)).toBe(1);
    expect((await registrationRow(registration.id))?.lastUsedIp).toBe("192.0.2.5");
  });

  it("skips the write when the row read for the request shows a use within the minute", async () => {
    const { registration, clientId, clientSecret } = await createClient();
    const now = Date.now();
    // Another isolate recorded a use 30 seconds ago, of the registration and of its secret.
    const secretId = (await secretOf(registration.id))?.id ?? null;
    await recordUse(env.DB, { registrationId: registration.id, secretId, ip: "192.0.2.9" }, now - 30_000);
    const { binding, tally } = countingD1();
    // This isolate has not written for this registration; the one read says the column is fresh.
    expect((await requestToken({ clientId, clientSecret, now, bindings: { DB: binding } })).status).toBe(200);
    expect(tally.reads).toBe(1);
    // No Last used write; only this isolate's token count, which has its own once-a-minute claim.
    expect(tally.statements.filter((sql) => isLastUsedUpdate(sql) || isSecretLastUsedUpdate(sql))).toEqual([]);
    expect(tally.statements.filter((sql) => /^INSERT INTO (site_)?usage_(hourly|daily)/.test(sql))).toHaveLength(4);
  });

  it("never delays the answer: the token is sent while the write is still pending", async () => {
    const { registration, clientId, clientSecret } = await createClient();
    const DB = stallingD1(/^UPDATE app_registrations/);
    const res = await requestToken({ clientId, clientSecret, bindings: { DB }, settle: false });
    expect(res.status).toBe(200);
    expect((await res.json()) as object).toHaveProperty("access_token");
    expect((await registrationRow(registration.id))?.lastUsedAt).toBeNull();
  });
});

describe("the D1 budget of a token request (§7)", () => {
  it("reads the primary once for a cold token and never for a warm one; every refusal reads the primary once", async () => {
    const { clientId, clientSecret } = await createClient();
    const ip = uniqueIp();
    const now = Date.now();
    const cold = countingD1();
    expect((await requestToken({ clientId, clientSecret, ip, now, bindings: { DB: cold.binding } })).status).toBe(200);
    expect(cold.tally.reads).toBe(1);
    expect(cold.tally.statements[0]).toMatch(/FROM \(SELECT 1\) AS anchor LEFT JOIN app_registrations/);
    // A request that waits for its read reads the primary (D1 Sessions API).
    expect(cold.tally.sessions).toEqual(["first-primary"]);

    const warm = countingD1();
    for (let i = 1; i <= 3; i++) {
      const res = await requestToken({ clientId, clientSecret, ip, now: now + i, bindings: { DB: warm.binding } });
      expect(res.status).toBe(200);
    }
    expect(warm.tally.reads).toBe(0);

    // A wrong secret, refused on cached data, is confirmed on the primary: one read.
    const wrong = countingD1();
    const refused = await requestToken({
      clientId,
      clientSecret: "asc_wrong",
      ip,
      now: now + 4,
      bindings: { DB: wrong.binding },
    });
    expect(refused.status).toBe(401);
    expect(wrong.tally.reads).toBe(1);
    expect(wrong.tally.sessions).toEqual(["first-primary"]);
    // The failure itself is one coalescing upsert in the security log, written after the answer.
    expect(wrong.tally.statements.filter((s) => /insert into "security_events"/.test(s))).toHaveLength(1);

    // An unknown Client ID costs the same one read of the primary: the answer time does not tell them apart.
    const unknown = countingD1();
    const stranger = crypto.randomUUID();
    await requestToken({ clientId: stranger, clientSecret, ip, now: now + 5, bindings: { DB: unknown.binding } });
    expect(unknown.tally.sessions).toEqual(["first-primary"]);
    expect(unknown.tally.reads).toBe(1);
    expect((await eventsFor(stranger)).map((e) => [e.detailCode, e.siteId])).toEqual([["InvalidIntegration", null]]);
  });

  it("records a burst of failures in shared D1 batches: identical ones coalesce into one row", async () => {
    const { site, clientId } = await createClient();
    const ip = uniqueIp();
    const { binding, tally } = countingD1();
    const now = Date.now();
    // A full throttle budget of failures, answered in parallel.
    const n = TOKEN_FAILURE_LIMIT;
    const answers = await Promise.all(
      Array.from({ length: n }, () =>
        requestToken({ clientId, clientSecret: "asc_wrong", ip, now, bindings: { DB: binding } }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(n).fill(401));
    // Every refusal is answered from the primary, whatever an earlier read or the cache said.
    expect(tally.sessions.filter((s) => s === "first-primary")).toHaveLength(n);
    // Each failure is counted before its answer, in a batch of its own (throttle.ts)...
    const countBatches = tally.statements.filter(isFailureCount).length / 2;
    expect(countBatches).toBe(n);
    // ...while failures answered close together share a security-log batch: fewer round trips than failures.
    expect(tally.statements.filter((s) => /insert into "security_events"/.test(s))).toHaveLength(n);
    expect(tally.batches - countBatches).toBeLessThan(n);
    const events = await eventsFor(clientId);
    expect(events.map((e) => [e.detailCode, e.count, e.siteId])).toEqual([["InvalidSecret", n, site.id]]);
  });

  it("answers a failure without waiting for the security log write", async () => {
    const { clientId } = await createClient();
    const DB = stallingD1(/security_events/);
    const res = await requestToken({ clientId, clientSecret: "asc_wrong", bindings: { DB }, settle: false });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "invalid_client" });
  });
});
