import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DAY, MINUTE } from "../../src/lib/time";
import { runCron } from "../../src/notifications/scheduled";
import { drain, recordingBindings, siteWithAdmins } from "../helpers/notifications";

/** The D1 binding, counting the rows D1 reports reading for every statement run through it. */
function countingD1(d1: D1Database) {
  const tally = { rowsRead: 0, statements: 0 };
  const record = (results: D1Result[]) => {
    for (const r of results) {
      tally.rowsRead += r.meta.rows_read ?? 0;
      tally.statements += 1;
    }
  };
  const instrument = (statement: D1PreparedStatement): D1PreparedStatement => {
    const bind = statement.bind.bind(statement);
    const all = statement.all.bind(statement);
    const run = statement.run.bind(statement);
    statement.bind = (...values: unknown[]) => instrument(bind(...values));
    statement.all = (async () => {
      const result = await all();
      record([result]);
      return result;
    }) as D1PreparedStatement["all"];
    statement.run = (async () => {
      const result = await run();
      record([result]);
      return result;
    }) as D1PreparedStatement["run"];
    statement.first = () => {
      throw new Error("first() hides D1's meta: not counted");
    };
    return statement;
  };
  const counted = {
    prepare: (query: string) => instrument(d1.prepare(query)),
    batch: async (statements: D1PreparedStatement[]) => {
      const results = await d1.batch(statements);
      record(results);
      return results;
    },
  } as unknown as D1Database;
  return { counted, tally };
}

/** `count` registrations of a Site, expiring `firstDay`…`firstDay + spread` days after `now` (midnight UTC). */
async function seedRegistrations(siteId: number, prefix: string, count: number, now: number, days: string) {
  const midnight = Math.floor(now / DAY) * DAY;
  await env.DB.prepare(
    `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1)
     INSERT INTO app_registrations (site_id, client_id, name, expiration_date, expires_at, created_at, updated_at)
     SELECT ?2, printf('${prefix}-%08d', n), printf('${prefix} %06d', n), date(?3 / 1000, 'unixepoch', '+' || (${days}) || ' days'),
       ?3 + (${days}) * ${DAY}, ?4, ?4 FROM seq`,
  )
    .bind(count, siteId, midnight, now - 60 * DAY)
    .run();
}

describe("what a cron run costs", () => {
  it("reads about one row per due registration at 50,000 registrations with 1 % due, and almost none 15 minutes later", async () => {
    const now = Date.UTC(2031, 8, 14, 10, 30);
    const { site } = await siteWithAdmins(1);
    // 49,500 registrations 32…729 days from expiry, none due; 500 due: expired today, in 3 days, in 20 days.
    await seedRegistrations(site.id, "idle", 49_500, now, "32 + n % 698");
    await seedRegistrations(site.id, "due", 500, now, "CASE n % 3 WHEN 0 THEN 0 WHEN 1 THEN 3 ELSE 20 END");
    // Two more, due for their 30-day notice now and for the 7-day one within the next 15 minutes.
    await env.DB.prepare(
      `INSERT INTO app_registrations (site_id, client_id, name, expiration_date, expires_at, created_at, updated_at)
       VALUES (?1, 'soon-1', 'soon 1', '2031-09-21', ?2, ?3, ?3), (?1, 'soon-2', 'soon 2', '2031-09-21', ?4, ?3, ?3)`,
    )
      .bind(site.id, now + 7 * DAY + 5 * MINUTE, now - DAY, now + 7 * DAY + 10 * MINUTE)
      .run();

    const { counted, tally } = countingD1(env.DB);
    const queue = recordingBindings();
    const bindings = { ...queue.env, DB: counted };
    const first = await runCron(bindings, now);
    expect(first.errors).toEqual([]);
    expect(first.expiry).toMatchObject({ mode: "sweep", reason: "first-run", due: 502, enqueued: 502, done: true });
    // Everything the run read, writes and housekeeping included: the 502 due rows and a small constant.
    expect(tally.rowsRead).toBeLessThanOrEqual(1.1 * 502);
    expect(tally.rowsRead).toBeGreaterThanOrEqual(502);
    // The due rows, plus one index probe per window query (registrations, keys, Client secrets).
    expect(first.expiry?.selectionRowsRead).toBeLessThanOrEqual(502 + 3);
    expect(first.expiry?.rowsRead).toBeLessThanOrEqual(tally.rowsRead);
    expect(queue.pending).toHaveLength(6);
    await drain(queue);
    expect(queue.emails).toHaveLength(502);

    tally.rowsRead = 0;
    const next = await runCron(bindings, now + 15 * MINUTE);
    expect(next.expiry).toMatchObject({ mode: "incremental", due: 2, enqueued: 2, done: true });
    // The 2 due rows, plus one index probe per window query: up to 3 crossing windows for registrations, keys and secrets.
    expect(next.expiry?.selectionRowsRead).toBeLessThanOrEqual(2 + 3 * 3);
    // A constant: the window probes above, the cursor, and one index probe per purge (security events, sessions,
    // assertions, throttle windows, retired secrets, Idempotency-Keys and the four usage-count tables, a few rows
    // each): about 50 rows at 50,000 registrations, where a scan would read them all.
    expect(tally.rowsRead).toBeLessThanOrEqual(60);
    await drain(queue);
    expect(queue.emails).toHaveLength(504);

    // A daily sweep reads the window again: each due row, plus one probe per row already notified.
    tally.rowsRead = 0;
    const sweep = await runCron(bindings, Date.UTC(2031, 8, 15, 0, 5));
    expect(sweep.expiry).toMatchObject({ mode: "sweep", reason: "daily", due: 0, done: true });
    expect(sweep.expiry?.selectionRowsRead).toBeLessThanOrEqual(2 * 502 + 2 + 3);
  }, 60_000);
});
