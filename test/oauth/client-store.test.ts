import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { clientKeys, clientSecrets, throttleCounters } from "../../src/db/schema";
import { lookupTokenClient } from "../../src/oauth/client-store";
import { clientSecretDigest } from "../../src/registrations/secrets";
import { db } from "../helpers/app";
import { createClient } from "../helpers/oauth";

describe("the token endpoint's one read", () => {
  it("returns the registration, its Site, its secrets, its public keys and the throttle markers", async () => {
    const now = Date.now();
    const { site, registration, clientId, clientSecret } = await createClient({
      scopes: ["devices:read", "devices:write"],
    });
    await db()
      .insert(clientSecrets)
      .values({ registrationId: registration.id, secretHash: "ab".repeat(32), createdAt: now, revokedAt: now });
    const jwk = JSON.stringify({ kty: "EC", crv: "P-256", x: "x", y: "y" });
    await db().insert(clientKeys).values({
      registrationId: registration.id,
      kid: "k1",
      alg: "ES256",
      publicJwk: jwk,
      fingerprint: "f",
      createdAt: now,
    });
    await db()
      .insert(throttleCounters)
      .values({ key: `marker-${clientId}`, windowStart: 60_000, count: 1 });

    const found = await lookupTokenClient(env.DB, {
      clientId,
      ipBlockKey: "none",
      clientBlockKey: `marker-${clientId}`,
      windowStart: 60_000,
      now,
    });
    expect(found).toEqual({
      ipBlocked: false,
      clientBlocked: true,
      client: {
        registrationId: registration.id,
        clientId,
        name: registration.name,
        enabled: true,
        scopes: ["devices:read", "devices:write"],
        accessTokenLifetime: 3600,
        expiresAt: registration.expiresAt,
        lastUsedAt: null,
        siteId: site.id,
        siteSlug: site.slug,
        siteRestApiEnabled: true,
        secrets: [
          {
            id: expect.any(Number),
            digest: await clientSecretDigest(env.SECRET_PEPPER, clientSecret),
            expiresAt: null,
            revokedAt: null,
            lastUsedAt: null,
          },
          // Retired secrets come too (live ones first), so a refusal can name the old secret a consumer still sends.
          {
            id: expect.any(Number),
            digest: new Uint8Array(32).fill(0xab),
            expiresAt: null,
            revokedAt: now,
            lastUsedAt: null,
          },
        ],
        keys: [{ id: expect.any(Number), kid: "k1", alg: "ES256", publicJwk: jwk, expiresAt: null, lastUsedAt: null }],
      },
    });
  });

  it("returns one row for an unknown Client ID, so the markers come back too", async () => {
    const found = await lookupTokenClient(env.DB, {
      clientId: crypto.randomUUID(),
      ipBlockKey: "a",
      clientBlockKey: "b",
      windowStart: 0,
      now: Date.now(),
    });
    expect(found).toEqual({ client: null, ipBlocked: false, clientBlocked: false });
  });
});
