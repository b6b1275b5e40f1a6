import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { throttleCounters } from "../../src/db/schema";
import {
  blockMarkerKey,
  retryAfterSeconds,
  TOKEN_FAILURE_LIMIT,
  throttleKeys,
  throttleWindowStart,
} from "../../src/oauth/throttle";
import { db } from "../helpers/app";
import { countingD1, createClient, eventsFor, eventsFrom, requestToken, uniqueIp } from "../helpers/oauth";

/*
 * Every failure is counted in D1 before it is answered (throttle.ts), so a key gets exactly TOKEN_FAILURE_LIMIT
 * 401s per window and the next failure is the first 429. `now` is pinned so the block, once set, lasts for the
 * whole test.
 */
const BUDGET = TOKEN_FAILURE_LIMIT;

async function floodUntilThrottled(attempt: (i: number) => Promise<Response>) {
  for (let i = 0; i <= BUDGET; i++) {
    const res = await attempt(i);
    if (res.status === 429) return { res, attempts: i + 1 };
    expect(res.status).toBe(401);
  }
  throw new Error("never throttled");
}

async function expectThrottled(res: Response, now: number) {
  expect(res.status).toBe(429);
  expect(res.headers.get("Retry-After")).toBe(String(retryAfterSeconds(now)));
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  expect(await res.json()).toEqual({
    error: "invalid_request",
    error_description: "Too many failed token requests. Retry after the number of seconds in Retry-After.",
  });
}

describe("token endpoint throttling (§8)", () => {
  it("blocks an attacker IP flooding wrong secrets, while the real client keeps getting tokens from its own IP", async () => {
    const now = Date.now();
    const victim = await createClient();
    const attacker = uniqueIp();
    const realClientIp = uniqueIp();

    const { res, attempts } = await floodUntilThrottled(() =>
      requestToken({ clientId: victim.clientId, clientSecret: "asc_guess", ip: attacker, now }),
    );
    expect(attempts).toBe(BUDGET + 1);
    await expectThrottled(res, now);

    // The real client, from another IP, with the right secret.
    for (let i = 0; i < 3; i++) {
      const ok = await requestToken({ ...victim, ip: realClientIp, now: now + i });
      expect(ok.status).toBe(200);
    }
    // Wrong secrets for the flooded Client ID are refused with 429 from any IP now.
    await expectThrottled(
      await requestToken({ clientId: victim.clientId, clientSecret: "asc_x", ip: uniqueIp(), now }),
      now,
    );
    // The attacker IP is refused whatever it sends, even the right secret or another Client ID.
    await expectThrottled(await requestToken({ ...victim, ip: attacker, now }), now);
    const other = await createClient();
    await expectThrottled(await requestToken({ ...other, ip: attacker, now }), now);

    const events = await eventsFor(victim.clientId);
    const byCode = Object.fromEntries(events.filter((e) => e.ip === attacker).map((e) => [e.detailCode, e]));
    expect(byCode.InvalidSecret?.count).toBe(attempts - 1);
    expect(byCode.TooManyFailures).toMatchObject({
      siteId: victim.site.id,
      registrationName: victim.registration.name,
    });
    expect(events.filter((e) => e.ip === realClientIp)).toEqual([]);
    expect((await eventsFor(other.clientId)).map((e) => [e.detailCode, e.ip, e.siteId])).toEqual([
      ["TooManyFailures", attacker, other.site.id],
    ]);
  });

  it("blocks an IP that runs through its budget across many Client IDs", async () => {
    const now = Date.now();
    const attacker = uniqueIp();
    const { res, attempts } = await floodUntilThrottled(() =>
      requestToken({ clientId: crypto.randomUUID(), clientSecret: "asc_guess", ip: attacker, now }),
    );
    expect(attempts).toBe(BUDGET + 1);
    await expectThrottled(res, now);
    const real = await createClient();
    await expectThrottled(await requestToken({ ...real, ip: attacker, now }), now);
    expect((await requestToken({ ...real, ip: uniqueIp(), now })).status).toBe(200);
    const codes = (await eventsFrom(attacker)).map((e) => e.detailCode);
    expect(codes.filter((c) => c === "InvalidIntegration")).toHaveLength(attempts - 1);
    expect(codes.filter((c) => c === "TooManyFailures")).toHaveLength(2);
  });

  it("throttles a Client ID flooded from many IPs for failing attempts only", async () => {
    const now = Date.now();
    const victim = await createClient();
    const { res, attempts } = await floodUntilThrottled(() =>
      requestToken({ clientId: victim.clientId, clientSecret: "asc_guess", ip: uniqueIp(), now }),
    );
    expect(attempts).toBe(BUDGET + 1);
    await expectThrottled(res, now);
    await expectThrottled(
      await requestToken({ clientId: victim.clientId, clientSecret: "asc_x", ip: uniqueIp(), now }),
      now,
    );
    expect((await requestToken({ ...victim, ip: uniqueIp(), now })).status).toBe(200);
  });

  it("never counts successes: a busy client is not slowed or blocked", async () => {
    const now = Date.now();
    const busy = await createClient();
    const ip = uniqueIp();
    for (let i = 0; i < 2 * BUDGET + 5; i++) {
      expect((await requestToken({ ...busy, ip, now: now + i })).status).toBe(200);
    }
    // Its first failure is an ordinary 401, not a 429.
    expect((await requestToken({ clientId: busy.clientId, clientSecret: "asc_x", ip, now })).status).toBe(401);
  });

  it("writes a block marker that other isolates read with the token request's one D1 read", async () => {
    const now = Date.now();
    const attacker = uniqueIp();
    await floodUntilThrottled(() =>
      requestToken({ clientId: crypto.randomUUID(), clientSecret: "asc_guess", ip: attacker, now }),
    );
    const marker = await db()
      .select()
      .from(throttleCounters)
      .where(
        and(
          eq(throttleCounters.key, blockMarkerKey(throttleKeys(attacker, null).ip)),
          eq(throttleCounters.windowStart, throttleWindowStart(now)),
        ),
      )
      .get();
    expect(marker).toBeDefined();
  });

  it("honours block markers written by another isolate", async () => {
    const now = Date.now();
    const blockedIp = uniqueIp();
    const client = await createClient();
    const windowStart = throttleWindowStart(now);
    await db()
      .insert(throttleCounters)
      .values([
        { key: blockMarkerKey(throttleKeys(blockedIp, null).ip), windowStart, count: 1 },
        { key: blockMarkerKey(throttleKeys("", client.clientId).client), windowStart, count: 1 },
      ]);
    const { binding, tally } = countingD1();
    await expectThrottled(await requestToken({ ...client, ip: blockedIp, now, bindings: { DB: binding } }), now);
    expect(tally.reads).toBe(1);
    // The Client ID's marker refuses failing attempts only.
    const elsewhere = uniqueIp();
    await expectThrottled(
      await requestToken({ clientId: client.clientId, clientSecret: "asc_x", ip: elsewhere, now }),
      now,
    );
    expect((await requestToken({ ...client, ip: elsewhere, now })).status).toBe(200);
    // Markers belong to their window: the next minute starts clean.
    const nextWindow = windowStart + 60_000;
    expect((await requestToken({ ...client, ip: blockedIp, now: nextWindow })).status).toBe(200);
  });

  describe("under 100 parallel failures (counted atomically before the answer)", () => {
    const burst = (make: (i: number) => Promise<Response>) =>
      Promise.all(Array.from({ length: 100 }, (_, i) => make(i)));
    const statuses = (answers: Response[]) => {
      const counts = { 401: 0, 429: 0, other: 0 };
      for (const a of answers) {
        if (a.status === 401) counts[401] += 1;
        else if (a.status === 429) counts[429] += 1;
        else counts.other += 1;
      }
      return counts;
    };

    it("answers at most the budget of 401s to one IP, and 429 to the rest", async () => {
      const now = Date.now();
      const victim = await createClient();
      const ip = uniqueIp();
      const answers = await burst(() => requestToken({ clientId: victim.clientId, clientSecret: "asc_x", ip, now }));
      const counts = statuses(answers);
      expect(counts[401]).toBeLessThanOrEqual(BUDGET + 2);
      expect(counts[401]).toBeGreaterThan(0);
      expect(counts).toEqual({ 401: counts[401], 429: 100 - counts[401], other: 0 });
      // The IP is blocked whatever it sends now; the real client from elsewhere is not.
      await expectThrottled(await requestToken({ ...victim, ip, now }), now);
      expect((await requestToken({ ...victim, ip: uniqueIp(), now })).status).toBe(200);
    });

    it("answers at most the budget of 401s for one Client ID attacked from 100 IPs", async () => {
      const now = Date.now();
      const victim = await createClient();
      const answers = await burst(() =>
        requestToken({ clientId: victim.clientId, clientSecret: "asc_x", ip: uniqueIp(), now }),
      );
      const counts = statuses(answers);
      expect(counts[401]).toBeLessThanOrEqual(BUDGET + 2);
      expect(counts).toEqual({ 401: counts[401], 429: 100 - counts[401], other: 0 });
      expect((await requestToken({ ...victim, ip: uniqueIp(), now })).status).toBe(200);
      // Every refused attempt is a security-log row (coalesced by code and IP).
      const events = await eventsFor(victim.clientId);
      const total = events.reduce((sum, e) => sum + e.count, 0);
      expect(total).toBe(100);
      expect(events.filter((e) => e.detailCode === "InvalidSecret").reduce((sum, e) => sum + e.count, 0)).toBe(
        counts[401],
      );
    });

    it("answers at most the budget of 401s to one IP spraying 100 Client IDs", async () => {
      const now = Date.now();
      const ip = uniqueIp();
      const answers = await burst(() =>
        requestToken({ clientId: crypto.randomUUID(), clientSecret: "asc_x", ip, now }),
      );
      const counts = statuses(answers);
      expect(counts[401]).toBeLessThanOrEqual(BUDGET + 2);
      expect(counts).toEqual({ 401: counts[401], 429: 100 - counts[401], other: 0 });
    });
  });
});
