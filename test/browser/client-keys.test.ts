import { randomUUID } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import type { Page } from "playwright-core";
import { describe, expect, inject, it } from "vitest";
// @ts-expect-error -- plain ESM script shared with `npm start`
import { queryLocal } from "../../scripts/local.mjs";
import { signInAs, sqlText, textOf, useBrowser, visible } from "./browser";

const browser = useBrowser();

/** A registration of Main Site, written straight into the dev server's local D1. */
function createRegistration(name: string): { id: number; clientId: string } {
  const clientId = randomUUID();
  const now = Date.now();
  const expiresAt = now + 90 * 86_400_000;
  const expirationDate = new Date(expiresAt).toISOString().slice(0, 10);
  const [row] = queryLocal(
    `INSERT INTO app_registrations (site_id, client_id, name, description, enabled, scopes, access_token_lifetime,
       expiration_date, expires_at, created_at, updated_at)
     SELECT id, ${sqlText(clientId)}, ${sqlText(name)}, '', 1, 'devices:read', 3600, ${sqlText(expirationDate)},
       ${expiresAt}, ${now}, ${now} FROM sites WHERE slug = 'main' RETURNING id`,
    { persistTo: inject("persistTo") },
  );
  return { id: Number(row.id), clientId };
}

async function publicJwk(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(publicKey);
  return {
    text: JSON.stringify({ ...jwk, kid }, null, 2),
    fingerprint: await calculateJwkThumbprint(jwk),
    privateText: JSON.stringify({ ...(await exportJWK(privateKey)), kid }),
  };
}

const keysPage = (id: number) => `/sites/main/settings/iam/app-registrations/${id}/keys`;

function keyRow(page: Page, kid: string) {
  return page.getByRole("row").filter({ has: page.getByRole("cell", { name: kid, exact: true }) });
}

describe("public keys of a registration in a real browser", () => {
  it("a Site Administrator pastes a public JWK, sees it listed with its fingerprint, and removes it", async () => {
    const registration = createRegistration(`Browser keys ${randomUUID().slice(0, 8)}`);
    const key = await publicJwk("browser-key-1");
    const page = await browser.newPage();
    await signInAs(page, "admin@example.test");
    await page.goto(keysPage(registration.id));
    await visible(page.getByRole("heading", { name: /^Public keys · Browser keys/ }));
    await visible(page.getByText("No public keys yet."));

    await page.getByLabel("Public key (PEM certificate or JWK)").fill(key.text);
    await page.getByRole("button", { name: "Add key" }).click();

    const row = keyRow(page, "browser-key-1");
    await visible(row);
    expect(await textOf(page.getByRole("status"))).toBe(
      `The key "browser-key-1" was added (fingerprint ${key.fingerprint}).`,
    );
    const cells = await row.getByRole("cell").allTextContents();
    expect(cells.slice(0, 3)).toEqual(["browser-key-1", "ES256", key.fingerprint]);
    expect(cells[3]).toBe("Never");
    expect(cells[5]).toBe("Never");
    // htmx swapped the section in place: same page, the form is empty again.
    expect(new URL(page.url()).pathname).toBe(keysPage(registration.id));
    expect(await page.getByLabel("Public key (PEM certificate or JWK)").inputValue()).toBe("");

    // Dismissing the confirmation keeps the key.
    page.once("dialog", (dialog) => void dialog.dismiss());
    await page.getByRole("button", { name: "Remove key browser-key-1" }).click();
    await page.reload();
    await visible(keyRow(page, "browser-key-1"));

    page.once("dialog", (dialog) => {
      expect(dialog.message()).toBe(
        'Remove the key "browser-key-1"? Clients signing with it can no longer get tokens.',
      );
      void dialog.accept();
    });
    await page.getByRole("button", { name: "Remove key browser-key-1" }).click();
    await visible(page.getByText("No public keys yet."));
    expect(await textOf(page.getByRole("status"))).toBe("The key was removed.");
    await page.reload();
    await visible(page.getByText("No public keys yet."));
  });

  it("shows why a private key is refused next to the field and keeps what was typed", async () => {
    const registration = createRegistration(`Browser refusal ${randomUUID().slice(0, 8)}`);
    const key = await publicJwk("private-one");
    const page = await browser.newPage();
    await signInAs(page, "admin@example.test");
    await page.goto(keysPage(registration.id));
    await page.getByLabel("Public key (PEM certificate or JWK)").fill(key.privateText);
    await page.getByRole("button", { name: "Add key" }).click();
    const field = page.getByLabel("Public key (PEM certificate or JWK)");
    await visible(page.getByText(/This JWK contains private key material/));
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    expect(await field.inputValue()).toBe(key.privateText);
    expect(await page.getByText("No public keys yet.").count()).toBe(1);
  });

  it("works without JavaScript: a plain form post adds, a confirmation page removes", async () => {
    const registration = createRegistration(`Browser no-JS ${randomUUID().slice(0, 8)}`);
    const key = await publicJwk("plain-form-key");
    const page = await browser.newPage({ javaScriptEnabled: false });
    await signInAs(page, "admin@example.test");
    await page.goto(keysPage(registration.id));
    await page.getByLabel("Public key (PEM certificate or JWK)").fill(key.text);
    await page.getByLabel("Algorithm").selectOption("ES256");
    await page.getByRole("button", { name: "Add key" }).click();
    await visible(page.getByText("The key was added."));
    await visible(keyRow(page, "plain-form-key"));
    await visible(page.getByText(key.fingerprint));

    await page.getByRole("button", { name: "Remove key plain-form-key" }).click();
    await visible(page.getByRole("heading", { name: "Remove key plain-form-key?" }));
    await page.getByRole("button", { name: "Remove key" }).click();
    await visible(page.getByText("The key was removed."));
    await visible(page.getByText("No public keys yet."));
  });
});
