import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import {
  appRegistrations,
  type Site,
  siteUsageDaily,
  siteUsageHourly,
  usageDaily,
  usageHourly,
} from "../../src/db/schema";
import { DAY, HOUR, MINUTE } from "../../src/lib/time";
import { createSite, db, unique } from "../helpers/app";
import { bodyOf, textOf } from "../helpers/html";
import { recordingBindings, runScheduled } from "../helpers/notifications";
import { requestToken } from "../helpers/oauth";
import { clientFor, gridPath, regPath } from "../helpers/registration-pages";
import { createRegistration } from "../helpers/registrations";

/** 23:58 UTC on a day, so two minutes later it is the next UTC day. */
const D = Date.UTC(2031, 2, 10);
const T = D + DAY - 2 * MINUTE;
const day = (at: number) => Math.floor(at / DAY);

async function token(reg: { clientId: string; secret: string }, now: number, expected = 200) {
  const res = await requestToken({ clientId: reg.clientId, clientSecret: reg.secret, now });
  expect(res.status).toBe(expected);
}

async function newClient(site: Site, name = unique("Counted")) {
  const { registration, clientSecret } = await createRegistration(site.id, { name, now: D - 10 * DAY });
  return { id: registration.id, clientId: registration.clientId, secret: clientSecret, name };
}

function dailyOf(registrationId: number) {
  return db()
    .select({ day: usageDaily.day, tokens: usageDaily.tokens })
    .from(usageDaily)
    .where(eq(usageDaily.registrationId, registrationId))
    .orderBy(usageDaily.day)
    .all();
}

let site: Site;

beforeAll(async () => {
  site = await createSite();
});

describe("counting tokens", () => {
  it("counts N tokens as N, across the once-a-minute flush, two registrations and a UTC day boundary", async () => {
    const a = await newClient(site);
    const b = await newClient(site);
    // Day D, one minute: the first token of the minute writes at once, the next ones wait in the isolate.
    for (const at of [T, T + 10_000, T + 20_000]) await token(a, at);
    for (const at of [T + 5_000, T + 6_000]) await token(b, at);
    expect(await dailyOf(a.id)).toEqual([{ day: day(T), tokens: 1 }]);
    // Refused requests count nothing.
    await token({ ...a, secret: "asc_wrong" }, T + 30_000, 401);
    await token({ ...b, secret: "asc_wrong" }, T + 30_000, 401);

    // The next minute is the next UTC day: its first token writes what waited, on its own day.
    for (const at of [T + 2 * MINUTE + 1_000, T + 2 * MINUTE + 2_000]) await token(a, at);
    await token(b, T + 2 * MINUTE + 3_000);
    // A last first-of-its-minute token each, so nothing is left waiting.
    await token(a, T + 4 * MINUTE);
    await token(b, T + 4 * MINUTE);

    expect(await dailyOf(a.id)).toEqual([
      { day: day(T), tokens: 3 },
      { day: day(T) + 1, tokens: 3 },
    ]);
    expect(await dailyOf(b.id)).toEqual([
      { day: day(T), tokens: 2 },
      { day: day(T) + 1, tokens: 2 },
    ]);
    const siteDaily = await db()
      .select({ day: siteUsageDaily.day, tokens: siteUsageDaily.tokens })
      .from(siteUsageDaily)
      .where(eq(siteUsageDaily.siteId, site.id))
      .orderBy(siteUsageDaily.day)
      .all();
    expect(siteDaily).toEqual([
      { day: day(T), tokens: 5 },
      { day: day(T) + 1, tokens: 5 },
    ]);
    const hourly = await db()
      .select({ hour: usageHourly.hour, tokens: usageHourly.tokens })
      .from(usageHourly)
      .where(eq(usageHourly.registrationId, a.id))
      .orderBy(usageHourly.hour)
      .all();
    expect(hourly).toEqual([
      { hour: Math.floor(T / HOUR), tokens: 3 },
      { hour: Math.floor(T / HOUR) + 1, tokens: 3 },
    ]);

    // The registration page: totals, the chart's accessible name and its table say the same.
    const admin = await clientFor("site_admin", site, T + 5 * MINUTE);
    const page = await bodyOf(await admin.get(regPath(site, a.id)), 200);
    const chart = /<svg[^>]*id="usage-chart"[^>]*>/.exec(page)?.[0] ?? "";
    expect(chart).toContain('role="img"');
    expect(chart).toContain(
      `aria-label="Tokens and failures per day of ${a.name}, last 30 days (UTC): 6 tokens, 1 failure."`,
    );
    const usage = textOf(/<section class="card usage"[\s\S]*?<\/section>/.exec(page)?.[0] ?? "");
    expect(usage).toContain("Tokens, last 24 hours 6");
    expect(usage).toContain("Tokens, last 7 days 6");
    expect(usage).toContain("Tokens, last 30 days 6");
    expect(usage).toContain("Failures, last 24 hours 1");
    const rows = [
      ...(/<details class="usage-numbers">[\s\S]*?<\/details>/.exec(page)?.[0] ?? "").matchAll(
        /<tr><td>([^<]+)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><\/tr>/g,
      ),
    ].map((m) => [m[1], m[2], m[3]]);
    expect(rows).toHaveLength(30);
    expect(rows.at(-2)).toEqual([new Date(T).toISOString().slice(0, 10), "3", "1"]);
    expect(rows.at(-1)).toEqual([new Date(T + DAY).toISOString().slice(0, 10), "3", "0"]);
    expect(rows.slice(0, -2).every((r) => r[1] === "0" && r[2] === "0")).toBe(true);
    // Hover and keyboard: every day is focusable, with its numbers as a title and a tip.
    expect(page).toContain(`<title>${new Date(T).toISOString().slice(0, 10)}: 3 tokens, 1 failure</title>`);
    expect((page.match(/<g class="day" tabindex="0"/g) ?? []).length).toBe(30);
  });

  it("exports a registration's daily usage as CSV with the security log's formula rules", async () => {
    const reg = await newClient(site, `=HYPERLINK("x") ${unique("csv")}`);
    await token(reg, T);
    await token({ ...reg, secret: "asc_wrong" }, T + 1_000, 401);
    const admin = await clientFor("site_admin", site, T + MINUTE);
    const res = await admin.get(`${regPath(site, reg.id)}/usage.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("Content-Disposition")).toMatch(/^attachment; filename="usage-.*\.csv"$/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder().decode(bytes);
    expect(text.startsWith("Day (UTC),Registration,Client ID,Tokens,Failures\r\n")).toBe(true);
    const date = new Date(T).toISOString().slice(0, 10);
    expect(text).toContain(`${date},"'=HYPERLINK(""x"") ${reg.name.slice(16)}",${reg.clientId},1,1\r\n`);
    const other = await createSite();
    const stranger = await clientFor("site_admin", other, T + MINUTE);
    expect((await stranger.get(`/sites/${other.slug}/settings/iam/app-registrations/${reg.id}/usage.csv`)).status).toBe(
      404,
    );
  });

  it("purges daily rows after 400 days and hourly rows after 2 days", async () => {
    const reg = await newClient(site);
    await token(reg, T);
    const later = T + 401 * DAY;
    await runScheduled(T + 3 * DAY, recordingBindings().env);
    expect(await db().select().from(usageHourly).where(eq(usageHourly.registrationId, reg.id)).all()).toEqual([]);
    expect(
      await db()
        .select()
        .from(siteUsageHourly)
        .where(eq(siteUsageHourly.hour, Math.floor(T / HOUR)))
        .all(),
    ).toEqual([]);
    expect(await dailyOf(reg.id)).toHaveLength(1);
    await runScheduled(later, recordingBindings().env);
    expect(await dailyOf(reg.id)).toEqual([]);
  });
});

describe("the overview", () => {
  it("counts registrations by state as the grid's views do, and lists failures and expiries", async () => {
    const own = await createSite();
    const now = T;
    const make = (name: string, days: number, enabled = true) =>
      createRegistration(own.id, {
        name,
        expirationDate: new Date(now + days * DAY).toISOString().slice(0, 10),
        enabled,
        now: now - DAY,
      });
    await make("Soon", 3);
    await make("Month", 20);
    await make("Later A", 200);
    await make("Later B", 300);
    await make("Off", 100, false);
    const failing = await make("Failing", 50);
    const { registration: gone } = await make("Gone", 60);
    // Expired an hour ago, behind the product's back (as §11's SQL by hand does).
    await db()
      .update(appRegistrations)
      .set({ expiresAt: now - HOUR })
      .where(eq(appRegistrations.id, gone.id));
    for (let i = 0; i < 3; i++) {
      await requestToken({ clientId: failing.registration.clientId, clientSecret: "asc_wrong", now: now - i * MINUTE });
    }
    const admin = await clientFor("site_admin", own, now + MINUTE);
    const center = await bodyOf(await admin.get(`/sites/${own.slug}`), 200);
    const states = Object.fromEntries(
      [...center.matchAll(/<a href="([^"]+)"><span class="n">(\d+)<\/span> ([^<]+)<\/a>/g)].map((m) => [
        m[3],
        [m[1], Number(m[2])],
      ]),
    ) as Record<string, [string, number]>;
    expect(Object.fromEntries(Object.entries(states).map(([k, v]) => [k, v[1]]))).toEqual({
      Active: 3,
      "Expire within 30 days": 2,
      "Expire within 7 days": 1,
      Expired: 1,
      Disabled: 1,
    });
    // Each number is the total of the grid view it links to.
    for (const [label, [href, n]] of Object.entries(states)) {
      const grid = await bodyOf(await admin.get(href.replaceAll("&amp;", "&")), 200);
      expect(textOf(grid), label).toMatch(new RegExp(`\\b${n} registrations?\\b`));
    }
    const text = textOf(center);
    expect(text).toContain("Most failures in the last 24 hours Failing : 3 failures");
    // The next five, soonest first; the expired one is not among them.
    expect(text).toMatch(/Next expiries Soon : \S+ \S+ \(UTC\) Month : .* Failing : .* Later A : .* Later B : /);
    expect(text).not.toMatch(/Next expiries.*Gone :/);
    expect(center).toContain(`client=${failing.registration.clientId}`);

    const user = await clientFor("site_user", own, now + MINUTE);
    expect(await bodyOf(await user.get(`/sites/${own.slug}`), 200)).not.toContain("Overview");

    const global = await clientFor("global", null, now + MINUTE);
    const all = textOf(await bodyOf(await global.get("/admin"), 200));
    expect(all).toContain("Overview of every Site");
    expect(all).toMatch(/Failing : 3 failures · /);
  });
});

describe("the grid", () => {
  it("offers Tokens (30 d), sortable, a sparkline in Last used, and the view Unused for 90 days", async () => {
    const own = await createSite();
    const busy = await createRegistration(own.id, { name: "Busy", now: T - 200 * DAY, daysAhead: 400 });
    const quiet = await createRegistration(own.id, { name: "Quiet", now: T - 200 * DAY, daysAhead: 400 });
    const idle = await createRegistration(own.id, { name: "Idle", now: T - 200 * DAY, daysAhead: 400 });
    await createRegistration(own.id, { name: "Fresh", now: T - DAY, daysAhead: 400 });
    for (const at of [T, T + MINUTE, T + 2 * MINUTE]) {
      await token({ clientId: busy.registration.clientId, secret: busy.clientSecret }, at);
    }
    await token({ clientId: quiet.registration.clientId, secret: quiet.clientSecret }, T);
    await token({ clientId: idle.registration.clientId, secret: idle.clientSecret }, T - 120 * DAY);

    const admin = await clientFor("site_admin", own, T + 3 * MINUTE);
    const sorted = await bodyOf(
      await admin.get(`${gridPath(own)}?sort=tokens_30d&dir=desc&cols=name,last_used,tokens_30d`),
      200,
    );
    const rows = [...sorted.matchAll(/<tr[^>]*data-registration-id[^>]*>([\s\S]*?)<\/tr>/g)].map((m) =>
      textOf(m[1] ?? ""),
    );
    expect(rows.map((r) => r.split(" ")[0])).toEqual(["Busy", "Quiet", "Fresh", "Idle"]);
    expect(rows[0]).toMatch(/ 3$/);
    expect(sorted).toContain('aria-label="3 tokens in the last 30 days, per UTC day"');
    expect((sorted.match(/<svg class="sparkline"/g) ?? []).length).toBe(2);

    const unused = await bodyOf(await admin.get(`${gridPath(own)}?unused_days=90`), 200);
    expect(unused).toContain("Unused for 90 days");
    const names = [...unused.matchAll(/<tr[^>]*data-registration-id[^>]*>([\s\S]*?)<\/tr>/g)].map(
      (m) => textOf(m[1] ?? "").split(" ")[0],
    );
    expect(names).toEqual(["Idle"]);
    expect((await admin.get(`${gridPath(own)}?unused_days=0`)).status).toBe(400);
  });
});
