import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createThroughUi, MAIN_PAGES, signInAs, useBrowser, visible } from "./browser";

const PHONE_SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots/secret-phone.png");

const browser = useBrowser();

/** How far a page scrolls sideways (0 when it fits its viewport), and the widest elements that stick out. */
const overflow = (page: import("playwright-core").Page) =>
  page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const extra = document.documentElement.scrollWidth - width;
    if (extra <= 0) return 0;
    const culprits = [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > width + 0.5)
      .filter((el) => !el.parentElement?.closest(".table-scroll, table.grid"))
      .slice(0, 4)
      .map((el) => {
        const where = el.closest("nav, header, section, article, form, dl")?.className || el.parentElement?.tagName;
        return `${el.tagName.toLowerCase()}.${String(el.className).split(" ").join(".")} in ${where}`;
      });
    return `${extra} px: ${culprits.join(", ")}`;
  });

describe("every screen from 320 px up", () => {
  for (const [width, height] of [
    [390, 844],
    [320, 640],
    [1280, 800],
  ] as const) {
    it(`has no horizontal page scroll at ${width}×${height}`, async () => {
      const page = await browser.newPage();
      await page.setViewportSize({ width, height });
      await signInAs(page, "root@example.test");
      const wide: string[] = [];
      for (const path of MAIN_PAGES) {
        const res = await page.goto(path);
        expect(res?.status(), path).toBeLessThan(400);
        const out = await overflow(page);
        if (out) wide.push(`${path} (${out})`);
      }
      // The once-only secret page, and a registration's page.
      await createThroughUi(page, `Phone ${width}-${Date.now().toString(36)}`);
      const secretOut = await overflow(page);
      if (secretOut) wide.push(`secret page (${secretOut})`);
      if (width === 390) {
        // The README's picture of the once-only secret page on a phone.
        mkdirSync(dirname(PHONE_SCREENSHOT), { recursive: true });
        await page.screenshot({ path: PHONE_SCREENSHOT, fullPage: false });
      }
      await page.getByRole("link", { name: "Open the registration" }).click();
      await visible(page.getByRole("heading", { level: 1 }));
      const pageOut = await overflow(page);
      if (pageOut) wide.push(`registration page (${pageOut})`);
      expect(wide).toEqual([]);
      await page.context().close();
    });
  }

  it("keeps Name, Expires and State in the grid on a phone", async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await signInAs(page, "admin@example.test");
    await page.goto("/sites/main/settings/iam/app-registrations");
    const shown = await page.evaluate(() =>
      [...document.querySelectorAll("table.registrations thead th:not(.select)")]
        .filter((th) => th.getBoundingClientRect().width > 0)
        .map((th) => th.textContent?.replace(/[▲▼]/g, "").trim()),
    );
    expect(shown).toEqual(["Name", "Expires", "State"]);
    // The selection boxes for bulk actions stay too.
    const select = page.locator("table.registrations thead th.select");
    expect(await select.evaluate((th) => th.getBoundingClientRect().width)).toBeGreaterThan(0);
    await page.context().close();
  });
});
