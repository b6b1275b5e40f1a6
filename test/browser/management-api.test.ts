import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import SwaggerParser from "@apidevtools/swagger-parser";
import { OpenAPIClientAxios } from "openapi-client-axios";
import { describe, expect, it } from "vitest";
// @ts-expect-error -- plain ESM script shared with `npm start`
import { ROOT } from "../../scripts/local.mjs";
import { baseURL, dateIn, signInAs, tokenRequest, useBrowser, visible } from "./browser";

const browser = useBrowser();

type OperationId =
  | "createAppRegistration"
  | "getAppRegistration"
  | "updateAppRegistration"
  | "createClientSecret"
  | "listClientSecrets"
  | "deleteAppRegistration";

type Operation = (
  parameters: Record<string, string>,
  data?: unknown,
) => Promise<{ status: number; data: unknown; headers: Record<string, unknown> }>;

/** An administrator creates the automation's registration with the management scopes, in the real form. */
async function automationRegistration(): Promise<{ clientId: string; secret: string }> {
  const page = await browser.newPage();
  await signInAs(page, "admin@example.test");
  await page.goto("/sites/main/settings/iam/app-registrations/new");
  await page.getByLabel("Name", { exact: true }).fill(`CI pipeline ${randomUUID().slice(0, 8)}`);
  await page.getByLabel("Expiration date").fill(dateIn(90));
  await visible(page.getByText("Grant them only to automation you trust like an administrator."));
  await page.getByLabel("registrations:read").check();
  await page.getByLabel("registrations:write").check();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await visible(page.getByRole("heading", { name: "App registration created" }));
  const credentials = {
    clientId: await page.getByLabel("Client ID").inputValue(),
    secret: await page.getByLabel("Client secret").inputValue(),
  };
  await page.context().close();
  return credentials;
}

describe("the OpenAPI document against the running Worker", () => {
  it("passes a standard validator", async () => {
    const doc = await (await fetch(`${baseURL()}/api/v1/openapi.json`)).json();
    const validated = await SwaggerParser.validate(structuredClone(doc));
    expect((validated as { openapi?: string }).openapi).toBe("3.1.0");
  });

  it("drives a client generated from it: create, renew, rotate and delete a registration", async () => {
    const { clientId, secret } = await automationRegistration();
    const token = await tokenRequest(clientId, secret);
    expect(token.status).toBe(200);
    expect(String(token.body.scope)).toContain("registrations:write");

    const definition = await (await fetch(`${baseURL()}/api/v1/openapi.json`)).json();
    const api = new OpenAPIClientAxios({
      definition,
      axiosConfigDefaults: {
        baseURL: baseURL(),
        headers: { Authorization: `Bearer ${String(token.body.access_token)}` },
        validateStatus: () => true,
      },
    });
    const generated = await api.init();
    /** An operation of the generated client, by its operationId: missing from the document, it fails the test. */
    const client = new Proxy({} as Record<OperationId, Operation>, {
      get(_, operationId: string) {
        const operation = generated[operationId];
        if (typeof operation !== "function") throw new Error(`the document has no operation ${operationId}`);
        return operation.bind(generated) as Operation;
      },
    });
    const site = "main";
    const name = `Made by a generated client ${randomUUID().slice(0, 8)}`;

    const created = await client.createAppRegistration({ site }, { name, expiration_date: dateIn(20) });
    expect(created.status).toBe(201);
    const registration = created.data as { client_id: string; client_secret: string; state: string };
    expect(registration.state).toBe("expiring");
    expect((await tokenRequest(registration.client_id, registration.client_secret)).status).toBe(200);

    const read = await client.getAppRegistration({ site, client_id: registration.client_id });
    expect(read.status).toBe(200);
    const renewed = await client.updateAppRegistration(
      { site, client_id: registration.client_id, "If-Match": String(read.headers.etag) },
      { expiration_date: dateIn(365) },
    );
    expect(renewed.status).toBe(200);
    expect(renewed.data).toMatchObject({ expiration_date: dateIn(365), state: "active" });

    const rotated = await client.createClientSecret(
      { site, client_id: registration.client_id },
      { old_secret_expires_in: "now" },
    );
    expect(rotated.status).toBe(201);
    const next = (rotated.data as { client_secret: string }).client_secret;
    expect((await tokenRequest(registration.client_id, next)).status).toBe(200);
    expect((await tokenRequest(registration.client_id, registration.client_secret)).status).toBe(401);
    const secrets = await client.listClientSecrets({ site, client_id: registration.client_id });
    expect((secrets.data as { items: { state: string }[] }).items.map((s) => s.state)).toEqual(["live", "expired"]);

    const deleted = await client.deleteAppRegistration({ site, client_id: registration.client_id });
    expect(deleted.status).toBe(204);
    expect((await client.getAppRegistration({ site, client_id: registration.client_id })).status).toBe(404);
  });

  it("runs scripts/examples/self-rotate.mjs: new secret, switch, old one revoked", async () => {
    const { clientId, secret } = await automationRegistration();
    const dir = mkdtempSync(join(tmpdir(), "self-rotate-"));
    try {
      const file = join(dir, "secret");
      writeFileSync(file, `${secret}\n`, { mode: 0o600 });
      const { stdout } = await promisify(execFile)(process.execPath, [
        join(ROOT, "scripts/examples/self-rotate.mjs"),
        baseURL(),
        "main",
        clientId,
        file,
      ]);
      const report = JSON.parse(stdout) as { new_secret: string; revoked: string };
      const next = readFileSync(file, "utf8").trim();
      expect(next).not.toBe(secret);
      expect(report).toMatchObject({ new_secret: next.slice(0, 8), revoked: secret.slice(0, 8) });
      expect(stdout).not.toContain(next);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect((await tokenRequest(clientId, next)).status).toBe(200);
      expect((await tokenRequest(clientId, secret)).status).toBe(401);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
