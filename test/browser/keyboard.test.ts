import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createThroughUi, signInAs, urlMatches, useBrowser, visible } from "./browser";

const GRID = "/sites/main/settings/iam/app-registrations";

const browser = useBrowser();

const activeDescription = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "body";
    return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.className && typeof el.className === "string" ? `.${el.className.split(" ").join(".")}` : ""}: ${(el.textContent ?? "").trim().slice(0, 40)}`;
  });

describe("keyboard and screen readers", () => {
  it("skips to the content, opens one menu at a time, closes it on Escape and lands focus on a view's result", async () => {
    const page = await browser.newPage();
    await signInAs(page, "admin@example.test");
    await page.goto(GRID);
    await page.waitForFunction(() => "htmx" in window);

    // The first Tab reaches the skip link; Enter moves focus to the page's content.
    await page.keyboard.press("Tab");
    expect(await activeDescription(page)).toBe("a.skip-link: Skip to content");
    await page.keyboard.press("Enter");
    expect(await activeDescription(page)).toMatch(/^main#main/);

    // Menus: Enter opens; opening another closes the first; Escape closes and gives focus back to the summary.
    const views = page.locator("details.views-menu");
    const filter = page.locator("details.filter-menu");
    await views.locator("summary").focus();
    await page.keyboard.press("Enter");
    expect(await views.getAttribute("open")).not.toBeNull();
    await filter.locator("summary").click();
    expect(await filter.getAttribute("open")).not.toBeNull();
    expect(await views.getAttribute("open")).toBeNull();
    await page.keyboard.press("Escape");
    expect(await filter.getAttribute("open")).toBeNull();
    expect(await activeDescription(page)).toMatch(/^summary: Filter/);

    // Arrow keys move within the open menu; Enter on a view swaps the grid and focus lands on the result.
    await views.locator("summary").focus();
    await page.keyboard.press("Enter");
    await page.keyboard.press("ArrowDown");
    expect(await activeDescription(page)).toMatch(/^a: Default View/);
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    expect(await activeDescription(page)).toMatch(/^a: Expired/);
    await page.keyboard.press("Enter");
    await urlMatches(page, /state=expired/);
    await page.waitForFunction(() => document.activeElement && document.activeElement !== document.body);
    expect(await page.evaluate(() => Boolean(document.activeElement?.closest("#registrations-grid")))).toBe(true);
    // The result is announced.
    await page.waitForFunction(() => /registration/.test(document.getElementById("live-region")?.textContent ?? ""));
    await page.context().close();
  });

  it("announces Copied, and renews +90 days from the keyboard", async () => {
    const page = await browser.newPage();
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await signInAs(page, "admin@example.test");
    const name = `Keyboard ${randomUUID().slice(0, 8)}`;
    await createThroughUi(page, name);
    await page.getByRole("button", { name: "Copy Client secret" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForFunction(
      () => document.getElementById("live-region")?.textContent === "Client secret copied to the clipboard.",
    );

    await page.getByRole("link", { name: "Open the registration" }).click();
    await visible(page.getByRole("heading", { name, level: 1 }));
    await page.getByRole("button", { name: "+90 days" }).focus();
    await page.keyboard.press("Enter");
    await visible(page.getByText("Renewed: the new Expiration date is below."));
    const expected = new Date(Date.now() + 150 * 86_400_000).toISOString().slice(0, 10);
    await visible(page.locator("dd").filter({ hasText: expected }).first());
    await page.context().close();
  });
});
