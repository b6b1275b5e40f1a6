import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { appRegistrations, memberships, type Site, savedViews, userPreferences } from "../../src/db/schema";
import { createSite, db } from "../helpers/app";
import { bodyOf } from "../helpers/html";
import {
  clientFor,
  DAY,
  gridHeaders,
  gridPath,
  gridRows,
  HTMX,
  NOW,
  siteWithAdmin,
} from "../helpers/registration-pages";
import { createRegistration } from "../helpers/registrations";

/** A registration with chosen grid values (times relative to NOW). */
async function seed(
  site: Site,
  name: string,
  options: { expirationDate?: string; enabled?: boolean; createdAgo?: number; lastUsedAgo?: number | null } = {},
) {
  const { registration } = await createRegistration(site.id, {
    name,
    expirationDate: options.expirationDate ?? "2031-06-01",
    enabled: options.enabled ?? true,
    now: NOW - (options.createdAgo ?? 0),
  });
  if (options.lastUsedAgo != null) {
    await db()
      .update(appRegistrations)
      .set({ lastUsedAt: NOW - options.lastUsedAgo })
      .where(eq(appRegistrations.id, registration.id));
  }
  return registration;
}

const names = (html: string) => gridRows(html).map((r) => r[0]);

describe("the App registrations grid (§4)", () => {
  it("shows the reference's columns, in the Site's zone with the zone named, sorted by name", async () => {
    const { site, admin } = await siteWithAdmin({ timeZone: "Asia/Tokyo" });
    const used = await seed(site, "bravo", { expirationDate: "2031-01-20", lastUsedAgo: 2 * 3600_000 });
    const fresh = await seed(site, "Alpha", { createdAgo: DAY, enabled: false });
    await seed(site, "charlie", { expirationDate: "2031-01-15" });
    const res = await admin.get(gridPath(site));
    const html = await bodyOf(res, 200);
    expect(gridHeaders(html)).toEqual([
      "Name",
      "Client ID",
      "Registration date",
      "Enabled",
      "Last used",
      "Expires",
      "State",
    ]);
    expect(gridRows(html)).toEqual([
      // Times read relative to now, with the absolute time in the Site's zone beside them.
      ["Alpha", fresh.clientId, "1 day ago, 2031-01-14 21:00 (Asia/Tokyo)", "No", "", "In 137 days", "Disabled"],
      [
        "bravo",
        used.clientId,
        "just now, 2031-01-15 21:00 (Asia/Tokyo)",
        "Yes",
        "2 hours ago, 2031-01-15 19:00 (Asia/Tokyo)",
        "In 5 days",
        "Expires within 7 days",
      ],
      // NOW is 21:00 on 15 January in Tokyo: a registration expiring on the 15th has expired.
      ["charlie", expect.any(String), "just now, 2031-01-15 21:00 (Asia/Tokyo)", "Yes", "", "Expired", "Expired"],
    ]);
    expect(html).toContain(`<a href="${gridPath(site)}/${fresh.id}">Alpha</a>`);
    expect(html).toContain('<th scope="col" aria-sort="ascending">');
    expect(html).toContain('<p class="grid-summary muted">1–3 of 3 registrations</p>');
  });

  it("sorts on every column, both ways", async () => {
    const { site, admin } = await siteWithAdmin();
    await seed(site, "a-late", { expirationDate: "2031-09-01", createdAgo: 1 * DAY, lastUsedAgo: 5 * DAY });
    await seed(site, "B-soon", { expirationDate: "2031-02-01", createdAgo: 3 * DAY, enabled: false });
    await seed(site, "c-mid", { expirationDate: "2031-05-01", createdAgo: 2 * DAY, lastUsedAgo: 1 * DAY });
    const sorted = async (qs: string) => names(await (await admin.get(`${gridPath(site)}?${qs}`)).text());

    expect(await sorted("")).toEqual(["a-late", "B-soon", "c-mid"]);
    expect(await sorted("dir=desc")).toEqual(["c-mid", "B-soon", "a-late"]);
    expect(await sorted("sort=created")).toEqual(["B-soon", "c-mid", "a-late"]);
    expect(await sorted("sort=created&dir=desc")).toEqual(["a-late", "c-mid", "B-soon"]);
    expect(await sorted("sort=expires")).toEqual(["B-soon", "c-mid", "a-late"]);
    expect(await sorted("sort=expires&dir=desc")).toEqual(["a-late", "c-mid", "B-soon"]);
    expect(await sorted("sort=enabled")).toEqual(["B-soon", "a-late", "c-mid"]);
    expect(await sorted("sort=enabled&dir=desc")).toEqual(["a-late", "c-mid", "B-soon"]);
    // Never used rows come last either way.
    expect(await sorted("sort=last_used")).toEqual(["a-late", "c-mid", "B-soon"]);
    expect(await sorted("sort=last_used&dir=desc")).toEqual(["c-mid", "a-late", "B-soon"]);
    const byClientId = (await db().select().from(appRegistrations).where(eq(appRegistrations.siteId, site.id)).all())
      .sort((x, y) => (x.clientId < y.clientId ? -1 : 1))
      .map((r) => r.name);
    expect(await sorted("sort=client_id")).toEqual(byClientId);
    expect(await sorted("sort=client_id&dir=desc")).toEqual([...byClientId].reverse());
  }, 30_000);

  it("links each header to the opposite order of the current sort, and others to ascending", async () => {
    const { site, admin } = await siteWithAdmin();
    await seed(site, "one");
    const html = await (await admin.get(`${gridPath(site)}?sort=expires&state=active`)).text();
    const base = gridPath(site);
    expect(html).toContain(
      `<th scope="col" aria-sort="ascending"><a href="${base}?state=active&amp;sort=expires&amp;dir=desc"`,
    );
    expect(html).toContain(`<a href="${base}?state=active&amp;sort=client_id"`);
    expect(html).toContain(`<a href="${base}?state=active"`); // Name ascending is the default: no sort parameter
  });

  it("searches by name or Client ID, and filters by state, enabled, last used before and never used, in SQL", async () => {
    const { site, admin } = await siteWithAdmin();
    await seed(site, "Active nightly", { expirationDate: "2031-12-01", lastUsedAgo: 40 * DAY });
    await seed(site, "Thirty nightly", { expirationDate: "2031-02-10", lastUsedAgo: 1 * DAY });
    const seven = await seed(site, "Seven", { expirationDate: "2031-01-20" });
    await seed(site, "Expired one", { expirationDate: "2031-01-10" });
    await seed(site, "Off", { expirationDate: "2031-01-10", enabled: false, lastUsedAgo: 100 * DAY });
    const filtered = async (qs: string) => names(await (await admin.get(`${gridPath(site)}?${qs}`)).text());

    expect(await filtered("q=NIGHTLY")).toEqual(["Active nightly", "Thirty nightly"]);
    expect(await filtered("q=%25")).toEqual([]); // no wildcard meaning
    expect(await filtered("state=active")).toEqual(["Active nightly"]);
    expect(await filtered("state=expiring_30")).toEqual(["Seven", "Thirty nightly"]);
    expect(await filtered("state=expiring_7")).toEqual(["Seven"]);
    expect(await filtered("state=expired")).toEqual(["Expired one"]);
    expect(await filtered("state=disabled")).toEqual(["Off"]);
    expect(await filtered("enabled=no")).toEqual(["Off"]);
    expect(await filtered("enabled=yes")).toHaveLength(4);
    // Last used before 2031-01-01 (00:00 in the Site's zone): used 40 and 100 days ago, not 1 day ago, not never.
    expect(await filtered("used_before=2031-01-01")).toEqual(["Active nightly", "Off"]);
    expect(await filtered("never_used=1")).toEqual(["Expired one", "Seven"]);
    expect(await filtered("q=nightly&used_before=2031-01-01")).toEqual(["Active nightly"]);
    const none = await (await admin.get(`${gridPath(site)}?q=zzz`)).text();
    expect(none).toContain("No App registrations match this filter.");
    // The search has its own box in the toolbar, so the Filter button counts the other filters only.
    expect(none).toContain('<input id="grid-search-q" name="q" type="search" maxlength="100" value="zzz"');
    expect(none).toContain("<summary>Filter</summary>");
    expect(await filtered("q=nightly&state=active")).toEqual(["Active nightly"]);
    // The search also matches part of a Client ID, in any case.
    expect(await filtered(`q=${seven.clientId.slice(9, 18).toUpperCase()}`)).toEqual(["Seven"]);
  });

  it("treats blank fields of the JavaScript-off filter form as absent, and ignores unknown parameters", async () => {
    const { site, admin } = await siteWithAdmin();
    await seed(site, "x1");
    await seed(site, "x2", { enabled: false });
    const res = await admin.get(
      `${gridPath(site)}?q=&state=&enabled=no&used_before=&sort=name&dir=asc&utm_source=mail&notice=bogus`,
    );
    const html = await bodyOf(res, 200);
    expect(names(html)).toEqual(["x2"]);
    expect(html).toContain('<option value="no" selected="">No</option>');
  });

  it("refuses a parameter it cannot use with 400, naming every problem", async () => {
    const { site, admin } = await siteWithAdmin();
    const res = await admin.get(
      `${gridPath(site)}?state=gone&sort=secret&page=0&used_before=2031-02-30&cols=name,password&dir=up&q=${"x".repeat(101)}`,
    );
    const html = await bodyOf(res, 400);
    for (const problem of [
      "state must be one of active, expiring_30, expiring_7, expired, disabled.",
      "sort must be one of name, client_id, created, enabled, last_used, tokens_30d, expires, state.",
      "page must be between 1 and 100000.",
      "used_before must be a date as YYYY-MM-DD.",
      "cols must list columns among name, client_id, created, enabled, last_used, tokens_30d, expires, state.",
      "dir must be asc or desc.",
      "q (the search) is limited to 100 characters.",
    ]) {
      expect(html).toContain(`<li>${problem}</li>`);
    }
    expect(html).toContain(`<a href="${gridPath(site)}">Show the Default View</a>`);
    expect((await admin.get(`${gridPath(site)}?page=abc`)).status).toBe(400);
    expect((await admin.get(`${gridPath(site)}?state=expired&state=disabled`)).status).toBe(400);
    expect((await admin.get(`${gridPath(site)}?sort=site`)).status).toBe(400); // the all-Sites grid's column
  });

  it("pages with the user's page size and shows the last page for a page past the end", async () => {
    const { site, admin } = await siteWithAdmin();
    for (let i = 0; i < 12; i++) await seed(site, `reg-${String(i).padStart(2, "0")}`);
    await admin.post(`${gridPath(site)}/settings`, {
      columns: ["client_id", "created", "enabled", "last_used", "expires"],
      pageSize: "10",
    });
    const first = await (await admin.get(gridPath(site))).text();
    expect(names(first)).toHaveLength(10);
    expect(first).toContain("1–10 of 12 registrations");
    expect(first).toContain("Page 1 of 2");
    expect(first).toContain(`<a href="${gridPath(site)}?page=2" rel="next"`);
    const second = await (await admin.get(`${gridPath(site)}?page=2`)).text();
    expect(names(second)).toEqual(["reg-10", "reg-11"]);
    expect(second).toContain("11–12 of 12 registrations");
    const past = await (await admin.get(`${gridPath(site)}?page=40`)).text();
    expect(names(past)).toEqual(["reg-10", "reg-11"]);
    expect(past).toContain("Page 2 of 2");
  }, 30_000);

  it("answers htmx with only the grid fragment and the canonical URL to push; a history restore gets the page", async () => {
    const { site, admin } = await siteWithAdmin();
    await seed(site, "only");
    const url = `${gridPath(site)}?dir=desc&q=&state=&sort=name`;
    const fragment = await admin.get(url, { headers: { ...HTMX } });
    const html = await bodyOf(fragment, 200);
    expect(html.startsWith('<div id="registrations-grid" class="grid-region">')).toBe(true);
    expect(html).not.toContain("<html");
    expect(html).not.toContain("api-client-alerts");
    expect(fragment.headers.get("HX-Push-Url")).toBe(`${gridPath(site)}?dir=desc`);
    expect(fragment.headers.get("Vary")).toContain("HX-Request");
    expect(fragment.headers.get("Cache-Control")).toBe("private, no-store");

    const restore = await admin.get(url, {
      headers: { "HX-Request": "true", "HX-History-Restore-Request": "true", "HX-Request-Type": "full" },
    });
    const page = await restore.text();
    expect(page.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(page).toContain('<div id="registrations-grid"');
    expect(restore.headers.get("HX-Push-Url")).toBeNull();
  });

  it("marks every navigation control to swap only the grid and push the URL", async () => {
    const { site, admin } = await siteWithAdmin();
    await seed(site, "one");
    const html = await (await admin.get(gridPath(site))).text();
    const controls = [...html.matchAll(/<(a|form) [^>]*hx-get="[^"]*"[^>]*>/g)].map((m) => m[0]);
    expect(controls.length).toBeGreaterThanOrEqual(6 + 5 + 2); // headers, built-in views, filter and clear
    for (const control of controls) {
      expect(control).toContain('hx-target="#registrations-grid"');
      expect(control).toContain('hx-swap="outerHTML"');
      expect(control).toContain('hx-push-url="true"');
    }
    // Without JavaScript the same controls are plain links and a GET form.
    expect(html).toMatch(/<form method="get" action="[^"]+" class="menu-panel filter-form"/);
  });
});

describe("views (Default View ▼) and ⚙️ settings", () => {
  it("offers the built-in views and names the one in use", async () => {
    const { site, admin } = await siteWithAdmin();
    const html = await (await admin.get(gridPath(site))).text();
    expect(html).toContain("<summary>Default View ▼</summary>");
    for (const [name, qs] of [
      ["Expiring within 30 days", "?state=expiring_30&amp;sort=expires"],
      ["Expired", "?state=expired"],
      ["Disabled", "?state=disabled"],
      ["Never used", "?never_used=1"],
    ]) {
      expect(html).toMatch(new RegExp(`<a href="${gridPath(site)}\\${qs}"[^>]*>${name}</a>`));
    }
    const expired = await (await admin.get(`${gridPath(site)}?state=expired`)).text();
    expect(expired).toContain("<summary>Expired ▼</summary>");
    const custom = await (await admin.get(`${gridPath(site)}?q=abc`)).text();
    expect(custom).toContain("<summary>Custom view ▼</summary>");
  });

  it("saves the current filter, sort and columns as a view of the user's, and shows it by name", async () => {
    const { site, admin } = await siteWithAdmin();
    await seed(site, "Expired A", { expirationDate: "2031-01-01" });
    await seed(site, "Active B");
    const res = await admin.post(`${gridPath(site)}/views`, {
      name: "Expired, by date",
      query: "state=expired&sort=expires&cols=name,expires,client_id",
    });
    expect(res.status).toBe(303);
    const target = `${gridPath(site)}?state=expired&sort=expires&cols=name%2Cclient_id%2Cexpires`;
    expect(res.headers.get("Location")).toBe(target);
    const html = await (await admin.get(target)).text();
    expect(html).toContain("<summary>Expired, by date ▼</summary>");
    expect(gridHeaders(html)).toEqual(["Name", "Client ID", "Expires"]);
    expect(names(html)).toEqual(["Expired A"]);
    expect(html).toContain('aria-label="Delete view Expired, by date"');

    // Same name again: the view is replaced, not duplicated.
    await admin.post(`${gridPath(site)}/views`, { name: "Expired, by date", query: "state=expired" });
    const rows = await db().select().from(savedViews).where(eq(savedViews.userId, admin.userId)).all();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ grid: "registrations", query: "state=expired", siteId: null });

    // Another administrator of the Site does not see it.
    const other = await clientFor("site_admin", site);
    expect(await (await other.get(gridPath(site))).text()).not.toContain("Expired, by date");
  });

  it("refuses a view with no name or an unusable query, and deletes only the user's own views", async () => {
    const { site, admin } = await siteWithAdmin();
    expect((await admin.post(`${gridPath(site)}/views`, { name: "  ", query: "" })).status).toBe(400);
    expect((await admin.post(`${gridPath(site)}/views`, { name: "x", query: "sort=password" })).status).toBe(400);
    await admin.post(`${gridPath(site)}/views`, { name: "Mine", query: "never_used=1" });
    const [view] = await db().select().from(savedViews).where(eq(savedViews.userId, admin.userId)).all();
    const other = await clientFor("site_admin", site);
    expect((await other.post(`${gridPath(site)}/views/${view!.id}/delete`, {})).status).toBe(404);
    const res = await admin.post(`${gridPath(site)}/views/${view!.id}/delete`, { returnTo: "never_used=1" });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`${gridPath(site)}?never_used=1`);
    expect(await db().select().from(savedViews).where(eq(savedViews.userId, admin.userId)).all()).toEqual([]);
  });

  it("keeps at most 30 views per user, still lets one be replaced, and offers them in every Site", async () => {
    const site = await createSite();
    const second = await createSite();
    const admin = await clientFor("site_admin", site);
    await db().insert(memberships).values({ userId: admin.userId, siteId: second.id, role: "site_admin" });
    for (let i = 0; i < 30; i++) {
      const res = await admin.post(`${gridPath(site)}/views`, { name: `View ${i}`, query: `q=${i}` });
      expect(res.status).toBe(303);
    }
    const refused = await admin.post(`${gridPath(site)}/views`, { name: "One too many", query: "q=x" });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("Delete one before saving another.");
    const replaced = await admin.post(`${gridPath(site)}/views`, {
      name: "View 7",
      query: "state=expired&sort=expires",
    });
    expect(replaced.status).toBe(303);
    const rows = await db().select().from(savedViews).where(eq(savedViews.userId, admin.userId)).all();
    expect(rows).toHaveLength(30);
    expect(rows.find((r) => r.name === "View 7")?.query).toBe("state=expired&sort=expires");
    const elsewhere = await (await admin.get(`${gridPath(second)}?state=expired&sort=expires`)).text();
    expect(elsewhere).toContain("<summary>View 7 ▼</summary>");
  }, 30_000);

  it("remembers visible columns and page size per user", async () => {
    const { site, admin } = await siteWithAdmin();
    await seed(site, "cols");
    const res = await admin.post(`${gridPath(site)}/settings`, {
      columns: ["expires", "enabled"],
      pageSize: "50",
      returnTo: "q=col&page=3&cols=name",
    });
    expect(res.status).toBe(303);
    // Back to the same filter; the settings' columns now apply, so a view's column choice is dropped.
    expect(res.headers.get("Location")).toBe(`${gridPath(site)}?q=col&page=3`);
    const html = await (await admin.get(gridPath(site))).text();
    expect(gridHeaders(html)).toEqual(["Name", "Enabled", "Expires"]);
    expect(html).toContain('<option value="50" selected="">50</option>');
    const [pref] = await db().select().from(userPreferences).where(eq(userPreferences.userId, admin.userId)).all();
    expect(JSON.parse(pref!.value)).toEqual({ columns: ["name", "enabled", "expires"], pageSize: 50 });
    // Someone else keeps the defaults.
    const other = await clientFor("site_admin", site);
    expect(gridHeaders(await (await other.get(gridPath(site))).text())).toHaveLength(7);
  });

  it("answers the htmx settings form with the new grid and the URL to push", async () => {
    const { site, admin } = await siteWithAdmin();
    await seed(site, "htmx settings");
    const res = await admin.post(
      `${gridPath(site)}/settings`,
      { columns: ["client_id"], pageSize: "10", returnTo: "sort=created&cols=name" },
      { headers: { ...HTMX } },
    );
    const html = await bodyOf(res, 200);
    expect(html.startsWith('<div id="registrations-grid"')).toBe(true);
    expect(gridHeaders(html)).toEqual(["Name", "Client ID"]);
    expect(res.headers.get("HX-Push-Url")).toBe(`${gridPath(site)}?sort=created`);
  });

  it("refuses settings it cannot use", async () => {
    const { site, admin } = await siteWithAdmin();
    expect((await admin.post(`${gridPath(site)}/settings`, { columns: ["client_id"], pageSize: "7" })).status).toBe(
      400,
    );
    expect((await admin.post(`${gridPath(site)}/settings`, { columns: ["password"], pageSize: "10" })).status).toBe(
      400,
    );
    expect(await db().select().from(userPreferences).where(eq(userPreferences.userId, admin.userId)).all()).toEqual([]);
  });
});
