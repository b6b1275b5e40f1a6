import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { recordSecurityEvent } from "../../src/audit/security-events";
import { appRegistrations, clientSecrets, securityEvents, sites } from "../../src/db/schema";
import { hashClientSecret } from "../../src/registrations/secrets";
import { db } from "../helpers/app";
import { bodyOf } from "../helpers/html";
import {
  auditOf,
  createForm,
  createThroughForm,
  DAY,
  gridPath,
  gridRows,
  HTMX,
  NOW,
  registrationsOf,
  regPath,
  siteWithAdmin,
  textOf,
  versionIn,
} from "../helpers/registration-pages";
import { createRegistration } from "../helpers/registrations";

/** The edit form as the browser would send it: the stored values, the version, and the changes. */
async function editForm(
  client: Awaited<ReturnType<typeof siteWithAdmin>>["admin"],
  path: string,
  changes: Record<string, string | string[]>,
) {
  const html = await (await client.get(`${path}/edit`)).text();
  const value = (name: string) => new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(html)?.[1] ?? "";
  const form: Record<string, string | string[]> = {
    version: versionIn(html),
    name: value("name")
      .replace(/&amp;/g, "&")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"'),
    description: /<textarea[^>]*>([\s\S]*?)<\/textarea>/.exec(html)?.[1] ?? "",
    expirationDate: value("expirationDate"),
    lifetimeMinutes: value("lifetimeMinutes"),
    scopes: [...html.matchAll(/name="scopes" type="checkbox" value="([^"]+)" checked=""/g)].map((m) => m[1] ?? ""),
  };
  if (/id="enabled" name="enabled" type="checkbox" value="on" checked=""/.test(html)) form.enabled = "on";
  return { ...form, ...changes };
}

const row = (id: number) => db().select().from(appRegistrations).where(eq(appRegistrations.id, id)).get();
const secretsOf = (id: number) =>
  db().select().from(clientSecrets).where(eq(clientSecrets.registrationId, id)).orderBy(clientSecrets.id).all();

describe("the registration page (§4)", () => {
  it("shows every field, the state and the audit trail, in the Site's zone", async () => {
    const { site, admin } = await siteWithAdmin({ timeZone: "America/New_York" });
    const { row: reg } = await createThroughForm(admin, site, {
      name: "SIEM connector",
      description: "Ships logs",
      expirationDate: "2031-02-01",
      scopes: ["devices:read", "devices:write"],
      lifetimeMinutes: "30",
    });
    const res = await admin.get(regPath(site, reg!.id));
    const html = await bodyOf(res, 200);
    expect(html).toContain("<h1>SIEM connector</h1>");
    expect(html).toContain(
      '<span class="state state-expiring-30" data-state="Expiring (30 d)">Expires within 30 days</span>',
    );
    expect(html).toContain("<dt>Enabled</dt><dd>Yes</dd>");
    expect(html).toContain("<dt>Expires</dt><dd>In 17 days</dd>");
    expect(html).toContain("<dd>Ships logs</dd>");
    expect(html).toContain(`<code id="registration-client-id">${reg!.clientId}</code>`);
    expect(textOf(html)).toContain("Registration date just now , 2031-01-15 07:00 (America/New_York)");
    expect(textOf(html)).toContain(
      "Expiration date 2031-02-01 (token requests stop at 2031-02-01 00:00 (America/New_York) )",
    );
    expect(html).toContain("<code>devices:read</code>, <code>devices:write</code>");
    expect(html).toContain("<dd>30 minutes</dd>");
    expect(html).toContain("Not used yet");
    expect(html).toContain('<section id="audit-trail"');
    expect(html).toContain("<strong>Created</strong>");
    expect(html).toContain(admin.email);
  });

  it("answers 404 for an id that does not exist or is not a number", async () => {
    const { site, admin } = await siteWithAdmin();
    expect((await admin.get(regPath(site, 999_999_999))).status).toBe(404);
    expect((await admin.get(`${gridPath(site)}/abc`)).status).toBe(404);
    expect((await admin.get(`${gridPath(site)}/99999999999999999999999`)).status).toBe(404);
  });
});

describe("editing and renewing (§3, §4)", () => {
  it("renews by moving the Expiration date forward: same Client ID, secrets untouched, audited", async () => {
    const { site, admin } = await siteWithAdmin({ timeZone: "Europe/Berlin" });
    const { row: reg, secret } = await createThroughForm(admin, site, { expirationDate: "2031-02-01" });
    const secretsBefore = await secretsOf(reg!.id);
    const path = regPath(site, reg!.id);

    const res = await admin.post(`${path}/edit`, await editForm(admin, path, { expirationDate: "2031-12-31" }));
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`${path}?notice=saved`);

    const after = await row(reg!.id);
    expect(after).toMatchObject({
      clientId: reg!.clientId,
      expirationDate: "2031-12-31",
      expiresAt: Date.UTC(2031, 11, 30, 23, 0),
      updatedAt: NOW,
    });
    expect(await secretsOf(reg!.id)).toEqual(secretsBefore);
    expect(secretsBefore[0]?.secretHash).toBe(await hashClientSecret(env.SECRET_PEPPER, secret!));

    const audit = await auditOf(site.id, reg!.id);
    expect(audit.map((a) => a.action)).toEqual(["create", "update"]);
    expect(JSON.parse(audit[1]!.changes)).toEqual({ expirationDate: ["2031-02-01", "2031-12-31"] });
    expect(audit[1]).toMatchObject({ actorEmail: admin.email, at: NOW });

    const page = await (await admin.get(`${path}?notice=saved`)).text();
    expect(page).toContain('<p class="notice" role="status">Changes saved.</p>');
    expect(page).toContain(
      '<li>Expiration date: <span class="before">2031-02-01</span> → <span class="after">2031-12-31</span></li>',
    );
  });

  it("brings an expired registration back to Active and removes its banner on the next page load", async () => {
    const { site, admin } = await siteWithAdmin();
    const { registration } = await createRegistration(site.id, {
      name: "Expired backup",
      expirationDate: "2031-01-10",
      now: NOW - 30 * DAY,
    });
    const path = regPath(site, registration.id);
    const before = await (await admin.get(path)).text();
    expect(before).toContain('<span class="state state-expired" data-state="Expired">Expired</span>');
    expect(before).toContain(`data-registration-id="${registration.id}"`); // the §6 banner
    expect(before).toContain("Renew it by moving the Expiration date forward");

    const res = await admin.post(`${path}/edit`, await editForm(admin, path, { expirationDate: "2031-07-01" }));
    expect(res.status).toBe(303);
    const after = await (await admin.get(path)).text();
    expect(after).toContain('<span class="state state-active" data-state="Active">Active</span>');
    expect(after).not.toContain(`data-registration-id="${registration.id}"`);
    const grid = gridRows(await (await admin.get(gridPath(site))).text());
    expect(grid).toHaveLength(1);
    expect(grid[0]?.[0]).toBe("Expired backup");
    expect(grid[0]?.[5]).toBe("In 167 days");
    expect(grid[0]?.at(-1)).toBe("Active");
  });

  it("lets other fields of an expired registration change while its past date stays as it is", async () => {
    const { site, admin } = await siteWithAdmin();
    const { registration } = await createRegistration(site.id, { expirationDate: "2031-01-01", now: NOW - 60 * DAY });
    const path = regPath(site, registration.id);
    const res = await admin.post(`${path}/edit`, await editForm(admin, path, { description: "Kept for the record" }));
    expect(res.status).toBe(303);
    expect(await row(registration.id)).toMatchObject({
      description: "Kept for the record",
      expirationDate: "2031-01-01",
    });
  });

  it("keeps a stored date beyond a cap the Site lowered since, while other fields change", async () => {
    const { site, admin } = await siteWithAdmin();
    const { row: reg } = await createThroughForm(admin, site, { expirationDate: "2032-12-01" });
    await db().update(sites).set({ maxRegistrationDays: 30 }).where(eq(sites.id, site.id));
    const path = regPath(site, reg!.id);
    const form = await (await admin.get(`${path}/edit`)).text();
    expect(form).toContain('max="2032-12-01" value="2032-12-01"');
    const res = await admin.post(`${path}/edit`, await editForm(admin, path, { description: "Still far ahead" }));
    expect(res.status).toBe(303);
    const moved = await admin.post(`${path}/edit`, await editForm(admin, path, { expirationDate: "2032-11-30" }));
    expect(moved.status).toBe(422);
    expect(await moved.text()).toContain("Choose a date at most 30 days ahead.");
  });

  it("refuses to move the date into the past, keeping what was typed", async () => {
    const { site, admin } = await siteWithAdmin();
    const { row: reg } = await createThroughForm(admin, site, { name: "Date check" });
    const path = regPath(site, reg!.id);
    const res = await admin.post(
      `${path}/edit`,
      await editForm(admin, path, { expirationDate: "2031-01-14", name: "Renamed meanwhile" }),
    );
    const html = await bodyOf(res, 422);
    expect(html).toContain('id="expiration-date-error">Choose a date after today');
    expect(html).toContain('value="Renamed meanwhile"');
    expect(await row(reg!.id)).toMatchObject({ name: "Date check", expirationDate: "2031-04-15" });
    expect((await auditOf(site.id, reg!.id)).map((a) => a.action)).toEqual(["create"]);
  });

  it("edits name, description, Enabled, scopes and lifetime, recording each change", async () => {
    const { site, admin } = await siteWithAdmin();
    const { row: reg } = await createThroughForm(admin, site, { name: "Before" });
    const path = regPath(site, reg!.id);
    const form = await editForm(admin, path, {
      name: "After",
      description: "",
      scopes: ["devices:write"],
      lifetimeMinutes: "120",
    });
    delete form.enabled;
    const res = await admin.post(`${path}/edit`, form);
    expect(res.status).toBe(303);
    expect(await row(reg!.id)).toMatchObject({
      name: "After",
      description: "",
      enabled: false,
      scopes: "devices:write",
      accessTokenLifetime: 7200,
    });
    const [, updated] = await auditOf(site.id, reg!.id);
    expect(updated?.targetLabel).toBe("After");
    expect(JSON.parse(updated!.changes)).toEqual({
      name: ["Before", "After"],
      description: ["Pulls the device list nightly", ""],
      enabled: [true, false],
      scopes: [["devices:read"], ["devices:write"]],
      accessTokenLifetime: [3600, 7200],
    });
  });

  it("saves nothing and records nothing when no value changed", async () => {
    const { site, admin } = await siteWithAdmin();
    const { row: reg } = await createThroughForm(admin, site);
    const path = regPath(site, reg!.id);
    const res = await admin.post(`${path}/edit`, await editForm(admin, path, {}));
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`${path}?notice=unchanged`);
    expect((await auditOf(site.id, reg!.id)).map((a) => a.action)).toEqual(["create"]);
  });

  it("refuses a rename to a name the Site already uses, but allows changing only the case", async () => {
    const { site, admin } = await siteWithAdmin();
    await createThroughForm(admin, site, { name: "Taken name" });
    const { row: reg } = await createThroughForm(admin, site, { name: "mine" });
    const path = regPath(site, reg!.id);
    const taken = await admin.post(`${path}/edit`, await editForm(admin, path, { name: "TAKEN NAME" }));
    expect(taken.status).toBe(422);
    expect(await taken.text()).toContain("Another App registration of this Site already has this name.");
    expect((await auditOf(site.id, reg!.id)).map((a) => a.action)).toEqual(["create"]);
    const recased = await admin.post(`${path}/edit`, await editForm(admin, path, { name: "Mine" }));
    expect(recased.status).toBe(303);
    expect((await row(reg!.id))?.name).toBe("Mine");
  });

  it("detects that someone else changed the registration since the form was opened (409, nothing lost)", async () => {
    const { site, admin } = await siteWithAdmin();
    const { row: reg } = await createThroughForm(admin, site, { name: "Contended" });
    const path = regPath(site, reg!.id);
    const stale = await editForm(admin, path, { description: "My edit" });
    // Meanwhile another administrator disables it.
    await admin.post(`${path}/enabled`, { enabled: "false" });
    const res = await admin.post(`${path}/edit`, stale);
    const html = await bodyOf(res, 409);
    expect(html).toContain("Someone changed this registration after you opened this form");
    expect(html).toContain(">My edit</textarea>");
    expect(versionIn(html)).not.toBe(stale.version);
    expect(await row(reg!.id)).toMatchObject({ enabled: false, description: "Pulls the device list nightly" });
    // Saving again with the fresh version goes through.
    const retry = await admin.post(`${path}/edit`, { ...stale, version: versionIn(html) });
    expect(retry.status).toBe(303);
    expect((await row(reg!.id))?.description).toBe("My edit");
  });

  it("refuses an edit form without a version, and an id of nothing (404)", async () => {
    const { site, admin } = await siteWithAdmin();
    const { row: reg } = await createThroughForm(admin, site);
    const res = await admin.post(`${regPath(site, reg!.id)}/edit`, createForm());
    expect(res.status).toBe(422);
    expect(
      await admin.post(`${regPath(site, 987_654_321)}/edit`, createForm({ version: "0123456789abcdef" })),
    ).toHaveProperty("status", 404);
  });
});

describe("enable and disable in place (§3, §4)", () => {
  it("disables with a plain form post, records it once, and a second disable changes nothing", async () => {
    const { site, admin } = await siteWithAdmin();
    const { row: reg } = await createThroughForm(admin, site);
    const path = regPath(site, reg!.id);
    const res = await admin.post(`${path}/enabled`, { enabled: "false" });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`${path}?notice=disabled`);
    expect((await row(reg!.id))?.enabled).toBe(false);
    const again = await admin.post(`${path}/enabled`, { enabled: "false" });
    expect(again.headers.get("Location")).toBe(`${path}?notice=unchanged`);
    const audit = await auditOf(site.id, reg!.id);
    expect(audit.map((a) => a.action)).toEqual(["create", "disable"]);
    expect(JSON.parse(audit[1]!.changes)).toEqual({ enabled: [true, false] });
    const page = await (await admin.get(`${path}?notice=disabled`)).text();
    expect(page).toContain('<span class="state state-disabled" data-state="Disabled">Disabled</span>');
    expect(page).toContain("Disabled: token requests with this Client ID fail until it is enabled again.");
  });

  it("answers an htmx request with just the status section and the audit trail out of band", async () => {
    const { site, admin } = await siteWithAdmin();
    const { row: reg } = await createThroughForm(admin, site, { enabled: "" });
    const path = regPath(site, reg!.id);
    const res = await admin.post(`${path}/enabled`, { enabled: "true" }, { headers: { ...HTMX } });
    const html = await bodyOf(res, 200);
    expect(html).not.toContain("<html");
    expect(html.startsWith('<section id="registration-status"')).toBe(true);
    expect(html).toContain("<dt>Enabled</dt><dd>Yes</dd>");
    expect(html).toContain('<input type="hidden" name="enabled" value="false"/>');
    expect(html).toContain(
      '<section id="audit-trail" class="audit-trail" aria-labelledby="audit-heading" hx-swap-oob="true">',
    );
    expect(html).toContain("<strong>Enabled</strong>");
    expect((await row(reg!.id))?.enabled).toBe(true);
  });

  it("refuses a value other than true or false", async () => {
    const { site, admin } = await siteWithAdmin();
    const { row: reg } = await createThroughForm(admin, site);
    const res = await admin.post(`${regPath(site, reg!.id)}/enabled`, { enabled: "toggle" });
    expect(res.status).toBe(400);
    expect((await row(reg!.id))?.enabled).toBe(true);
  });
});

describe("delete with confirmation (§3, §4)", () => {
  it("asks first on a page of its own when JavaScript is off", async () => {
    const { site, admin } = await siteWithAdmin();
    const { row: reg } = await createThroughForm(admin, site, { name: "Going away" });
    const path = regPath(site, reg!.id);
    const page = await (await admin.get(path)).text();
    expect(page).toContain(
      `<form method="get" action="${path}/delete" hx-post="${path}/delete" hx-confirm="Delete the App registration “Going away”?`,
    );
    const confirm = await admin.get(`${path}/delete`);
    const html = await bodyOf(confirm, 200);
    expect(html).toContain("<h1>Delete “Going away”?</h1>");
    expect(html).toContain(`<form method="post" action="${path}/delete"`);
    expect(await row(reg!.id)).toBeDefined();
  });

  it("removes the registration and its secrets, keeps security-log rows and the audit trail", async () => {
    const { site, admin } = await siteWithAdmin();
    const { row: reg } = await createThroughForm(admin, site, { name: "Old consumer" });
    await recordSecurityEvent(
      db(),
      {
        siteId: site.id,
        event: "service_auth_failed",
        detailCode: "InvalidSecret",
        clientId: reg!.clientId,
        registrationName: "Old consumer",
        ip: "203.0.113.9",
        userAgent: "curl",
        endpoint: "POST /oauth/token",
      },
      NOW,
    );
    const path = regPath(site, reg!.id);
    const res = await admin.post(`${path}/delete`, {});
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`${gridPath(site)}?notice=deleted`);

    expect(await row(reg!.id)).toBeUndefined();
    // D1 enforces foreign keys: the secrets went with the registration.
    expect(await secretsOf(reg!.id)).toEqual([]);
    const events = await db().select().from(securityEvents).where(eq(securityEvents.clientId, reg!.clientId)).all();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ registrationName: "Old consumer", detailCode: "InvalidSecret" });
    const audit = await auditOf(site.id, reg!.id);
    expect(audit.map((a) => a.action)).toEqual(["create", "delete"]);
    expect(audit[1]).toMatchObject({ targetLabel: "Old consumer", actorEmail: admin.email, at: NOW });
    expect(JSON.parse(audit[1]!.changes)).toEqual({
      name: ["Old consumer", null],
      clientId: [reg!.clientId, null],
      expirationDate: ["2031-04-15", null],
      enabled: [true, null],
    });

    const grid = await (await admin.get(`${gridPath(site)}?notice=deleted`)).text();
    expect(grid).toContain("The App registration was deleted.");
    expect(grid).not.toContain("Old consumer");
    expect((await admin.get(path)).status).toBe(404);
    expect((await admin.post(`${path}/delete`, {})).status).toBe(404);
    expect((await auditOf(site.id, reg!.id)).length).toBe(2);
  });

  it("answers htmx with a client-side redirect instead of a 303 fetch would follow", async () => {
    const { site, admin } = await siteWithAdmin();
    const { row: reg } = await createThroughForm(admin, site);
    const res = await admin.post(`${regPath(site, reg!.id)}/delete`, {}, { headers: { ...HTMX } });
    expect(res.status).toBe(204);
    expect(res.headers.get("HX-Redirect")).toBe(`${gridPath(site)}?notice=deleted`);
    expect(await registrationsOf(site.id)).toEqual([]);
  });
});
