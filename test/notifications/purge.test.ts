import { env } from "cloudflare:workers";
import { inArray, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { securityEvents, sessions, throttleCounters, usedAssertions } from "../../src/db/schema";
import { DAY, MINUTE } from "../../src/lib/time";
import { purgeExpired } from "../../src/notifications/purge";
import { runCron } from "../../src/notifications/scheduled";
import { createUser, db, unique } from "../helpers/app";
import { recordingBindings } from "../helpers/notifications";

const NOW = Date.UTC(2032, 0, 20, 3);

async function securityEvent(lastAt: number) {
  const key = unique("coalesce");
  await db().insert(securityEvents).values({
    siteId: null,
    event: "service_auth_failed",
    detailCode: "InvalidSecret",
    clientId: "client",
    endpoint: "/oauth/token",
    firstAt: lastAt,
    lastAt,
    coalesceKey: key,
  });
  return key;
}

describe("the retention purge", () => {
  it("deletes what outlived its retention and keeps everything else", async () => {
    const user = await createUser();
    const oldEvent = await securityEvent(NOW - 90 * DAY - 1);
    const keptEvent = await securityEvent(NOW - 90 * DAY);
    const session = (id: string, expiresAt: number) =>
      db()
        .insert(sessions)
        .values({ id, userId: user.id, csrfToken: "t", createdAt: NOW - 8 * DAY, lastSeenAt: NOW - DAY, expiresAt });
    await session(unique("ended"), NOW);
    await session(unique("live"), NOW + 1);
    await db()
      .insert(usedAssertions)
      .values([
        { key: unique("client:jti-old"), expiresAt: NOW },
        { key: unique("client:jti-live"), expiresAt: NOW + 1 },
      ]);
    const signIn = unique("sign-in:account");
    await db()
      .insert(throttleCounters)
      .values([
        { key: signIn, windowStart: NOW - DAY - 15 * MINUTE, count: 3 },
        { key: signIn, windowStart: NOW - 15 * MINUTE, count: 1 },
      ]);

    const queue = recordingBindings();
    const summary = await runCron(queue.env, NOW);
    expect(summary.errors).toEqual([]);
    expect(summary.purge).toMatchObject({
      securityEvents: 1,
      sessions: 1,
      usedAssertions: 1,
      throttleCounters: 1,
      done: true,
    });
    const events = await db()
      .select({ key: securityEvents.coalesceKey })
      .from(securityEvents)
      .where(inArray(securityEvents.coalesceKey, [oldEvent, keptEvent]))
      .all();
    expect(events.map((e) => e.key)).toEqual([keptEvent]);
    expect((await db().select().from(sessions).all()).map((s) => s.expiresAt)).toEqual([NOW + 1]);
    expect((await db().select().from(usedAssertions).all()).map((a) => a.expiresAt)).toEqual([NOW + 1]);
    expect(
      (await db().select().from(throttleCounters).where(like(throttleCounters.key, "sign-in%")).all()).map(
        (t) => t.windowStart,
      ),
    ).toEqual([NOW - 15 * MINUTE]);
    // The cron's own cursors live in job_state and no purge touches them.
    const cursors = await env.DB.prepare("SELECT name FROM job_state ORDER BY name").all<{ name: string }>();
    expect(cursors.results.map((c) => c.name)).toEqual([
      "expiry-notices:audit-id",
      "expiry-notices:key-id",
      "expiry-notices:registration-id",
      "expiry-notices:requeue-through",
      "expiry-notices:through",
    ]);
    expect(await purgeExpired(env.DB, NOW + 400 * DAY)).toMatchObject({ throttleCounters: 1, done: true });
    expect((await env.DB.prepare("SELECT count(*) AS n FROM job_state").first<{ n: number }>())?.n).toBe(5);
  });

  it("works in bounded batches, oldest first, and says when more is left", async () => {
    for (let i = 0; i < 7; i++) await securityEvent(NOW - 100 * DAY - i * DAY);
    const first = await purgeExpired(env.DB, NOW, { batchSize: 2, maxBatches: 2 });
    expect(first).toMatchObject({ securityEvents: 4, done: false });
    const second = await purgeExpired(env.DB, NOW, { batchSize: 2, maxBatches: 2 });
    expect(second).toMatchObject({ securityEvents: 3, done: true });
    const third = await purgeExpired(env.DB, NOW, { batchSize: 2, maxBatches: 2 });
    expect(third).toMatchObject({ securityEvents: 0, sessions: 0, usedAssertions: 0, throttleCounters: 0, done: true });
  });
});
