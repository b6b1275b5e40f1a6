import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
// @ts-expect-error -- plain ESM script shared with `npm start`
import { hashPassword, LOCAL_PASSWORD } from "../../scripts/local.mjs";
import { baseURL, DAY, dateIn, localSql, signInAs, sqlText, textOf, urlMatches, useBrowser, visible } from "./browser";

const GRID = "/sites/main/settings/iam/app-registrations";
const LAB_GRID = "/sites/lab/settings/iam/app-registrations";
const SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots/app-registrations.png");

const browser = useBrowser();

const tag = () => randomUUID().slice(0, 8);

/** 00:00 of `date` in `timeZone` (the zone's offset at that time of day). */
function midnightIn(date: string, timeZone: string): number {
  const utc = Date.parse(`${date}T00:00:00Z`);
  const offset = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" })
    .formatToParts(utc)
    .find((p) => p.type === "timeZoneName")?.value;
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(offset ?? "");
  const minutes = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  return utc - minutes * 60_000;
}

/** Rows straight into the dev server's D1: each `[name, days until expiry, enabled, last used days ago]`. */
function insertRegistrations(site: string, rows: [string, number, boolean, number | null][], timeZone = "UTC") {
  const now = Date.now();
  const values = rows.map(([name, days, enabled, usedAgo], i) => {
    const date = dateIn(days);
    const expiresAt = midnightIn(date, timeZone);
    const lastUsed = usedAgo === null ? "null" : String(now - usedAgo * DAY);
    return `(${sqlText(randomUUID())}, ${sqlText(name)}, ${enabled ? 1 : 0}, ${sqlText(date)}, ${expiresAt}, ${now - i * 60_000}, ${lastUsed})`;
  });
  localSql(
    `INSERT INTO app_registrations (site_id, client_id, name, enabled, expiration_date, expires_at, created_at, updated_at, last_used_at)
     SELECT (SELECT id FROM sites WHERE slug = '${site}'), v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column6, v.column7
     FROM (VALUES ${values.join(", ")}) AS v`,
  );
}

/** Expires a registration now, as a developer would with `wrangler d1 execute` (§11). */
function expireByName(name: string) {
  const yesterday = dateIn(-1);
  localSql(
    `UPDATE app_registrations SET expiration_date = ${sqlText(yesterday)}, expires_at = ${Date.parse(`${yesterday}T00:00:00Z`)} WHERE name = ${sqlText(name)}`,
  );
}

/** A row's Name cell: the first cell, or the one after the row's selection box. */
const NAME_CELL = "td.select + td, td:first-child:not(.select)";
const table = (page: Page) => page.getByRole("table", { name: "App registrations" });
const rowOf = (page: Page, name: string) =>
  table(page)
    .getByRole("row")
    .filter({ has: page.getByRole("link", { name, exact: true }) });
async function cells(page: Page, name: string): Promise<string[]> {
  // The row's cells after its selection box, without their Copy buttons.
  return rowOf(page, name)
    .locator("td:not(.select)")
    .evaluateAll((tds) =>
      tds.map((td) => {
        const copy = td.cloneNode(true) as Element;
        for (const b of copy.querySelectorAll("button")) b.remove();
        return (copy.textContent ?? "").replace(/\s+/g, " ").trim();
      }),
    );
}
async function names(page: Page): Promise<string[]> {
  const rows = table(page).locator("tbody tr[data-registration-id]");
  return (await rows.locator(NAME_CELL).allTextContents()).map((t) => t.trim());
}

/** Waits until the grid shows exactly these names (a history restore swaps the page in asynchronously). */
async function namesBecome(page: Page, expected: string[]): Promise<string[]> {
  await page
    .waitForFunction(
      ([want, cell]) =>
        JSON.stringify(
          [...document.querySelectorAll(`tbody tr[data-registration-id] :is(${cell})`)].map((td) =>
            td.textContent?.trim(),
          ),
        ) === JSON.stringify(want),
      [expected, NAME_CELL] as const,
      { timeout: 10_000 },
    )
    .catch(() => undefined);
  return names(page);
}

/** Resolves once htmx has finished a swap of the grid. */
function gridSwapped(page: Page): Promise<void> {
  return page.evaluate(
    () =>
      new Promise<void>((resolve) => document.addEventListener("htmx:after:settle", () => resolve(), { once: true })),
  );
}

async function htmxReady(page: Page) {
  await page.waitForFunction(() => "htmx" in window);
}

/** Marks the document, to tell an htmx swap (the mark survives) from a full page load (it does not). */
async function markDocument(page: Page) {
  await page.evaluate(() => document.documentElement.setAttribute("data-test-mark", "kept"));
}
async function documentMarked(page: Page) {
  return page.evaluate(() => document.documentElement.getAttribute("data-test-mark") === "kept");
}

describe("the App registrations catalog in a real browser: seeds 003 (create) and 001 (renew)", () => {
  it("create → copy the secret → row with Enabled Yes, empty Last used, In N days → edit expiration → disable → enable → expire and renew → delete", async () => {
    const page = await browser.newPage();
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL() });
    await signInAs(page, "admin@example.test");

    // Admin Center › Site Settings › IAM › App registrations
    await page.getByRole("main").getByRole("link", { name: "Site Settings" }).click();
    await page.getByRole("main").getByRole("link", { name: "IAM", exact: true }).click();
    await page.getByRole("main").getByRole("link", { name: "App registrations" }).click();
    await urlMatches(page, /\/sites\/main\/settings\/iam\/app-registrations$/);

    // + New registration, fill in the fields, Save.
    const name = `Backup script — pull device list nightly ${tag()}`;
    await page.getByRole("link", { name: "+ New registration" }).click();
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByLabel("Expiration date").fill(dateIn(90));
    expect(await page.getByLabel("Enabled").isChecked()).toBe(true);
    expect(await page.getByLabel("devices:read").isChecked()).toBe(true);
    expect(await page.getByLabel("Access token lifetime (minutes)").inputValue()).toBe("60");
    await page.getByRole("button", { name: "Save", exact: true }).click();

    // The Client ID and Client secret, once, with copy buttons and the warning.
    await visible(page.getByRole("heading", { name: "App registration created" }));
    await visible(page.getByText("It is shown only once and cannot be shown again."));
    const clientId = await page.getByLabel("Client ID").inputValue();
    const secret = await page.getByLabel("Client secret").inputValue();
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(secret).toMatch(/^asc_[A-Za-z0-9_-]{43}$/);
    await page.getByRole("button", { name: "Copy Client secret" }).click();
    await visible(page.getByRole("button", { name: "Copied" }));
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

    // Verify (003): the row in the grid.
    await page.getByRole("link", { name: "Back to App registrations" }).click();
    await visible(rowOf(page, name));
    const [cName, cClientId, cRegistered, cEnabled, cLastUsed, cExpires] = await cells(page, name);
    expect(cName).toBe(name);
    expect(cClientId).toBe(clientId);
    expect(cRegistered).toMatch(/^just now, \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\)$/);
    expect(cEnabled).toBe("Yes");
    expect(cLastUsed).toBe("");
    expect(cExpires).toBe("In 90 days");
    expect(await page.content()).not.toContain(secret);

    // Renew before expiry (001): open the row, update the Expiration date, Save.
    await rowOf(page, name).getByRole("link", { name }).click();
    await visible(page.getByRole("heading", { name, level: 1 }));
    await page.getByRole("link", { name: "Edit", exact: true }).click();
    await page.getByLabel("Expiration date").fill(dateIn(200));
    await page.getByRole("button", { name: "Save changes" }).click();
    await visible(page.getByRole("status").filter({ hasText: "Changes saved." }));
    await visible(page.getByRole("cell", { name: new RegExp(`Expiration date: ${dateIn(90)} → ${dateIn(200)}`) }));

    // Disable, then enable, in place.
    await htmxReady(page);
    await markDocument(page);
    const status = page.locator("#registration-status");
    await page.getByRole("button", { name: "Disable" }).click();
    await visible(status.getByText("Disabled", { exact: true }));
    expect(await textOf(status.locator("dd").nth(1))).toBe("No");
    await visible(page.locator("#audit-trail strong", { hasText: "Disabled" }));
    await page.getByRole("button", { name: "Enable" }).click();
    await visible(status.getByText("Active", { exact: true }));
    expect(await textOf(status.locator("dd").nth(1))).toBe("Yes");
    await visible(page.locator("#audit-trail strong", { hasText: "Enabled" }));
    expect(await documentMarked(page)).toBe(true); // swapped in place, no page load

    // Recover an expired registration (001): banner, Expired, renew, banner gone.
    expireByName(name);
    await page.reload();
    const banner = page.getByRole("alert").filter({ hasText: name });
    await visible(banner);
    expect(await textOf(banner)).toContain(`${name} expired on ${dateIn(-1)}`);
    await visible(status.getByText("Expired", { exact: true }));
    await page.goto(GRID);
    expect((await cells(page, name))[5]).toBe("Expired");
    await rowOf(page, name).getByRole("link", { name }).click();
    await page.getByRole("link", { name: "Edit", exact: true }).click();
    await page.getByLabel("Expiration date").fill(dateIn(30));
    await page.getByRole("button", { name: "Save changes" }).click();
    await visible(page.getByRole("status").filter({ hasText: "Changes saved." }));
    expect(await page.getByRole("alert").filter({ hasText: name }).count()).toBe(0);
    await visible(status.getByText("Expires within 30 days", { exact: true }));
    await page.goto(GRID);
    expect((await cells(page, name))[5]).toBe("In 30 days");
    expect((await cells(page, name))[1]).toBe(clientId); // same Client ID after renewal

    // Delete with confirmation.
    await rowOf(page, name).getByRole("link", { name }).click();
    await htmxReady(page);
    let confirmation = "";
    page.once("dialog", (dialog) => {
      confirmation = dialog.message();
      void dialog.accept();
    });
    await page.getByRole("button", { name: "Delete registration…" }).click();
    await urlMatches(page, /app-registrations\?notice=deleted$/);
    expect(confirmation).toContain(`Delete the App registration “${name}”?`);
    await visible(page.getByText("The App registration was deleted."));
    expect(await rowOf(page, name).count()).toBe(0);
  });
});

describe("grid navigation in a real browser: sort, filter, views, settings, history", () => {
  it("sorts and filters by swapping only the grid, keeps the URL shareable, and back/forward/reload agree", async () => {
    const t = tag();
    insertRegistrations("lab", [
      [`${t} alpha`, 100, true, 3],
      [`${t} bravo`, 5, true, null],
      [`${t} charlie`, 20, false, 40],
      [`${t} delta`, -2, true, null],
    ]);
    const page = await browser.newPage();
    await signInAs(page, "lab-admin@example.test");
    await page.goto(`${LAB_GRID}?q=${t}`);
    await htmxReady(page);
    expect(await names(page)).toEqual([`${t} alpha`, `${t} bravo`, `${t} charlie`, `${t} delta`]);

    // The banner of the expired one, dismissed: it must stay dismissed while the grid changes.
    const banner = page.getByRole("alert").filter({ hasText: `${t} delta` });
    await visible(banner);
    await banner.getByRole("button", { name: /Dismiss/ }).click();
    expect(await banner.count()).toBe(0);
    await markDocument(page);

    // Sort by Name descending, then by Expires.
    let swapped = gridSwapped(page);
    await table(page).getByRole("link", { name: /^Name/ }).click();
    await swapped;
    await urlMatches(page, new RegExp(`\\?q=${t}&dir=desc$`));
    expect(await names(page)).toEqual([`${t} delta`, `${t} charlie`, `${t} bravo`, `${t} alpha`]);
    expect(await page.getByRole("columnheader", { name: /Name/ }).getAttribute("aria-sort")).toBe("descending");
    swapped = gridSwapped(page);
    await table(page)
      .getByRole("link", { name: /^Expires/ })
      .click();
    await swapped;
    await urlMatches(page, new RegExp(`\\?q=${t}&sort=expires$`));
    expect(await names(page)).toEqual([`${t} delta`, `${t} bravo`, `${t} charlie`, `${t} alpha`]);

    // Filter: Enabled = Yes, State = Expiring within 30 days.
    await page.locator(".filter-menu > summary").click();
    await page.locator('select[name="state"]').selectOption("expiring_30");
    await page.getByRole("combobox", { name: "Enabled" }).selectOption("yes");
    swapped = gridSwapped(page);
    await page.getByRole("button", { name: "Apply filter" }).click();
    await swapped;
    await urlMatches(page, new RegExp(`\\?q=${t}&state=expiring_30&enabled=yes&sort=expires$`));
    expect(await names(page)).toEqual([`${t} bravo`]);
    // The search is not counted: it has its own box.
    expect(await page.locator(".filter-menu > summary").textContent()).toBe("Filter (2)");

    expect(await documentMarked(page)).toBe(true); // all of it without a page load
    expect(await banner.count()).toBe(0); // the rest of the page was never replaced

    // Back and forward restore the same states.
    await page.goBack();
    await urlMatches(page, new RegExp(`\\?q=${t}&sort=expires$`));
    expect(await namesBecome(page, [`${t} delta`, `${t} bravo`, `${t} charlie`, `${t} alpha`])).toEqual([
      `${t} delta`,
      `${t} bravo`,
      `${t} charlie`,
      `${t} alpha`,
    ]);
    await page.goBack();
    await urlMatches(page, new RegExp(`\\?q=${t}&dir=desc$`));
    expect(await namesBecome(page, [`${t} delta`, `${t} charlie`, `${t} bravo`, `${t} alpha`])).toEqual([
      `${t} delta`,
      `${t} charlie`,
      `${t} bravo`,
      `${t} alpha`,
    ]);
    expect(await page.getByRole("columnheader", { name: /Name/ }).getAttribute("aria-sort")).toBe("descending");
    await page.goForward();
    await urlMatches(page, new RegExp(`\\?q=${t}&sort=expires$`));
    await page.goForward();
    await urlMatches(page, /state=expiring_30/);
    expect(await namesBecome(page, [`${t} bravo`])).toEqual([`${t} bravo`]);
    expect(await page.locator('select[name="state"]').inputValue()).toBe("expiring_30");

    // Reload shows the same thing (and the banner again: it is only hidden for one page view).
    await page.reload();
    expect(await names(page)).toEqual([`${t} bravo`]);
    expect(await page.locator('select[name="state"]').inputValue()).toBe("expiring_30");
    await visible(page.getByRole("alert").filter({ hasText: `${t} delta` }));
  });

  it("saves a view, switches views from the menu, and remembers column settings", async () => {
    const t = tag();
    insertRegistrations("lab", [
      [`${t} never`, 60, true, null],
      [`${t} used`, 60, true, 1],
      [`${t} off`, 60, false, null],
    ]);
    const page = await browser.newPage();
    await signInAs(page, "lab-admin@example.test");
    await page.goto(`${LAB_GRID}?q=${t}&never_used=1&sort=enabled`);
    await htmxReady(page);
    expect(await names(page)).toEqual([`${t} off`, `${t} never`]);
    expect(await page.locator(".views-menu > summary").textContent()).toBe("Custom view ▼");

    // Save the current filter, sort and columns as a view.
    const viewName = `Unused ${t}`;
    await page.locator(".views-menu > summary").click();
    await page.getByLabel("Save current view as").fill(viewName);
    await page.getByRole("button", { name: "Save view" }).click();
    await visible(page.locator(".views-menu > summary", { hasText: `${viewName} ▼` }));

    // A built-in view, then back to the saved one, from the menu.
    await page.locator(".views-menu > summary").click();
    let swapped = gridSwapped(page);
    await page.getByRole("list", { name: "Built-in views" }).getByRole("link", { name: "Disabled" }).click();
    await swapped;
    await urlMatches(page, /\?state=disabled$/);
    expect(await page.locator(".views-menu > summary").textContent()).toBe("Disabled ▼");
    expect(await rowOf(page, `${t} off`).count()).toBe(1);
    await page.locator(".views-menu > summary").click();
    swapped = gridSwapped(page);
    await page.getByRole("list", { name: "Your views" }).getByRole("link", { name: viewName }).click();
    await swapped;
    expect(await names(page)).toEqual([`${t} off`, `${t} never`]);
    expect(await page.locator(".views-menu > summary").textContent()).toBe(`${viewName} ▼`);

    // ⚙️: hide Client ID and Registration date, 10 rows per page; remembered after a reload.
    await page.goto(`${LAB_GRID}?q=${t}`);
    await htmxReady(page);
    await page.locator(".settings-menu > summary").click();
    await page.getByLabel("Client ID", { exact: true }).uncheck();
    await page.getByLabel("Registration date", { exact: true }).uncheck();
    await page.getByLabel("Rows per page").selectOption("10");
    swapped = gridSwapped(page);
    await page.getByRole("button", { name: "Save settings" }).click();
    await swapped;
    const headers = async () =>
      (await table(page).locator("thead th:not(.select)").allTextContents()).map((h) => h.replace(/[▲▼]/g, "").trim());
    expect(await headers()).toEqual(["Name", "Enabled", "Last used", "Expires", "State"]);
    await page.reload();
    expect(await headers()).toEqual(["Name", "Enabled", "Last used", "Expires", "State"]);
    expect(await page.getByLabel("Rows per page").inputValue()).toBe("10");
    // Restore the defaults for the other tests.
    await page.locator(".settings-menu > summary").click();
    await page.getByLabel("Client ID", { exact: true }).check();
    await page.getByLabel("Registration date", { exact: true }).check();
    await page.getByLabel("Rows per page").selectOption("25");
    swapped = gridSwapped(page);
    await page.getByRole("button", { name: "Save settings" }).click();
    await swapped;
    expect(await headers()).toHaveLength(7);
  });
});

describe("with JavaScript off", () => {
  it("creates, filters and deletes with plain forms and links", async () => {
    const page = await browser.newPage({ javaScriptEnabled: false });
    await signInAs(page, "admin@example.test");
    await page.goto(GRID);
    const name = `No script ${tag()}`;
    await page.getByRole("link", { name: "+ New registration" }).click();
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByLabel("Expiration date").fill(dateIn(45));
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await visible(page.getByRole("heading", { name: "App registration created" }));
    expect(await page.getByLabel("Client secret").inputValue()).toMatch(/^asc_/);

    // Search through the toolbar's GET form, then filter through the Filter menu's (details opens without script).
    await page.goto(GRID);
    await page.getByRole("searchbox", { name: "Search by name or Client ID" }).fill(name);
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await urlMatches(page, /\?q=No\+script/);
    await page.locator(".filter-menu > summary").click();
    await page.locator('select[name="state"]').selectOption("active");
    await page.getByRole("button", { name: "Apply filter" }).click();
    await urlMatches(page, /\?q=No\+script.*&state=active/);
    expect(await names(page)).toEqual([name]);
    expect((await cells(page, name))[5]).toBe("In 45 days");

    // Sort links are plain links.
    await table(page).getByRole("link", { name: /^Name/ }).click();
    await urlMatches(page, /dir=desc/);

    // Disable with a plain post, then delete through the confirmation page.
    await rowOf(page, name).getByRole("link", { name }).click();
    await page.getByRole("button", { name: "Disable" }).click();
    await visible(page.getByRole("status").filter({ hasText: "Disabled: token requests" }));
    await page.getByRole("button", { name: "Delete registration…" }).click();
    await visible(page.getByRole("heading", { name: `Delete “${name}”?` }));
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await urlMatches(page, /\?notice=deleted$/);
    expect(await rowOf(page, name).count()).toBe(0);
  });
});

describe("an XSS payload as a Name", () => {
  it("is rendered inert in the grid, the page, the audit trail, the banner and the confirmation", async () => {
    const page = await browser.newPage();
    const alerts: string[] = [];
    page.on("dialog", (dialog) => {
      if (dialog.type() === "alert") alerts.push(dialog.message());
      void dialog.dismiss();
    });
    await signInAs(page, "admin@example.test");
    const t = tag();
    const payloads = [`<img src=x onerror=alert(1)> ${t}`, `"><script>alert(2)</script> ${t}`];
    for (const payload of payloads) {
      await page.goto(`${GRID}/new`);
      await page.getByLabel("Name", { exact: true }).fill(payload);
      await page.getByLabel("Description").fill(payload);
      await page.getByLabel("Expiration date").fill(dateIn(10));
      await page.getByRole("button", { name: "Save", exact: true }).click();
      await visible(page.getByRole("heading", { name: "App registration created" }));
      expect(await page.getByText(`“${payload}” is saved.`).count()).toBe(1);
    }
    expireByName(payloads[0]!);

    await page.goto(`${GRID}?q=${t}`);
    await htmxReady(page);
    for (const payload of payloads) {
      await visible(rowOf(page, payload));
      await visible(page.getByRole("alert").filter({ hasText: payloads[0]! }));
    }
    // A sort through htmx renders the names again, as a fragment.
    const swapped = gridSwapped(page);
    await table(page).getByRole("link", { name: /^Name/ }).click();
    await swapped;
    expect(await names(page)).toEqual([...payloads].sort().reverse());

    await rowOf(page, payloads[1]!).getByRole("link").click();
    await visible(page.getByRole("heading", { name: payloads[1]!, level: 1 }));
    await page.getByRole("button", { name: "Disable" }).click();
    await visible(page.locator("#audit-trail strong", { hasText: "Disabled" }));
    await visible(page.locator("#audit-trail li", { hasText: `Name: ${payloads[1]}` }));
    await page.goto(page.url().replace(/\/?$/, "/edit"));
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe(payloads[1]);
    await page.goBack();

    // The confirmation names it as plain text (it is dismissed: nothing is deleted).
    await htmxReady(page);
    const confirmation = page.waitForEvent("dialog");
    await page.getByRole("button", { name: "Delete registration…" }).click();
    expect((await confirmation).message()).toContain(payloads[1]);
    await visible(page.getByRole("heading", { name: payloads[1]!, level: 1 }));

    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(alerts).toEqual([]);
    expect(await page.evaluate(() => document.querySelectorAll("script:not([src])").length)).toBe(0);
  });
});

describe("README screenshot", () => {
  it("shows the grid with a few rows", async () => {
    // A Site of its own, in another zone, with its own administrator, so the picture holds only these rows.
    const slug = `acme-${tag()}`;
    const email = `${slug}@example.test`;
    localSql(
      `INSERT INTO sites (slug, name, time_zone, rest_api_enabled, max_registration_days, created_at)
         VALUES (${sqlText(slug)}, 'Acme Production', 'Europe/Berlin', 1, 730, ${Date.now()});
       INSERT INTO users (email, name, password_hash, is_global_admin, disabled, created_at)
         VALUES (${sqlText(email)}, 'Acme Administrator', ${sqlText(hashPassword(LOCAL_PASSWORD))}, 0, 0, ${Date.now()});
       INSERT INTO memberships (user_id, site_id, role) SELECT u.id, s.id, 'site_admin' FROM users u, sites s
         WHERE u.email = ${sqlText(email)} AND s.slug = ${sqlText(slug)};`,
    );
    insertRegistrations(
      slug,
      [
        ["Backup script — nightly device export", 160, true, 0.2],
        ["CI pipeline (deploy checks)", 21, true, 1],
        ["SIEM connector", 5, true, 0.01],
        ["Legacy inventory sync", -3, true, 30],
        ["Vendor sandbox", 300, false, null],
      ],
      "Europe/Berlin",
    );
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1440, height: 760 });
    await signInAs(page, email);
    await page.goto(`/sites/${slug}/settings/iam/app-registrations`);
    await visible(rowOf(page, "SIEM connector"));
    expect(await names(page)).toHaveLength(5);
    await visible(page.getByRole("alert").filter({ hasText: "Legacy inventory sync" }));
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: false });
    await page.context().close();
    // Leave the shared dev database as the other browser tests expect it (its rows go with the Site).
    localSql(`DELETE FROM users WHERE email = ${sqlText(email)}; DELETE FROM sites WHERE slug = ${sqlText(slug)};`);
  });
});
