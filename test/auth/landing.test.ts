import { describe, expect, it } from "vitest";
import { createSite, createUser, PASSWORD, signIn } from "../helpers/app";
import { bodyOf } from "../helpers/html";

describe("where people land, and what an error page keeps", () => {
  it("lands a Global Administrator on the all-Sites overview and anyone else on their first Site", async () => {
    const site = await createSite({ name: "Aaa landing" });
    const root = await createUser({ global: true, sites: [[site.id, "site_admin"]] });
    const rootBrowser = await signIn(root.email, PASSWORD);
    const home = await rootBrowser.get("/");
    expect(home.status).toBe(303);
    expect(home.headers.get("Location")).toBe("/admin");
    const admin = await createUser({ sites: [[site.id, "site_admin"]] });
    const adminHome = await (await signIn(admin.email, PASSWORD)).get("/");
    expect(adminHome.headers.get("Location")).toBe(`/sites/${site.slug}`);
  });

  it("keeps the user's navigation on a 403 page", async () => {
    const site = await createSite();
    const user = await createUser({ sites: [[site.id, "site_user"]] });
    const browser = await signIn(user.email, PASSWORD);
    const denied = await bodyOf(await browser.get(`/sites/${site.slug}/settings/iam/app-registrations`), 403);
    const nav = /<nav aria-label="Main" class="main-nav">([\s\S]*?)<\/nav>/.exec(denied)?.[1] ?? "";
    expect(nav).toContain(`<a href="/sites/${site.slug}">Admin Center</a>`);
    // A page of no Site (the Global Administrator's pages) still leads back to the user's Sites.
    const global = await bodyOf(await browser.get("/admin/sites"), 403);
    const globalNav = /<nav aria-label="Main" class="main-nav">([\s\S]*?)<\/nav>/.exec(global)?.[1] ?? "";
    expect(globalNav).toContain(`<a href="/sites/${site.slug}">${site.name}</a>`);
  });
});
