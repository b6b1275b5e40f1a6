import { existsSync } from "node:fs";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, inject } from "vitest";
// @ts-expect-error -- plain ESM script shared with `npm start`
import { LOCAL_PASSWORD, queryLocal } from "../../scripts/local.mjs";

export { LOCAL_PASSWORD };

export const DAY = 86_400_000;

/** Main and Lab run in UTC: a calendar date `days` from today there. */
export const dateIn = (days: number) => new Date(Date.now() + days * DAY).toISOString().slice(0, 10);

/** A SQL string literal. */
export const sqlText = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** Runs SQL on the local D1 behind the browser tests' `wrangler dev`. */
export const localSql = (statement: string) => queryLocal(statement, { persistTo: inject("persistTo") });

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

/** Debian's Chromium, headless, with no background networking (the machine has no internet). */
export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) throw new Error("Chromium is not installed: apt-get install -y chromium");
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

export const baseURL = () => inject("baseURL");

/** The main pages of the console, as the Global Administrator root@example.test sees them (Main Site's included). */
export const MAIN_PAGES = [
  "/sites/main",
  "/sites/main/settings",
  "/sites/main/settings/iam",
  "/sites/main/settings/iam/app-registrations",
  "/sites/main/settings/iam/app-registrations/new",
  "/sites/main/settings/notifications",
  "/sites/main/settings/security-log",
  "/sites/main/settings/security-log/help",
  "/admin",
  "/admin/registrations",
  "/admin/sites",
  "/admin/sites/new",
  "/admin/users",
  "/admin/users/new",
  "/admin/security-log",
  "/account/password",
  "/help/api",
];

/** One Chromium for a test file: launched before its tests, closed after them; `newPage` opens a page in it. */
export function useBrowser(): { newPage(options?: { javaScriptEnabled?: boolean }): Promise<Page> } {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    newPage(options) {
      if (!browser) throw new Error("Chromium is not launched yet: open pages inside tests.");
      return newPage(browser, options);
    },
  };
}

/** A short random suffix that keeps names unique across runs against the shared local database. */
export const stamp = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

/** Accepts the confirmation dialogs (hx-confirm) the way a person clicking OK would. */
export function acceptDialogs(page: Page) {
  page.on("dialog", (dialog) => void dialog.accept());
}

export async function newPage(browser: Browser, options: { javaScriptEnabled?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({
    baseURL: baseURL(),
    javaScriptEnabled: options.javaScriptEnabled ?? true,
  });
  return context.newPage();
}

export async function signInAs(page: Page, email: string, password = LOCAL_PASSWORD): Promise<void> {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"));
}

/** Waits until the locator is visible (Playwright's auto-waiting, asserted through Vitest). */
export async function visible(locator: Locator, timeout = 10_000): Promise<void> {
  await locator.first().waitFor({ state: "visible", timeout });
}

/** Waits until the page's URL matches. */
export async function urlMatches(page: Page, pattern: RegExp, timeout = 10_000): Promise<void> {
  await page.waitForURL(pattern, { timeout });
}

/** Polls the locator's text until the expectation holds. */
export async function textOf(locator: Locator): Promise<string> {
  return (await locator.textContent())?.replace(/\s+/g, " ").trim() ?? "";
}

/** A consumer's client_credentials request (client_secret_basic) from this test process. */
export async function tokenRequest(clientId: string, secret: string) {
  const res = await fetch(`${baseURL()}/oauth/token`, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`,
    },
    body: "grant_type=client_credentials",
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Creates a registration of Main Site through the catalog UI; returns its Client ID and one-time secret. */
export async function createThroughUi(page: Page, name: string) {
  await page.goto("/sites/main/settings/iam/app-registrations");
  await page.getByRole("link", { name: "+ New registration" }).click();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Expiration date").fill(dateIn(60));
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await visible(page.getByRole("heading", { name: "App registration created" }));
  return {
    clientId: await page.getByLabel("Client ID").inputValue(),
    secret: await page.getByLabel("Client secret").inputValue(),
  };
}
