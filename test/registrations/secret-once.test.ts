import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  adminAuditEvents,
  appRegistrations,
  clientSecrets,
  savedViews,
  securityEvents,
  userPreferences,
} from "../../src/db/schema";
import { hashClientSecret } from "../../src/registrations/secrets";
import { db } from "../helpers/app";
import {
  clientFor,
  createThroughForm,
  gridPath,
  HTMX,
  regPath,
  siteWithAdmin,
  versionIn,
} from "../helpers/registration-pages";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the Client secret is shown once and appears in no other response, row or log (§2, §4)", () => {
  it("after creation, no page, fragment, redirect, audit row or log line contains the secret or its hash", async () => {
    const logged: unknown[][] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args);
      });
    }
    const { site, admin } = await siteWithAdmin({ timeZone: "Europe/Paris" });
    const root = await clientFor("global", null);
    const created = await createThroughForm(admin, site, { name: "Secret keeper" });
    expect(created.res.status).toBe(201);
    const secret = created.secret!;
    const hash = await hashClientSecret(env.SECRET_PEPPER, secret);
    expect(created.html).toContain(secret); // shown once, here
    const id = created.row!.id;
    const page = regPath(site, id);

    const responses: [string, Response][] = [];
    const keep = async (label: string, res: Promise<Response>) => {
      responses.push([label, await res]);
    };
    const grid = gridPath(site);
    await keep("grid", admin.get(grid));
    await keep("grid fragment", admin.get(`${grid}?q=Secret`, { headers: { ...HTMX } }));
    await keep(
      "grid history restore",
      admin.get(grid, { headers: { "HX-Request": "true", "HX-History-Restore-Request": "true" } }),
    );
    for (const sort of ["client_id", "created", "enabled", "last_used", "expires"]) {
      await keep(`grid sorted by ${sort}`, admin.get(`${grid}?sort=${sort}&dir=desc`));
    }
    await keep("grid filtered", admin.get(`${grid}?state=active&never_used=1`));
    await keep("grid bad query", admin.get(`${grid}?sort=secret`));
    await keep("registration page", admin.get(page));
    await keep("edit page", admin.get(`${page}/edit`));
    const editHtml = await (await admin.get(`${page}/edit`)).text();
    await keep(
      "edit refused",
      admin.post(`${page}/edit`, {
        version: versionIn(editHtml),
        name: "",
        expirationDate: "2031-05-01",
        scopes: "devices:read",
        lifetimeMinutes: "60",
      }),
    );
    await keep(
      "edit saved",
      admin.post(`${page}/edit`, {
        version: versionIn(editHtml),
        name: "Secret keeper",
        description: "renewed",
        expirationDate: "2031-09-01",
        enabled: "on",
        scopes: "devices:read",
        lifetimeMinutes: "60",
      }),
    );
    await keep("disable fragment", admin.post(`${page}/enabled`, { enabled: "false" }, { headers: { ...HTMX } }));
    await keep("enable redirect", admin.post(`${page}/enabled`, { enabled: "true" }));
    await keep("page after changes", admin.get(`${page}?notice=saved`));
    await keep("delete confirmation", admin.get(`${page}/delete`));
    await keep("view saved", admin.post(`${grid}/views`, { name: "Mine", query: "q=Secret" }));
    await keep(
      "settings fragment",
      admin.post(`${grid}/settings`, { columns: ["client_id"], pageSize: "10" }, { headers: { ...HTMX } }),
    );
    await keep("new form", admin.get(`${grid}/new`));
    await keep("all-Sites grid", root.get("/admin/registrations"));
    await keep("all-Sites fragment", root.get(`/admin/registrations?site=${site.slug}`, { headers: { ...HTMX } }));
    await keep("root's view of the page", root.get(page));
    await keep("Admin Center", admin.get(`/sites/${site.slug}`));
    await keep("delete", admin.post(`${page}/delete`, {}));
    await keep("grid after delete", admin.get(`${grid}?notice=deleted`));
    await keep("page after delete", admin.get(page));

    for (const [label, res] of responses) {
      const body = await res.text();
      const headers = JSON.stringify([...res.headers]);
      expect(body, label).not.toContain(secret);
      expect(body, label).not.toContain(hash);
      expect(headers, label).not.toContain(secret);
      expect(res.status, label).toBeLessThan(500);
    }
    const stored = JSON.stringify([
      await db().select().from(appRegistrations).all(),
      await db().select().from(adminAuditEvents).all(),
      await db().select().from(savedViews).all(),
      await db().select().from(userPreferences).all(),
      await db().select().from(securityEvents).all(),
    ]);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(hash);
    expect(JSON.stringify(logged)).not.toContain(secret);
    // The secret rows went with the registration.
    expect(JSON.stringify(await db().select().from(clientSecrets).all())).not.toContain(hash);
  }, 30_000);

  it("the pages before deletion do show the registration, so the scan above looked at real content", async () => {
    const { site, admin } = await siteWithAdmin();
    const created = await createThroughForm(admin, site, { name: "Visible everywhere" });
    const pages = [
      gridPath(site),
      regPath(site, created.row!.id),
      `${regPath(site, created.row!.id)}/edit`,
      `${regPath(site, created.row!.id)}/delete`,
    ];
    for (const path of pages) {
      const html = await (await admin.get(path)).text();
      expect(html, path).toContain("Visible everywhere");
    }
    const grid = await (await admin.get(gridPath(site))).text();
    expect(grid).toContain(created.clientId);
    expect(grid).not.toContain(created.secret!);
  });
});
