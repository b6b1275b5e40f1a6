import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { appRegistrations, type Site } from "../../src/db/schema";
import { DAY, MINUTE } from "../../src/lib/time";
import { createSite, createUser, db, PASSWORD, signIn } from "../helpers/app";
import { bodyOf } from "../helpers/html";
import { setEnabled, setExpiry } from "../helpers/notifications";
import { createRegistration } from "../helpers/registrations";

// 00:00 on 1 October 2031 (UTC): the registrations below expire then.
const EXPIRY = Date.UTC(2031, 9, 1);
const AFTER = EXPIRY + 2 * 60 * MINUTE;

interface Banner {
  text: string;
  href: string;
  registrationId: string;
}

/** The §6 banners of a page: each one's text, link and registration, in page order. */
function banners(html: string): Banner[] {
  const region =
    /<section class="alerts" id="api-client-alerts" aria-label="API client alerts">([\s\S]*?)<\/section>/.exec(html);
  return [
    ...(region?.[1] ?? "").matchAll(
      /<div class="api-client-alert" role="alert" data-registration-id="(\d+)">([\s\S]*?)<\/button>/g,
    ),
  ].map((m) => ({
    registrationId: m[1] ?? "",
    href: /<a href="([^"]+)">/.exec(m[2] ?? "")?.[1] ?? "",
    text: (m[2] ?? "")
      // The consequence is part of the sentence (only visually hidden on phones), not a separate word.
      .replace(/<span class="alert-consequence">([^<]*)<\/span>/g, "$1")
      .replace(/<[^>]+>/g, " ")
      .replace(/\s+/g, " ")
      .trim(),
  }));
}

async function siteWithExpiry(name: string) {
  const site = await createSite({ name });
  const make = (registrationName: string, expirationDate: string, enabled = true) =>
    createRegistration(site.id, { name: registrationName, expirationDate, enabled, now: EXPIRY - 90 * DAY }).then(
      (r) => r.registration,
    );
  return { site, make };
}

const pagesOf = (site: Site) => [
  `/sites/${site.slug}`,
  `/sites/${site.slug}/settings`,
  `/sites/${site.slug}/settings/iam`,
  `/sites/${site.slug}/settings/notifications`,
  `/sites/${site.slug}/settings/security-log`,
];

describe("the API client alert banner (§6)", () => {
  it("shows one rose-pink alert per expired enabled registration on every admin page of the Site, naming and linking it", async () => {
    const { site, make } = await siteWithExpiry("Banner Site");
    const expired = await make("Backup <script>x</script>", "2031-10-01");
    const second = await make("SIEM connector", "2031-09-15");
    await make("Disabled and expired", "2031-10-01", false);
    await make("Still valid", "2031-10-02");
    const elsewhere = await siteWithExpiry("Elsewhere");
    await elsewhere.make("Other Site's expired", "2031-10-01");
    const admin = await createUser({ sites: [[site.id, "site_admin"]] });
    const browser = await signIn(admin.email, PASSWORD, AFTER);
    for (const page of pagesOf(site)) {
      const res = await browser.get(page, { now: AFTER });
      expect(res.status, page).toBe(200);
      const html = await res.text();
      expect(banners(html), page).toEqual([
        {
          registrationId: String(expired.id),
          href: `/sites/${site.slug}/settings/iam/app-registrations/${expired.id}`,
          text: "API client alert: Backup <script>x</script> expired on 2031-10-01; its token requests fail. Renew Dismiss".replace(
            "<script>x</script>",
            "&lt;script&gt;x&lt;/script&gt;",
          ),
        },
        {
          registrationId: String(second.id),
          href: `/sites/${site.slug}/settings/iam/app-registrations/${second.id}`,
          text: "API client alert: SIEM connector expired on 2031-09-15; its token requests fail. Renew Dismiss",
        },
      ]);
      expect(html).toContain(
        `<button type="button" class="dismiss" data-dismiss-alert="true" aria-label="Dismiss the alert for SIEM connector">`,
      );
      // Renew leads to the registration's Status card; with two banners, one "Dismiss all".
      expect(html).toContain(
        `<a class="renew-link" href="/sites/${site.slug}/settings/iam/app-registrations/${second.id}#registration-status" aria-label="Renew SIEM connector">`,
      );
      expect(html.match(/data-dismiss-all-alerts/g)).toHaveLength(1);
      expect(html).toContain("2 App registrations have expired.");
    }
    // The account page belongs to no Site: it shows the banners of every Site the user administers, naming the Site.
    const account = await bodyOf(await browser.get("/account/password", { now: AFTER }), 200);
    expect(banners(account).map((b) => b.text)).toEqual([
      "API client alert: Backup &lt;script&gt;x&lt;/script&gt; (Banner Site) expired on 2031-10-01; its token requests fail. Renew Dismiss",
      "API client alert: SIEM connector (Banner Site) expired on 2031-09-15; its token requests fail. Renew Dismiss",
    ]);
  });

  it("has no Dismiss all for a single banner", async () => {
    const { site, make } = await siteWithExpiry("Single Site");
    await make("Only one", "2031-10-01");
    const admin = await createUser({ sites: [[site.id, "site_admin"]] });
    const browser = await signIn(admin.email, PASSWORD, AFTER);
    const html = await bodyOf(await browser.get(`/sites/${site.slug}`, { now: AFTER }), 200);
    expect(banners(html)).toHaveLength(1);
    expect(html).not.toContain("data-dismiss-all-alerts");
  });

  it("appears at 00:00 of the Expiration date, computed at page load, and is gone after renewal, disabling or deletion", async () => {
    const { site, make } = await siteWithExpiry("Timing Site");
    const reg = await make("Nightly export", "2031-10-01");
    const admin = await createUser({ sites: [[site.id, "site_admin"]] });
    const look = async (now: number) => {
      const browser = await signIn(admin.email, PASSWORD, now);
      return banners(await (await browser.get(`/sites/${site.slug}`, { now })).text()).map((b) => b.registrationId);
    };
    expect(await look(EXPIRY - 1)).toEqual([]);
    expect(await look(EXPIRY)).toEqual([String(reg.id)]);
    // Renewed: a later Expiration date (here written straight to the database).
    await setExpiry(reg.id, EXPIRY + 365 * DAY, "2032-10-01");
    expect(await look(AFTER)).toEqual([]);
    await setExpiry(reg.id, EXPIRY, "2031-10-01");
    expect(await look(AFTER)).toEqual([String(reg.id)]);
    await setEnabled(reg.id, false);
    expect(await look(AFTER)).toEqual([]);
    await setEnabled(reg.id, true);
    await db().delete(appRegistrations).where(eq(appRegistrations.id, reg.id));
    expect(await look(AFTER)).toEqual([]);
  });

  it("shows the Global Administrator every Site's banners, each naming its Site", async () => {
    const first = await siteWithExpiry("Alpha Site");
    const second = await siteWithExpiry("Beta Site");
    const a = await first.make("Alpha export", "2031-10-01");
    const b = await second.make("Beta export", "2031-10-01");
    const root = await createUser({ global: true });
    const browser = await signIn(root.email, PASSWORD, AFTER);
    for (const page of [`/sites/${first.site.slug}`, "/admin/sites", `/sites/${second.site.slug}/settings/iam`]) {
      const shown = banners(await (await browser.get(page, { now: AFTER })).text());
      const mine = shown.filter((s) => [String(a.id), String(b.id)].includes(s.registrationId));
      expect(
        mine.map((s) => s.text),
        page,
      ).toEqual([
        "API client alert: Alpha export (Alpha Site) expired on 2031-10-01; its token requests fail. Renew Dismiss",
        "API client alert: Beta export (Beta Site) expired on 2031-10-01; its token requests fail. Renew Dismiss",
      ]);
      expect(mine.map((s) => s.href)).toEqual([
        `/sites/${first.site.slug}/settings/iam/app-registrations/${a.id}`,
        `/sites/${second.site.slug}/settings/iam/app-registrations/${b.id}`,
      ]);
    }
  });

  it("shows Site Users none: they cannot open a registration", async () => {
    const { site, make } = await siteWithExpiry("Users Site");
    await make("Expired for users", "2031-10-01");
    const user = await createUser({ sites: [[site.id, "site_user"]] });
    const browser = await signIn(user.email, PASSWORD, AFTER);
    const res = await browser.get(`/sites/${site.slug}`, { now: AFTER });
    const html = await bodyOf(res, 200);
    expect(html).toContain("<h1>Admin Center</h1>");
    expect(banners(html)).toEqual([]);
    expect(html).not.toContain('api-client-alert"');
  });

  it("is never part of an htmx fragment, only of full pages", async () => {
    const { site, make } = await siteWithExpiry("Fragment Site");
    await make("Fragment export", "2031-10-01");
    const admin = await createUser({ sites: [[site.id, "site_admin"]] });
    const browser = await signIn(admin.email, PASSWORD, AFTER);
    const partial = await browser.get(`/sites/${site.slug}`, {
      now: AFTER,
      headers: { "HX-Request": "true", "HX-Request-Type": "partial" },
    });
    expect(await partial.text()).not.toContain('class="api-client-alert"');
    const full = await browser.get(`/sites/${site.slug}`, {
      now: AFTER,
      headers: { "HX-Request": "true", "HX-Request-Type": "full" },
    });
    expect(banners(await full.text())).toHaveLength(1);
    const log = await browser.get(`/sites/${site.slug}/settings/notifications`, {
      now: AFTER,
      headers: { "HX-Request": "true", "HX-Request-Type": "partial" },
    });
    expect(await log.text()).not.toContain("api-client-alert");
  });
});
