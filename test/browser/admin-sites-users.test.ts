import { describe, expect, it } from "vitest";
import { acceptDialogs, signInAs, stamp, textOf, urlMatches, useBrowser, visible } from "./browser";

const browser = useBrowser();

describe("Global Administrator: Sites and users in a real browser", () => {
  it("creates a Site and its Site Administrator, who signs in and lands on it, then disables them", async () => {
    const root = await browser.newPage();
    acceptDialogs(root);
    await signInAs(root, "root@example.test");

    const slug = `plant-${stamp()}`;
    const siteName = `Plant ${slug}`;
    await root.getByRole("link", { name: "Sites", exact: true }).click();
    await visible(root.getByRole("heading", { name: "Sites", level: 1 }));
    await root.getByRole("link", { name: "+ New Site" }).click();
    await root.getByLabel("Slug").fill(slug);
    await root.getByLabel("Display name").fill(siteName);
    await root.getByLabel("Time zone").selectOption("Europe/Berlin");
    expect(await root.getByLabel("REST API enabled").isChecked()).toBe(true);
    expect(await root.getByLabel("Maximum registration lifetime (days)").inputValue()).toBe("730");
    await root.getByRole("button", { name: "Create Site" }).click();
    await urlMatches(root, new RegExp(`/admin/sites/${slug}\\?notice=created$`));
    await visible(root.getByRole("status"));
    expect(await textOf(root.getByRole("status"))).toBe("Site created.");
    await visible(root.getByRole("heading", { name: siteName, level: 1 }));

    const email = `site-admin-${stamp()}@example.test`;
    const password = `correct horse ${stamp()}`;
    await root.getByRole("link", { name: "Users", exact: true }).click();
    await root.getByRole("link", { name: "+ New user" }).click();
    await root.getByLabel("Email").fill(email);
    await root.getByLabel("Name", { exact: true }).fill("Plant Administrator");
    await root.getByLabel("Initial password").fill(password);
    await root.getByLabel("Site", { exact: true }).selectOption({ label: `${siteName} (${slug})` });
    await root.getByLabel("Role").selectOption({ label: "Site Administrator" });
    await root.getByRole("button", { name: "Create user" }).click();
    await urlMatches(root, /\/admin\/users\/\d+\?notice=created$/);
    const memberships = root.getByRole("table", { name: "Memberships" });
    await visible(memberships);
    expect(await textOf(memberships.getByRole("row").nth(1))).toContain(siteName);
    expect(await root.content()).not.toContain(password);

    // The new Site Administrator, in a browser of their own.
    const newcomer = await browser.newPage();
    await signInAs(newcomer, email, password);
    expect(new URL(newcomer.url()).pathname).toBe(`/sites/${slug}`);
    await visible(newcomer.getByRole("heading", { name: "Admin Center" }));
    await visible(newcomer.getByText(`Site: ${siteName}`));
    await newcomer.getByRole("link", { name: "App registrations" }).first().click();
    await visible(newcomer.getByRole("heading", { name: "App registrations", level: 1 }));

    // Disabled from the user's page: htmx swaps the account section in place.
    const userPage = root.url();
    await root.getByRole("button", { name: `Disable ${email}` }).click();
    const account = root.locator("#account");
    await visible(account.getByRole("button", { name: `Enable ${email}` }));
    expect(await textOf(account.locator(".status"))).toBe("Disabled");
    expect(root.url()).toBe(userPage);

    // Their session ended server-side: the next page load sends them to sign-in.
    await newcomer.reload();
    await urlMatches(newcomer, /\/sign-in\?next=/);
    await newcomer.getByLabel("Email").fill(email);
    await newcomer.getByLabel("Password").fill(password);
    await newcomer.getByRole("button", { name: "Sign in" }).click();
    await visible(newcomer.getByRole("alert"));
    expect(await textOf(newcomer.getByRole("alert"))).toBe("The email or password is incorrect.");

    // The history on the user's page names who did what.
    await root.reload();
    const trail = root.getByRole("region", { name: "Changes to this user" });
    await visible(trail);
    const rows = await trail.getByRole("row").allTextContents();
    expect(rows.some((r) => r.includes("root@example.test") && r.includes("Disabled"))).toBe(true);
    expect(rows.some((r) => r.includes("Created"))).toBe(true);
  });

  it("toggles a Site's REST API in place with htmx, and as a plain form without JavaScript", async () => {
    const slug = `toggle-${stamp()}`;
    const root = await browser.newPage();
    await signInAs(root, "root@example.test");
    await root.goto("/admin/sites/new");
    await root.getByLabel("Slug").fill(slug);
    await root.getByLabel("Display name").fill(`Toggle ${slug}`);
    await root.getByRole("button", { name: "Create Site" }).click();
    await urlMatches(root, /notice=created/);

    await root.goto("/admin/sites");
    const row = root.locator(`#site-${slug}`);
    expect(await textOf(row.locator(".rest-api-state"))).toBe("Yes");
    // Turning it off asks first, naming how many registrations it stops.
    let question = "";
    root.once("dialog", (dialog) => {
      question = dialog.message();
      void dialog.accept();
    });
    await row.getByRole("button", { name: `Turn off the REST API of Toggle ${slug}` }).click();
    await visible(
      root.locator(`#site-${slug}`).getByRole("button", { name: `Turn on the REST API of Toggle ${slug}` }),
    );
    expect(await textOf(root.locator(`#site-${slug} .rest-api-state`))).toBe("No");
    expect(question).toBe(
      `Turn off the REST API of Toggle ${slug}? Token requests of its 0 App registrations fail at once (within 5 seconds at most), and its REST API calls are refused, until it is turned back on.`,
    );
    expect(new URL(root.url()).search).toBe("");

    const plain = await browser.newPage({ javaScriptEnabled: false });
    await signInAs(plain, "root@example.test");
    await plain.goto("/admin/sites");
    await plain
      .locator(`#site-${slug}`)
      .getByRole("button", { name: `Turn on the REST API of Toggle ${slug}` })
      .click();
    await urlMatches(plain, /\/admin\/sites\?notice=saved$/);
    expect(await textOf(plain.getByRole("status"))).toBe("Site saved.");
    expect(await textOf(plain.locator(`#site-${slug} .rest-api-state`))).toBe("Yes");

    // Without JavaScript, off goes through a confirmation page.
    await plain
      .locator(`#site-${slug}`)
      .getByRole("button", { name: `Turn off the REST API of Toggle ${slug}` })
      .click();
    await visible(plain.getByRole("heading", { name: `Turn off the REST API of Toggle ${slug}?` }));
    await plain.getByRole("button", { name: "Turn off the REST API" }).click();
    await urlMatches(plain, /\/admin\/sites\?notice=saved$/);
    expect(await textOf(plain.locator(`#site-${slug} .rest-api-state`))).toBe("No");
  });

  it("shows each validation error next to its field and keeps what was typed", async () => {
    const page = await browser.newPage({ javaScriptEnabled: false });
    await signInAs(page, "root@example.test");
    await page.goto("/admin/sites/new");
    await page.getByLabel("Slug").fill("main");
    await page.getByLabel("Display name").fill("<b>Second main</b>");
    await page.getByLabel("Maximum registration lifetime (days)").fill("4000");
    await page.getByRole("button", { name: "Create Site" }).click();
    await visible(page.getByRole("alert"));
    expect(await textOf(page.locator("#site-slug-error"))).toBe("This slug is already used by another Site.");
    expect(await page.getByLabel("Display name").inputValue()).toBe("<b>Second main</b>");
    expect(await page.getByLabel("Maximum registration lifetime (days)").inputValue()).toBe("4000");
  });
});
