import { describe, expect, it } from "vitest";
import { OPERATIONS } from "../../src/api/openapi";
import { call } from "../helpers/app";
import { textOf } from "../helpers/html";

interface Document {
  openapi: string;
  paths: Record<string, Record<string, { operationId: string; security: Record<string, string[]>[] }>>;
  components: { schemas: Record<string, unknown> };
}

async function served(): Promise<Document> {
  const res = await call("/api/v1/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as Document;
}

describe("the OpenAPI document", () => {
  it("describes the token endpoint, the devices API and every management operation, with its scope", async () => {
    const doc = await served();
    expect(doc.openapi).toBe("3.1.0");
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(ids.sort()).toEqual(
      [
        "requestAccessToken",
        "listDevices",
        "createDevice",
        "listAppRegistrations",
        "createAppRegistration",
        "getAppRegistration",
        "updateAppRegistration",
        "deleteAppRegistration",
        "listClientSecrets",
        "createClientSecret",
        "revokeClientSecret",
        "listClientKeys",
        "addClientKey",
        "removeClientKey",
        "listSecurityEvents",
      ].sort(),
    );
    const create = doc.paths["/api/v1/sites/{site}/app-registrations"]?.post;
    expect(create?.security).toEqual([{ oauth2: ["registrations:write"] }]);
    // Generated from the schemas the routes validate with: strict bodies, the same limits.
    expect(doc.components.schemas.NewRegistration).toMatchObject({
      additionalProperties: false,
      required: ["name", "expiration_date"],
    });
  });

  it("names only routes that exist: each operation answers its own refusal, not 404", async () => {
    for (const op of OPERATIONS) {
      const path = op.path
        .replace("{site}", "main")
        .replace("{client_id}", "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b")
        .replace("{secret_id}", "1")
        .replace("{key_id}", "1");
      const res = await call(path, { method: op.method.toUpperCase() });
      expect(res.status, `${op.method} ${op.path}`).toBe(401);
    }
  });

  it("is rendered as a readable reference page without sign-in", async () => {
    const res = await call("/help/api");
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const op of OPERATIONS) expect(html).toContain(`id="${op.operationId}"`);
    expect(textOf(html)).toContain("POST /api/v1/sites/{site}/app-registrations/{client_id}/secrets");
    expect(html).toContain('href="/api/v1/openapi.json"');
  });
});
