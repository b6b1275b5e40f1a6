import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
// @ts-expect-error -- plain ESM script shared with `npm start`
import { hashPassword, LOCAL_PASSWORD } from "../../scripts/local.mjs";
import { createThroughUi, localSql, signInAs, sqlText, textOf, tokenRequest, useBrowser, visible } from "./browser";

const SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots/overview.png");
const DAY = 86_400_000;

const browser = useBrowser();

/** Opens the registration named `name` of Main Site from the grid. */
async function openRegistration(page: Page, name: string) {
  await page.goto(`/sites/main/settings/iam/app-registrations?q=${encodeURIComponent(name)}`);
  await page.getByRole("link", { name, exact: true }).click();
  await visible(page.getByRole("heading", { name, level: 1 }));
}

/** The token counts are written after the answers (waitUntil): reloads until the chart says `tokens`. */
async function chartSays(page: Page, name: string, tokens: number): Promise<string> {
  let label = "";
  for (let attempt = 0; attempt < 20; attempt++) {
    await openRegistration(page, name);
    label = (await page.locator("#usage-chart").getAttribute("aria-label")) ?? "";
    if (label.includes(`: ${tokens} token`)) return label;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return label;
}

describe("usage charts in a real browser", () => {
  for (const javaScriptEnabled of [true, false]) {
    it(`shows a registration's tokens and failures with JavaScript ${javaScriptEnabled ? "on" : "off"}`, async () => {
      const setup = await browser.newPage();
      await signInAs(setup, "admin@example.test");
      const name = `Charted ${randomUUID().slice(0, 8)}`;
      const { clientId, secret } = await createThroughUi(setup, name);
      await setup.context().close();
      // One token per request's own minute is not needed: the first token writes at once, and so does the next
      // minute's; two tokens and one refusal are enough to see both series.
      expect((await tokenRequest(clientId, secret)).status).toBe(200);
      expect((await tokenRequest(clientId, "asc_wrong")).status).toBe(401);

      const page = await browser.newPage({ javaScriptEnabled });
      await signInAs(page, "admin@example.test");
      const label = await chartSays(page, name, 1);
      expect(label).toBe(`Tokens and failures per day of ${name}, last 30 days (UTC): 1 token, 1 failure.`);
      const chart = page.getByRole("img", { name: label });
      await visible(chart);

      // The numbers behind the disclosure: today's row says what the chart says.
      const today = new Date().toISOString().slice(0, 10);
      await page.getByText("Show the numbers").click();
      const row = page.locator(".usage-numbers tr").filter({ hasText: today });
      expect(await row.locator("td").allTextContents()).toEqual([today, "1", "1"]);

      // Keyboard: Tab reaches a day of the chart and its tip shows the day's numbers (CSS, no script).
      const day = page.locator(`#usage-chart g.day[data-date="${today}"]`);
      await day.focus();
      const tip = day.locator("text.tip");
      expect(await tip.evaluate((el) => getComputedStyle(el).visibility)).toBe("visible");
      expect(await textOf(tip)).toBe(`${today}: 1 token, 1 failure`);
      const other = page.locator("#usage-chart g.day").first().locator("text.tip");
      expect(await other.evaluate((el) => getComputedStyle(el).visibility)).toBe("hidden");
      await page.context().close();
    });
  }

  it("shows the Admin Center overview, with JavaScript off too, and its picture for the README", async () => {
    // A Site of its own with a month of traffic, so the picture holds only its numbers.
    const slug = `overview-${randomUUID().slice(0, 8)}`;
    const email = `${slug}@example.test`;
    const now = Date.now();
    const today = Math.floor(now / DAY);
    localSql(
      `INSERT INTO sites (slug, name, time_zone, rest_api_enabled, max_registration_days, created_at)
         VALUES (${sqlText(slug)}, 'Acme Production', 'Europe/Berlin', 1, 730, ${now});
       INSERT INTO users (email, name, password_hash, is_global_admin, disabled, created_at)
         VALUES (${sqlText(email)}, 'Acme Administrator', ${sqlText(hashPassword(LOCAL_PASSWORD))}, 0, 0, ${now});
       INSERT INTO memberships (user_id, site_id, role) SELECT u.id, s.id, 'site_admin' FROM users u, sites s
         WHERE u.email = ${sqlText(email)} AND s.slug = ${sqlText(slug)};`,
    );
    const registrations: [string, number, number][] = [
      ["Backup script — nightly device export", 160, 1],
      ["CI pipeline (deploy checks)", 21, 1],
      ["SIEM connector", 5, 1],
      ["Vendor sandbox", 300, 0],
    ];
    for (const [name, days, enabled] of registrations) {
      const expires = now + days * DAY;
      localSql(
        `INSERT INTO app_registrations (site_id, client_id, name, description, enabled, scopes, access_token_lifetime,
           expiration_date, expires_at, created_at, updated_at)
         SELECT id, ${sqlText(randomUUID())}, ${sqlText(name)}, '', ${enabled}, 'devices:read', 3600,
           ${sqlText(new Date(expires).toISOString().slice(0, 10))}, ${expires}, ${now - 60 * DAY}, ${now} FROM sites WHERE slug = ${sqlText(slug)}`,
      );
    }
    // A month of daily token counts (as the token endpoint writes them) and some failures in the security log.
    const daily = Array.from({ length: 30 }, (_, i) => [
      today - 29 + i,
      800 + ((i * 137) % 400) + (i % 7 < 5 ? 300 : 0),
    ]);
    const hour = Math.floor(now / 3_600_000);
    const hourly = Array.from({ length: 24 }, (_, i) => [hour - 23 + i, 30 + ((i * 17) % 40)]);
    localSql(
      `INSERT INTO site_usage_daily (site_id, day, tokens) SELECT s.id, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]')
         FROM sites s, json_each(${sqlText(JSON.stringify(daily))}) j WHERE s.slug = ${sqlText(slug)};
       INSERT INTO site_usage_hourly (site_id, hour, tokens) SELECT s.id, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]')
         FROM sites s, json_each(${sqlText(JSON.stringify(hourly))}) j WHERE s.slug = ${sqlText(slug)};
       INSERT INTO security_events (site_id, event, detail_code, client_id, registration_name, ip, user_agent, endpoint,
           count, first_at, last_at, coalesce_key)
         SELECT s.id, 'service_auth_failed', 'SecretExpired', r.client_id, r.name, '203.0.113.9', 'ci-runner/2.1',
           'POST /oauth/token', 17, ${now - 2 * 3_600_000}, ${now - 2 * 3_600_000}, ${sqlText(`${slug}|ci`)}
         FROM sites s JOIN app_registrations r ON r.site_id = s.id
         WHERE s.slug = ${sqlText(slug)} AND r.name = 'CI pipeline (deploy checks)';`,
    );
    for (const javaScriptEnabled of [true, false]) {
      const page = await browser.newPage({ javaScriptEnabled });
      await page.setViewportSize({ width: 1280, height: 1100 });
      await signInAs(page, email);
      await page.goto(`/sites/${slug}`);
      await visible(page.getByRole("heading", { name: "Overview" }));
      const states = await page.locator(".overview-states li").allTextContents();
      expect(states.map((t) => t.replace(/\s+/g, " ").trim())).toEqual([
        "1 Active",
        "2 Expire within 30 days",
        "1 Expire within 7 days",
        "0 Expired",
        "1 Disabled",
      ]);
      await visible(page.getByRole("img", { name: /^Tokens and failures per day of Acme Production, last 30 days/ }));
      await visible(page.getByRole("link", { name: "CI pipeline (deploy checks)" }).first());
      expect(await textOf(page.locator("#failing-heading + ol"))).toBe("CI pipeline (deploy checks): 17 failures");
      // A state is a link to that grid view.
      await page.getByRole("link", { name: "1 Expire within 7 days" }).click();
      await visible(page.getByRole("link", { name: "SIEM connector" }));
      if (javaScriptEnabled) {
        await page.goto(`/sites/${slug}`);
        mkdirSync(dirname(SCREENSHOT), { recursive: true });
        await page.locator("section.overview").screenshot({ path: SCREENSHOT });
      }
      await page.context().close();
    }
    localSql(`DELETE FROM users WHERE email = ${sqlText(email)}; DELETE FROM sites WHERE slug = ${sqlText(slug)};`);
  });
});
