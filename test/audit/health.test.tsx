import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { loadRegistrationHealth, loadRegistrationsHealth } from "../../src/audit/health";
import { appRegistrations } from "../../src/db/schema";
import { HOUR, MINUTE } from "../../src/lib/time";
import { RegistrationHealth, RegistrationHealthCell } from "../../views/audit/health";
import { createSite, createUser, db, signIn } from "../helpers/app";
import { createClient, requestToken, uniqueIp } from "../helpers/oauth";
import { createRegistration } from "../helpers/registrations";
import { recordFailure, T0, tableRows } from "../helpers/security-log";

async function registrationWithHistory() {
  const site = await createSite({ timeZone: "Europe/Lisbon" });
  const { registration } = await createRegistration(site.id, { name: "SIEM connector", now: T0 - 100 * HOUR });
  const clientId = registration.clientId;
  const fail = (
    at: number,
    detailCode: string,
    ip: string,
    event: "service_auth_failed" | "api_access_denied" = "service_auth_failed",
  ) => recordFailure({ siteId: site.id, clientId, registrationName: registration.name, detailCode, ip, event }, at);
  // 30 hours ago: outside the 24-hour count, still the history.
  for (let i = 0; i < 5; i++) await fail(T0 - 30 * HOUR + i, "IntegrationExpired", "198.51.100.5");
  // 2 hours ago: three wrong secrets coalesced into one row.
  for (let i = 0; i < 3; i++) await fail(T0 - 2 * HOUR + i, "InvalidSecret", "198.51.100.6");
  await fail(T0 - HOUR, "ScopeMismatched", "198.51.100.6", "api_access_denied");
  // 10 minutes ago: the newest failure.
  for (let i = 0; i < 2; i++) await fail(T0 - 10 * MINUTE + i, "IntegrationBlocked", "198.51.100.7");
  // After "now": not part of the picture at T0.
  await fail(T0 + HOUR, "InvalidSecret", "198.51.100.8");
  // Another registration's failures do not count.
  await recordFailure({ siteId: site.id, clientId: crypto.randomUUID(), detailCode: "InvalidSecret" }, T0 - MINUTE);
  await db()
    .update(appRegistrations)
    .set({ lastUsedAt: T0 - 3 * HOUR, lastUsedIp: "203.0.113.44" })
    .where(eq(appRegistrations.id, registration.id));
  return { site, registration, clientId };
}

describe("registration health", () => {
  it("gives last use and its IP, the newest failure, and the failures of the last 24 hours (sum of counts)", async () => {
    const { site, clientId } = await registrationWithHistory();
    const health = await loadRegistrationHealth(db(), site.id, clientId, T0);
    expect(health).toEqual({
      clientId,
      lastUsedAt: T0 - 3 * HOUR,
      lastUsedIp: "203.0.113.44",
      lastFailure: {
        event: "service_auth_failed",
        detailCode: "IntegrationBlocked",
        ip: "198.51.100.7",
        at: T0 - 10 * MINUTE + 1,
      },
      failuresLast24h: 3 + 1 + 2,
    });
    // 23 hours later the window starts at T0 - 1 h: the API denial, the two blocked requests and the later secret.
    const later = await loadRegistrationHealth(db(), site.id, clientId, T0 + 23 * HOUR);
    expect(later?.failuresLast24h).toBe(1 + 2 + 1);
    expect(later?.lastFailure?.detailCode).toBe("InvalidSecret");
  });

  it("is empty for a registration never used and never failing, and null for a Client ID the Site does not have", async () => {
    const site = await createSite();
    const { registration } = await createRegistration(site.id, { now: T0 });
    expect(await loadRegistrationHealth(db(), site.id, registration.clientId, T0)).toEqual({
      clientId: registration.clientId,
      lastUsedAt: null,
      lastUsedIp: null,
      lastFailure: null,
      failuresLast24h: 0,
    });
    const other = await createSite();
    expect(await loadRegistrationHealth(db(), other.id, registration.clientId, T0)).toBeNull();
    expect(await loadRegistrationHealth(db(), site.id, crypto.randomUUID(), T0)).toBeNull();
  });

  it("loads many registrations in one query, beyond D1's bound-parameter limit, and only of the given Site", async () => {
    const { site, clientId } = await registrationWithHistory();
    const quiet = await createRegistration(site.id, { now: T0 });
    const elsewhere = await createRegistration((await createSite()).id, { now: T0 });
    const padding = Array.from({ length: 150 }, () => crypto.randomUUID());
    const map = await loadRegistrationsHealth(
      db(),
      site.id,
      [clientId, quiet.registration.clientId, elsewhere.registration.clientId, ...padding],
      T0,
    );
    expect([...map.keys()].sort()).toEqual([clientId, quiet.registration.clientId].sort());
    expect(map.get(clientId)?.failuresLast24h).toBe(6);
    expect(map.get(quiet.registration.clientId)?.lastFailure).toBeNull();
    expect(await loadRegistrationsHealth(db(), site.id, [], T0)).toEqual(new Map());
  });

  it("renders the health panel in the Site's zone, with a link that opens the registration's rows in the security log", async () => {
    const { site, clientId } = await registrationWithHistory();
    const health = await loadRegistrationHealth(db(), site.id, clientId, T0);
    if (!health) throw new Error("no health");
    const html = String(<RegistrationHealth health={health} site={site} />);
    expect(html).toContain("<dt>Last used</dt>");
    // Lisbon is on UTC (WET) in March before the DST switch.
    expect(html).toContain(
      `2031-03-10 06:30:00</time> <span class="zone">Europe/Lisbon</span> from <span class="mono">203.0.113.44</span>`,
    );
    expect(html).toContain("<code");
    expect(html).toContain(">IntegrationBlocked</code> (Service authentication failed) at");
    expect(html).toContain("09:20:00</time>");
    expect(html).toContain("198.51.100.7");
    expect(html).toContain(`<dd class="health-failing">6</dd>`);
    const link = `/sites/${site.slug}/settings/security-log?range=90d&client=${clientId}`;
    expect(html).toContain(`href="${link.replaceAll("&", "&amp;")}"`);

    const admin = await signIn((await createUser({ sites: [[site.id, "site_admin"]] })).email, undefined, T0);
    const log = await (await admin.get(link, { now: T0 + 2 * HOUR })).text();
    expect(
      tableRows(log).map((r) => /IntegrationBlocked|ScopeMismatched|InvalidSecret|IntegrationExpired/.exec(r)?.[0]),
    ).toEqual(["InvalidSecret", "IntegrationBlocked", "ScopeMismatched", "InvalidSecret", "IntegrationExpired"]);

    const cell = String(<RegistrationHealthCell health={health} site={site} />);
    expect(cell).toContain("6 in 24 h · last <code>IntegrationBlocked</code>");
    expect(String(<RegistrationHealthCell health={undefined} site={site} />)).toContain("No failures");
  });

  it("follows the token endpoint: a token issued from one IP is the last use, a wrong secret from another the last failure", async () => {
    const now = Date.now();
    const client = await createClient({ now });
    const goodIp = uniqueIp();
    const badIp = uniqueIp();
    expect((await requestToken({ ...client, ip: goodIp, now })).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      expect(
        (await requestToken({ clientId: client.clientId, clientSecret: "asc_old", ip: badIp, now: now + MINUTE }))
          .status,
      ).toBe(401);
    }
    const health = await loadRegistrationHealth(db(), client.site.id, client.clientId, now + 2 * MINUTE);
    expect(health?.lastUsedIp).toBe(goodIp);
    expect(Math.floor((health?.lastUsedAt ?? 0) / MINUTE)).toBe(Math.floor(now / MINUTE));
    expect(health?.lastFailure).toEqual({
      event: "service_auth_failed",
      detailCode: "InvalidSecret",
      ip: badIp,
      at: now + MINUTE,
    });
    expect(health?.failuresLast24h).toBe(3);
  });

  it("says never used and no failures for a fresh registration", async () => {
    const site = await createSite();
    const { registration } = await createRegistration(site.id, { now: T0 });
    const health = await loadRegistrationHealth(db(), site.id, registration.clientId, T0);
    if (!health) throw new Error("no health");
    const html = String(<RegistrationHealth health={health} site={site} />);
    expect(html).toContain("Never: no token has been issued yet");
    expect(html).toContain("None in the last 90 days");
    expect(html).toContain("<dd>0</dd>");
  });
});
