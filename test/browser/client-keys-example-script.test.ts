import { execFile, execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { exportJWK, generateKeyPair } from "jose";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
// @ts-expect-error -- plain ESM script shared with `npm start`
import { queryLocal, ROOT } from "../../scripts/local.mjs";
import { baseURL, launchBrowser, newPage, signInAs, sqlText, visible } from "./browser";

/*
 * docs/private-key-jwt.md end to end against `wrangler dev`: make a key pair the way the guide says (openssl, or
 * Node with jose), register the public half on the registration's page in a real browser, then run
 * scripts/examples/private-key-jwt.mjs and expect a token.
 */

const run = promisify(execFile);
const SCRIPT = join(ROOT, "scripts/examples/private-key-jwt.mjs");

let browser: Browser;
let dir: string;
beforeAll(async () => {
  browser = await launchBrowser();
  dir = mkdtempSync(join(tmpdir(), "private-key-jwt-example-"));
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

function createRegistration(): { id: number; clientId: string } {
  const clientId = randomUUID();
  const now = Date.now();
  const expiresAt = now + 90 * 86_400_000;
  const [row] = queryLocal(
    `INSERT INTO app_registrations (site_id, client_id, name, description, enabled, scopes, access_token_lifetime,
       expiration_date, expires_at, created_at, updated_at)
     SELECT id, ${sqlText(clientId)}, ${sqlText(`Example script ${clientId.slice(0, 8)}`)}, '', 1,
       'devices:read devices:write', 3600, ${sqlText(new Date(expiresAt).toISOString().slice(0, 10))}, ${expiresAt},
       ${now}, ${now} FROM sites WHERE slug = 'main' RETURNING id`,
    { persistTo: inject("persistTo") },
  );
  return { id: Number(row.id), clientId };
}

/** Registers a public key on the registration's keys page, as a Site Administrator does. */
async function registerKey(registrationId: number, publicKey: string, kid?: string) {
  const page = await newPage(browser);
  await signInAs(page, "admin@example.test");
  await page.goto(`/sites/main/settings/iam/app-registrations/${registrationId}/keys`);
  await page.getByLabel("Public key (PEM certificate or JWK)").fill(publicKey);
  if (kid) await page.getByLabel("kid").fill(kid);
  await page.getByRole("button", { name: "Add key" }).click();
  await visible(page.getByRole("status"));
  await page.close();
}

async function runScript(...args: string[]) {
  try {
    const { stdout } = await run(process.execPath, [SCRIPT, baseURL(), ...args], { cwd: ROOT });
    return { code: 0, stdout };
  } catch (error) {
    const failure = error as { code: number; stdout: string };
    return { code: failure.code, stdout: failure.stdout };
  }
}

describe("the private_key_jwt example script", () => {
  it("gets a token with an openssl EC key whose certificate was registered", async () => {
    const registration = createRegistration();
    const keyFile = join(dir, "client-key.pem");
    const certificateFile = join(dir, "client-cert.pem");
    execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyFile]);
    execFileSync("openssl", [
      "req",
      "-new",
      "-x509",
      "-key",
      keyFile,
      "-out",
      certificateFile,
      "-days",
      "365",
      "-subj",
      "/CN=backup-script",
    ]);
    await registerKey(registration.id, readFileSync(certificateFile, "utf8"), "backup-script-2026");

    const result = await runScript(
      registration.clientId,
      keyFile,
      "--kid",
      "backup-script-2026",
      "--scope",
      "devices:read",
    );
    expect(result.code).toBe(0);
    const tokens = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(tokens).toMatchObject({ token_type: "Bearer", scope: "devices:read", expires_in: 3600 });
    expect(typeof tokens.access_token).toBe("string");

    // The token works against the REST API of the registration's Site.
    const devices = await fetch(`${baseURL()}/api/v1/sites/main/devices`, {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
    });
    expect(devices.status).toBe(200);

    // A kid the registration does not hold is refused; the script says so and exits 1.
    const refused = await runScript(registration.clientId, keyFile, "--kid", "not-registered");
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toEqual({ error: "invalid_client" });
  });

  it("gets a token with an Ed25519 private JWK made with Node, whose public JWK was registered", async () => {
    const registration = createRegistration();
    const { publicKey, privateKey } = await generateKeyPair("Ed25519", { extractable: true });
    const kid = "ci-runner-ed25519";
    const keyFile = join(dir, "client-key.jwk.json");
    writeFileSync(keyFile, JSON.stringify({ ...(await exportJWK(privateKey)), kid }));
    await registerKey(registration.id, JSON.stringify({ ...(await exportJWK(publicKey)), kid }));

    const result = await runScript(registration.clientId, keyFile);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ token_type: "Bearer", scope: "devices:read devices:write" });
  });
});
