import { randomUUID } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseURL, DAY, launchBrowser, newPage, signInAs, textOf, urlMatches, visible } from "./browser";

const LOG = "/sites/main/settings/security-log";

let browser: Browser;
/** A registration of main created through the catalog, and the failures its consumer produced. */
let clientId: string;
let callerIp: string;
let otherIp: string;

/** A consumer's token request with a wrong secret, sent from this test process to the dev server. */
async function wrongSecret(ip: string | null) {
  const headers: Record<string, string> = {
    "Content-Type": "application/x-www-form-urlencoded",
    Authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:asc_not-the-secret`).toString("base64")}`,
    "User-Agent": "nightly-backup/2.1",
  };
  if (ip) headers["CF-Connecting-IP"] = ip;
  const res = await fetch(`${baseURL()}/oauth/token`, {
    method: "POST",
    headers,
    body: "grant_type=client_credentials",
  });
  expect(res.status).toBe(401);
  expect(await res.json()).toEqual({ error: "invalid_client" });
}

const rows = (page: Page) => page.locator("#security-log-results tbody tr");

/** The failure is recorded after the response (waitUntil): reloads until the log shows `count` rows. */
async function rowsBecome(page: Page, count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    if ((await rows(page).count()) === count) return count;
    await page.waitForTimeout(250);
    await page.reload();
  }
  return rows(page).count();
}

/** Marks the document, to tell an htmx swap (the mark survives) from a full page load (it does not). */
async function markDocument(page: Page) {
  await page.waitForFunction(() => "htmx" in window);
  await page.evaluate(() => document.documentElement.setAttribute("data-test-mark", "kept"));
}
const documentMarked = (page: Page) =>
  page.evaluate(() => document.documentElement.getAttribute("data-test-mark") === "kept");

beforeAll(async () => {
  browser = await launchBrowser();
  const page = await newPage(browser);
  await signInAs(page, "admin@example.test");
  await page.goto("/sites/main/settings/iam/app-registrations");
  await page.getByRole("link", { name: "+ New registration" }).click();
  await page.getByLabel("Name", { exact: true }).fill(`Nightly backup ${randomUUID().slice(0, 8)}`);
  await page.getByLabel("Expiration date").fill(new Date(Date.now() + 90 * DAY).toISOString().slice(0, 10));
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await visible(page.getByRole("heading", { name: "App registration created" }));
  clientId = await page.getByLabel("Client ID").inputValue();
  await page.close();

  const octet = () => 1 + Math.floor(Math.random() * 254);
  callerIp = `203.0.113.${octet()}`;
  otherIp = `198.51.100.${octet()}`;
  await wrongSecret(callerIp);
  await wrongSecret(callerIp);
  await wrongSecret(otherIp);
  // Without the header, wrangler dev fills in the socket's address.
  await wrongSecret(null);
});

afterAll(async () => {
  await browser?.close();
});

describe("the security log in a real browser: troubleshooting a failing consumer", () => {
  it("wrong secret → the help's 401 symptom → its lookup by Client ID and IP → the InvalidSecret row from that IP", async () => {
    const page = await newPage(browser);
    await signInAs(page, "admin@example.test");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Security log" }).click();
    await visible(page.getByRole("heading", { name: "Security log", level: 1 }));
    await page.getByRole("link", { name: "Troubleshooting help and every detail code" }).click();
    const symptom = page.getByRole("region", { name: "Token request returns 401 invalid_client" });
    await visible(symptom);

    const lookup = symptom.getByRole("form", { name: "Find a consumer's failures" });
    await lookup.getByLabel("Client ID").fill(clientId);
    await lookup.getByLabel("Consumer's IP").fill(callerIp);
    await lookup.getByRole("button", { name: "Show its failures of the last 24 hours" }).click();
    await urlMatches(page, /\/sites\/main\/settings\/security-log\?/);
    const url = new URL(page.url());
    expect(Object.fromEntries(url.searchParams)).toEqual({
      event: "service_auth_failed",
      range: "24h",
      client: clientId,
      ip: callerIp,
    });

    expect(await rowsBecome(page, 1)).toBe(1);
    const row = rows(page).first();
    const text = await textOf(row);
    expect(text).toContain("Service authentication failed");
    expect(text).toContain(clientId);
    expect(text).toContain("InvalidSecret");
    expect(text).toContain(callerIp);
    expect(text).toContain("nightly-backup/2.1");
    expect(text).toContain("POST /oauth/token");
    // Two identical failures in the same minute: one row, count 2.
    expect((await textOf(row.locator("td.numeric"))).trim()).toBe("2");

    // The detail explains itself.
    await row.getByText("InvalidSecret", { exact: true }).click();
    await visible(row.getByText("The Client ID is right but the Client secret matches no live secret"));
    await visible(row.getByText(/^Fix:/));
  });

  it("narrows with the filter form by swapping only the results, keeps the URL shareable, and Back restores", async () => {
    const page = await newPage(browser);
    await signInAs(page, "admin@example.test");
    await page.goto(`${LOG}?client=${clientId}&range=24h`);
    expect(await rowsBecome(page, 3)).toBe(3);
    const ips = await rows(page).locator("td:nth-child(5)").allTextContents();
    // The IP is CF-Connecting-IP: as sent when a client sets it (wrangler dev passes it through; Cloudflare's edge
    // overwrites it), the socket's address when nobody does.
    expect(ips.map((ip) => ip.trim()).sort()).toEqual([callerIp, otherIp, "127.0.0.1"].sort());

    await markDocument(page);
    const form = page.getByRole("form", { name: "Filter the security log" });
    await form.getByLabel("Detail code").selectOption("InvalidSecret");
    await form.getByLabel("IP address").fill(otherIp);
    await form.getByRole("button", { name: "Apply filters" }).click();
    await urlMatches(page, new RegExp(`ip=${otherIp.replaceAll(".", "\\.")}`));
    await page.waitForFunction(() => document.querySelectorAll("#security-log-results tbody tr").length === 1);
    expect(await textOf(rows(page).first())).toContain(otherIp);
    expect(await documentMarked(page)).toBe(true);
    expect(new URL(page.url()).searchParams.get("code")).toBe("InvalidSecret");

    // Clicking an IP narrows to it as well.
    await page.goBack();
    await urlMatches(page, /range=24h$/);
    await page.waitForFunction(() => document.querySelectorAll("#security-log-results tbody tr").length === 3);
    await rows(page).getByRole("link", { name: callerIp, exact: true }).click();
    await urlMatches(page, new RegExp(`ip=${callerIp.replaceAll(".", "\\.")}`));
    expect(await rowsBecome(page, 1)).toBe(1);

    // A reload of the pushed URL shows the same rows: the view is the URL.
    await page.reload();
    expect(await rows(page).count()).toBe(1);
    expect(await form.getByLabel("IP address").inputValue()).toBe(callerIp);
  });

  it("works with JavaScript off: a plain GET form, native disclosure of the detail", async () => {
    const page = await newPage(browser, { javaScriptEnabled: false });
    await signInAs(page, "admin@example.test");
    await page.goto(LOG);
    const form = page.getByRole("form", { name: "Filter the security log" });
    await form.getByLabel("Client ID").fill(clientId);
    await form.getByLabel("IP address").fill(callerIp);
    await form.getByLabel("Time range").selectOption("1h");
    await form.getByRole("button", { name: "Apply filters" }).click();
    await urlMatches(page, /ip=/);
    expect(await rowsBecome(page, 1)).toBe(1);
    const row = rows(page).first();
    await row.getByText("InvalidSecret", { exact: true }).click();
    await visible(row.getByText(/^Fix:/));
    // The export link carries the filter.
    const href = await page.getByRole("link", { name: "Export CSV" }).getAttribute("href");
    expect(href).toBe(`${LOG}/export.csv?range=1h&client=${clientId}&ip=${callerIp}`);
  });

  it("exports the filtered rows as CSV through the page's link", async () => {
    const page = await newPage(browser);
    await signInAs(page, "admin@example.test");
    await page.goto(`${LOG}?client=${clientId}&range=24h`);
    expect(await rowsBecome(page, 3)).toBe(3);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Export CSV" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^security-log-main-\d{4}-\d{2}-\d{2}\.csv$/);
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const lines = Buffer.concat(chunks)
      .toString("utf8")
      .replace(/^\uFEFF/, "")
      .trim()
      .split("\r\n");
    expect(lines).toHaveLength(4);
    expect(lines.slice(1).every((line) => line.includes(clientId) && line.includes("InvalidSecret"))).toBe(true);
  });

  it("keeps Site Users out and Lab's administrator away from Main's rows", async () => {
    const user = await newPage(browser);
    await signInAs(user, "user@example.test");
    expect((await user.goto(LOG))?.status()).toBe(403);
    const lab = await newPage(browser);
    await signInAs(lab, "lab-admin@example.test");
    expect((await lab.goto(`${LOG}?client=${clientId}`))?.status()).toBe(404);
    await lab.goto(`/sites/lab/settings/security-log?client=${clientId}&range=24h`);
    await visible(lab.getByText("No failures match the filter."));
  });
});
