import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createThroughUi, signInAs, textOf, tokenRequest, useBrowser, visible } from "./browser";

const SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots/client-secrets.png");

const browser = useBrowser();

const section = (page: Page) => page.locator("#client-secrets");
const secretRow = (page: Page, hint: string) => section(page).getByRole("row").filter({ hasText: hint });
const hintOf = (secret: string) => `${secret.slice(0, 8)}…`;

/** Revocation reaches the token endpoint within the client cache's bound (5 s); polls a little past it. */
async function refusedWithin(clientId: string, secret: string, ms = 7_000): Promise<number> {
  const start = Date.now();
  for (;;) {
    const { status } = await tokenRequest(clientId, secret);
    if (status !== 200 || Date.now() - start > ms) return status;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Opens the registration named `name` from the secret page's link. */
async function openRegistration(page: Page, name: string) {
  await page.getByRole("link", { name: "Open the registration" }).click();
  await visible(page.getByRole("heading", { name, level: 1 }));
}

describe("Client secret rotation in a real browser", () => {
  it("with JavaScript: New client secret, both work, Revoke the old one in place; the old one is refused", async () => {
    const page = await browser.newPage();
    await signInAs(page, "admin@example.test");
    const name = `Rotation ${randomUUID().slice(0, 8)}`;
    const first = await createThroughUi(page, name);
    await openRegistration(page, name);

    await visible(secretRow(page, hintOf(first.secret)));
    expect(await textOf(secretRow(page, hintOf(first.secret)))).toContain("Live");
    expect(await page.getByLabel("in 7 days").isChecked()).toBe(true);
    await page.getByLabel("in 1 day").check();
    await page.getByRole("button", { name: "New client secret" }).click();

    // The new secret, once, on the same kind of page as at creation.
    await visible(page.getByRole("heading", { name: "New client secret issued" }));
    await visible(page.getByText("It is shown only once and cannot be shown again."));
    expect(await page.getByLabel("Client ID").inputValue()).toBe(first.clientId);
    const second = await page.getByLabel("Client secret").inputValue();
    expect(second).toMatch(/^asc_[A-Za-z0-9_-]{43}$/);
    expect(await textOf(page.getByRole("main"))).toContain(
      `The previous secret ${hintOf(first.secret)} keeps working until`,
    );

    // The overlap: both secrets get tokens.
    expect((await tokenRequest(first.clientId, first.secret)).status).toBe(200);
    expect((await tokenRequest(first.clientId, second)).status).toBe(200);

    await openRegistration(page, name);
    expect(await page.content()).not.toContain(second);
    expect(await page.content()).not.toContain(first.secret);
    const oldRow = secretRow(page, hintOf(first.secret));
    expect(await textOf(oldRow)).toMatch(/Live.*In 1 day/);
    await visible(secretRow(page, hintOf(second)).getByText("Live"));
    // Two live: the button says why it cannot issue a third.
    expect(await page.getByRole("button", { name: "New client secret" }).isDisabled()).toBe(true);
    await visible(page.getByText("Two secrets are live. Revoke one of them before issuing another."));

    let message = "";
    page.once("dialog", (dialog) => {
      message = dialog.message();
      void dialog.accept();
    });
    await oldRow.getByRole("button", { name: `Revoke ${hintOf(first.secret)}` }).click();
    await visible(section(page).getByRole("status").filter({ hasText: "was revoked." }));
    expect(message).toBe(
      `Revoke the Client secret ${hintOf(first.secret)}? It stops working at once. Consumers still sending it get 401 invalid_client (recorded as SecretRevoked).`,
    );
    expect(await textOf(secretRow(page, hintOf(first.secret)))).toContain("Revoked");
    await visible(page.locator("#audit-trail strong", { hasText: "Client secret revoked" }));
    expect(await page.getByRole("button", { name: "New client secret" }).isDisabled()).toBe(false);

    expect(await refusedWithin(first.clientId, first.secret)).toBe(401);
    expect((await tokenRequest(first.clientId, second)).status).toBe(200);

    // The README's picture of the section: the new secret live and used, the old one revoked, the next rotation's choice.
    await page.reload();
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.setViewportSize({ width: 1100, height: 900 });
    await section(page).screenshot({ path: SCREENSHOT });
    await page.context().close();
  });

  it("without JavaScript: the same rotation, and Revoke through its confirmation page", async () => {
    const setup = await browser.newPage();
    await signInAs(setup, "admin@example.test");
    const name = `No-JS rotation ${randomUUID().slice(0, 8)}`;
    const first = await createThroughUi(setup, name);
    await setup.context().close();

    const page = await browser.newPage({ javaScriptEnabled: false });
    await signInAs(page, "admin@example.test");
    await page.goto(`/sites/main/settings/iam/app-registrations?q=${encodeURIComponent(name)}`);
    await page.getByRole("link", { name }).click();
    await page.getByLabel("now").check();
    await page.getByRole("button", { name: "New client secret" }).click();
    await visible(page.getByRole("heading", { name: "New client secret issued" }));
    const second = await page.getByLabel("Client secret").inputValue();
    expect(await textOf(page.getByRole("main"))).toContain(
      `The previous secret ${hintOf(first.secret)} stopped working now.`,
    );
    expect((await tokenRequest(first.clientId, first.secret)).status).toBe(401);
    expect((await tokenRequest(first.clientId, second)).status).toBe(200);

    await openRegistration(page, name);
    expect(await textOf(secretRow(page, hintOf(first.secret)))).toContain("Expired");
    // The last live secret: the confirmation page says what revoking it means.
    await secretRow(page, hintOf(second))
      .getByRole("button", { name: `Revoke ${hintOf(second)}` })
      .click();
    await visible(page.getByRole("heading", { name: `Revoke the Client secret ${hintOf(second)}?` }));
    expect(await textOf(page.getByRole("main"))).toContain(
      "It is the last live secret and the registration has no public key: every consumer will fail until a new client secret is issued.",
    );
    await page.getByRole("button", { name: "Revoke" }).click();
    await visible(page.getByRole("heading", { name, level: 1 }));
    await visible(page.getByText("The Client secret was revoked: token requests sending it fail."));
    await visible(page.getByText("this registration has no live Client secret and no public key", { exact: false }));
    expect(await refusedWithin(first.clientId, second)).toBe(401);
    await page.context().close();
  });
});
