import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { appRegistrations } from "../../src/db/schema";
import { call, createSite, db } from "../helpers/app";
import {
  auditOf,
  type Client,
  clientFor,
  createForm,
  gridPath,
  gridRows,
  HTMX,
  NOW,
  postWithoutToken,
  registrationsOf,
  regPath,
} from "../helpers/registration-pages";
import { createRegistration } from "../helpers/registrations";

/** Every route of the catalog of one Site, for one registration id, as [method, path, form]. */
function everyRoute(site: { slug: string }, id: number): [string, string, Record<string, string | string[]>][] {
  const base = gridPath(site);
  return [
    ["GET", base, {}],
    ["GET", `${base}?state=expired`, {}],
    ["POST", `${base}/settings`, { columns: ["client_id"], pageSize: "10" }],
    ["POST", `${base}/views`, { name: "v", query: "" }],
    ["POST", `${base}/views/1/delete`, {}],
    ["GET", `${base}/new`, {}],
    ["POST", `${base}/new`, createForm()],
    ["GET", `${base}/${id}`, {}],
    ["GET", `${base}/${id}/edit`, {}],
    ["POST", `${base}/${id}/edit`, { ...createForm(), version: "0123456789abcdef" }],
    ["POST", `${base}/${id}/enabled`, { enabled: "false" }],
    ["GET", `${base}/${id}/delete`, {}],
    ["POST", `${base}/${id}/delete`, {}],
  ];
}

const send = (
  client: Client,
  [method, path, form]: [string, string, Record<string, string | string[]>],
  htmx = false,
) =>
  method === "GET"
    ? client.get(path, htmx ? { headers: { ...HTMX } } : {})
    : client.post(path, form, htmx ? { headers: { ...HTMX } } : {});

async function snapshot(siteId: number) {
  return JSON.stringify(await registrationsOf(siteId));
}

describe("RBAC and ownership on every route and fragment (§10)", () => {
  it("a Site User gets 403 on every page and fragment of the catalog, and changes nothing", async () => {
    const site = await createSite();
    const { registration } = await createRegistration(site.id, { now: NOW });
    const user = await clientFor("site_user", site);
    const before = await snapshot(site.id);
    for (const route of everyRoute(site, registration.id)) {
      for (const htmx of [false, true]) {
        const res = await send(user, route, htmx);
        expect(res.status, `${route[0]} ${route[1]}${htmx ? " (htmx)" : ""}`).toBe(403);
      }
    }
    expect(await snapshot(site.id)).toBe(before);
    expect(await auditOf(site.id, registration.id)).toEqual([]);
  }, 30_000);

  it("a Site Administrator gets 404 for a registration id of another Site, and it stays untouched", async () => {
    const mine = await createSite();
    const theirs = await createSite();
    const { registration } = await createRegistration(theirs.id, { now: NOW, name: "Theirs" });
    const admin = await clientFor("site_admin", mine);
    const before = await snapshot(theirs.id);
    for (const route of everyRoute(mine, registration.id).filter(([, path]) => path.includes(`/${registration.id}`))) {
      for (const htmx of [false, true]) {
        const res = await send(admin, route, htmx);
        expect(res.status, `${route[0]} ${route[1]}${htmx ? " (htmx)" : ""}`).toBe(404);
        expect(await res.text()).not.toContain("Theirs");
      }
    }
    expect(await snapshot(theirs.id)).toBe(before);
    expect(await auditOf(theirs.id, registration.id)).toEqual([]);
    // Their grid does not show it either.
    expect(gridRows(await (await admin.get(gridPath(mine))).text())).toEqual([]);
  }, 30_000);

  it("a Site Administrator cannot reach another Site's catalog at all (404)", async () => {
    const mine = await createSite();
    const theirs = await createSite();
    const { registration } = await createRegistration(theirs.id, { now: NOW });
    const admin = await clientFor("site_admin", mine);
    for (const route of everyRoute(theirs, registration.id)) {
      expect((await send(admin, route)).status, `${route[0]} ${route[1]}`).toBe(404);
    }
    expect(await registrationsOf(theirs.id)).toHaveLength(1);
  }, 30_000);

  it("the Global Administrator manages every Site's registrations", async () => {
    const site = await createSite();
    const { registration } = await createRegistration(site.id, { now: NOW, name: "Managed by root" });
    const root = await clientFor("global", null);
    expect((await root.get(gridPath(site))).status).toBe(200);
    expect((await root.get(regPath(site, registration.id))).status).toBe(200);
    const disabled = await root.post(`${regPath(site, registration.id)}/enabled`, { enabled: "false" });
    expect(disabled.status).toBe(303);
    const created = await root.post(`${gridPath(site)}/new`, createForm({ name: "Made by root" }));
    expect(created.status).toBe(201);
    const deleted = await root.post(`${regPath(site, registration.id)}/delete`, {});
    expect(deleted.status).toBe(303);
    expect((await registrationsOf(site.id)).map((r) => r.name)).toEqual(["Made by root"]);
    const audit = await auditOf(site.id, registration.id);
    expect(audit.map((a) => [a.action, a.actorEmail])).toEqual([
      ["disable", root.email],
      ["delete", root.email],
    ]);
  });

  it("only the Global Administrator opens the all-Sites grid", async () => {
    const site = await createSite();
    const admin = await clientFor("site_admin", site);
    expect((await admin.get("/admin/registrations")).status).toBe(403);
    expect((await admin.get("/admin/registrations", { headers: { ...HTMX } })).status).toBe(403);
    expect((await admin.post("/admin/registrations/settings", { columns: ["site"], pageSize: "10" })).status).toBe(403);
    expect((await admin.post("/admin/registrations/views", { name: "x", query: "" })).status).toBe(403);
  });

  it("sends someone signed out to sign-in and refuses their posts", async () => {
    const site = await createSite();
    const page = await call(gridPath(site), { now: NOW });
    expect(page.status).toBe(303);
    expect(page.headers.get("Location")).toBe(`/sign-in?next=${encodeURIComponent(gridPath(site))}`);
    const post = await call(`${gridPath(site)}/new`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "https://admin.alloyscan.test" },
      body: "name=x",
      now: NOW,
    });
    expect(post.status).toBe(401);
    expect(await registrationsOf(site.id)).toEqual([]);
  });

  it("refuses a state change without the session's CSRF token", async () => {
    const site = await createSite();
    const { registration } = await createRegistration(site.id, { now: NOW });
    const admin = await clientFor("site_admin", site);
    const res = await postWithoutToken(admin, `${regPath(site, registration.id)}/enabled`, { enabled: "false" });
    expect(res.status).toBe(403);
    const row = await db().select().from(appRegistrations).where(eq(appRegistrations.id, registration.id)).get();
    expect(row?.enabled).toBe(true);
  });
});
