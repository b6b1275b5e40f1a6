import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { importJWK, type JWK, type JWTPayload, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { describeDetailCode } from "../../src/audit/detail-codes";
import { parseClientKeyUpload } from "../../src/client-keys/parse";
import { addClientKey } from "../../src/client-keys/repository";
import { type SecurityEventType, type Site, sites } from "../../src/db/schema";
import { DAY, HOUR } from "../../src/lib/time";
import { createUser, db, formBody, ORIGIN, signIn } from "../helpers/app";
import {
  assertionClaims,
  assertionForm,
  attackerKey,
  type ClientKey,
  clientKey,
  signAssertion,
} from "../helpers/client-assertions";
import {
  basicAuthorization,
  callWorker,
  createClient,
  FORM,
  postToken,
  requestToken,
  uniqueIp,
} from "../helpers/oauth";
import { escapeHtml, rowsForClient, tableRows } from "../helpers/security-log";

/*
 * Each §8 detail code produced by its real cause through the real token endpoint and REST API, then found on the
 * security log page with its explanation. Time is the real clock, pinned per test (registrations are created
 * relative to it).
 */

const BOTH = ["devices:read", "devices:write"];

/** The security log of the Site, filtered, as its Site Administrator sees it at `now`. */
async function siteLog(site: Site, query: string, now: number) {
  const admin = await signIn((await createUser({ sites: [[site.id, "site_admin"]] })).email, undefined, now);
  const res = await admin.get(`/sites/${site.slug}/settings/security-log?${query}`, { now });
  expect(res.status).toBe(200);
  return res.text();
}

/** Asserts the log shows exactly one row with the code, its explanation and fix, for the Client ID and IP. */
function expectRow(html: string, event: SecurityEventType, code: string, expected: { clientId: string; ip: string }) {
  const rows = tableRows(html);
  expect(rows, code).toHaveLength(1);
  const info = describeDetailCode(event, code);
  expect(info, code).not.toBeNull();
  expect(rows[0]).toContain(code);
  expect(rows[0]).toContain(expected.clientId);
  expect(rows[0]).toContain(expected.ip);
  expect(html).toContain(`<summary title="${escapeHtml(info?.explanation ?? "")}"><code>${code}</code></summary>`);
  expect(html).toContain(escapeHtml(info?.fix ?? "?"));
}

async function expectOnSiteLog(
  site: Site,
  event: SecurityEventType,
  code: string,
  clientId: string,
  ip: string,
  now: number,
) {
  const query = new URLSearchParams({ event, code, client: clientId }).toString();
  expectRow(await siteLog(site, query, now), event, code, { clientId, ip });
}

describe("token endpoint detail codes (Service authentication failed)", () => {
  it("InvalidSecret: a wrong Client secret", async () => {
    const now = Date.now();
    const client = await createClient();
    const ip = uniqueIp();
    const res = await requestToken({ clientId: client.clientId, clientSecret: "asc_not-the-secret", ip, now });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "invalid_client" });
    await expectOnSiteLog(client.site, "service_auth_failed", "InvalidSecret", client.clientId, ip, now);
    expect(tableRows(await siteLog(client.site, "code=InvalidSecret", now))[0]).toContain(client.registration.name);
  });

  it("InvalidIntegration: an unknown Client ID, in the Global Administrator's log only", async () => {
    const now = Date.now();
    const client = await createClient();
    const unknown = crypto.randomUUID();
    const ip = uniqueIp();
    expect((await requestToken({ clientId: unknown, clientSecret: client.clientSecret, ip, now })).status).toBe(401);
    const root = await signIn((await createUser({ global: true })).email, undefined, now);
    const global = await (await root.get(`/admin/security-log?client=${unknown}`, { now })).text();
    expectRow(global, "service_auth_failed", "InvalidIntegration", { clientId: unknown, ip });
    expect(tableRows(global)[0]).toContain("No Site");
    expect(await siteLog(client.site, `ip=${ip}`, now)).toContain("No failures match the filter.");
  });

  it("IntegrationBlocked: a disabled registration, with the right secret", async () => {
    const now = Date.now();
    const client = await createClient({ enabled: false });
    const ip = uniqueIp();
    expect((await requestToken({ ...client, ip, now })).status).toBe(401);
    await expectOnSiteLog(client.site, "service_auth_failed", "IntegrationBlocked", client.clientId, ip, now);
  });

  it("IntegrationExpired: a registration past its Expiration date, with the right secret", async () => {
    const created = Date.now();
    const client = await createClient({ daysAhead: 1, now: created });
    const later = created + 3 * DAY;
    const ip = uniqueIp();
    expect((await requestToken({ ...client, ip, now: later })).status).toBe(401);
    await expectOnSiteLog(client.site, "service_auth_failed", "IntegrationExpired", client.clientId, ip, later);
  });

  it("FeatureDisabled: the Site's REST API is turned off", async () => {
    const now = Date.now();
    const client = await createClient({ site: { restApiEnabled: false } });
    const ip = uniqueIp();
    expect((await requestToken({ ...client, ip, now })).status).toBe(401);
    await expectOnSiteLog(client.site, "service_auth_failed", "FeatureDisabled", client.clientId, ip, now);
  });

  const BAD_REQUESTS = [
    {
      code: "ScopeMismatched",
      why: "a scope the registration is not allowed",
      error: "invalid_scope",
      request: { scope: "devices:write" },
    },
    {
      code: "UnsupportedGrantType",
      why: "another grant than client_credentials",
      error: "unsupported_grant_type",
      request: { grantType: "password" },
    },
  ] as const;
  for (const bad of BAD_REQUESTS) {
    it(`${bad.code}: ${bad.why}`, async () => {
      const now = Date.now();
      const client = await createClient({ scopes: ["devices:read"] });
      const ip = uniqueIp();
      const res = await requestToken({ ...client, ...bad.request, ip, now });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe(bad.error);
      await expectOnSiteLog(client.site, "service_auth_failed", bad.code, client.clientId, ip, now);
    });
  }

  it("MalformedRequest: a repeated parameter", async () => {
    const now = Date.now();
    const client = await createClient();
    const ip = uniqueIp();
    const res = await postToken(
      "grant_type=client_credentials&grant_type=client_credentials",
      { "Content-Type": FORM, Authorization: basicAuthorization(client.clientId, client.clientSecret) },
      { ip, now },
    );
    expect(res.status).toBe(400);
    await expectOnSiteLog(client.site, "service_auth_failed", "MalformedRequest", client.clientId, ip, now);
  });

  it("TooManyFailures: wrong secrets until the endpoint throttles", async () => {
    const now = Date.now();
    const client = await createClient();
    const ip = uniqueIp();
    let status = 401;
    for (let i = 0; i < 80 && status !== 429; i++) {
      status = (await requestToken({ clientId: client.clientId, clientSecret: `asc_guess-${i}`, ip, now })).status;
    }
    expect(status).toBe(429);
    await expectOnSiteLog(client.site, "service_auth_failed", "TooManyFailures", client.clientId, ip, now);
  });
});

describe("private_key_jwt detail codes", () => {
  async function keyClient(now: number) {
    const client = await createClient({ now });
    const key = await clientKey("ES256");
    const parsed = await parseClientKeyUpload({ key: JSON.stringify({ ...key.publicJwk, kid: key.kid }) });
    if (!parsed.ok) throw new Error(parsed.error.message);
    const added = await addClientKey(
      db(),
      {
        siteId: client.site.id,
        registrationId: client.registration.id,
        key: parsed.key,
        expiresAt: null,
        expiryDate: null,
        actor: { id: 0, email: "fixture@example.test" },
      },
      now,
    );
    if (!added.ok) throw new Error(added.reason);
    return { ...client, key };
  }

  const send = (assertion: string, ip: string, now: number, extra: Record<string, string> = {}) =>
    postToken(formBody(assertionForm(assertion, extra)), { "Content-Type": FORM }, { ip, now });

  type Case = [code: string, make: (c: { clientId: string; key: ClientKey }, now: number) => Promise<string>];
  const cases: Case[] = [
    [
      "MissingKeyId",
      (c, now) => signAssertion(c.key, assertionClaims(c.clientId, ORIGIN, now), { header: { kid: undefined } }),
    ],
    [
      "MissingKey",
      (c, now) => signAssertion(c.key, assertionClaims(c.clientId, ORIGIN, now), { header: { kid: "retired-key" } }),
    ],
    [
      "UnsupportedAlgo",
      async (c, now) => {
        const ed = await clientKey("EdDSA", c.key.kid);
        return signAssertion(ed, assertionClaims(c.clientId, ORIGIN, now));
      },
    ],
    [
      "InvalidSignature",
      async (c, now) =>
        signAssertion(c.key, assertionClaims(c.clientId, ORIGIN, now), {
          signWith: (await attackerKey("ES256")).privateKey,
        }),
    ],
    [
      "InvalidIssuer",
      (c, now) =>
        signAssertion(c.key, assertionClaims(c.clientId, ORIGIN, now), {
          claims: { aud: "https://elsewhere.example" },
        }),
    ],
    [
      "TokenNotAcceptable",
      (c, now) =>
        signAssertion(c.key, assertionClaims(c.clientId, ORIGIN, now), {
          claims: { iat: Math.floor(now / 1000) + 600, exp: Math.floor(now / 1000) + 900 },
        }),
    ],
    [
      "TokenExpired",
      (c, now) =>
        signAssertion(c.key, assertionClaims(c.clientId, ORIGIN, now), {
          claims: { iat: Math.floor(now / 1000) - 600, exp: Math.floor(now / 1000) - 60 },
        }),
    ],
    [
      "TokenValidityTooBroad",
      (c, now) =>
        signAssertion(c.key, assertionClaims(c.clientId, ORIGIN, now), {
          claims: { exp: Math.floor(now / 1000) + 3 * 3600 },
        }),
    ],
    [
      "InvalidTokenType",
      (c, now) =>
        signAssertion(
          c.key,
          { ...assertionClaims(c.clientId, ORIGIN, now), client_id: c.clientId },
          { header: { typ: "at+jwt" } },
        ),
    ],
  ];

  it.each(cases)("%s", async (code, make) => {
    const now = Date.now();
    const client = await keyClient(now);
    const ip = uniqueIp();
    const res = await send(await make(client, now), ip, now);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "invalid_client" });
    await expectOnSiteLog(client.site, "service_auth_failed", code, client.clientId, ip, now);
  });

  it("ClientIdMismatch: client_id names one registration, the assertion another", async () => {
    const now = Date.now();
    const client = await keyClient(now);
    const ip = uniqueIp();
    const assertion = await signAssertion(client.key, assertionClaims(crypto.randomUUID(), ORIGIN, now));
    expect((await send(assertion, ip, now, { client_id: client.clientId })).status).toBe(401);
    await expectOnSiteLog(client.site, "service_auth_failed", "ClientIdMismatch", client.clientId, ip, now);
  });

  it("TokenReplayed: the same assertion twice", async () => {
    const now = Date.now();
    const client = await keyClient(now);
    const ip = uniqueIp();
    const assertion = await signAssertion(client.key, assertionClaims(client.clientId, ORIGIN, now));
    expect((await send(assertion, ip, now)).status).toBe(200);
    expect((await send(assertion, ip, now)).status).toBe(401);
    await expectOnSiteLog(client.site, "service_auth_failed", "TokenReplayed", client.clientId, ip, now);
  });
});

describe("REST API detail codes (API access denied)", () => {
  async function tokenOf(client: { clientId: string; clientSecret: string }, now: number, scope?: string) {
    const res = await requestToken({ ...client, scope, now });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  const devices = (slug: string, token: string, ip: string, now: number, method: "GET" | "POST" = "GET") =>
    callWorker(`/api/v1/sites/${slug}/devices`, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: method === "POST" ? JSON.stringify({ name: "router", ip_address: "192.0.2.1" }) : undefined,
      ip,
      now,
    });

  /** A JWT signed with the deployment's own key, for tokens the token endpoint never issues. */
  async function signWithOwnKey(payload: JWTPayload, header: Record<string, unknown> = {}) {
    const jwk = (JSON.parse(env.SIGNING_KEYS) as { keys: JWK[] }).keys[0] as JWK;
    const key = await importJWK(jwk, "ES256");
    return new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid: jwk.kid, typ: "at+jwt", ...header }).sign(key);
  }

  function claimsOf(token: string): JWTPayload {
    const payload = token.split(".")[1] ?? "";
    return JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as JWTPayload;
  }

  type Case = [
    code: string,
    status: number,
    run: (
      c: Awaited<ReturnType<typeof createClient>>,
      ip: string,
      now: number,
    ) => Promise<{ res: Response; at: number }>,
  ];
  const cases: Case[] = [
    [
      "AccessTokenExpired",
      401,
      async (c, ip, now) => {
        const token = await tokenOf(c, now);
        const at = now + 2 * HOUR;
        return { res: await devices(c.site.slug, token, ip, at), at };
      },
    ],
    [
      "InvalidSignature",
      401,
      async (c, ip, now) => {
        const [header, payload] = (await tokenOf(c, now)).split(".");
        const other = (await tokenOf(c, now)).split(".")[2];
        return { res: await devices(c.site.slug, `${header}.${payload}.${other}`, ip, now), at: now };
      },
    ],
    [
      "InvalidIssuer",
      401,
      async (c, ip, now) => {
        const res = await requestToken({ ...c, now, bindings: { ISSUER: "https://staging.alloyscan.example" } });
        const token = ((await res.json()) as { access_token: string }).access_token;
        return { res: await devices(c.site.slug, token, ip, now), at: now };
      },
    ],
    [
      "InvalidTokenType",
      401,
      async (c, ip, now) => {
        const token = await signWithOwnKey(claimsOf(await tokenOf(c, now)), { typ: "JWT" });
        return { res: await devices(c.site.slug, token, ip, now), at: now };
      },
    ],
    [
      "InvalidScope",
      403,
      async (c, ip, now) => {
        const token = await signWithOwnKey({ ...claimsOf(await tokenOf(c, now)), scope: undefined });
        return { res: await devices(c.site.slug, token, ip, now), at: now };
      },
    ],
    [
      "ScopeMismatched",
      403,
      async (c, ip, now) => ({
        res: await devices(c.site.slug, await tokenOf(c, now, "devices:read"), ip, now, "POST"),
        at: now,
      }),
    ],
    [
      "SiteMismatch",
      403,
      async (c, ip, now) => {
        const other = await createClient();
        return { res: await devices(other.site.slug, await tokenOf(c, now), ip, now), at: now };
      },
    ],
    [
      "FeatureDisabled",
      403,
      async (c, ip, now) => {
        const token = await tokenOf(c, now);
        await db().update(sites).set({ restApiEnabled: false }).where(eq(sites.id, c.site.id));
        return { res: await devices(c.site.slug, token, ip, now), at: now };
      },
    ],
  ];

  it.each(cases)("%s", async (code, status, run) => {
    const now = Date.now();
    const client = await createClient({ scopes: BOTH });
    const ip = uniqueIp();
    const { res, at } = await run(client, ip, now);
    expect(res.status).toBe(status);
    await expectOnSiteLog(client.site, "api_access_denied", code, client.clientId, ip, at);
    const [row] = await rowsForClient(client.clientId).then((rows) =>
      rows.filter((r) => r.event === "api_access_denied"),
    );
    expect(row?.endpoint).toMatch(/^(GET|POST) \/api\/v1\/sites\/[^/]+\/devices$/);
  });
});
