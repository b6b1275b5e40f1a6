import { describe, expect, it } from "vitest";
import { DETAIL_CODES } from "../../src/audit/detail-codes";
import { MINUTE } from "../../src/lib/time";
import { createSite, createUser, signIn } from "../helpers/app";
import { bodyOf } from "../helpers/html";
import { escapeHtml, recordFailure, T0, tableRows } from "../helpers/security-log";

const hrefs = (html: string) => [...html.matchAll(/href="([^"]+)"/g)].map((m) => (m[1] ?? "").replaceAll("&amp;", "&"));

async function siteAdmin() {
  const site = await createSite();
  const browser = await signIn((await createUser({ sites: [[site.id, "site_admin"]] })).email, undefined, T0);
  return { site, browser };
}

describe("troubleshooting help (seed 000 in the product)", () => {
  it("lists each symptom with links to the filtered views that verify it", async () => {
    const { site, browser } = await siteAdmin();
    const res = await browser.get(`/sites/${site.slug}/settings/security-log/help`, { now: T0 });
    const html = await bodyOf(res, 200);
    for (const symptom of [
      "Persistent &quot;API client alert&quot; banner on every page",
      "Token request returns 401 invalid_client",
      "Token request returns 429 Too Many Requests",
      "Token request succeeds but specific endpoints return 403 (or 401 invalid_token)",
      "private_key_jwt assertion rejected",
      "Lost Client secret",
    ]) {
      expect(html).toContain(symptom);
    }
    const links = hrefs(html);
    const grid = `/sites/${site.slug}/settings/iam/app-registrations`;
    const log = `/sites/${site.slug}/settings/security-log`;
    expect(links).toContain(`${grid}?state=expired`);
    expect(links).toContain(`${grid}?enabled=no`);
    expect(links).toContain(`${log}?range=24h&event=service_auth_failed`);
    expect(links).toContain(`${log}?code=InvalidSecret`);
    expect(links).toContain(`${log}?range=7d&code=IntegrationExpired`);
    expect(links).toContain(`${log}?range=24h&event=api_access_denied`);
    expect(links).toContain(`${log}?range=24h&event=service_auth_failed&code=TooManyFailures`);
    // Unknown Client IDs belong to no Site: that link goes to the all-Sites log.
    expect(links).toContain("/admin/security-log?code=InvalidIntegration");
  });

  it("links only to security-log views that exist: every one opens with 200 for the Site Administrator", async () => {
    const { site, browser } = await siteAdmin();
    const html = await (await browser.get(`/sites/${site.slug}/settings/security-log/help`, { now: T0 })).text();
    const logLinks = hrefs(html).filter((h) => h.startsWith(`/sites/${site.slug}/settings/security-log?`));
    expect(logLinks.length).toBeGreaterThan(20);
    for (const link of new Set(logLinks)) {
      expect((await browser.get(link, { now: T0 })).status, link).toBe(200);
    }
  }, 30_000);

  it("links to App registrations grid views the catalog understands", async () => {
    const { site, browser } = await siteAdmin();
    const html = await (await browser.get(`/sites/${site.slug}/settings/security-log/help`, { now: T0 })).text();
    const gridLinks = new Set(
      hrefs(html).filter((h) => h.startsWith(`/sites/${site.slug}/settings/iam/app-registrations`)),
    );
    expect(gridLinks.size).toBe(4);
    for (const link of gridLinks) {
      const res = await browser.get(link, { now: T0 });
      expect(res.status, link).toBe(200);
      expect(await res.text(), link).not.toContain("must be");
    }
  });

  it("lists every detail code with its problem and resolution", async () => {
    const { site, browser } = await siteAdmin();
    const html = await (await browser.get(`/sites/${site.slug}/settings/security-log/help`, { now: T0 })).text();
    for (const d of DETAIL_CODES) {
      expect(html).toContain(`id="code-${d.event}-${d.code}"`);
      expect(html).toContain(escapeHtml(d.explanation));
      expect(html).toContain(escapeHtml(d.fix));
    }
  });

  it("takes the administrator from the 401 symptom to the consumer's failing rows", async () => {
    const { site, browser } = await siteAdmin();
    const clientId = crypto.randomUUID();
    await recordFailure(
      { siteId: site.id, clientId, detailCode: "InvalidSecret", ip: "198.51.100.99" },
      T0 - 5 * MINUTE,
    );
    await recordFailure(
      { siteId: site.id, clientId, detailCode: "InvalidSecret", ip: "198.51.100.98" },
      T0 - 5 * MINUTE,
    );
    const help = await (await browser.get(`/sites/${site.slug}/settings/security-log/help`, { now: T0 })).text();
    // The lookup form: a GET to the log with the event and range fixed, Client ID and IP typed by the administrator.
    expect(help).toContain(
      `<form class="help-lookup" method="get" action="/sites/${site.slug}/settings/security-log" aria-label="Find a consumer&#39;s failures"><input type="hidden" name="event" value="service_auth_failed"/><input type="hidden" name="range" value="24h"/>`,
    );
    const submitted = `/sites/${site.slug}/settings/security-log?event=service_auth_failed&range=24h&client=${clientId}&ip=198.51.100.99`;
    const rows = tableRows(await (await browser.get(submitted, { now: T0 })).text());
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain("InvalidSecret");
    expect(rows[0]).toContain("198.51.100.99");
  });

  it("points the Global Administrator's help at the all-Sites pages", async () => {
    const root = await signIn((await createUser({ global: true })).email, undefined, T0);
    const res = await root.get("/admin/security-log/help", { now: T0 });
    expect(res.status).toBe(200);
    const links = hrefs(await res.text());
    expect(links).toContain("/admin/registrations?state=expired");
    expect(links).toContain("/admin/security-log?code=InvalidSecret");
    expect(links).toContain("/admin/security-log?event=admin_sign_in_failed&code=InvalidCredentials");
    for (const link of new Set(links.filter((h) => h.startsWith("/admin/security-log?")))) {
      expect((await root.get(link, { now: T0 })).status, link).toBe(200);
    }
  }, 30_000);
});
