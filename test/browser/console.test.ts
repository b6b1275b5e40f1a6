import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  acceptDialogs,
  createThroughUi,
  dateIn,
  localSql,
  signInAs,
  sqlText,
  textOf,
  urlMatches,
  useBrowser,
  visible,
} from "./browser";

const GRID = "/sites/main/settings/iam/app-registrations";
const browser = useBrowser();

const table = (page: Page) => page.getByRole("table", { name: "App registrations" });
const rowOf = (page: Page, name: string) =>
  table(page)
    .getByRole("row")
    .filter({ has: page.getByRole("link", { name, exact: true }) });
const shownNames = (page: Page) =>
  table(page).locator("tbody tr[data-registration-id] td:not(.select) > a").allTextContents();

/** Registrations of Main with these names, written straight to the local D1 (Client IDs unique per run). */
function seedMain(names: string[], expirationDate = dateIn(60)) {
  const now = Date.now();
  const values = names.map(
    (n) =>
      `(${sqlText(randomUUID())}, ${sqlText(n)}, 1, ${sqlText(expirationDate)}, ${Date.parse(`${expirationDate}T00:00:00Z`)}, ${now})`,
  );
  localSql(
    `INSERT INTO app_registrations (site_id, client_id, name, enabled, expiration_date, expires_at, created_at, updated_at)
     SELECT (SELECT id FROM sites WHERE slug = 'main'), v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column6
     FROM (VALUES ${values.join(", ")}) AS v`,
  );
}

describe("fewer clicks", () => {
  it("searches by name or Client ID as you type, debounced, and without JavaScript on Enter", async () => {
    const tag = randomUUID().slice(0, 6);
    seedMain([`Search ${tag} alpha`, `Search ${tag} beta`, `Other ${tag}`]);
    const page = await browser.newPage();
    await signInAs(page, "admin@example.test");
    await page.goto(GRID);
    const box = page.getByRole("searchbox", { name: "Search by name or Client ID" });
    const requests: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("q=")) requests.push(r.url());
    });
    // Typed one key at a time: the grid follows after a pause, not once per key.
    await box.pressSequentially(`search ${tag}`, { delay: 30 });
    await urlMatches(page, new RegExp(`\\?q=search\\+${tag}$`));
    await page.waitForFunction(
      (want) => document.querySelectorAll("tbody tr[data-registration-id]").length === want,
      2,
    );
    expect((await shownNames(page)).sort()).toEqual([`Search ${tag} alpha`, `Search ${tag} beta`]);
    expect(requests.length).toBeLessThan(4);
    // Focus and the typed text stay in the box across the swap.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("grid-search-q");
    expect(await box.inputValue()).toBe(`search ${tag}`);

    // Part of a Client ID finds its registration.
    const other = await rowOf(page, `Search ${tag} beta`).count();
    expect(other).toBe(1);
    await box.fill("");
    await page.goto(`${GRID}?q=${encodeURIComponent(`Other ${tag}`)}`);
    const clientId = (await rowOf(page, `Other ${tag}`).locator("code").textContent()) ?? "";
    await page.goto(GRID);
    await box.fill(clientId.slice(0, 13).toUpperCase());
    await page.waitForFunction(() => document.querySelectorAll("tbody tr[data-registration-id]").length === 1);
    expect(await shownNames(page)).toEqual([`Other ${tag}`]);
    await page.context().close();

    const plain = await browser.newPage({ javaScriptEnabled: false });
    await signInAs(plain, "admin@example.test");
    await plain.goto(`${GRID}?sort=expires`);
    await plain.getByRole("searchbox", { name: "Search by name or Client ID" }).fill(`Search ${tag}`);
    await plain.getByRole("searchbox", { name: "Search by name or Client ID" }).press("Enter");
    await urlMatches(plain, /\?q=Search\+.*&sort=expires/);
    expect((await shownNames(plain)).sort()).toEqual([`Search ${tag} alpha`, `Search ${tag} beta`]);
    // Without JavaScript there are no Copy buttons (they would do nothing).
    expect(await plain.getByRole("button", { name: /^Copy the Client ID/ }).count()).toBe(0);
    await plain.context().close();
  });

  it("copies a Client ID from the grid and from the registration page, and shows relative times with the absolute one on focus", async () => {
    const page = await browser.newPage();
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await signInAs(page, "admin@example.test");
    const name = `Copy ${randomUUID().slice(0, 8)}`;
    const { clientId } = await createThroughUi(page, name);
    await page.goto(`${GRID}?q=${encodeURIComponent(name)}`);
    await rowOf(page, name)
      .getByRole("button", { name: `Copy the Client ID of ${name}` })
      .click();
    await page.waitForFunction(
      (n) => document.getElementById("live-region")?.textContent === `the Client ID of ${n} copied to the clipboard.`,
      name,
    );
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(clientId);

    // "just now", and the absolute time beside it when the time takes keyboard focus.
    const created = rowOf(page, name).locator("time.relative").first();
    expect(await created.evaluate((el) => el.firstChild?.textContent)).toBe("just now");
    const absolute = created.locator(".absolute");
    expect(await absolute.evaluate((el) => el.getBoundingClientRect().width)).toBeLessThanOrEqual(1);
    await created.focus();
    expect(await absolute.evaluate((el) => el.getBoundingClientRect().width)).toBeGreaterThan(50);
    expect(await textOf(absolute)).toMatch(/^, \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\)$/);
    expect(await created.getAttribute("title")).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(UTC\)$/);

    await rowOf(page, name).getByRole("link", { name, exact: true }).click();
    await page.evaluate(() => navigator.clipboard.writeText(""));
    await page.getByRole("button", { name: "Copy the Client ID" }).click();
    await page.waitForFunction(async () => (await navigator.clipboard.readText()) !== "");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(clientId);
    await page.context().close();
  });

  it("disables three selected registrations in one confirmed bulk action, with JavaScript on and off", async () => {
    for (const javaScriptEnabled of [true, false]) {
      const tag = randomUUID().slice(0, 6);
      const names = [`Bulk ${tag} a`, `Bulk ${tag} b`, `Bulk ${tag} c`];
      seedMain(names);
      const page = await browser.newPage({ javaScriptEnabled });
      await signInAs(page, "admin@example.test");
      await page.goto(`${GRID}?q=${encodeURIComponent(`Bulk ${tag}`)}`);
      if (javaScriptEnabled) {
        // Review with nothing ticked says what to do instead of posting.
        await page.getByRole("button", { name: "Review…" }).click();
        await visible(page.getByText("Select one or more rows first."));
        await page.getByRole("checkbox", { name: "Select every row on this page" }).check();
      } else {
        expect(await page.getByRole("checkbox", { name: "Select every row on this page" }).count()).toBe(0);
        for (const n of names) await page.getByRole("checkbox", { name: `Select ${n}` }).check();
      }
      await page.getByLabel("With the selected rows").selectOption("disable");
      await page.getByRole("button", { name: "Review…" }).click();
      await visible(page.getByRole("heading", { name: "Disable 3 App registrations?" }));
      const listed = await page.locator(".bulk-list li strong").allTextContents();
      expect(listed).toEqual(names);
      await page.getByRole("button", { name: "Disable 3 App registrations" }).click();
      await visible(page.getByRole("status").filter({ hasText: "3 App registrations disabled." }));
      // Back on the same search, each row now says Disabled.
      expect(new URL(page.url()).searchParams.get("q")).toBe(`Bulk ${tag}`);
      for (const n of names) expect(await textOf(rowOf(page, n).locator("td").last())).toBe("Disabled");
      await page.context().close();
    }
  });

  it("offers a call to action on an empty grid instead of a pager", async () => {
    const page = await browser.newPage();
    await signInAs(page, "lab-admin@example.test");
    await page.goto(`/sites/lab/settings/iam/app-registrations?q=${randomUUID()}`);
    await visible(page.getByText("No App registrations match this filter."));
    expect(await page.getByRole("navigation", { name: "Pagination" }).count()).toBe(0);
    await page.getByRole("link", { name: "Show all App registrations" }).click();
    await urlMatches(page, /app-registrations$/);
    await page.context().close();
  });
});

describe("banners", () => {
  it("are compact lines with Renew, Dismiss and Dismiss all; without JavaScript there is no dead Dismiss", async () => {
    const tag = randomUUID().slice(0, 6);
    const names = [`Banner ${tag} one`, `Banner ${tag} two`];
    seedMain(names, dateIn(-2));
    const page = await browser.newPage();
    acceptDialogs(page);
    await page.setViewportSize({ width: 390, height: 844 });
    await signInAs(page, "admin@example.test");
    await page.goto("/sites/main/settings");
    for (const n of names) {
      const banner = page.getByRole("alert").filter({ hasText: n });
      await visible(banner);
      // One line on a 390 px phone is at most two text lines high.
      expect(await banner.evaluate((el) => el.getBoundingClientRect().height)).toBeLessThan(80);
    }
    expect(await textOf(page.locator(".alerts-summary"))).toMatch(/^\d+ App registrations have expired\. Dismiss all$/);
    await page.getByRole("button", { name: "Dismiss all" }).click();
    expect(await page.locator(".api-client-alert").count()).toBe(0);
    await page.reload();
    // Renew leads to the registration's Status card, where the quick renewals are.
    await page
      .getByRole("alert")
      .filter({ hasText: names[0] })
      .getByRole("link", { name: `Renew ${names[0]}` })
      .click();
    await urlMatches(page, /#registration-status$/);
    await visible(page.getByRole("button", { name: "+30 days" }));
    // The account page shows the banners too.
    await page.goto("/account/password");
    await visible(page.getByRole("alert").filter({ hasText: names[1] }));
    await page.context().close();

    const plain = await browser.newPage({ javaScriptEnabled: false });
    await signInAs(plain, "admin@example.test");
    await plain.goto("/sites/main");
    await visible(plain.getByRole("alert").filter({ hasText: names[0] }));
    expect(await plain.getByRole("button", { name: /^Dismiss/ }).count()).toBe(0);
    await plain.context().close();
    // Leave Main without these expired registrations.
    localSql(`DELETE FROM app_registrations WHERE name IN (${names.map(sqlText).join(", ")})`);
  });

  it("stays rose-pink in dark mode, and the page turns dark", async () => {
    const name = `Dark ${randomUUID().slice(0, 6)}`;
    seedMain([name], dateIn(-1));
    const page = await browser.newPage();
    await page.emulateMedia({ colorScheme: "dark" });
    await signInAs(page, "admin@example.test");
    await page.goto("/sites/main");
    const banner = page.getByRole("alert").filter({ hasText: name });
    await visible(banner);
    const colours = await banner.evaluate((el) => {
      const style = getComputedStyle(el);
      return { bg: style.backgroundColor, fg: style.color, page: getComputedStyle(document.body).backgroundColor };
    });
    expect(colours.bg).toBe("rgb(253, 226, 231)");
    expect(contrast(colours.fg, colours.bg)).toBeGreaterThanOrEqual(4.5);
    // The page itself is dark: its background's luminance is low.
    expect(luminance(colours.page)).toBeLessThan(0.05);
    await page.context().close();
    localSql(`DELETE FROM app_registrations WHERE name = ${sqlText(name)}`);
  });
});

describe("small things", () => {
  it("lands a Global Administrator on the all-Sites overview, and keeps the navigation on a 403 page", async () => {
    const page = await browser.newPage();
    await signInAs(page, "root@example.test");
    expect(new URL(page.url()).pathname).toBe("/admin");
    await visible(page.getByRole("heading", { name: "Overview" }));
    await page.context().close();

    const user = await browser.newPage();
    await signInAs(user, "user@example.test");
    const res = await user.goto(GRID);
    expect(res?.status()).toBe(403);
    const nav = user.getByRole("navigation", { name: "Main" });
    await visible(nav.getByRole("link", { name: "Admin Center" }));
    await user.context().close();
  });
});

function luminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/\d+/g) ?? []).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
