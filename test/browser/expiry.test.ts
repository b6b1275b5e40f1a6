import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it, vi } from "vitest";
// @ts-expect-error -- plain ESM script shared with `npm start`
import { ROOT } from "../../scripts/local.mjs";
import {
  baseURL,
  createThroughUi,
  dateIn,
  localSql,
  signInAs,
  sqlText,
  textOf,
  tokenRequest,
  urlMatches,
  useBrowser,
  visible,
} from "./browser";

const GRID = "/sites/main/settings/iam/app-registrations";
/** Where `wrangler dev` writes the emails the send_email binding sends (text and HTML bodies, one file each). */
const EMAIL_DIR = join(ROOT, ".wrangler/tmp/email");

const browser = useBrowser();

/** Expires a registration, as a developer would with `wrangler d1 execute` (§11): yesterday, 00:00 UTC. */
function expire(name: string) {
  const yesterday = dateIn(-1);
  localSql(
    `UPDATE app_registrations SET expiration_date = ${sqlText(yesterday)}, expires_at = ${Date.parse(`${yesterday}T00:00:00Z`)} WHERE name = ${sqlText(name)}`,
  );
}

const bannerOf = (page: Page, name: string) => page.getByRole("alert").filter({ hasText: name });

/** Every file under `dir` (recursively) whose name ends with `suffix`. */
function filesUnder(dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path, suffix) : path.endsWith(suffix) ? [path] : [];
  });
}

/** Waits until `wrangler dev` has written an email whose text contains `needle`; returns that text. */
async function emailContaining(page: Page, needle: string, suffix: string): Promise<string> {
  for (let attempt = 0; attempt < 60; attempt++) {
    for (const file of filesUnder(EMAIL_DIR, suffix)) {
      const text = readFileSync(file, "utf8");
      if (text.includes(needle)) return text;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no ${suffix} email containing ${needle} under ${EMAIL_DIR}`);
}

/**
 * Triggers the cron the way §11 documents, then reloads `page` until `done` holds. `wrangler dev` reloads the Worker
 * whenever a source file in the tree changes and drops the messages its in-memory local Queue still held; the regular
 * run's cursor has moved past them, so after such a reload this triggers a run by hand (no cron expression), which
 * sweeps everything due, as docs/expiry.md tells developers. A durable production Queue keeps its messages.
 */
async function triggerCronUntil(page: Page, done: () => Promise<boolean>) {
  for (let trigger = 0; trigger < 3; trigger++) {
    const url =
      trigger === 0
        ? `${baseURL()}/cdn-cgi/handler/scheduled?cron=*/15+*+*+*+*&time=${Date.now()}`
        : `${baseURL()}/cdn-cgi/local/scheduled`;
    const cron = await fetch(url);
    expect(cron.status).toBe(200);
    expect(await cron.text()).toBe("ok");
    for (let attempt = 0; attempt < 40; attempt++) {
      await page.reload();
      if (await done()) return;
      await page.waitForTimeout(250);
    }
  }
  throw new Error("the cron's notice never showed up");
}

describe("expiry in a real browser against wrangler dev", () => {
  it("an expired registration: banner on every admin page, Dismiss until reload, the cron's notice and email, renewal clears it and tokens work again", async () => {
    const name = `Nightly backup ${randomUUID().slice(0, 8)}`;
    const page = await browser.newPage();
    await signInAs(page, "admin@example.test");
    const { clientId, secret } = await createThroughUi(page, name);
    expect((await tokenRequest(clientId, secret)).status).toBe(200);

    expire(name);
    // The date is rewritten behind the Worker's back, as a change made elsewhere would be: the token endpoint refuses
    // within the bound of its isolate cache (README, "Edge read path").
    await vi.waitFor(
      async () =>
        expect(await tokenRequest(clientId, secret)).toEqual({ status: 401, body: { error: "invalid_client" } }),
      // The bound is 5 s (CLIENT_CACHE_TTL_MS); wait up to twice that.
      { timeout: 10_000, interval: 250 },
    );

    // One rose-pink banner naming and linking the registration, on every admin page of the Site.
    let registrationHref = "";
    for (const path of [
      "/sites/main",
      "/sites/main/settings",
      GRID,
      "/sites/main/settings/notifications",
      "/sites/main/settings/security-log",
    ]) {
      await page.goto(path);
      const banner = bannerOf(page, name);
      await visible(banner);
      expect(await banner.count(), path).toBe(1);
      expect(await textOf(banner.locator(".api-client-alert-text"))).toBe(
        `API client alert: ${name} expired on ${dateIn(-1)}; its token requests fail.`,
      );
      registrationHref = (await banner.getByRole("link", { name, exact: true }).getAttribute("href")) ?? "";
      expect(registrationHref).toMatch(/^\/sites\/main\/settings\/iam\/app-registrations\/\d+$/);
      expect(await banner.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(253, 226, 231)");
    }
    const registrationId = registrationHref.split("/").pop() ?? "";

    // Dismiss hides it for this page view only; the next full load shows it again.
    await page.goto("/sites/main");
    await bannerOf(page, name)
      .getByRole("button", { name: `Dismiss the alert for ${name}` })
      .click();
    expect(await bannerOf(page, name).count()).toBe(0);
    await page.reload();
    await visible(bannerOf(page, name));

    // The grid says Expired.
    await page.goto(`${GRID}?q=${encodeURIComponent(name)}`);
    const row = page.getByRole("row").filter({ has: page.getByRole("link", { name, exact: true }) });
    await visible(row);
    expect((await row.getByRole("cell").allTextContents()).map((t) => t.trim()).at(-1)).toBe("Expired");

    // The cron, triggered as §11 says, fires the "has expired" notice; the consumer sends the email.
    await page.goto(`/sites/main/settings/notifications?registration=${registrationId}`);
    const notice = page.locator("#notification-log-results tbody tr");
    await triggerCronUntil(
      page,
      async () => (await notice.count()) > 0 && (await textOf(notice.first())).includes("Sent"),
    );
    const noticeText = await textOf(notice.first());
    expect(noticeText).toContain("App registration has expired");
    expect(noticeText).toContain(name);
    expect(noticeText).toContain(clientId);
    expect(noticeText).toContain(dateIn(-1));
    // The column header names the zone; the cells do not repeat it.
    expect(noticeText).toMatch(/admin@example\.test Sent \d{4}-\d{2}-\d{2} \d{2}:\d{2}(?! \(UTC\))/);
    const email = await emailContaining(page, clientId, ".txt");
    expect(email).toContain("App registration has expired");
    expect(email).toContain(`App registration: ${name}`);
    expect(email).toContain(`/sites/main/settings/iam/app-registrations/${registrationId}`);
    expect(email).not.toContain(secret);
    const html = await emailContaining(page, clientId, ".html");
    // The link points at the server the administrator uses (this test's own port, not a fixed default).
    expect(html).toContain(`<a href="${baseURL()}/sites/main/settings/iam/app-registrations/${registrationId}"`);
    expect(baseURL()).not.toBe("http://localhost:8787");

    // Renew through the registration page: the banner is gone on the next load, the grid says In N days.
    await page.goto("/sites/main");
    await bannerOf(page, name).getByRole("link", { name, exact: true }).click();
    await urlMatches(page, new RegExp(`${registrationHref}$`));
    await page.getByRole("link", { name: "Renew (change the Expiration date)" }).click();
    await page.getByLabel("Expiration date").fill(dateIn(90));
    await page.getByRole("button", { name: "Save changes" }).click();
    await visible(page.getByRole("status").filter({ hasText: "Changes saved." }));
    expect(await bannerOf(page, name).count()).toBe(0);
    await page.goto("/sites/main");
    await visible(page.getByRole("heading", { name: "Admin Center" }));
    expect(await bannerOf(page, name).count()).toBe(0);
    await page.goto(`${GRID}?q=${encodeURIComponent(name)}`);
    expect((await row.locator("td.expires").allTextContents()).map((t) => t.trim())).toEqual(["In 90 days"]);

    // The consumer's next token request succeeds, with the same Client ID and secret.
    const renewed = await tokenRequest(clientId, secret);
    expect(renewed.status).toBe(200);
    expect(renewed.body.token_type).toBe("Bearer");
    expect(typeof renewed.body.access_token).toBe("string");
  });

  it("the Global Administrator sees every Site's banners naming the Site; a Site User sees none", async () => {
    const name = `Lab importer ${randomUUID().slice(0, 8)}`;
    const lab = await browser.newPage();
    await signInAs(lab, "lab-admin@example.test");
    await lab.goto("/sites/lab/settings/iam/app-registrations");
    await lab.getByRole("link", { name: "+ New registration" }).click();
    await lab.getByLabel("Name", { exact: true }).fill(name);
    await lab.getByLabel("Expiration date").fill(dateIn(10));
    await lab.getByRole("button", { name: "Save", exact: true }).click();
    await visible(lab.getByRole("heading", { name: "App registration created" }));
    expire(name);

    const root = await browser.newPage();
    await signInAs(root, "root@example.test");
    for (const path of ["/sites/main", "/admin/sites", "/sites/lab/settings/iam"]) {
      await root.goto(path);
      const banner = bannerOf(root, name);
      await visible(banner);
      expect(await textOf(banner)).toContain(`${name} (Lab Site) expired on`);
    }
    // Main's administrator and Site User see no banner of Lab.
    const admin = await browser.newPage();
    await signInAs(admin, "admin@example.test");
    expect(await bannerOf(admin, name).count()).toBe(0);
    const user = await browser.newPage();
    await signInAs(user, "user@example.test");
    await visible(user.getByRole("heading", { name: "Admin Center" }));
    expect(await user.locator(".api-client-alert").count()).toBe(0);
  });
});
