import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { adminAuditEvents, appRegistrations, clientSecrets } from "../../src/db/schema";
import { CLIENT_SECRET_PATTERN, hashClientSecret } from "../../src/registrations/secrets";
import { createSite, db } from "../helpers/app";
import { bodyOf } from "../helpers/html";
import {
  auditOf,
  createForm,
  createThroughForm,
  gridPath,
  NOW,
  registrationsOf,
  siteWithAdmin,
} from "../helpers/registration-pages";
import { createRegistration } from "../helpers/registrations";

describe("the create form (§4)", () => {
  it("offers the fields with their defaults: Enabled on, devices:read, 1 hour", async () => {
    const { site, admin } = await siteWithAdmin();
    const res = await admin.get(`${gridPath(site)}/new`);
    const html = await bodyOf(res, 200);
    expect(html).toMatch(/<input id="name" name="name" required="" maxlength="100"/);
    expect(html).toMatch(/<textarea id="description" name="description"/);
    // The date picker allows tomorrow to 730 days ahead in the Site's zone.
    expect(html).toMatch(
      /id="expiration-date" name="expirationDate" type="date" required="" min="2031-01-16" max="2033-01-14"/,
    );
    expect(html).toMatch(/id="enabled" name="enabled" type="checkbox" value="on" checked=""/);
    expect(html).toMatch(/id="scope-devices-read" name="scopes" type="checkbox" value="devices:read" checked=""/);
    expect(html).toMatch(/id="scope-devices-write" name="scopes" type="checkbox" value="devices:write"\/>/);
    expect(html).toMatch(
      /id="lifetime-minutes" name="lifetimeMinutes" type="number" required="" min="5" max="120" step="1" value="60"/,
    );
  });
});

describe("saving a new registration", () => {
  it("creates the registration and its first secret, and answers with the Client ID and secret once", async () => {
    const { site, admin } = await siteWithAdmin({ timeZone: "Europe/Berlin" });
    const { res, html, secret, clientId, row } = await createThroughForm(admin, site, {
      name: "Backup script — pull device list nightly",
      description: "Nightly export",
      expirationDate: "2031-06-30",
      scopes: ["devices:read", "devices:write"],
      lifetimeMinutes: "15",
    });
    // The POST answers with the secret page itself: no redirect carries the secret, nothing may store it.
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBeNull();
    expect(res.headers.get("Cache-Control")).toBe("private, no-store");
    expect(html).toContain("It is shown only once and cannot be shown again.");
    expect(html).toContain('data-copy-target="client-secret"');
    expect(html).toContain('data-copy-target="client-id"');
    expect(secret).toMatch(CLIENT_SECRET_PATTERN);
    expect(clientId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    expect(row).toMatchObject({
      siteId: site.id,
      name: "Backup script — pull device list nightly",
      description: "Nightly export",
      enabled: true,
      scopes: "devices:read devices:write",
      accessTokenLifetime: 900,
      expirationDate: "2031-06-30",
      expiresAt: Date.UTC(2031, 5, 29, 22, 0), // 00:00 CEST
      createdAt: NOW,
      lastUsedAt: null,
      createdBy: admin.userId,
    });
    // Only the keyed hash is stored.
    const secrets = await db().select().from(clientSecrets).where(eq(clientSecrets.registrationId, row!.id)).all();
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.secretHash).toBe(await hashClientSecret(env.SECRET_PEPPER, secret!));
  });

  it("records who created it and what, never the secret, in the same batch", async () => {
    const { site, admin } = await siteWithAdmin();
    const { secret, clientId, row } = await createThroughForm(admin, site, { name: "Audited", enabled: "" });
    const audit = await auditOf(site.id, row!.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: "create",
      targetType: "app_registration",
      targetLabel: "Audited",
      actorUserId: admin.userId,
      actorEmail: admin.email,
      at: NOW,
    });
    expect(JSON.parse(audit[0]!.changes)).toEqual({
      name: [null, "Audited"],
      description: [null, "Pulls the device list nightly"],
      expirationDate: [null, "2031-04-15"],
      enabled: [null, false],
      scopes: [null, ["devices:read"]],
      accessTokenLifetime: [null, 3600],
      clientId: [null, clientId],
    });
    const hash = await hashClientSecret(env.SECRET_PEPPER, secret!);
    expect(JSON.stringify(audit)).not.toContain(secret);
    expect(JSON.stringify(audit)).not.toContain(hash);
  });

  it("ignores fields it does not know instead of assigning them (site, Client ID, creator, dates)", async () => {
    const { site, admin } = await siteWithAdmin();
    const other = await createSite();
    const { res, row } = await createThroughForm(admin, site, {
      name: "Mass assignment",
      siteId: String(other.id),
      site_id: String(other.id),
      site: other.slug,
      clientId: "00000000-0000-4000-8000-000000000000",
      client_id: "00000000-0000-4000-8000-000000000000",
      createdBy: "1",
      createdAt: "0",
      expiresAt: "0",
      lastUsedAt: "1",
      secretHash: "x",
    });
    expect(res.status).toBe(201);
    expect(row).toMatchObject({ siteId: site.id, createdBy: admin.userId, createdAt: NOW, lastUsedAt: null });
    expect(row?.clientId).not.toBe("00000000-0000-4000-8000-000000000000");
    expect(await registrationsOf(other.id)).toHaveLength(0);
  });

  it("treats an unticked Enabled box as off and keeps the scopes in a fixed order", async () => {
    const { site, admin } = await siteWithAdmin();
    const form = createForm({ scopes: ["devices:write", "devices:read", "devices:write"] });
    delete form.enabled;
    const res = await admin.post(`${gridPath(site)}/new`, form);
    expect(res.status).toBe(201);
    const [row] = await registrationsOf(site.id);
    expect(row).toMatchObject({ enabled: false, scopes: "devices:read devices:write" });
  });
});

describe("create form validation: 422 with each error next to its field, input kept, nothing stored", () => {
  const cases: [string, Record<string, string | string[]>, string, string][] = [
    ["a missing name", { name: "" }, "name", "Enter a name."],
    ["a blank name", { name: "    " }, "name", "Enter a name."],
    ["a name over 100 characters", { name: "n".repeat(101) }, "name", "Use at most 100 characters."],
    ["a name with a line break", { name: "two\nlines" }, "name", "Remove line breaks and control characters."],
    [
      "a description over 500 characters",
      { description: "d".repeat(501) },
      "description",
      "Use at most 500 characters.",
    ],
    ["a missing Expiration date", { expirationDate: "" }, "expiration-date", "Enter an expiration date."],
    ["an impossible date", { expirationDate: "2031-02-30" }, "expiration-date", "Enter a real date as YYYY-MM-DD."],
    [
      "a date in another format",
      { expirationDate: "15/04/2031" },
      "expiration-date",
      "Enter a real date as YYYY-MM-DD.",
    ],
    ["today's date", { expirationDate: "2031-01-15" }, "expiration-date", "Choose a date after today (2031-01-15"],
    ["a past date", { expirationDate: "2030-12-31" }, "expiration-date", "Choose a date after today"],
    [
      "a date past the Site's cap",
      { expirationDate: "2033-01-15" },
      "expiration-date",
      "Choose a date at most 730 days ahead.",
    ],
    ["no scope", { scopes: [] }, "scopes", "Choose at least one scope."],
    [
      "an unknown scope",
      { scopes: ["devices:read", "admin:all"] },
      "scopes",
      "Choose from devices:read, devices:write, registrations:read, registrations:write, security-log:read.",
    ],
    ["a lifetime under 5 minutes", { lifetimeMinutes: "4" }, "lifetime-minutes", "Choose between 5 and 120 minutes"],
    ["a lifetime over 2 hours", { lifetimeMinutes: "121" }, "lifetime-minutes", "Choose between 5 and 120 minutes"],
    [
      "a lifetime that is not a number",
      { lifetimeMinutes: "1h" },
      "lifetime-minutes",
      "Enter a whole number of minutes.",
    ],
    ["an Enabled value that is not on or off", { enabled: "maybe" }, "enabled", "Choose on or off."],
  ];

  for (const [what, overrides, field, message] of cases) {
    it(`refuses ${what}`, async () => {
      const { site, admin } = await siteWithAdmin();
      const form = createForm({ name: "Kept name <b>", description: "Kept description", ...overrides });
      const res = await admin.post(`${gridPath(site)}/new`, form);
      const html = await bodyOf(res, 422);
      expect(html).toMatch(
        new RegExp(`<p class="field-error" id="${field}-error">${escapeRegExp(escapeHtml(message))}`),
      );
      expect(html).toContain(`aria-describedby="${field}-error"`);
      // What was typed is still there (escaped).
      if (typeof form.name === "string" && form.name.trim() && !form.name.includes("\n") && form.name.length <= 100) {
        expect(html).toContain(`value="${escapeHtml(form.name)}"`);
      }
      expect(await registrationsOf(site.id)).toHaveLength(0);
    });
  }

  it("shows every error at once, keeping what was typed", async () => {
    const { site, admin } = await siteWithAdmin();
    const res = await admin.post(
      `${gridPath(site)}/new`,
      createForm({ name: "", expirationDate: "2030-01-01", lifetimeMinutes: "500", description: "kept", scopes: [] }),
    );
    const html = await bodyOf(res, 422);
    expect(html).toContain('id="name-error">Enter a name.');
    expect(html).toContain('id="expiration-date-error">Choose a date after today');
    expect(html).toContain('id="lifetime-minutes-error">Choose between 5 and 120 minutes');
    expect(html).toContain('id="scopes-error">Choose at least one scope.');
    expect(html).toContain('value="2030-01-01"');
    expect(html).toContain('value="500"');
    expect(html).toContain(">kept</textarea>");
    expect(html).toContain('<div class="form-error" role="alert">');
  });

  it("refuses a name another registration of the Site already has, whatever its case", async () => {
    const { site, admin } = await siteWithAdmin();
    await createRegistration(site.id, { name: "Nightly Backup", now: NOW });
    const res = await admin.post(`${gridPath(site)}/new`, createForm({ name: "nightly BACKUP" }));
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('id="name-error">Another App registration of this Site already has this name.');
    expect(await registrationsOf(site.id)).toHaveLength(1);
    const audit = await db().select().from(adminAuditEvents).where(eq(adminAuditEvents.siteId, site.id)).all();
    expect(audit).toHaveLength(0);
  });

  it("allows the same name in another Site", async () => {
    const { site, admin } = await siteWithAdmin();
    const other = await createSite();
    await createRegistration(other.id, { name: "Shared name", now: NOW });
    const { res } = await createThroughForm(admin, site, { name: "Shared name" });
    expect(res.status).toBe(201);
  });

  it("applies the Site's own cap on how far ahead the date may be", async () => {
    const { site, admin } = await siteWithAdmin({ maxRegistrationDays: 30 });
    const refused = await admin.post(`${gridPath(site)}/new`, createForm({ expirationDate: "2031-02-15" }));
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain("Choose a date at most 30 days ahead.");
    const { res } = await createThroughForm(admin, site, { expirationDate: "2031-02-14" });
    expect(res.status).toBe(201);
  });

  it("judges 'in the future' in the Site's time zone", async () => {
    // At NOW (12:00 UTC on 15 January) it is already 16 January 01:00 in Auckland.
    const { site, admin } = await siteWithAdmin({ timeZone: "Pacific/Auckland" });
    const refused = await admin.post(`${gridPath(site)}/new`, createForm({ expirationDate: "2031-01-16" }));
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain("Choose a date after today (2031-01-16 in the Site");
    const { res, row } = await createThroughForm(admin, site, { expirationDate: "2031-01-17" });
    expect(res.status).toBe(201);
    expect(row?.expiresAt).toBe(Date.UTC(2031, 0, 16, 11, 0)); // 00:00 NZDT
  });

  it("answers 415 to a body that is not a form, and stores nothing", async () => {
    const { site, admin } = await siteWithAdmin();
    const res = await admin.post(
      `${gridPath(site)}/new`,
      {},
      {
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name: "json" }),
      },
    );
    expect(res.status).toBe(415);
    expect(await registrationsOf(site.id)).toHaveLength(0);
  });
});

describe("registrations in D1", () => {
  it("keep the row count unchanged when a create is refused part-way (one batch)", async () => {
    const { site, admin } = await siteWithAdmin();
    await createRegistration(site.id, { name: "Taken", now: NOW });
    await admin.post(`${gridPath(site)}/new`, createForm({ name: "TAKEN" }));
    const rows = await db().select().from(appRegistrations).where(eq(appRegistrations.siteId, site.id)).all();
    expect(rows.map((r) => r.name)).toEqual(["Taken"]);
  });
});

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
