import { describe, expect, it } from "vitest";
import { signInAs, textOf, urlMatches, useBrowser, visible } from "./browser";

const browser = useBrowser();

describe("admin shell in a real browser", () => {
  it("refuses a wrong password with a generic error", async () => {
    const page = await browser.newPage();
    await page.goto("/");
    await urlMatches(page, /\/sign-in/);
    await page.getByLabel("Email").fill("admin@example.test");
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await visible(page.getByRole("alert"));
    expect(await textOf(page.getByRole("alert"))).toBe("The email or password is incorrect.");
  });

  it("a Site Administrator of main reaches IAM › App registrations through the navigation", async () => {
    const page = await browser.newPage();
    await signInAs(page, "admin@example.test");
    expect(new URL(page.url()).pathname).toBe("/sites/main");
    await visible(page.getByRole("heading", { name: "Admin Center" }));
    await page.getByRole("main").getByRole("link", { name: "Site Settings" }).click();
    await page.getByRole("main").getByRole("link", { name: "IAM", exact: true }).click();
    await page.getByRole("main").getByRole("link", { name: "App registrations" }).click();
    await visible(page.getByRole("heading", { name: "App registrations", level: 1 }));
    const crumbs = await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("listitem").allTextContents();
    expect(crumbs).toEqual(["Admin Center", "Site Settings", "IAM", "App registrations"]);
    // One Site only: no switcher, and no Global Administrator pages.
    await visible(page.getByText("Site: Main Site"));
    expect(await page.getByRole("link", { name: "Sites", exact: true }).count()).toBe(0);
    expect((await page.goto("/sites/lab"))?.status()).toBe(404);
  });

  it("a Site User sees the Admin Center but gets 403 on IAM pages", async () => {
    const page = await browser.newPage();
    await signInAs(page, "user@example.test");
    await visible(page.getByRole("heading", { name: "Admin Center" }));
    expect(await page.getByRole("link", { name: "App registrations" }).count()).toBe(0);
    const res = await page.goto("/sites/main/settings/iam/app-registrations");
    expect(res?.status()).toBe(403);
    await visible(page.getByRole("heading", { name: "Not allowed" }));
  });

  it("the Global Administrator switches between every Site and sees the global pages", async () => {
    const page = await browser.newPage();
    await signInAs(page, "root@example.test");
    await visible(page.getByText("Global Administrator", { exact: true }));
    await page.getByText(/^Site: /).click();
    const sites = page.getByRole("list", { name: "Sites" });
    // Every Site, sorted by name (other browser tests may have added Sites of their own).
    const names = await sites.getByRole("link").allTextContents();
    expect(names).toEqual(expect.arrayContaining(["Lab Site", "Main Site"]));
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    await sites.getByRole("link", { name: "Main Site" }).click();
    await urlMatches(page, /\/sites\/main$/);
    await visible(page.getByText("Site: Main Site"));
    await visible(page.getByRole("link", { name: "Sites", exact: true }));
    await visible(page.getByRole("link", { name: "Users", exact: true }));
  });

  it("the Lab Site Administrator lands on lab and signs out", async () => {
    const page = await browser.newPage();
    await signInAs(page, "lab-admin@example.test");
    expect(new URL(page.url()).pathname).toBe("/sites/lab");
    await page.getByRole("button", { name: "Sign out" }).click();
    await urlMatches(page, /\/sign-in$/);
    await page.goto("/sites/lab");
    await urlMatches(page, /\/sign-in\?next=/);
  });
});
