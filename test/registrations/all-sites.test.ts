import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { savedViews } from "../../src/db/schema";
import { createSite, db, unique } from "../helpers/app";
import { bodyOf } from "../helpers/html";
import { clientFor, gridHeaders, gridRows, HTMX, NOW } from "../helpers/registration-pages";
import { createRegistration } from "../helpers/registrations";

describe("the Global Administrator's all-Sites grid (§4)", () => {
  it("lists every Site's registrations with a Site column, each in its own Site's zone, linking into its Site", async () => {
    const tag = unique("allsites");
    const east = await createSite({ name: `East ${tag}`, timeZone: "Asia/Tokyo" });
    const west = await createSite({ name: `West ${tag}`, timeZone: "America/Los_Angeles" });
    const a = await createRegistration(east.id, { name: `${tag} tokyo`, expirationDate: "2031-01-20", now: NOW });
    const b = await createRegistration(west.id, { name: `${tag} la`, expirationDate: "2031-01-20", now: NOW });
    const root = await clientFor("global", null);
    const res = await root.get(`/admin/registrations?q=${tag}`);
    const html = await bodyOf(res, 200);
    expect(gridHeaders(html)).toEqual([
      "Site",
      "Name",
      "Client ID",
      "Registration date",
      "Enabled",
      "Last used",
      "Expires",
      "State",
    ]);
    expect(gridRows(html)).toEqual([
      [
        `West ${tag}`,
        `${tag} la`,
        b.registration.clientId,
        "just now, 2031-01-15 04:00 (America/Los_Angeles)",
        "Yes",
        "",
        "In 5 days",
        "Expires within 7 days",
      ],
      [
        `East ${tag}`,
        `${tag} tokyo`,
        a.registration.clientId,
        "just now, 2031-01-15 21:00 (Asia/Tokyo)",
        "Yes",
        "",
        "In 5 days",
        "Expires within 7 days",
      ],
    ]);
    expect(html).toContain(`<a href="/sites/${east.slug}/settings/iam/app-registrations/${a.registration.id}">`);
    expect(html).not.toContain("+ New registration");
  });

  it("filters by Site and sorts by Site", async () => {
    const tag = unique("bysite");
    const first = await createSite({ name: `A ${tag}` });
    const second = await createSite({ name: `B ${tag}` });
    await createRegistration(first.id, { name: `${tag} z`, now: NOW });
    await createRegistration(second.id, { name: `${tag} y`, now: NOW });
    const root = await clientFor("global", null);
    const bySite = gridRows(await (await root.get(`/admin/registrations?q=${tag}&sort=site`)).text());
    expect(bySite.map((r) => r[0])).toEqual([`A ${tag}`, `B ${tag}`]);
    const reversed = gridRows(await (await root.get(`/admin/registrations?q=${tag}&sort=site&dir=desc`)).text());
    expect(reversed.map((r) => r[0])).toEqual([`B ${tag}`, `A ${tag}`]);
    const only = await root.get(`/admin/registrations?q=${tag}&site=${second.slug}`, { headers: { ...HTMX } });
    const fragment = await only.text();
    expect(gridRows(fragment).map((r) => r[1])).toEqual([`${tag} y`]);
    expect(fragment).toContain(`<option value="${second.slug}" selected="">B ${tag}</option>`);
    expect(only.headers.get("HX-Push-Url")).toBe(`/admin/registrations?q=${tag}&site=${second.slug}`);
    expect((await root.get("/admin/registrations?site=%3Cx%3E")).status).toBe(400);
  });

  it("keeps its own views and settings apart from the per-Site grid", async () => {
    const root = await clientFor("global", null);
    const saved = await root.post("/admin/registrations/views", { name: "By site", query: "sort=site" });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("Location")).toBe("/admin/registrations?sort=site");
    const [view] = await db().select().from(savedViews).where(eq(savedViews.userId, root.userId)).all();
    expect(view).toMatchObject({ grid: "registrations:all", query: "sort=site" });
    const html = await (await root.get("/admin/registrations?sort=site")).text();
    expect(html).toContain("<summary>By site ▼</summary>");
    const settings = await root.post("/admin/registrations/settings", { columns: ["site", "expires"], pageSize: "10" });
    expect(settings.status).toBe(303);
    expect(gridHeaders(await (await root.get("/admin/registrations")).text())).toEqual(["Site", "Name", "Expires"]);
  });
});
