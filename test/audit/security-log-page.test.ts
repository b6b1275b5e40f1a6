import { describe, expect, it } from "vitest";
import { describeDetailCode } from "../../src/audit/detail-codes";
import { DAY, HOUR, MINUTE } from "../../src/lib/time";
import { createSite, createUser, signIn, unique } from "../helpers/app";
import { bodyOf } from "../helpers/html";
import { createRegistration } from "../helpers/registrations";
import { recordFailure, T0, tableRows } from "../helpers/security-log";

async function siteAdmin(timeZone = "UTC") {
  const site = await createSite({ timeZone });
  const admin = await createUser({ sites: [[site.id, "site_admin"]] });
  const browser = await signIn(admin.email, undefined, T0);
  return { site, admin, browser };
}

describe("the security log page of a Site", () => {
  it("shows each row: Site time with the zone named, event, registration and Client ID, detail with explanation and fix, IP, user agent, endpoint, count", async () => {
    const { site, browser } = await siteAdmin("Europe/Berlin");
    const { registration } = await createRegistration(site.id, { name: "Nightly backup", now: T0 });
    await recordFailure(
      {
        siteId: site.id,
        clientId: registration.clientId,
        registrationName: registration.name,
        detailCode: "InvalidSecret",
        ip: "198.51.100.23",
        userAgent: "restic/0.17 (linux)",
      },
      T0 - 2 * HOUR,
    );

    const res = await browser.get(`/sites/${site.slug}/settings/security-log`, { now: T0 });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("private, no-store");
    const html = await res.text();
    expect(html).toContain("<h1>Security log</h1>");
    const [row, ...others] = tableRows(html);
    expect(others).toHaveLength(0);
    // 07:30 UTC is 08:30 in Berlin (CET, UTC+1, in March before the DST switch).
    // The Time header names the Site's zone once; the cells do not repeat it.
    expect(html).toContain('<th scope="col">Time (Europe/Berlin)</th>');
    expect(row).toContain("2031-03-10 08:30:00 Service authentication failed");
    expect(row).not.toContain("Europe/Berlin");
    expect(row).toContain("Service authentication failed");
    expect(row).toContain("Nightly backup");
    expect(row).toContain(registration.clientId);
    expect(html).toMatch(/<button type="button" class="copy-button secondary small" data-copy-target="log-client-\d+"/);
    expect(row).toContain("InvalidSecret");
    const info = describeDetailCode("service_auth_failed", "InvalidSecret");
    expect(info).not.toBeNull();
    expect(html).toContain(`<summary title="${info?.explanation}"><code>InvalidSecret</code></summary>`);
    expect(row).toContain(`Fix: ${info?.fix}`);
    expect(row).toContain("198.51.100.23");
    expect(row).toContain("restic/0.17 (linux)");
    expect(row).toContain("POST /oauth/token");
    expect(row).toMatch(/ 1$/);
    // The registration name links to the registration; the Client ID and the IP narrow the log to themselves.
    expect(html).toContain(`href="/sites/${site.slug}/settings/iam/app-registrations/${registration.id}"`);
    expect(html).toContain(`href="/sites/${site.slug}/settings/security-log?client=${registration.clientId}"`);
    expect(html).toContain(`href="/sites/${site.slug}/settings/security-log?ip=198.51.100.23"`);
  });

  it("shows first and last seen for a coalesced row", async () => {
    const { site, browser } = await siteAdmin("America/New_York");
    const clientId = crypto.randomUUID();
    const minute = Math.floor((T0 - HOUR) / MINUTE) * MINUTE;
    for (const seconds of [3, 17, 41]) {
      await recordFailure({ siteId: site.id, clientId, detailCode: "IntegrationExpired" }, minute + seconds * 1000);
    }
    const html = await (await browser.get(`/sites/${site.slug}/settings/security-log`, { now: T0 })).text();
    const [row] = tableRows(html);
    // 08:30 UTC is 04:30 in New York (EDT since 9 March 2031).
    expect(row).toContain("first seen 2031-03-10 04:30:03 last seen 2031-03-10 04:30:41 Service");
    expect(row).toMatch(/ 3$/);
    expect(html).toContain("1 row · 3 failures");
  });

  it("keeps the Client ID and name of a deleted registration as text, without a link", async () => {
    const { site, browser } = await siteAdmin();
    const clientId = crypto.randomUUID();
    await recordFailure({ siteId: site.id, clientId, registrationName: "Old SIEM connector" }, T0 - MINUTE);
    const html = await (await browser.get(`/sites/${site.slug}/settings/security-log`, { now: T0 })).text();
    expect(tableRows(html)[0]).toContain(`Old SIEM connector ${clientId}`);
    expect(html).not.toContain("/settings/iam/app-registrations/");
  });

  it("escapes everything a caller sent", async () => {
    const { site, browser } = await siteAdmin();
    await recordFailure(
      {
        siteId: site.id,
        clientId: `<img src=x onerror=alert(1)>`,
        registrationName: `<b>bold</b>`,
        userAgent: `<script>alert("ua")</script>`,
        ip: `"><svg onload=alert(2)>`,
      },
      T0 - MINUTE,
    );
    const html = await (await browser.get(`/sites/${site.slug}/settings/security-log`, { now: T0 })).text();
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<b>bold</b>");
    expect(html).not.toContain("<svg");
    expect(html).toContain("&lt;script&gt;alert(&quot;ua&quot;)&lt;/script&gt;");
    expect(html).toContain("&lt;b&gt;bold&lt;/b&gt;");
  });

  it("says so when nothing matches", async () => {
    const { site, browser } = await siteAdmin();
    const html = await (await browser.get(`/sites/${site.slug}/settings/security-log`, { now: T0 })).text();
    expect(html).toContain("No failures match the filter.");
    expect(html).toContain("0 rows · 0 failures");
  });
});

describe("filters", () => {
  async function siteWithRows() {
    const { site, browser } = await siteAdmin("Asia/Tokyo");
    const a = crypto.randomUUID();
    const b = crypto.randomUUID();
    await recordFailure(
      { siteId: site.id, clientId: a, detailCode: "InvalidSecret", ip: "192.0.2.1" },
      T0 - 10 * MINUTE,
    );
    await recordFailure(
      { siteId: site.id, clientId: a, detailCode: "IntegrationBlocked", ip: "192.0.2.2" },
      T0 - 3 * HOUR,
    );
    await recordFailure(
      { siteId: site.id, clientId: b, event: "api_access_denied", detailCode: "ScopeMismatched", ip: "192.0.2.1" },
      T0 - 2 * DAY,
    );
    await recordFailure(
      { siteId: site.id, clientId: b, detailCode: "IntegrationExpired", ip: "2001:db8::7" },
      T0 - 20 * DAY,
    );
    const codes = async (query: string) => {
      const res = await browser.get(`/sites/${site.slug}/settings/security-log${query}`, { now: T0 });
      expect(res.status).toBe(200);
      return tableRows(await res.text()).map(
        (r) => /\b(InvalidSecret|IntegrationBlocked|ScopeMismatched|IntegrationExpired)\b/.exec(r)?.[1],
      );
    };
    return { site, browser, a, b, codes };
  }

  it("by time range preset, newest first; the default is the last 7 days", async () => {
    const { codes } = await siteWithRows();
    expect(await codes("")).toEqual(["InvalidSecret", "IntegrationBlocked", "ScopeMismatched"]);
    expect(await codes("?range=1h")).toEqual(["InvalidSecret"]);
    expect(await codes("?range=24h")).toEqual(["InvalidSecret", "IntegrationBlocked"]);
    expect(await codes("?range=30d")).toEqual([
      "InvalidSecret",
      "IntegrationBlocked",
      "ScopeMismatched",
      "IntegrationExpired",
    ]);
  });

  it("by From and To dates, read as whole days in the Site's time zone", async () => {
    const { codes } = await siteWithRows();
    // T0 is 2031-03-10 18:30 in Tokyo; T0 - 3 h is 15:30 the same day; T0 - 2 days is 2031-03-08.
    expect(await codes("?from=2031-03-10&to=2031-03-10")).toEqual(["InvalidSecret", "IntegrationBlocked"]);
    expect(await codes("?from=2031-03-08&to=2031-03-09")).toEqual(["ScopeMismatched"]);
    expect(await codes("?to=2031-03-09")).toEqual(["ScopeMismatched", "IntegrationExpired"]);
    // A date replaces the preset.
    expect(await codes("?range=1h&from=2031-02-01")).toHaveLength(4);
  });

  it("by event, detail code, Client ID and IP, alone and combined", async () => {
    const { codes, a, b } = await siteWithRows();
    expect(await codes("?range=90d&event=api_access_denied")).toEqual(["ScopeMismatched"]);
    expect(await codes("?range=90d&code=IntegrationExpired")).toEqual(["IntegrationExpired"]);
    expect(await codes(`?range=90d&client=${a}`)).toEqual(["InvalidSecret", "IntegrationBlocked"]);
    expect(await codes(`?range=90d&client=${b}`)).toEqual(["ScopeMismatched", "IntegrationExpired"]);
    expect(await codes("?range=90d&ip=192.0.2.1")).toEqual(["InvalidSecret", "ScopeMismatched"]);
    expect(await codes("?range=90d&ip=2001:db8::7")).toEqual(["IntegrationExpired"]);
    expect(await codes(`?range=90d&ip=192.0.2.1&client=${b}`)).toEqual(["ScopeMismatched"]);
    expect(await codes(`?range=90d&event=service_auth_failed&client=${b}`)).toEqual(["IntegrationExpired"]);
    // Blank fields, as an untouched form sends them, filter nothing; unknown parameters are ignored.
    expect(await codes("?range=90d&event=&code=&client=&ip=&from=&to=&sort=evil")).toHaveLength(4);
  });

  it("puts the filter back into the form", async () => {
    const { site, browser, a } = await siteWithRows();
    const html = await (
      await browser.get(`/sites/${site.slug}/settings/security-log?range=24h&code=InvalidSecret&client=${a}`, {
        now: T0,
      })
    ).text();
    expect(html).toContain(`<option value="24h" selected="">Last 24 hours</option>`);
    expect(html).toContain(`<option value="InvalidSecret" selected="">InvalidSecret</option>`);
    expect(html).toContain(`value="${a}"`);
    // The export link carries the same filter.
    expect(html).toContain(
      `href="/sites/${site.slug}/settings/security-log/export.csv?range=24h&amp;code=InvalidSecret&amp;client=${a}"`,
    );
  });

  it.each([
    ["range=forever", "Choose one of the listed time ranges."],
    ["from=2031-02-30", "Enter the From date as YYYY-MM-DD."],
    ["to=yesterday", "Enter the To date as YYYY-MM-DD."],
    ["from=2031-03-10&to=2031-03-01", "To must be on or after From."],
    ["event=login", "Choose one of the listed events."],
    ["code=NotACode", "Choose one of the listed detail codes."],
    [`client=${"x".repeat(257)}`, "Enter one Client ID (or email) of at most 256 characters."],
    ["ip=1.2.3.4;drop", "Enter one IP address: digits, letters a–f, dots and colons."],
    ["ip=1.1.1.1&ip=2.2.2.2", "Enter one IP address: digits, letters a–f, dots and colons."],
    ["page=0", "The page must be a whole number from 1."],
    ["page=two", "The page must be a whole number from 1."],
    ["size=1000", "Choose 25, 50 or 100 rows per page."],
  ])("refuses %s with a clear error and shows no rows", async (query, message) => {
    const { site, browser } = await siteWithRows();
    const res = await browser.get(`/sites/${site.slug}/settings/security-log?${query}`, { now: T0 });
    const html = await bodyOf(res, 400);
    expect(html).toContain(message);
    expect(html).toContain("The filter has errors");
    expect(html).not.toContain("<tbody>");
    const csv = await browser.get(`/sites/${site.slug}/settings/security-log/export.csv?${query}`, { now: T0 });
    expect(csv.status).toBe(400);
    expect(await csv.text()).toContain(message);
  });

  it("refuses an unknown Site in the Global Administrator's Site filter", async () => {
    const root = await createUser({ global: true });
    const browser = await signIn(root.email, undefined, T0);
    const res = await browser.get(`/admin/security-log?site=${unique("nosuchsite")}`, { now: T0 });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("Choose one of the listed Sites.");
  });
});

describe("pagination", () => {
  it("pages through the rows, newest first, with Previous and Next links that keep the filter", async () => {
    const { site, browser } = await siteAdmin();
    for (let i = 0; i < 30; i++) {
      await recordFailure({ siteId: site.id, clientId: `client-${String(i).padStart(2, "0")}` }, T0 - (i + 1) * MINUTE);
    }
    const base = `/sites/${site.slug}/settings/security-log`;
    const first = await (await browser.get(`${base}?code=InvalidSecret`, { now: T0 })).text();
    const firstRows = tableRows(first);
    expect(firstRows).toHaveLength(25);
    expect(firstRows[0]).toContain("client-00");
    expect(firstRows[24]).toContain("client-24");
    expect(first).toContain("30 rows · 30 failures");
    expect(first).toContain("Page 1 of 2");
    expect(first).toContain(`href="${base}?code=InvalidSecret&amp;page=2" rel="next"`);
    expect(first).not.toContain(`rel="prev"`);

    const second = await (await browser.get(`${base}?code=InvalidSecret&page=2`, { now: T0 })).text();
    expect(tableRows(second).map((r) => /client-\d+/.exec(r)?.[0])).toEqual([
      "client-25",
      "client-26",
      "client-27",
      "client-28",
      "client-29",
    ]);
    expect(second).toContain("Page 2 of 2");
    expect(second).toContain(`href="${base}?code=InvalidSecret" rel="prev"`);
    expect(second).not.toContain(`rel="next"`);

    expect(tableRows(await (await browser.get(`${base}?size=50`, { now: T0 })).text())).toHaveLength(30);
    const beyond = await (await browser.get(`${base}?page=9`, { now: T0 })).text();
    expect(beyond).toContain("There are no rows on this page.");
    expect(beyond).toContain(`href="${base}?page=2" rel="prev"`);
  });
});

describe("htmx", () => {
  it("answers an htmx request with the results fragment only, and a history restore with the full page", async () => {
    const { site, browser } = await siteAdmin();
    await recordFailure({ siteId: site.id, detailCode: "IntegrationBlocked" }, T0 - MINUTE);
    const url = `/sites/${site.slug}/settings/security-log?code=IntegrationBlocked`;
    const fragment = await browser.get(url, {
      now: T0,
      headers: { "HX-Request": "true", "HX-Request-Type": "partial" },
    });
    expect(fragment.status).toBe(200);
    expect(fragment.headers.get("Vary")).toContain("HX-Request");
    const html = await fragment.text();
    expect(html.startsWith(`<section id="security-log-results"`)).toBe(true);
    expect(html).not.toContain("<html");
    expect(tableRows(html)).toHaveLength(1);

    const restore = await browser.get(url, {
      now: T0,
      headers: { "HX-Request": "true", "HX-History-Restore-Request": "true" },
    });
    expect(await restore.text()).toContain("<html");

    const invalid = await browser.get(`${url}&range=nope`, {
      now: T0,
      headers: { "HX-Request": "true", "HX-Request-Type": "partial" },
    });
    const errorFragment = await bodyOf(invalid, 400);
    expect(errorFragment.startsWith(`<section id="security-log-results"`)).toBe(true);
    expect(errorFragment).toContain("Choose one of the listed time ranges.");
  });

  it("wires the filter form and the page links to swap the results and push the URL, and works as plain GET", async () => {
    const { site, browser } = await siteAdmin();
    for (let i = 0; i < 26; i++) await recordFailure({ siteId: site.id }, T0 - (i + 1) * MINUTE);
    const html = await (await browser.get(`/sites/${site.slug}/settings/security-log`, { now: T0 })).text();
    const base = `/sites/${site.slug}/settings/security-log`;
    expect(html).toContain(
      `<form class="log-filters card" method="get" action="${base}" aria-label="Filter the security log" hx-get="${base}" hx-target="#security-log-results" hx-swap="outerHTML" hx-push-url="true">`,
    );
    expect(html).toContain(
      `<a href="${base}?page=2" rel="next" hx-get="${base}?page=2" hx-target="#security-log-results" hx-swap="outerHTML" hx-push-url="true">Next</a>`,
    );
  });
});
