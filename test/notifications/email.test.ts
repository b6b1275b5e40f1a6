import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type ExpiryNotice, LOCAL_ORIGIN, publicOrigin, renderExpiryEmail } from "../../src/notifications/email";
import { hashClientSecret } from "../../src/registrations/secrets";
import { drain, recordingBindings, runScheduled, siteWithAdmins } from "../helpers/notifications";
import { createRegistration } from "../helpers/registrations";

const ORIGIN = "https://admin.alloyscan.example";

const notice = (overrides: Partial<ExpiryNotice> = {}): ExpiryNotice => ({
  template: "expires_in_30_days",
  siteSlug: "main",
  siteName: "Main Site",
  siteTimeZone: "Europe/Berlin",
  registrationId: 42,
  registrationName: "Nightly backup",
  clientId: "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
  key: null,
  secret: null,
  expirationDate: "2031-03-01",
  expiresAt: Date.UTC(2031, 1, 28, 23),
  ...overrides,
});

describe("expiration notice emails", () => {
  it("name the Site, registration, Client ID and expiration, say what happens, and link to renew", async () => {
    const email = await renderExpiryEmail(notice(), ORIGIN);
    expect(email.subject).toBe("App registration expires in 30 days: Nightly backup (Main Site)");
    const link = `${ORIGIN}/sites/main/settings/iam/app-registrations/42`;
    for (const body of [email.text, email.html]) {
      expect(body).toContain("Main Site");
      expect(body).toContain("Nightly backup");
      expect(body).toContain("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b");
      expect(body).toContain("2031-03-01 (token requests fail from 2031-03-01 00:00 (Europe/Berlin))");
      expect(body).toContain("invalid_client");
      expect(body).toContain(link);
    }
    expect(email.text).toContain(`Open the registration to renew it: ${link}`);
    expect(email.text).toContain("The Client ID and Client secret stay the same");
    expect(email.html).toContain(`<a href="${link}"`);
    expect(email.html.startsWith('<!DOCTYPE html><html lang="en">')).toBe(true);
  });

  it("state the real time left when the notice fired, with the date, not the milestone's 7 days", async () => {
    // Europe/Berlin: 2031-02-24 10:00 is five calendar days before the Expiration date 2031-03-01.
    const email = await renderExpiryEmail(
      notice({ template: "expires_in_7_days", asOf: Date.UTC(2031, 1, 24, 9) }),
      ORIGIN,
    );
    expect(email.subject).toBe("App registration expires in 5 days, on 2031-03-01: Nightly backup (Main Site)");
    expect(email.text.split("\n")[0]).toBe("App registration expires in 5 days, on 2031-03-01");
    const lastDay = await renderExpiryEmail(
      notice({ template: "expires_in_7_days", asOf: Date.UTC(2031, 1, 28, 10) }),
      ORIGIN,
    );
    expect(lastDay.subject).toBe("App registration expires in 1 day, on 2031-03-01: Nightly backup (Main Site)");
  });

  it("say the registration has expired, and what recovering takes", async () => {
    const email = await renderExpiryEmail(notice({ template: "expired" }), ORIGIN);
    expect(email.subject).toBe("App registration has expired: Nightly backup (Main Site)");
    expect(email.text).toContain("The App registration Nightly backup in Main Site expired on 2031-03-01.");
    expect(email.text).toContain("Since 2031-03-01 00:00 (Europe/Berlin) the token endpoint refuses this Client ID");
    expect(email.text).toContain(
      "If the service no longer has its secret, open the registration, click New client secret and revoke the lost one.",
    );
    const seven = await renderExpiryEmail(notice({ template: "expires_in_7_days" }), ORIGIN);
    expect(seven.subject).toBe("App registration expires in 7 days: Nightly backup (Main Site)");
  });

  it("escape user-entered names in HTML and keep control characters out of the subject and text", async () => {
    const email = await renderExpiryEmail(
      notice({ registrationName: `<script>alert("x")</script>\r\nBcc: victim@example.test`, siteName: "R&D <Lab>" }),
      ORIGIN,
    );
    expect(email.html).not.toContain("<script>");
    expect(email.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(email.html).toContain("R&amp;D &lt;Lab&gt;");
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.subject).toBe(
      `App registration expires in 30 days: <script>alert("x")</script> Bcc: victim@example.test (R&D <Lab>)`,
    );
    expect(email.text).not.toContain("\r");
    expect(email.text).not.toMatch(/\nBcc:/);
  });

  it("describe a public key's expiry, also once the key is deleted, and a deleted registration's", async () => {
    const key = await renderExpiryEmail(
      notice({ key: { kid: "signing-2031" }, template: "expires_in_7_days" }),
      ORIGIN,
    );
    expect(key.subject).toBe(
      "App registration expires in 7 days: public key signing-2031 of Nightly backup (Main Site)",
    );
    expect(key.text).toContain("client assertions signed with this key are refused");
    expect(key.text).toContain("add a new public key");
    const gone = await renderExpiryEmail(notice({ key: { kid: null } }), ORIGIN);
    expect(gone.text).toContain("public key (deleted key)");
    const deleted = await renderExpiryEmail(notice({ registrationId: null }), ORIGIN);
    expect(deleted.text).toContain(`Open App registrations: ${ORIGIN}/sites/main/settings/iam/app-registrations\n`);
  });

  it("link to the configured public origin, or to the local one when none is set", () => {
    expect(publicOrigin({ ISSUER: "https://id.alloyscan.example/tenant?x=1" })).toBe("https://id.alloyscan.example");
    expect(publicOrigin({ ISSUER: "" })).toBe(LOCAL_ORIGIN);
    expect(publicOrigin({ ISSUER: "not a url" })).toBe(LOCAL_ORIGIN);
    // Locally, the origin wrangler dev listens on (npm start passes it); the issuer wins when both are set.
    expect(publicOrigin({ ISSUER: "", LOCAL_ORIGIN: "http://localhost:9123" })).toBe("http://localhost:9123");
    expect(publicOrigin({ ISSUER: "https://id.alloyscan.example", LOCAL_ORIGIN: "http://localhost:9123" })).toBe(
      "https://id.alloyscan.example",
    );
  });

  it("never contain a Client secret or its hash, end to end", async () => {
    const { site } = await siteWithAdmins(1);
    const now = Date.UTC(2031, 6, 1, 8);
    const { registration, clientSecret } = await createRegistration(site.id, { expirationDate: "2031-07-03", now });
    const queue = recordingBindings();
    await runScheduled(now, queue.env);
    await drain(queue);
    expect(queue.emails).toHaveLength(1);
    const [sent] = queue.emails;
    const all = JSON.stringify(sent);
    expect(all).toContain(registration.clientId);
    expect(all).not.toContain(clientSecret);
    expect(all).not.toContain(clientSecret.slice(4));
    expect(all).not.toContain(await hashClientSecret(env.SECRET_PEPPER, clientSecret));
    expect(sent?.from).toBe(env.EMAIL_FROM);
    expect(sent?.text).toContain(
      `${LOCAL_ORIGIN}/sites/${site.slug}/settings/iam/app-registrations/${registration.id}`,
    );
  });
});
