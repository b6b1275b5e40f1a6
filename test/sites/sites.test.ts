import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { adminAuditEvents, appRegistrations, sites } from "../../src/db/schema";
import { startOfDayInZone } from "../../src/lib/time";
import { updateSite } from "../../src/sites/site-service";
import {
  auditRowsFor,
  elementById,
  fieldError,
  HTMX,
  inputValue,
  signInGlobalAdmin,
  textOf,
} from "../helpers/admin-pages";
import { call, createSite, createUser, db, expectSentToSignIn, ORIGIN, signIn, unique } from "../helpers/app";
import { bodyOf } from "../helpers/html";
import { createRegistration } from "../helpers/registrations";

const siteForm = (overrides: Record<string, string> = {}) => ({
  slug: unique("site"),
  name: "Plant Floor",
  timeZone: "Europe/Berlin",
  restApiEnabled: "on",
  maxRegistrationDays: "365",
  ...overrides,
});

const siteBySlug = (slug: string) => db().select().from(sites).where(eq(sites.slug, slug)).get();

describe("Sites page: access", () => {
  it("sends anonymous visitors to sign-in and refuses their posts", async () => {
    await expectSentToSignIn("/admin/sites");
    const slug = unique("anon");
    const post = await call("/admin/sites", {
      method: "POST",
      headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(siteForm({ slug })),
    });
    expect(post.status).toBe(401);
    expect(await siteBySlug(slug)).toBeUndefined();
  });

  it("answers 403 to a Site Administrator and a Site User, for pages and posts alike", async () => {
    const site = await createSite();
    for (const role of ["site_admin", "site_user"] as const) {
      const user = await createUser({ sites: [[site.id, role]] });
      const browser = await signIn(user.email);
      for (const path of ["/admin/sites", "/admin/sites/new", `/admin/sites/${site.slug}`]) {
        expect((await browser.get(path)).status, `${role} GET ${path}`).toBe(403);
      }
      const slug = unique("denied");
      expect((await browser.post("/admin/sites", siteForm({ slug }))).status).toBe(403);
      expect(await siteBySlug(slug)).toBeUndefined();
      const rename = await browser.post(`/admin/sites/${site.slug}`, { ...siteForm(), name: "Taken over" });
      expect(rename.status).toBe(403);
      const toggle = await browser.post(`/admin/sites/${site.slug}/rest-api`, { value: "false" });
      expect(toggle.status).toBe(403);
      expect(await siteBySlug(site.slug)).toMatchObject({ name: site.name, restApiEnabled: true });
    }
  });

  it("refuses a post without the session's CSRF token", async () => {
    const { browser } = await signInGlobalAdmin();
    const slug = unique("csrf");
    const res = await browser.post("/admin/sites", { ...siteForm({ slug }), _csrf: "forged" });
    expect(res.status).toBe(403);
    expect(await siteBySlug(slug)).toBeUndefined();
  });
});

describe("Sites page: list", () => {
  it("lists every Site with slug, time zone, REST API enabled and its numbers of registrations and members", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite({ name: unique("Listed"), timeZone: "Asia/Tokyo", restApiEnabled: false });
    await createRegistration(site.id);
    await createRegistration(site.id);
    await createUser({ sites: [[site.id, "site_admin"]] });
    await createUser({ sites: [[site.id, "site_user"]] });
    await createUser({ sites: [[site.id, "site_user"]] });
    const res = await browser.get("/admin/sites");
    expect(res.status).toBe(200);
    const row = elementById(await res.text(), `site-${site.slug}`);
    const cells = [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => textOf(m[1] ?? ""));
    expect(cells).toEqual([site.name, site.slug, "Asia/Tokyo", "No Turn on", "2", "3"]);
    expect(row).toContain(`href="/admin/sites/${site.slug}"`);
  });
});

describe("Sites page: create", () => {
  it("offers UTC, REST API on and 730 days by default, with every IANA zone in the select", async () => {
    const { browser } = await signInGlobalAdmin();
    const html = await (await browser.get("/admin/sites/new")).text();
    expect(html).toMatch(/<option value="UTC" selected="">UTC<\/option>/);
    expect(html).toContain('<option value="Europe/Berlin">Europe/Berlin</option>');
    expect(html).toContain('<option value="America/New_York">');
    expect(html).toMatch(/<input id="site-restApiEnabled" name="restApiEnabled" type="checkbox" checked=""/);
    expect(inputValue(html, "site", "maxRegistrationDays")).toBe("730");
  });

  it("creates a Site and records who created it with what", async () => {
    const { user, browser } = await signInGlobalAdmin();
    const form = siteForm();
    const now = Date.now() + 60_000;
    const res = await browser.post("/admin/sites", form, { now });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`/admin/sites/${form.slug}?notice=created`);
    const site = await siteBySlug(form.slug);
    expect(site).toMatchObject({
      name: "Plant Floor",
      timeZone: "Europe/Berlin",
      restApiEnabled: true,
      maxRegistrationDays: 365,
      createdAt: now,
    });
    const [audit, ...more] = await auditRowsFor("site", form.slug);
    expect(more).toEqual([]);
    expect(audit).toMatchObject({
      siteId: site?.id,
      action: "create",
      actorUserId: user.id,
      actorEmail: user.email,
      at: now,
    });
    expect(audit?.changes).toEqual({
      slug: [null, form.slug],
      name: [null, "Plant Floor"],
      timeZone: [null, "Europe/Berlin"],
      restApiEnabled: [null, true],
      maxRegistrationDays: [null, 365],
    });
    const page = await (await browser.get(res.headers.get("Location") ?? "")).text();
    expect(page).toContain("Site created.");
    expect(textOf(elementById(page, "audit-trail-heading"))).toBe("Changes to this Site");
    expect(textOf(page)).toContain(`${user.email} Created Slug: ${form.slug}`);
  });

  it("creates a Site with the REST API off when the box is left unticked", async () => {
    const { browser } = await signInGlobalAdmin();
    const { restApiEnabled: _, ...form } = siteForm();
    expect((await browser.post("/admin/sites", form)).status).toBe(303);
    expect((await siteBySlug(form.slug))?.restApiEnabled).toBe(false);
  });

  it("lower-cases the slug and canonicalises the time zone", async () => {
    const { browser } = await signInGlobalAdmin();
    const slug = unique("upper");
    const res = await browser.post(
      "/admin/sites",
      siteForm({ slug: `  ${slug.toUpperCase()} `, timeZone: "europe/berlin" }),
    );
    expect(res.status).toBe(303);
    expect(await siteBySlug(slug)).toMatchObject({ timeZone: "Europe/Berlin" });
  });

  it("ignores fields that are not on the form", async () => {
    const { browser } = await signInGlobalAdmin();
    const form = siteForm();
    const now = Date.now() + 60_000;
    const res = await browser.post(
      "/admin/sites",
      { ...form, id: "424242", createdAt: "1", created_at: "1", max_registration_days: "9999" },
      { now },
    );
    expect(res.status).toBe(303);
    const site = await siteBySlug(form.slug);
    expect(site?.id).not.toBe(424242);
    expect(site).toMatchObject({ createdAt: now, maxRegistrationDays: 365 });
  });

  const invalid: [string, Record<string, string>, string, string][] = [
    ["a one-character slug", { slug: "a" }, "slug", "Use 2 to 40 characters."],
    ["a 41-character slug", { slug: "a".repeat(41) }, "slug", "Use 2 to 40 characters."],
    [
      "a slug with an underscore",
      { slug: "plant_floor" },
      "slug",
      "Use lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
    ],
    [
      "a slug starting with a hyphen",
      { slug: "-plant" },
      "slug",
      "Use lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
    ],
    ["the reserved slug new", { slug: "new" }, "slug", "This word is reserved; choose another slug."],
    ["no display name", { name: "   " }, "name", "Enter a display name."],
    ["a 101-character display name", { name: "n".repeat(101) }, "name", "Use at most 100 characters."],
    [
      "an unknown time zone",
      { timeZone: "Mars/Olympus_Mons" },
      "timeZone",
      "Choose an IANA time zone, such as UTC or Europe/Berlin.",
    ],
    [
      "an offset instead of a zone",
      { timeZone: "+02:00" },
      "timeZone",
      "Choose an IANA time zone, such as UTC or Europe/Berlin.",
    ],
    [
      "a lifetime of 0 days",
      { maxRegistrationDays: "0" },
      "maxRegistrationDays",
      "Enter a whole number of days from 1 to 3650.",
    ],
    [
      "a lifetime of 3651 days",
      { maxRegistrationDays: "3651" },
      "maxRegistrationDays",
      "Enter a whole number of days from 1 to 3650.",
    ],
    [
      "a fractional lifetime",
      { maxRegistrationDays: "1.5" },
      "maxRegistrationDays",
      "Enter a whole number of days from 1 to 3650.",
    ],
    [
      "a lifetime that is not a number",
      { maxRegistrationDays: "two years" },
      "maxRegistrationDays",
      "Enter a whole number of days from 1 to 3650.",
    ],
  ];
  for (const [what, overrides, field, message] of invalid) {
    it(`refuses ${what} with 422, the error next to the field and the input kept`, async () => {
      const { browser } = await signInGlobalAdmin();
      const form = siteForm({ name: "Kept <b>name</b>", ...overrides });
      const before = (await db().select().from(sites).all()).length;
      const res = await browser.post("/admin/sites", form);
      const html = await bodyOf(res, 422);
      expect(fieldError(html, "site", field)).toBe(message);
      expect(html).toContain("Nothing was saved. Correct the fields marked below.");
      expect(html).toMatch(new RegExp(`id="site-${field}"[^>]*aria-invalid="true"`));
      if (field !== "name") expect(inputValue(html, "site", "name")).toBe("Kept &lt;b&gt;name&lt;/b&gt;");
      if (field !== "slug") expect(inputValue(html, "site", "slug")).toBe(form.slug);
      expect((await db().select().from(sites).all()).length).toBe(before);
    });
  }

  it("refuses a slug that is already taken and changes nothing", async () => {
    const { browser } = await signInGlobalAdmin();
    const existing = await createSite({ name: "Original" });
    const res = await browser.post("/admin/sites", siteForm({ slug: existing.slug, name: "Impostor" }));
    const html = await bodyOf(res, 422);
    expect(fieldError(html, "site", "slug")).toBe("This slug is already used by another Site.");
    expect(inputValue(html, "site", "name")).toBe("Impostor");
    expect(await siteBySlug(existing.slug)).toMatchObject({ name: "Original" });
    expect(await auditRowsFor("site", existing.slug)).toEqual([]);
  });

  it("reports a taken slug together with the other errors", async () => {
    const { browser } = await signInGlobalAdmin();
    const existing = await createSite();
    const res = await browser.post("/admin/sites", siteForm({ slug: existing.slug, maxRegistrationDays: "4000" }));
    const html = await bodyOf(res, 422);
    expect(fieldError(html, "site", "slug")).toBe("This slug is already used by another Site.");
    expect(fieldError(html, "site", "maxRegistrationDays")).toBe("Enter a whole number of days from 1 to 3650.");
  });
});

describe("Sites page: edit", () => {
  it("renames a Site, turns its REST API off and changes its maximum lifetime, auditing only what changed", async () => {
    const { user, browser } = await signInGlobalAdmin();
    const site = await createSite({ name: "Old name", timeZone: "UTC" });
    const now = Date.now() + 60_000;
    const fields = { name: "New name", timeZone: "UTC", maxRegistrationDays: "90" };
    // Turning the REST API off asks first (no change yet), then the confirmed post saves.
    const ask = await browser.post(`/admin/sites/${site.slug}`, fields, { now });
    expect(textOf(await bodyOf(ask, 200))).toContain("Token requests of its 0 App registrations fail at once");
    expect((await siteBySlug(site.slug))?.name).toBe("Old name");
    const res = await browser.post(`/admin/sites/${site.slug}`, { ...fields, confirmed: "yes" }, { now });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`/admin/sites/${site.slug}?notice=saved`);
    expect(await siteBySlug(site.slug)).toMatchObject({
      name: "New name",
      timeZone: "UTC",
      restApiEnabled: false,
      maxRegistrationDays: 90,
    });
    const audits = await auditRowsFor("site", site.slug);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ action: "update", actorEmail: user.email, at: now, siteId: site.id });
    expect(audits[0]?.changes).toEqual({
      name: ["Old name", "New name"],
      restApiEnabled: [true, false],
      maxRegistrationDays: [730, 90],
    });
    const page = await (await browser.get(`/admin/sites/${site.slug}?notice=saved`)).text();
    expect(page).toContain("Site saved.");
    expect(inputValue(page, "site", "name")).toBe("New name");
  });

  it("never changes the slug, whatever the form says", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite();
    const other = unique("moved");
    const res = await browser.post(`/admin/sites/${site.slug}`, {
      slug: other,
      name: "Renamed",
      timeZone: "UTC",
      restApiEnabled: "on",
      maxRegistrationDays: "730",
      id: "1",
    });
    expect(res.status).toBe(303);
    expect(await siteBySlug(site.slug)).toMatchObject({ id: site.id, name: "Renamed" });
    expect(await siteBySlug(other)).toBeUndefined();
    const page = await (await browser.get(`/admin/sites/${site.slug}`)).text();
    expect(page).toContain("it is part of the REST API URLs");
    expect(inputValue(page, "site", "slug")).toBeUndefined();
  });

  it("saves nothing and writes no audit row when nothing changed", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite();
    const res = await browser.post(`/admin/sites/${site.slug}`, {
      name: site.name,
      timeZone: "UTC",
      restApiEnabled: "on",
      maxRegistrationDays: "730",
    });
    expect(res.headers.get("Location")).toBe(`/admin/sites/${site.slug}?notice=unchanged`);
    expect(await auditRowsFor("site", site.slug)).toEqual([]);
  });

  it("re-renders the edit form with 422 and changes nothing when a field is invalid", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite({ name: "Stays" });
    const res = await browser.post(`/admin/sites/${site.slug}`, {
      name: "Typed name",
      timeZone: "Nowhere/City",
      maxRegistrationDays: "0",
    });
    const html = await bodyOf(res, 422);
    expect(fieldError(html, "site", "timeZone")).toBe("Choose an IANA time zone, such as UTC or Europe/Berlin.");
    expect(fieldError(html, "site", "maxRegistrationDays")).toBe("Enter a whole number of days from 1 to 3650.");
    expect(inputValue(html, "site", "name")).toBe("Typed name");
    expect(inputValue(html, "site", "maxRegistrationDays")).toBe("0");
    // The unticked box stays unticked.
    expect(html).not.toMatch(/id="site-restApiEnabled"[^>]*checked/);
    expect(await siteBySlug(site.slug)).toMatchObject({ name: "Stays", timeZone: "UTC", maxRegistrationDays: 730 });
    expect(await auditRowsFor("site", site.slug)).toEqual([]);
  });

  it("answers 404 for a Site that does not exist", async () => {
    const { browser } = await signInGlobalAdmin();
    expect((await browser.get("/admin/sites/no-such-site")).status).toBe(404);
    const post = await browser.post("/admin/sites/no-such-site", siteForm());
    expect(post.status).toBe(404);
  });
});

describe("Sites page: time zone change", () => {
  it("keeps each registration's Expiration date and moves expires_at to 00:00 of it in the new zone", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite({ timeZone: "UTC" });
    const other = await createSite({ timeZone: "UTC" });
    const now = Date.now() + 60_000;
    const winter = await createRegistration(site.id, { expirationDate: "2027-01-10", now });
    const summer = await createRegistration(site.id, { expirationDate: "2027-03-15", now });
    const sameDay = await createRegistration(site.id, { expirationDate: "2027-03-15", now });
    const elsewhere = await createRegistration(other.id, { expirationDate: "2027-03-15", now });
    expect(winter.registration.expiresAt).toBe(Date.UTC(2027, 0, 10));

    const res = await browser.post(
      `/admin/sites/${site.slug}`,
      { name: site.name, timeZone: "America/New_York", restApiEnabled: "on", maxRegistrationDays: "730" },
      { now },
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`/admin/sites/${site.slug}?notice=saved&recomputed=3`);

    const rows = new Map((await db().select().from(appRegistrations).all()).map((r) => [r.id, r] as const));
    // EST (UTC-5) in January; EDT (UTC-4) from 14 March 2027.
    expect(rows.get(winter.registration.id)).toMatchObject({
      expirationDate: "2027-01-10",
      expiresAt: Date.UTC(2027, 0, 10, 5),
    });
    expect(rows.get(summer.registration.id)).toMatchObject({
      expirationDate: "2027-03-15",
      expiresAt: Date.UTC(2027, 2, 15, 4),
    });
    expect(rows.get(sameDay.registration.id)?.expiresAt).toBe(Date.UTC(2027, 2, 15, 4));
    // Another Site's registrations are untouched.
    expect(rows.get(elsewhere.registration.id)?.expiresAt).toBe(Date.UTC(2027, 2, 15));
    // Nothing else about the registrations moved.
    expect(rows.get(winter.registration.id)?.updatedAt).toBe(winter.registration.updatedAt);

    const [audit] = await auditRowsFor("site", site.slug);
    expect(audit?.changes).toEqual({ timeZone: ["UTC", "America/New_York"] });
    const page = await (await browser.get(res.headers.get("Location") ?? "")).text();
    expect(page).toContain("the expiry of 3 App registrations were recomputed");
  });

  it("moves expiry east too, across a date line, for the same calendar date", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite({ timeZone: "Pacific/Honolulu" });
    const reg = await createRegistration(site.id, { expirationDate: "2027-06-01" });
    expect(reg.registration.expiresAt).toBe(Date.UTC(2027, 5, 1, 10));
    await browser.post(`/admin/sites/${site.slug}`, {
      name: site.name,
      timeZone: "Pacific/Kiritimati",
      restApiEnabled: "on",
      maxRegistrationDays: "730",
    });
    const after = await db().select().from(appRegistrations).where(eq(appRegistrations.id, reg.registration.id)).get();
    expect(after).toMatchObject({
      expirationDate: "2027-06-01",
      expiresAt: startOfDayInZone("2027-06-01", "Pacific/Kiritimati"),
    });
    expect(after?.expiresAt).toBe(Date.UTC(2027, 4, 31, 10));
  });

  it("changes nothing, not even expiry, when the Site changed since it was read", async () => {
    const admin = await createUser({ global: true });
    const site = await createSite({ timeZone: "UTC" });
    const reg = await createRegistration(site.id, { expirationDate: "2027-02-01" });
    const stale = { ...site };
    // Another administrator renames the Site after this one read it.
    await db().update(sites).set({ name: "Renamed meanwhile" }).where(eq(sites.id, site.id));
    const result = await updateSite(
      db(),
      stale,
      { name: stale.name, timeZone: "Asia/Tokyo", restApiEnabled: true, maxRegistrationDays: 730 },
      { id: admin.id, email: admin.email },
      Date.now(),
    );
    expect(result).toEqual({ ok: false, code: "Conflict" });
    expect(await siteBySlug(site.slug)).toMatchObject({ name: "Renamed meanwhile", timeZone: "UTC" });
    const after = await db().select().from(appRegistrations).where(eq(appRegistrations.id, reg.registration.id)).get();
    expect(after?.expiresAt).toBe(Date.UTC(2027, 1, 1));
    expect(await db().select().from(adminAuditEvents).where(eq(adminAuditEvents.siteId, site.id)).all()).toEqual([]);
  });
});

describe("Sites page: REST API toggle", () => {
  it("turns the REST API off with a plain form post, after a confirmation naming what it stops", async () => {
    const { user, browser } = await signInGlobalAdmin();
    const site = await createSite();
    await createRegistration(site.id);
    await createRegistration(site.id);
    // Without JavaScript the first post answers the confirmation, which names how many registrations stop.
    const ask = await browser.post(`/admin/sites/${site.slug}/rest-api`, { value: "false" });
    const page = await bodyOf(ask, 200);
    expect(textOf(page)).toContain(
      `Turn off the REST API of ${site.name}? Token requests of its 2 App registrations fail at once`,
    );
    expect(page).toContain('<input type="hidden" name="value" value="false"/>');
    expect(page).toContain('<input type="hidden" name="confirmed" value="yes"/>');
    expect((await siteBySlug(site.slug))?.restApiEnabled).toBe(true);
    expect(await auditRowsFor("site", site.slug)).toEqual([]);
    const res = await browser.post(`/admin/sites/${site.slug}/rest-api`, { value: "false", confirmed: "yes" });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/admin/sites?notice=saved");
    expect((await siteBySlug(site.slug))?.restApiEnabled).toBe(false);
    const [audit] = await auditRowsFor("site", site.slug);
    expect(audit).toMatchObject({ action: "update", actorEmail: user.email });
    expect(audit?.changes).toEqual({ restApiEnabled: [true, false] });
  });

  it("answers an htmx toggle with just the Site's row", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite({ restApiEnabled: false });
    const res = await browser.post(`/admin/sites/${site.slug}/rest-api`, { value: "true" }, { headers: HTMX });
    const html = await bodyOf(res, 200);
    expect(html.startsWith(`<tr id="site-${site.slug}">`)).toBe(true);
    expect(html).not.toContain("<html");
    expect(textOf(elementById(html, `site-${site.slug}`))).toContain("Yes Turn off");
    expect(html).toContain('hx-target="closest tr"');
    expect((await siteBySlug(site.slug))?.restApiEnabled).toBe(true);
  });

  it("refuses a value other than true or false", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite();
    const res = await browser.post(`/admin/sites/${site.slug}/rest-api`, { value: "maybe" });
    expect(res.status).toBe(422);
    expect((await siteBySlug(site.slug))?.restApiEnabled).toBe(true);
    expect(await auditRowsFor("site", site.slug)).toEqual([]);
  });
});

describe("Sites page: escaping", () => {
  it("renders a hostile Site name and member name as text everywhere", async () => {
    const { browser } = await signInGlobalAdmin();
    const payload = `<img src=x onerror="alert(1)">`;
    const form = siteForm({ name: payload });
    expect((await browser.post("/admin/sites", form)).status).toBe(303);
    const site = await siteBySlug(form.slug);
    const member = await createUser({ sites: [[site?.id ?? 0, "site_user"]] });
    await db()
      .update((await import("../../src/db/schema")).users)
      .set({ name: `<script>alert("x")</script>` })
      .where(eq((await import("../../src/db/schema")).users.id, member.id));
    for (const path of ["/admin/sites", `/admin/sites/${form.slug}`]) {
      const html = await (await browser.get(path)).text();
      expect(html, path).not.toContain("<img src=x");
      expect(html, path).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
      expect(html, path).not.toContain('<script>alert("x")');
    }
    const page = await (await browser.get(`/admin/sites/${form.slug}`)).text();
    expect(page).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
  });
});
