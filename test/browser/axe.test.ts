import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createThroughUi, dateIn, localSql, MAIN_PAGES, signInAs, sqlText, useBrowser, visible } from "./browser";

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const browser = useBrowser();

/** axe-core's violations on the page as it stands, one line per rule and node. */
async function violations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, so the page's Content-Security-Policy does not apply to it.
  await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(async () => {
    // @ts-expect-error -- axe is the global the script above defines
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return (result.violations as { id: string; nodes: { target: string[]; failureSummary: string }[] }[]).flatMap((v) =>
      v.nodes.slice(0, 3).map((n) => `${v.id}: ${n.target.join(" ")} — ${n.failureSummary.replace(/\s+/g, " ")}`),
    );
  });
  return found;
}

// Every page carries what makes it hardest: API client alert banners (two, so "Dismiss all" too), a dimmed disabled
// row and each state's pill in the grid.
const SEEDED = [`Axe expired ${Date.now().toString(36)}`, `Axe expired too ${Date.now().toString(36)}`];
const DIMMED = `Axe disabled ${Date.now().toString(36)}`;
beforeAll(() => {
  const row = (name: string, days: number, enabled: number) =>
    `(${sqlText(crypto.randomUUID())}, ${sqlText(name)}, ${enabled}, ${sqlText(dateIn(days))}, ${Date.parse(`${dateIn(days)}T00:00:00Z`)}, ${Date.now()})`;
  localSql(
    `INSERT INTO app_registrations (site_id, client_id, name, enabled, expiration_date, expires_at, created_at, updated_at)
     SELECT (SELECT id FROM sites WHERE slug = 'main'), v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column6
     FROM (VALUES ${[row(SEEDED[0] ?? "", -1, 1), row(SEEDED[1] ?? "", -3, 1), row(DIMMED, 20, 0)].join(", ")}) AS v`,
  );
});
afterAll(() => {
  localSql(`DELETE FROM app_registrations WHERE name IN (${[...SEEDED, DIMMED].map(sqlText).join(", ")})`);
});

describe("axe-core finds no violation on any main page", () => {
  for (const [width, height] of [
    [390, 844],
    [1280, 800],
  ] as const) {
    for (const scheme of ["light", "dark"] as const) {
      it(`at ${width}×${height}, ${scheme}`, async () => {
        const page = await browser.newPage();
        await page.setViewportSize({ width, height });
        await page.emulateMedia({ colorScheme: scheme });
        const found: string[] = [];
        const check = async (label: string) => {
          for (const v of await violations(page)) found.push(`${label}: ${v}`);
        };
        await page.goto("/sign-in");
        await check("/sign-in");
        await signInAs(page, "root@example.test");
        for (const path of MAIN_PAGES) {
          const res = await page.goto(path);
          expect(res?.status(), path).toBeLessThan(400);
          await check(path);
        }
        await createThroughUi(page, `Axe ${width}-${scheme}-${Date.now().toString(36)}`);
        await check("secret page");
        await page.getByRole("link", { name: "Open the registration" }).click();
        await visible(page.getByRole("heading", { level: 1 }));
        await check("registration page");
        expect(found).toEqual([]);
        await page.context().close();
      });
    }
  }
});
