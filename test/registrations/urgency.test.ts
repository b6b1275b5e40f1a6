import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { appRegistrations } from "../../src/db/schema";
import { renewedDate } from "../../src/registrations/lifecycle";
import { db } from "../helpers/app";
import { bodyOf, textOf } from "../helpers/html";
import {
  auditOf,
  createForm,
  gridPath,
  gridRows,
  NOW,
  registrationsOf,
  regPath,
  SECRET_IN_PAGE,
  siteWithAdmin,
} from "../helpers/registration-pages";
import { createRegistration } from "../helpers/registrations";

const DAY = 86_400_000;
const dateAt = (at: number) => new Date(at).toISOString().slice(0, 10);

describe("urgency at a glance", () => {
  it("shows a State column whose pills say the time left unambiguously, sorts by urgency, and dims disabled rows", async () => {
    const { site, admin } = await siteWithAdmin();
    const make = (name: string, days: number, enabled = true) =>
      createRegistration(site.id, { name, expirationDate: dateAt(NOW + days * DAY), enabled, now: NOW - DAY });
    await make("Later", 200);
    await make("Soon", 5);
    await make("Month", 20);
    await make("Off", 100, false);
    const gone = await make("Gone", 30);
    await db()
      .update(appRegistrations)
      .set({ expiresAt: NOW - DAY })
      .where(eq(appRegistrations.id, gone.registration.id));

    const html = await bodyOf(await admin.get(`${gridPath(site)}?sort=state`), 200);
    const rows = gridRows(html);
    expect(rows.map((r) => [r[0], r.at(-1)])).toEqual([
      ["Gone", "Expired"],
      ["Soon", "Expires within 7 days"],
      ["Month", "Expires within 30 days"],
      ["Later", "Active"],
      ["Off", "Disabled"],
    ]);
    expect(rows[1]?.[5]).toBe("In 5 days");
    expect(html).toMatch(/<tr data-registration-id="\d+" class="disabled">/);
    expect((html.match(/class="disabled"/g) ?? []).length).toBe(1);
    const desc = gridRows(await bodyOf(await admin.get(`${gridPath(site)}?sort=state&dir=desc`), 200));
    expect(desc.map((r) => r[0])).toEqual(["Off", "Later", "Month", "Soon", "Gone"]);
  });
});

describe("Renew on the Status card", () => {
  it("computes +30, +90 days and +1 year from the later of today and the current date", () => {
    expect(renewedDate("2031-02-01", "2031-01-15", "30d")).toBe("2031-03-03");
    expect(renewedDate("2031-01-10", "2031-01-15", "90d")).toBe("2031-04-15");
    expect(renewedDate("2032-02-29", "2031-01-15", "1y")).toBe("2033-02-28");
    expect(renewedDate("2031-01-15", "2031-01-15", "1y")).toBe("2032-01-15");
  });

  it("renews an expired registration in one post, audited, and refuses a date past the Site's limit", async () => {
    const { site, admin } = await siteWithAdmin({ timeZone: "UTC" });
    const { registration } = await createRegistration(site.id, { name: "Lapsed", now: NOW - 100 * DAY, daysAhead: 30 });
    const page = await bodyOf(await admin.get(regPath(site, registration.id)), 200);
    expect(textOf(page)).toContain("Renew +30 days +90 days +1 year or until Renew until this date");

    const res = await admin.post(`${regPath(site, registration.id)}/renew`, { extend: "90d" });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`${regPath(site, registration.id)}?notice=renewed`);
    const row = await db().select().from(appRegistrations).where(eq(appRegistrations.id, registration.id)).get();
    expect(row?.expirationDate).toBe(dateAt(NOW + 90 * DAY));
    expect(row?.clientId).toBe(registration.clientId);
    const audit = await auditOf(site.id, registration.id);
    expect(audit.at(-1)?.action).toBe("update");
    expect(JSON.parse(audit.at(-1)?.changes ?? "{}")).toEqual({
      expirationDate: [registration.expirationDate, dateAt(NOW + 90 * DAY)],
    });

    const chosen = await admin.post(`${regPath(site, registration.id)}/renew`, {
      extend: "date",
      date: dateAt(NOW + 400 * DAY),
    });
    expect(chosen.status).toBe(303);
    const tooFar = await admin.post(`${regPath(site, registration.id)}/renew`, {
      extend: "date",
      date: dateAt(NOW + 800 * DAY),
    });
    expect(textOf(await bodyOf(tooFar, 422))).toContain("Choose a date at most 730 days ahead.");
    const missing = await admin.post(`${regPath(site, registration.id)}/renew`, { extend: "date", date: "" });
    expect(textOf(await bodyOf(missing, 422))).toContain("Enter the date to renew until.");
    expect((await admin.post(`${regPath(site, registration.id)}/renew`, { extend: "forever" })).status).toBe(400);
    const after = await db().select().from(appRegistrations).where(eq(appRegistrations.id, registration.id)).get();
    expect(after?.expirationDate).toBe(dateAt(NOW + 400 * DAY));
  });
});

describe("a create form sent again (reload or Back of the secret page)", () => {
  it("creates nothing and reveals nothing, and says plainly that the registration exists", async () => {
    const { site, admin } = await siteWithAdmin();
    const form = await bodyOf(await admin.get(`${gridPath(site)}/new`), 200);
    const formToken = /name="formToken" value="([A-Za-z0-9_-]+)"/.exec(form)?.[1] ?? "";
    expect(formToken).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const fields = { ...createForm({ name: "Sent twice" }), formToken };
    const first = await admin.post(`${gridPath(site)}/new`, fields);
    const secret = SECRET_IN_PAGE.exec(await bodyOf(first, 201))?.[1] ?? "";
    expect(secret).toMatch(/^asc_/);

    const again = await admin.post(`${gridPath(site)}/new`, fields);
    const html = await bodyOf(again, 200);
    expect(textOf(html)).toContain("This registration was already created");
    expect(textOf(html)).toContain("“Sent twice” exists. This form was sent before, so nothing new was created.");
    expect(html).not.toContain(secret);
    expect(SECRET_IN_PAGE.test(html)).toBe(false);
    expect((await registrationsOf(site.id)).map((r) => r.name)).toEqual(["Sent twice"]);

    // A refused form keeps its token: fixing it and sending creates the registration once.
    const other = await bodyOf(await admin.get(`${gridPath(site)}/new`), 200);
    const token2 = /name="formToken" value="([A-Za-z0-9_-]+)"/.exec(other)?.[1] ?? "";
    const refused = await admin.post(`${gridPath(site)}/new`, { ...createForm({ name: "" }), formToken: token2 });
    expect(await bodyOf(refused, 422)).toContain(`name="formToken" value="${token2}"`);
    expect(
      (await admin.post(`${gridPath(site)}/new`, { ...createForm({ name: "Fixed" }), formToken: token2 })).status,
    ).toBe(201);
    expect(
      (await admin.post(`${gridPath(site)}/new`, { ...createForm({ name: "Fixed" }), formToken: token2 })).status,
    ).toBe(200);
    expect(await registrationsOf(site.id)).toHaveLength(2);
    expect((await admin.post(`${gridPath(site)}/new`, { ...createForm(), formToken: "short" })).status).toBe(422);
  });
});
