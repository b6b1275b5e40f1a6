import { exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { exportJWK } from "jose";
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { addClientKey } from "../../src/client-keys/repository";
import type { KeyAlgorithm } from "../../src/db/schema";
import { clientKeys, securityEvents } from "../../src/db/schema";
import { MINUTE } from "../../src/lib/time";
import { db, ORIGIN } from "../helpers/app";
import {
  assertionClaims,
  assertionForm,
  attackerKey,
  clientKey,
  hmacWithPublicKey,
  JWT_BEARER_ASSERTION_TYPE,
  signAssertion,
  unsecuredAssertion,
} from "../helpers/client-assertions";
import {
  basicAuthorization,
  createClient,
  eventsFor,
  eventsWithCode,
  FORM,
  postToken,
  registrationRow,
  requestToken,
  verifyWithServedJwks,
} from "../helpers/oauth";

const TOKEN_ENDPOINT = `${ORIGIN}/oauth/token`;
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const NOW_S = NOW / 1000;

/** A registration in its own Site with one registered public key, stored the way the admin page stores it. */
async function keyedClient(alg: KeyAlgorithm = "ES256", options: { expiresAt?: number; enabled?: boolean } = {}) {
  const { site, registration, clientId, clientSecret } = await createClient({
    now: NOW,
    enabled: options.enabled,
    scopes: ["devices:read", "devices:write"],
  });
  const key = await clientKey(alg);
  const stored = await addClientKey(
    db(),
    {
      siteId: site.id,
      registrationId: registration.id,
      key: {
        kid: key.kid,
        alg,
        publicJwk: JSON.parse(key.stored.publicJwk),
        fingerprint: "test",
      },
      expiresAt: options.expiresAt ?? null,
      expiryDate: null,
      actor: { id: 0, email: "test@example.test" },
    },
    NOW,
  );
  if (!stored.ok) throw new Error(stored.reason);
  key.stored.id = stored.key.id;
  return { site, registration, clientId, clientSecret, key, claims: assertionClaims(clientId, ORIGIN, NOW) };
}

function postAssertion(
  assertion: string,
  extra: Record<string, string> = {},
  init: { now?: number; headers?: Record<string, string> } = {},
) {
  return postToken(
    new URLSearchParams(assertionForm(assertion, extra)),
    { "Content-Type": FORM, ...init.headers },
    {
      now: init.now ?? NOW,
    },
  );
}

/** §8: the caller sees only a bare invalid_client, the security log the exact code, under the registration's Site. */
async function expectRefused(client: Awaited<ReturnType<typeof keyedClient>>, response: Response, code: string) {
  expect(response.status).toBe(401);
  expect(await response.json()).toEqual({ error: "invalid_client" });
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  expect(response.headers.get("WWW-Authenticate")).toBeNull();
  const events = await eventsFor(client.clientId);
  expect(events.map((e) => e.detailCode)).toEqual([code]);
  expect(events[0]).toMatchObject({
    siteId: client.site.id,
    event: "service_auth_failed",
    registrationName: client.registration.name,
    endpoint: "POST /oauth/token",
    count: 1,
  });
}

describe("a token with private_key_jwt", () => {
  for (const alg of ["ES256", "RS256", "EdDSA"] as const) {
    it(`is issued for an ${alg} assertion, and the key's and the registration's Last used are recorded`, async () => {
      const c = await keyedClient(alg);
      const res = await postAssertion(await signAssertion(c.key, c.claims), { scope: "devices:read" });
      expect(res.status).toBe(200);
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      const body = (await res.json()) as { access_token: string; token_type: string; scope: string };
      expect(body).toMatchObject({ token_type: "Bearer", scope: "devices:read", expires_in: 3600 });
      const { payload } = await verifyWithServedJwks(body.access_token, { now: NOW });
      expect(payload).toMatchObject({ sub: c.clientId, client_id: c.clientId, iss: ORIGIN, site: c.site.slug });

      const key = await db().select().from(clientKeys).where(eq(clientKeys.id, c.key.stored.id)).get();
      expect(key?.lastUsedAt).toBe(NOW);
      expect((await registrationRow(c.registration.id))?.lastUsedAt).toBe(NOW);
      expect(await eventsFor(c.clientId)).toEqual([]);
    });
  }

  it("accepts client_id alongside the assertion and the token endpoint URL as audience", async () => {
    const c = await keyedClient();
    const assertion = await signAssertion(c.key, c.claims, { claims: { aud: TOKEN_ENDPOINT } });
    expect((await postAssertion(assertion, { client_id: c.clientId })).status).toBe(200);
  });

  it("writes the key's Last used at most once a minute", async () => {
    const c = await keyedClient();
    const first = await postAssertion(await signAssertion(c.key, c.claims));
    expect(first.status).toBe(200);
    const soon = NOW + 30_000;
    const second = await postAssertion(
      await signAssertion(c.key, assertionClaims(c.clientId, ORIGIN, soon)),
      {},
      {
        now: soon,
      },
    );
    expect(second.status).toBe(200);
    const read = () => db().select().from(clientKeys).where(eq(clientKeys.id, c.key.stored.id)).get();
    expect((await read())?.lastUsedAt).toBe(NOW);
    const later = NOW + MINUTE + 1;
    const third = await postAssertion(
      await signAssertion(c.key, assertionClaims(c.clientId, ORIGIN, later)),
      {},
      {
        now: later,
      },
    );
    expect(third.status).toBe(200);
    expect((await read())?.lastUsedAt).toBe(later);
  });

  it("is still subject to the registration's state: a disabled registration gets IntegrationBlocked", async () => {
    const c = await keyedClient("ES256", { enabled: false });
    await expectRefused(c, await postAssertion(await signAssertion(c.key, c.claims)), "IntegrationBlocked");
  });
});

describe("each refused assertion answers invalid_client and records its §8 code", () => {
  const cases: [
    string,
    string,
    (c: Awaited<ReturnType<typeof keyedClient>>) => Promise<[string, Record<string, string>?]>,
  ][] = [
    [
      "MissingKeyId",
      "no kid in the header",
      async (c) => [await signAssertion(c.key, c.claims, { header: { kid: undefined } })],
    ],
    [
      "MissingKey",
      "a kid the registration does not hold",
      async (c) => [await signAssertion(c.key, c.claims, { header: { kid: "unknown-kid" } })],
    ],
    ["UnsupportedAlgo", "alg none", async (c) => [unsecuredAssertion(c.key, c.claims)]],
    [
      "UnsupportedAlgo",
      "HS256 keyed with the registered public key",
      async (c) => [await hmacWithPublicKey(c.key, c.claims)],
    ],
    [
      "InvalidSignature",
      "an attacker's key embedded as jwk",
      async (c) => {
        const attacker = await attackerKey();
        const jwk = await exportJWK(attacker.publicKey);
        return [await signAssertion(c.key, c.claims, { signWith: attacker.privateKey, header: { jwk } })];
      },
    ],
    [
      "InvalidIssuer",
      "sub not the Client ID",
      async (c) => [await signAssertion(c.key, c.claims, { claims: { sub: "someone-else" } })],
    ],
    [
      "InvalidIssuer",
      "aud of another server",
      async (c) => [await signAssertion(c.key, c.claims, { claims: { aud: "https://login.other.example" } })],
    ],
    [
      "ClientIdMismatch",
      "client_id naming this client, iss another",
      async (c) => [
        await signAssertion(c.key, c.claims, { claims: { iss: crypto.randomUUID() } }),
        { client_id: c.clientId },
      ],
    ],
    [
      "TokenNotAcceptable",
      "iat 2 minutes ahead",
      async (c) => [await signAssertion(c.key, c.claims, { claims: { iat: NOW_S + 120 } })],
    ],
    [
      "TokenNotAcceptable",
      "nbf 2 minutes ahead",
      async (c) => [await signAssertion(c.key, c.claims, { claims: { nbf: NOW_S + 120 } })],
    ],
    [
      "TokenExpired",
      "exp in the past",
      async (c) => [await signAssertion(c.key, c.claims, { claims: { iat: NOW_S - 600, exp: NOW_S - 1 } })],
    ],
    ["TokenExpired", "no exp", async (c) => [await signAssertion(c.key, c.claims, { claims: { exp: undefined } })]],
    [
      "TokenValidityTooBroad",
      "valid for a day",
      async (c) => [await signAssertion(c.key, c.claims, { claims: { exp: NOW_S + 86_400 } })],
    ],
    [
      "InvalidTokenType",
      "typ at+jwt",
      async (c) => [await signAssertion(c.key, c.claims, { header: { typ: "at+jwt" } })],
    ],
    [
      "MalformedRequest",
      "an unknown crit extension",
      async (c) => [
        await signAssertion(c.key, c.claims, {
          header: { crit: ["urn:example:policy"], "urn:example:policy": 1 },
          crit: { "urn:example:policy": true },
        }),
      ],
    ],
    ["MalformedRequest", "no jti", async (c) => [await signAssertion(c.key, c.claims, { claims: { jti: undefined } })]],
  ];

  for (const [code, what, make] of cases) {
    it(`${code}: ${what}`, async () => {
      const c = await keyedClient();
      const [assertion, extra] = await make(c);
      await expectRefused(c, await postAssertion(assertion, extra), code);
    });
  }

  it("MissingKey: a key whose expiry has passed", async () => {
    const c = await keyedClient("RS256", { expiresAt: NOW });
    await expectRefused(c, await postAssertion(await signAssertion(c.key, c.claims)), "MissingKey");
  });

  it("TokenReplayed: the second use of an assertion", async () => {
    const c = await keyedClient();
    const assertion = await signAssertion(c.key, c.claims);
    expect((await postAssertion(assertion)).status).toBe(200);
    await expectRefused(c, await postAssertion(assertion), "TokenReplayed");
  });

  it("InvalidTokenType: an access token this server issued, presented as the assertion", async () => {
    const c = await keyedClient();
    const issued = await requestToken({ clientId: c.clientId, clientSecret: c.clientSecret, now: NOW });
    const { access_token: accessToken } = (await issued.json()) as { access_token: string };
    await expectRefused(c, await postAssertion(accessToken), "InvalidTokenType");
  });

  it("InvalidIntegration: an assertion from a Client ID no registration has, under no Site", async () => {
    const c = await keyedClient();
    const stranger = crypto.randomUUID();
    const claims = assertionClaims(stranger, ORIGIN, NOW);
    const res = await postAssertion(await signAssertion(c.key, claims));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "invalid_client" });
    expect(await eventsWithCode(stranger, "InvalidIntegration")).toMatchObject([{ siteId: null }]);
  });

  it("MalformedRequest: an assertion that is not a JWT, with client_id", async () => {
    const c = await keyedClient();
    await expectRefused(c, await postAssertion("this-is-not-a-jwt", { client_id: c.clientId }), "MalformedRequest");
  });
});

describe("exactly one client authentication method per request", () => {
  it("refuses an assertion together with Basic credentials as invalid_request", async () => {
    const c = await keyedClient();
    const assertion = await signAssertion(c.key, c.claims);
    const res = await postAssertion(
      assertion,
      {},
      { headers: { Authorization: basicAuthorization(c.clientId, c.clientSecret) } },
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_request");
    expect((await eventsFor(c.clientId)).map((e) => e.detailCode)).toEqual(["MalformedRequest"]);
    // The assertion was not looked at, so it was not used up.
    expect((await postAssertion(assertion)).status).toBe(200);
  });

  it("refuses an assertion together with client_secret as invalid_request", async () => {
    const c = await keyedClient();
    const res = await postAssertion(await signAssertion(c.key, c.claims), {
      client_id: c.clientId,
      client_secret: c.clientSecret,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_request");
  });

  it("refuses another assertion type or an assertion type without assertion as invalid_request", async () => {
    const c = await keyedClient();
    const assertion = await signAssertion(c.key, c.claims);
    const saml = await postAssertion(assertion, {
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
    });
    expect(saml.status).toBe(400);
    const typeOnly = await postToken(
      new URLSearchParams({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER_ASSERTION_TYPE }),
      { "Content-Type": FORM },
      { now: NOW },
    );
    expect(typeOnly.status).toBe(400);
    expect(((await typeOnly.json()) as { error: string }).error).toBe("invalid_request");
  });
});

describe("single use under concurrency", () => {
  it("of 50 parallel token requests with one assertion, exactly one gets a token", async () => {
    const c = await keyedClient();
    const assertion = await signAssertion(c.key, c.claims);
    const responses = await Promise.all(Array.from({ length: 50 }, () => postAssertion(assertion)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    // The rest are refused: invalid_client, or 429 once the Client ID's failure budget (§8 throttling) is spent.
    expect(statuses.filter((s) => s !== 200).every((s) => s === 401 || s === 429)).toBe(true);
    const refused = await Promise.all(responses.filter((r) => r.status === 401).map((r) => r.json()));
    expect(refused.every((b) => JSON.stringify(b) === '{"error":"invalid_client"}')).toBe(true);
    const events = await db().select().from(securityEvents).where(eq(securityEvents.clientId, c.clientId)).all();
    const total = (code: string) => events.filter((e) => e.detailCode === code).reduce((n, e) => n + e.count, 0);
    expect(total("TokenReplayed")).toBe(statuses.filter((s) => s === 401).length);
    expect(total("TokenReplayed") + total("TooManyFailures")).toBe(49);
    expect((await registrationRow(c.registration.id))?.lastUsedAt).toBe(NOW);
  });
});

describe("oauth4webapi as the client", () => {
  const issuer = new URL(ORIGIN);
  const options = {
    [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) =>
      exports.default.fetch(new Request(url, init as RequestInit)),
  };

  for (const alg of ["ES256", "RS256", "EdDSA"] as const) {
    it(`gets a token with its PrivateKeyJwt client authentication and an ${alg} key`, async () => {
      const c = await keyedClient(alg);
      const as = await oauth.processDiscoveryResponse(
        issuer,
        await oauth.discoveryRequest(issuer, { ...options, algorithm: "oauth2" }),
      );
      expect(as.token_endpoint_auth_methods_supported).toContain("private_key_jwt");
      const client: oauth.Client = { client_id: c.clientId };
      const clientAuth = oauth.PrivateKeyJwt({ key: c.key.privateKey, kid: c.key.kid });
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        client,
        clientAuth,
        { scope: "devices:write" },
        options,
      );
      const tokens = await oauth.processClientCredentialsResponse(as, client, response);
      expect(tokens.token_type).toBe("bearer");
      expect(tokens.scope).toBe("devices:write");
      const { payload } = await verifyWithServedJwks(tokens.access_token);
      expect(payload.client_id).toBe(c.clientId);
    });
  }
});
