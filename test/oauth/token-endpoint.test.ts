import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { appRegistrations, clientSecrets } from "../../src/db/schema";
import { HOUR, MINUTE } from "../../src/lib/time";
import { generateClientSecret, hashClientSecret } from "../../src/registrations/secrets";
import { db, ORIGIN } from "../helpers/app";
import {
  basicAuthorization,
  callWorker,
  createClient,
  eventsFor,
  eventsFrom,
  FORM,
  midMinute,
  postToken,
  requestToken,
  TOKEN_PATH,
  uniqueIp,
  verifyWithServedJwks,
} from "../helpers/oauth";

const UA = "backup-script/2.1 (+https://example.test)";

interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

function expectNoStore(res: Response) {
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  expect(res.headers.get("Pragma")).toBe("no-cache");
}

describe("issuing tokens", () => {
  it("issues an RFC 9068 access token for client_secret_basic, verifiable with the served JWKS", async () => {
    const { site, clientId, clientSecret } = await createClient({ scopes: ["devices:read", "devices:write"] });
    const now = Date.now();
    const res = await requestToken({ clientId, clientSecret, now });
    expect(res.status).toBe(200);
    expectNoStore(res);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    const body = (await res.json()) as TokenBody;
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: "Bearer",
      expires_in: 3600,
      scope: "devices:read devices:write",
    });
    expect(body.refresh_token).toBeUndefined();

    const { payload, protectedHeader } = await verifyWithServedJwks(body.access_token, { now });
    const keys = JSON.parse(env.SIGNING_KEYS) as { keys: { kid: string }[] };
    expect(protectedHeader).toEqual({ alg: "ES256", kid: keys.keys[0]?.kid, typ: "at+jwt" });
    const iat = Math.floor(now / 1000);
    expect(payload).toEqual({
      iss: ORIGIN,
      sub: clientId,
      client_id: clientId,
      aud: env.AUDIENCE,
      iat,
      exp: iat + 3600,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      scope: "devices:read devices:write",
      site: site.slug,
    });
  });

  it("issues a token for client_secret_post, each with a fresh jti", async () => {
    const { clientId, clientSecret } = await createClient();
    const first = await requestToken({ clientId, clientSecret, method: "post" });
    const second = await requestToken({ clientId, clientSecret, method: "post" });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    const a = await verifyWithServedJwks(((await first.json()) as TokenBody).access_token);
    const b = await verifyWithServedJwks(((await second.json()) as TokenBody).access_token);
    expect(a.payload.jti).not.toBe(b.payload.jti);
    expect(a.payload.scope).toBe("devices:read");
  });

  it("form-url-decodes Basic credentials (RFC 6749 §2.3.1) and also takes them unencoded", async () => {
    const { clientId, clientSecret } = await createClient();
    // Our secrets use the base64url alphabet, so `-` and `_` arrive percent-encoded from conforming clients.
    const encoded = basicAuthorization(clientId, clientSecret);
    expect(atob(encoded.slice(6))).toContain("%2D");
    const plain = `Basic ${btoa(`${clientId}:${clientSecret}`)}`;
    for (const authorization of [encoded, plain, encoded.replace("Basic", "basic")]) {
      const res = await postToken("grant_type=client_credentials", {
        "Content-Type": FORM,
        Authorization: authorization,
      });
      expect(res.status).toBe(200);
    }
  });

  it("accepts a Content-Type with a charset and treats empty parameters as omitted (RFC 6749 §3.1)", async () => {
    const { clientId, clientSecret } = await createClient({ scopes: ["devices:read", "devices:write"] });
    const res = await postToken("grant_type=client_credentials&scope=", {
      "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
      Authorization: basicAuthorization(clientId, clientSecret),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as TokenBody).scope).toBe("devices:read devices:write");
  });

  it("accepts every live secret and refuses revoked and expired ones", async () => {
    const now = Date.now();
    const { registration, clientId, clientSecret } = await createClient();
    const second = generateClientSecret();
    const revoked = generateClientSecret();
    const expired = generateClientSecret();
    await db()
      .insert(clientSecrets)
      .values([
        {
          registrationId: registration.id,
          secretHash: await hashClientSecret(env.SECRET_PEPPER, second),
          createdAt: now,
        },
        {
          registrationId: registration.id,
          secretHash: await hashClientSecret(env.SECRET_PEPPER, revoked),
          createdAt: now,
          revokedAt: now - MINUTE,
        },
        {
          registrationId: registration.id,
          secretHash: await hashClientSecret(env.SECRET_PEPPER, expired),
          createdAt: now,
          expiresAt: now - 1,
        },
      ]);
    const ip = uniqueIp();
    expect((await requestToken({ clientId, clientSecret, now, ip })).status).toBe(200);
    expect((await requestToken({ clientId, clientSecret: second, now, ip })).status).toBe(200);
    expect((await requestToken({ clientId, clientSecret: revoked, now, ip })).status).toBe(401);
    expect((await requestToken({ clientId, clientSecret: expired, now, ip })).status).toBe(401);
    // Each old secret is named by its own code: the consumer still sends a revoked or an expired secret.
    const codes = (await eventsFor(clientId)).map((e) => [e.detailCode, e.count]).sort();
    expect(codes).toEqual([
      ["SecretExpired", 1],
      ["SecretRevoked", 1],
    ]);
  });

  it("caps exp at the registration's expiry (§3)", async () => {
    const { registration, clientId, clientSecret } = await createClient({ daysAhead: 1, accessTokenLifetime: 7200 });
    const now = registration.expiresAt - 10 * MINUTE;
    const res = await requestToken({ clientId, clientSecret, now });
    expect(res.status).toBe(200);
    const body = (await res.json()) as TokenBody;
    expect(body.expires_in).toBe(600);
    const { payload } = await verifyWithServedJwks(body.access_token, { now });
    expect(payload.exp).toBe(registration.expiresAt / 1000);
    expect(payload.exp).toBe((payload.iat ?? 0) + 600);

    const earlier = registration.expiresAt - 3 * HOUR;
    const full = (await (await requestToken({ clientId, clientSecret, now: earlier })).json()) as TokenBody;
    expect(full.expires_in).toBe(7200);
  });
});

describe("scopes", () => {
  it("grants the requested subset of the registration's scopes, and all of them when none is asked", async () => {
    const { clientId, clientSecret } = await createClient({ scopes: ["devices:read", "devices:write"] });
    const narrow = await requestToken({ clientId, clientSecret, scope: "devices:write" });
    expect(((await narrow.json()) as TokenBody).scope).toBe("devices:write");
    const both = await requestToken({ clientId, clientSecret, scope: "devices:write devices:read devices:read" });
    const token = ((await both.json()) as TokenBody).access_token;
    expect((await verifyWithServedJwks(token)).payload.scope).toBe("devices:read devices:write");
  });

  it("answers invalid_scope for a scope outside the registration and records ScopeMismatched", async () => {
    const { site, registration, clientId, clientSecret } = await createClient({ scopes: ["devices:read"] });
    const ip = uniqueIp();
    // Both in the middle of one minute, so they coalesce into one row whatever the clock says.
    const now = midMinute();
    for (const scope of ["devices:write", "devices:read admin"]) {
      const res = await requestToken({ clientId, clientSecret, scope, ip, userAgent: UA, now });
      expect(res.status).toBe(400);
      expectNoStore(res);
      expect(await res.json()).toEqual({
        error: "invalid_scope",
        error_description: "The requested scope is not allowed for this client.",
      });
    }
    const [event] = await eventsFor(clientId);
    expect(event).toMatchObject({
      siteId: site.id,
      event: "service_auth_failed",
      detailCode: "ScopeMismatched",
      registrationName: registration.name,
      ip,
      userAgent: UA,
      endpoint: "POST /oauth/token",
      count: 2,
    });
  });

  it("gives no token to a registration without scopes", async () => {
    const { registration, clientId, clientSecret } = await createClient();
    await db().update(appRegistrations).set({ scopes: "" }).where(eq(appRegistrations.id, registration.id));
    const res = await requestToken({ clientId, clientSecret });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_scope");
    expect((await eventsFor(clientId)).map((e) => e.detailCode)).toEqual(["ScopeMismatched"]);
  });
});

describe("client authentication failures", () => {
  /** Five different reasons, one answer (§7); the reason goes to the security log (§8). */
  async function failingCases() {
    const now = Date.now();
    const unknown = crypto.randomUUID();
    const wrong = await createClient();
    const disabled = await createClient({ enabled: false });
    const expired = await createClient({ daysAhead: 1 });
    await db()
      .update(appRegistrations)
      .set({ expiresAt: now - MINUTE })
      .where(eq(appRegistrations.id, expired.registration.id));
    const featureOff = await createClient({ site: { restApiEnabled: false } });
    return {
      now,
      cases: [
        { code: "InvalidIntegration", clientId: unknown, clientSecret: wrong.clientSecret, site: null, name: null },
        {
          code: "InvalidSecret",
          clientId: wrong.clientId,
          clientSecret: generateClientSecret(),
          site: wrong.site.id,
          name: wrong.registration.name,
        },
        { code: "IntegrationBlocked", ...disabled, site: disabled.site.id, name: disabled.registration.name },
        { code: "IntegrationExpired", ...expired, site: expired.site.id, name: expired.registration.name },
        { code: "FeatureDisabled", ...featureOff, site: featureOff.site.id, name: featureOff.registration.name },
      ],
    };
  }

  it("answers the same 401 invalid_client with a Basic challenge, and records each reason with its detail code", async () => {
    const { now, cases } = await failingCases();
    const answers = new Set<string>();
    for (const c of cases) {
      const ip = uniqueIp();
      const res = await requestToken({ clientId: c.clientId, clientSecret: c.clientSecret, now, ip, userAgent: UA });
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toBe('Basic realm="AlloyScan token endpoint", charset="UTF-8"');
      expectNoStore(res);
      answers.add(JSON.stringify({ body: await res.text(), headers: [...res.headers] }));
      const events = await eventsFor(c.clientId);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        siteId: c.site,
        event: "service_auth_failed",
        detailCode: c.code,
        clientId: c.clientId,
        registrationName: c.name,
        ip,
        userAgent: UA,
        endpoint: "POST /oauth/token",
        count: 1,
      });
    }
    expect(answers.size).toBe(1);
    expect(JSON.parse([...answers][0] ?? "{}").body).toBe('{"error":"invalid_client"}');
  });

  it("answers client_secret_post failures the same way, without a challenge", async () => {
    const { now, cases } = await failingCases();
    const answers = new Set<string>();
    for (const c of cases) {
      const res = await requestToken({ clientId: c.clientId, clientSecret: c.clientSecret, method: "post", now });
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toBeNull();
      answers.add(`${await res.text()} ${JSON.stringify([...res.headers])}`);
      expect((await eventsFor(c.clientId)).map((e) => e.detailCode)).toEqual([c.code]);
    }
    expect(answers.size).toBe(1);
  });

  it("refuses the right secret when its stored hash is damaged (not hex), as InvalidSecret", async () => {
    const { registration, clientId, clientSecret } = await createClient();
    await db()
      .update(clientSecrets)
      .set({ secretHash: "not hex at all" })
      .where(eq(clientSecrets.registrationId, registration.id));
    const res = await requestToken({ clientId, clientSecret });
    expect(res.status).toBe(401);
    expect((await eventsFor(clientId)).map((e) => e.detailCode)).toEqual(["InvalidSecret"]);
  });

  it("accepts a renewed or re-enabled registration at once", async () => {
    const { registration, clientId, clientSecret } = await createClient({ enabled: false });
    expect((await requestToken({ clientId, clientSecret })).status).toBe(401);
    await db().update(appRegistrations).set({ enabled: true }).where(eq(appRegistrations.id, registration.id));
    expect((await requestToken({ clientId, clientSecret })).status).toBe(200);
  });

  it("answers a request without client authentication with invalid_client", async () => {
    const ip = uniqueIp();
    const res = await postToken("grant_type=client_credentials&client_id=nobody", { "Content-Type": FORM }, { ip });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "invalid_client" });
    expect(res.headers.get("WWW-Authenticate")).toBeNull();
    expect((await eventsFrom(ip)).map((e) => [e.detailCode, e.clientId])).toEqual([["MalformedRequest", "nobody"]]);
  });

  it("answers another Authorization scheme with invalid_client and a Basic challenge", async () => {
    const res = await postToken("grant_type=client_credentials", { "Content-Type": FORM, Authorization: "Bearer abc" });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^Basic realm=/);
  });
});

describe("malformed requests", () => {
  async function expectInvalidRequest(res: Response, status: number, description: RegExp) {
    expect(res.status).toBe(status);
    expectNoStore(res);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe("invalid_request");
    expect(body.error_description).toMatch(description);
  }

  it("accepts POST only", async () => {
    const res = await callWorker(TOKEN_PATH, { method: "GET" });
    await expectInvalidRequest(res, 405, /POST only/);
    expect(res.headers.get("Allow")).toBe("POST");
  });

  it("refuses a body that is not form-encoded with 415 and records MalformedRequest", async () => {
    const { clientId, clientSecret } = await createClient();
    const ip = uniqueIp();
    const res = await postToken(
      JSON.stringify({ grant_type: "client_credentials" }),
      { "Content-Type": "application/json", Authorization: basicAuthorization(clientId, clientSecret) },
      { ip },
    );
    await expectInvalidRequest(res, 415, /application\/x-www-form-urlencoded/);
    expect((await eventsFrom(ip)).map((e) => e.detailCode)).toEqual(["MalformedRequest"]);
  });

  it("refuses a body over 8 KB with 413, with or without Content-Length", async () => {
    const { clientId, clientSecret } = await createClient();
    const headers = { "Content-Type": FORM, Authorization: basicAuthorization(clientId, clientSecret) };
    const big = `grant_type=client_credentials&pad=${"a".repeat(9000)}`;
    await expectInvalidRequest(await postToken(big, headers), 413, /larger than 8192 bytes/);
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("a".repeat(1000)));
        controller.close();
      },
    });
    await expectInvalidRequest(await postToken(stream, headers), 413, /larger than 8192 bytes/);
    // Just under the limit is read normally.
    const fits = `grant_type=client_credentials&pad=${"a".repeat(8000)}`;
    expect((await postToken(fits, headers)).status).toBe(200);
  });

  it("refuses a repeated parameter (RFC 6749 §3.2) and records it under the registration's Site", async () => {
    const { site, clientId, clientSecret } = await createClient();
    const body = new URLSearchParams([
      ["grant_type", "client_credentials"],
      ["client_id", clientId],
      ["client_secret", clientSecret],
      ["scope", "devices:read"],
      ["scope", "devices:read"],
    ]);
    await expectInvalidRequest(await postToken(body), 400, /scope is repeated/);
    const [event] = await eventsFor(clientId);
    expect(event).toMatchObject({ detailCode: "MalformedRequest", siteId: site.id });
  });

  it("refuses two client authentication methods at once", async () => {
    const { site, clientId, clientSecret } = await createClient();
    const body = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: clientSecret,
    });
    const res = await postToken(body, {
      "Content-Type": FORM,
      Authorization: basicAuthorization(clientId, clientSecret),
    });
    await expectInvalidRequest(res, 400, /exactly one client authentication method/);
    expect((await eventsFor(clientId)).map((e) => [e.detailCode, e.siteId])).toEqual([["MalformedRequest", site.id]]);
  });

  it("refuses a client_id that differs from the Basic credentials", async () => {
    const { clientId, clientSecret } = await createClient();
    const body = new URLSearchParams({ grant_type: "client_credentials", client_id: crypto.randomUUID() });
    const res = await postToken(body, {
      "Content-Type": FORM,
      Authorization: basicAuthorization(clientId, clientSecret),
    });
    await expectInvalidRequest(res, 400, /client_id differs/);
  });

  it("refuses malformed Basic headers without throwing", async () => {
    const cases: [string, RegExp][] = [
      ["Basic", /not base64/],
      ["Basic %%%", /not base64/],
      ["Basic YWJj", /no colon/],
      [`Basic ${btoa("id-only:")}`, /both a Client ID and a Client secret/],
      [`Basic ${btoa("%zz:secret")}`, /not form-url-encoded/],
      ["Basic /w==", /not base64 of UTF-8/],
    ];
    for (const [authorization, description] of cases) {
      const res = await postToken("grant_type=client_credentials", {
        "Content-Type": FORM,
        Authorization: authorization,
      });
      await expectInvalidRequest(res, 400, description);
    }
  });

  it("reads Basic credentials sent as raw UTF-8 (not form-url-encoded) and logs the Client ID as sent", async () => {
    const ip = uniqueIp();
    const clientId = `prüfgerät-${crypto.randomUUID()}`;
    const utf8 = new TextEncoder().encode(`${clientId}:${generateClientSecret()}`);
    const res = await postToken(
      "grant_type=client_credentials",
      { "Content-Type": FORM, Authorization: `Basic ${btoa(String.fromCharCode(...utf8))}` },
      { ip },
    );
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "invalid_client" });
    expect((await eventsFrom(ip)).map((e) => [e.detailCode, e.clientId])).toEqual([["InvalidIntegration", clientId]]);
  });

  it("requires grant_type, and supports client_credentials only", async () => {
    const { site, clientId, clientSecret } = await createClient();
    const missing = await requestToken({ clientId, clientSecret, grantType: "" });
    await expectInvalidRequest(missing, 400, /grant_type is missing/);
    const other = await requestToken({ clientId, clientSecret, grantType: "password" });
    expect(other.status).toBe(400);
    expect(await other.json()).toEqual({
      error: "unsupported_grant_type",
      error_description: "The token endpoint supports grant_type client_credentials only.",
    });
    const codes = (await eventsFor(clientId)).map((e) => [e.detailCode, e.siteId]).sort();
    expect(codes).toEqual([
      ["MalformedRequest", site.id],
      ["UnsupportedGrantType", site.id],
    ]);
  });

  it("checks client authentication before the grant type", async () => {
    const res = await requestToken({ clientId: crypto.randomUUID(), clientSecret: "asc_x", grantType: "password" });
    expect(res.status).toBe(401);
  });

  it("ignores parameters it does not know: the token's Site is always the registration's", async () => {
    const { site, clientId, clientSecret } = await createClient();
    const other = await createClient();
    const body = new URLSearchParams({ grant_type: "client_credentials", site: other.site.slug, aud: "x" });
    const res = await postToken(body, {
      "Content-Type": FORM,
      Authorization: basicAuthorization(clientId, clientSecret),
    });
    const token = ((await res.json()) as TokenBody).access_token;
    const { payload } = await verifyWithServedJwks(token);
    expect(payload.site).toBe(site.slug);
    expect(payload.aud).toBe(env.AUDIENCE);
  });
});

describe("headers of every token endpoint answer", () => {
  it("carry no-store and an API answer's security headers, on a token, a refusal and a malformed request", async () => {
    const { clientId, clientSecret } = await createClient();
    const answers = [
      await requestToken({ clientId, clientSecret }),
      await requestToken({ clientId, clientSecret: "asc_wrong" }),
      await postToken("grant_type=client_credentials", { "Content-Type": "text/plain" }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 401, 415]);
    for (const res of answers) {
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      expect(res.headers.get("Strict-Transport-Security")).toMatch(/max-age=\d+/);
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    }
  });
});
