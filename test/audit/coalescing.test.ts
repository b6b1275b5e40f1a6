import { describe, expect, it } from "vitest";
import { recordSecurityEvent } from "../../src/audit/security-events";
import { SIGN_IN_MAX_FAILURES_PER_ACCOUNT } from "../../src/auth/throttle";
import { MINUTE } from "../../src/lib/time";
import { createSite, createUser, db, signIn, unique } from "../helpers/app";
import { createClient, requestToken, uniqueIp } from "../helpers/oauth";
import { postSignIn, rowsForClient, T0, tableRows } from "../helpers/security-log";

describe("coalescing identical failures (§8)", () => {
  it("turns a burst of 200 concurrent identical failures into one row with count 200", async () => {
    const site = await createSite();
    const clientId = crypto.randomUUID();
    const minute = Math.floor(T0 / MINUTE) * MINUTE;
    await Promise.all(
      Array.from({ length: 200 }, () =>
        recordSecurityEvent(
          db(),
          {
            siteId: site.id,
            event: "service_auth_failed",
            detailCode: "InvalidSecret",
            clientId,
            registrationName: "Burst target",
            ip: "198.51.100.200",
            userAgent: "flood/1.0",
            endpoint: "POST /oauth/token",
          },
          // One instant: concurrent writes land in any order and the upsert keeps the last write's time as last seen.
          minute + 30_000,
        ),
      ),
    );
    const rows = await rowsForClient(clientId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ count: 200, firstAt: minute + 30_000, detailCode: "InvalidSecret" });
  });

  it("starts a new row for a new minute, another IP, another code or another Client ID", async () => {
    const site = await createSite();
    const clientId = crypto.randomUUID();
    const base = {
      siteId: site.id,
      event: "service_auth_failed" as const,
      detailCode: "InvalidSecret",
      clientId,
      ip: "198.51.100.1",
      userAgent: "a",
      endpoint: "POST /oauth/token",
    };
    const minute = Math.floor(T0 / MINUTE) * MINUTE;
    await recordSecurityEvent(db(), base, minute);
    await recordSecurityEvent(db(), base, minute + 59_999);
    await recordSecurityEvent(db(), base, minute + MINUTE);
    await recordSecurityEvent(db(), { ...base, ip: "198.51.100.2" }, minute);
    await recordSecurityEvent(db(), { ...base, detailCode: "IntegrationBlocked" }, minute);
    // A different user agent is still the same failure: it joins the row.
    await recordSecurityEvent(db(), { ...base, userAgent: "b" }, minute + 1);
    const rows = await rowsForClient(clientId);
    expect(rows.map((r) => [r.ip, r.detailCode, r.firstAt - minute, r.count]).sort()).toEqual(
      [
        ["198.51.100.1", "InvalidSecret", 0, 3],
        ["198.51.100.1", "InvalidSecret", MINUTE, 1],
        ["198.51.100.2", "InvalidSecret", 0, 1],
        ["198.51.100.1", "IntegrationBlocked", 0, 1],
      ].sort(),
    );
  });

  it("200 failed admin sign-ins for one account from one IP within a minute are two rows: the failures, then the throttled rest", async () => {
    const email = `${unique("burst")}@example.test`;
    const ip = uniqueIp();
    const minute = Math.floor(T0 / MINUTE) * MINUTE;
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) {
      statuses.push((await postSignIn(email, "wrong password", ip, minute + i * 250)).status);
    }
    // The account is throttled after 5 failures; the 195 attempts after that are refused without checking.
    expect(statuses.filter((s) => s === 401)).toHaveLength(SIGN_IN_MAX_FAILURES_PER_ACCOUNT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(200 - SIGN_IN_MAX_FAILURES_PER_ACCOUNT);
    const rows = await rowsForClient(email);
    expect(rows.map((r) => [r.event, r.detailCode, r.ip, r.count, r.firstAt, r.lastAt]).sort()).toEqual(
      [
        ["admin_sign_in_failed", "InvalidCredentials", ip, 5, minute, minute + 4 * 250],
        ["admin_sign_in_failed", "TooManyFailures", ip, 195, minute + 5 * 250, minute + 199 * 250],
      ].sort(),
    );

    const root = await signIn((await createUser({ global: true })).email, undefined, minute + MINUTE);
    const html = await (await root.get(`/admin/security-log?client=${email}`, { now: minute + MINUTE })).text();
    const shown = tableRows(html);
    expect(shown).toHaveLength(2);
    expect(shown[0]).toContain("TooManyFailures");
    expect(shown[0]).toMatch(/ 195$/);
    expect(shown[1]).toContain("InvalidCredentials");
    expect(shown[1]).toMatch(/ 5$/);
    expect(html).toContain("2 rows · 200 failures");
  }, 60_000);

  it("200 wrong-secret token requests from one IP within a minute are two rows with counts adding up to 200", async () => {
    // The real clock (the registration is created relative to it), pinned for the whole burst: one minute.
    const now = Date.now();
    const client = await createClient({ now });
    const ip = uniqueIp();
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) {
      const res = await requestToken({
        clientId: client.clientId,
        clientSecret: "asc_wrong",
        ip,
        now,
        userAgent: "cron/1",
      });
      statuses.push(res.status);
    }
    // The endpoint throttles the Client ID and the IP after a budget of failures (per the rate-limit binding's
    // window), so the burst is InvalidSecret failures followed by TooManyFailures refusals, never a third kind.
    const refused = statuses.filter((s) => s === 401).length;
    const throttled = statuses.filter((s) => s === 429).length;
    expect(refused + throttled).toBe(200);
    expect(refused).toBeGreaterThan(0);
    expect(throttled).toBeGreaterThan(0);
    expect(statuses.indexOf(429)).toBe(refused);
    const rows = await rowsForClient(client.clientId);
    expect(rows.map((r) => [r.detailCode, r.count, r.ip, r.siteId, r.firstAt, r.lastAt]).sort()).toEqual(
      [
        ["InvalidSecret", refused, ip, client.site.id, now, now],
        ["TooManyFailures", throttled, ip, client.site.id, now, now],
      ].sort(),
    );

    const admin = await signIn((await createUser({ sites: [[client.site.id, "site_admin"]] })).email, undefined, now);
    const html = await (
      await admin.get(`/sites/${client.site.slug}/settings/security-log?client=${client.clientId}`, { now })
    ).text();
    expect(html).toContain("2 rows · 200 failures");
    expect(
      tableRows(html)
        .map((r) => /(InvalidSecret|TooManyFailures).* (\d+)$/.exec(r)?.slice(1))
        .sort(),
    ).toEqual(
      [
        ["InvalidSecret", String(refused)],
        ["TooManyFailures", String(throttled)],
      ].sort(),
    );
  }, 120_000);
});
