import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { appRegistrations, clientSecrets } from "../../src/db/schema";
import { CLIENT_SECRET_PATTERN, hashClientSecret } from "../../src/registrations/secrets";
import { createSite, db } from "../helpers/app";
import { createRegistration } from "../helpers/registrations";

describe("creating a registration", () => {
  it("stores a UUID v4 Client ID and only the keyed hash of an asc_ secret", async () => {
    const site = await createSite({ timeZone: "Europe/Berlin" });
    const { registration, clientSecret } = await createRegistration(site.id, { expirationDate: "2030-03-01" });
    expect(registration.clientId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(clientSecret).toMatch(CLIENT_SECRET_PATTERN);
    // 00:00 on 1 March 2030 in Berlin (CET, UTC+1).
    expect(registration.expiresAt).toBe(Date.UTC(2030, 1, 28, 23, 0));
    const secrets = await db()
      .select()
      .from(clientSecrets)
      .where(eq(clientSecrets.registrationId, registration.id))
      .all();
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.secretHash).toBe(await hashClientSecret(env.SECRET_PEPPER, clientSecret));
    expect(JSON.stringify(secrets)).not.toContain(clientSecret);
    const row = await db().select().from(appRegistrations).where(eq(appRegistrations.id, registration.id)).get();
    expect(JSON.stringify(row)).not.toContain(clientSecret);
  });
});
