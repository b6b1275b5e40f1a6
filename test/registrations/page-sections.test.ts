import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { createUser, signIn } from "../helpers/app";
import { createClient, requestToken } from "../helpers/oauth";

describe("the registration page", () => {
  it("shows the registration's health from real token requests and links to its security-log rows", async () => {
    const { site, registration, clientId, clientSecret } = await createClient();
    const admin = await createUser({ sites: [[site.id, "site_admin"]] });
    expect((await requestToken({ clientId, clientSecret, ip: "203.0.113.10" })).status).toBe(200);
    expect((await requestToken({ clientId, clientSecret: "asc_wrong", ip: "203.0.113.66" })).status).toBe(401);
    const browser = await signIn(admin.email);
    const html = await (
      await browser.get(`/sites/${site.slug}/settings/iam/app-registrations/${registration.id}`)
    ).text();
    const health = html.slice(html.indexOf('id="registration-health-title"'), html.indexOf('id="client-keys-heading"'));
    expect(health).toContain("Health");
    expect(health).toContain("203.0.113.10");
    expect(health).toContain("InvalidSecret");
    expect(health).toContain("203.0.113.66");
    expect(health).toMatch(new RegExp(`href="/sites/${site.slug}/settings/security-log\\?[^"]*client=${clientId}`));
  });

  it("lists the registration's public keys and takes a new one in place", async () => {
    const { site, registration } = await createClient();
    const admin = await createUser({ sites: [[site.id, "site_admin"]] });
    const browser = await signIn(admin.email);
    const page = `/sites/${site.slug}/settings/iam/app-registrations/${registration.id}`;
    const before = await (await browser.get(page)).text();
    expect(before).toContain("Public keys (private_key_jwt)");
    expect(before).toContain(`hx-post="${page}/keys"`);

    const { publicKey } = await generateKeyPair("ES256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "page-key-1", alg: "ES256" };
    const added = await browser.post(`${page}/keys`, { key: JSON.stringify(jwk), kid: "", alg: "ES256", expires: "" });
    expect(added.status).toBeLessThan(400);
    const after = await (await browser.get(page)).text();
    expect(after).toContain("page-key-1");
    // The audit trail names the key change in words.
    expect(after).toContain("Public key added");
  });
});
