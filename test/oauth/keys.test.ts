import { env } from "cloudflare:workers";
import { decodeProtectedHeader, exportJWK, generateKeyPair, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import { loadedSigningKeys, loadSigningKeys, verifyAccessTokenCached } from "../../src/oauth/jose";
import { ORIGIN } from "../helpers/app";
import { callWorker, createClient, eventsFor, requestToken, servedJwks, verifyWithServedJwks } from "../helpers/oauth";

async function privateJwk(kid: string, alg: "ES256" | "EdDSA" = "ES256"): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg, use: "sig" };
}

const keySet = (...keys: JWK[]) => JSON.stringify({ keys });

async function tokenFor(client: { clientId: string; clientSecret: string }, signingKeys: string) {
  const res = await requestToken({ ...client, bindings: { SIGNING_KEYS: signingKeys } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

function listDevices(site: string, token: string, signingKeys: string) {
  return callWorker(
    `/api/v1/sites/${site}/devices`,
    { headers: { Authorization: `Bearer ${token}` } },
    { SIGNING_KEYS: signingKeys },
  );
}

describe("JWKS", () => {
  it("publishes the public part of every signing key, cacheable", async () => {
    const res = await callWorker("/.well-known/jwks.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
    const { keys } = (await res.json()) as { keys: JWK[] };
    const configured = (JSON.parse(env.SIGNING_KEYS) as { keys: JWK[] }).keys;
    expect(keys.map((k) => k.kid)).toEqual(configured.map((k) => k.kid));
    for (const [i, key] of keys.entries()) {
      expect(Object.keys(key).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x", "y"]);
      expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig", x: configured[i]?.x });
      expect(key.d).toBeUndefined();
    }
  });

  it("never publishes private members, whatever the secret holds", async () => {
    const signer = await privateJwk("k-secret-members");
    const withExtras = { ...signer, p: "x", q: "y", dp: "z", key_ops: ["sign"], ext: true };
    const keys = await servedJwks({ SIGNING_KEYS: keySet(withExtras as JWK) });
    expect(JSON.stringify(keys)).not.toContain(signer.d as string);
    expect(Object.keys(keys.keys[0] ?? {}).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x", "y"]);
  });

  it("imports the key set once per isolate, and again only when the secret changes", async () => {
    const first = loadSigningKeys(env.SIGNING_KEYS);
    expect(loadSigningKeys(env.SIGNING_KEYS)).toBe(first);
    const other = keySet(await privateJwk("k-other"));
    const second = loadSigningKeys(other);
    expect(second).not.toBe(first);
    expect(loadSigningKeys(other)).toBe(second);
    expect((await second).signer.kid).toBe("k-other");
  });

  it("hands out an imported key set without a promise, and none before it is imported or after the secret changes", async () => {
    const source = keySet(await privateJwk("k-ready"));
    const pending = loadSigningKeys(source);
    expect(loadedSigningKeys(source)).toBeUndefined();
    const set = await pending;
    expect(loadedSigningKeys(source)).toBe(set);
    loadSigningKeys(keySet(await privateJwk("k-next")));
    expect(loadedSigningKeys(source)).toBeUndefined();
  });

  it("signs with EdDSA when the first key is an Ed25519 key", async () => {
    const client = await createClient();
    const signingKeys = keySet(await privateJwk("k-ed", "EdDSA"), await privateJwk("k-ec"));
    const token = await tokenFor(client, signingKeys);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "EdDSA", kid: "k-ed", typ: "at+jwt" });
    const { payload } = await verifyWithServedJwks(token, { bindings: { SIGNING_KEYS: signingKeys } });
    expect(payload.client_id).toBe(client.clientId);
    expect((await listDevices(client.site.slug, token, signingKeys)).status).toBe(200);
  });

  it("answers server_error, never a token, when the key set cannot sign", async () => {
    const client = await createClient();
    const publicOnly = await privateJwk("k-public");
    delete publicOnly.d;
    for (const broken of ["not json", keySet(), keySet(publicOnly)]) {
      const res = await requestToken({ ...client, bindings: { SIGNING_KEYS: broken } });
      expect(res.status).toBe(500);
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      expect(await res.json()).toEqual({
        error: "server_error",
        error_description: "The server could not complete the token request.",
      });
    }
    const jwks = await callWorker("/.well-known/jwks.json", {}, { SIGNING_KEYS: "not json" });
    expect(jwks.status).toBe(500);
    expect(await jwks.json()).toEqual({ error: "server_error" });
    expect(await eventsFor(client.clientId)).toEqual([]);
  });
});

describe("verified tokens", () => {
  it("are remembered per key set until they expire, so a repeated token is not verified again", async () => {
    const client = await createClient();
    const now = Date.now();
    const res = await requestToken({ ...client, now });
    const token = ((await res.json()) as { access_token: string }).access_token;
    const keys = await loadSigningKeys(env.SIGNING_KEYS);
    const expected = { issuer: ORIGIN, audience: env.AUDIENCE, now };
    const first = await verifyAccessTokenCached(keys, token, expected);
    const second = await verifyAccessTokenCached(keys, token, { ...expected, now: now + 60_000 });
    expect(first.ok && second.ok && first.claims === second.claims).toBe(true);
    // Another audience is checked afresh, and fails.
    expect(
      await verifyAccessTokenCached(keys, token, { ...expected, audience: "https://other.example" }),
    ).toMatchObject({
      ok: false,
      reason: "InvalidIssuer",
    });
    // Past exp the memory does not help.
    expect(await verifyAccessTokenCached(keys, token, { ...expected, now: now + 3600_000 })).toMatchObject({
      ok: false,
      reason: "AccessTokenExpired",
    });
    // Another key set (a rotation) verifies afresh.
    const rotated = await loadSigningKeys(keySet(await privateJwk("k-rotated")));
    expect(await verifyAccessTokenCached(rotated, token, expected)).toMatchObject({
      ok: false,
      reason: "InvalidSignature",
    });
  });
});

describe("signing key rotation", () => {
  it("keeps tokens of the previous key valid while it is published, and refuses them once it is retired", async () => {
    const client = await createClient();
    const oldKey = await privateJwk("k-2026-01");
    const newKey = await privateJwk("k-2026-07");

    // 1. Today: one key.
    const before = keySet(oldKey);
    const oldToken = await tokenFor(client, before);
    expect(decodeProtectedHeader(oldToken).kid).toBe("k-2026-01");

    // 2. Add the new key second and publish: verifiers learn it, the old key still signs.
    const published = keySet(oldKey, newKey);
    expect((await servedJwks({ SIGNING_KEYS: published })).keys.map((k) => k.kid)).toEqual(["k-2026-01", "k-2026-07"]);
    expect(decodeProtectedHeader(await tokenFor(client, published)).kid).toBe("k-2026-01");

    // 3. Move it first: it signs; tokens of the old key still verify, here and with the served JWKS.
    const switched = keySet(newKey, oldKey);
    const newToken = await tokenFor(client, switched);
    expect(decodeProtectedHeader(newToken).kid).toBe("k-2026-07");
    expect((await listDevices(client.site.slug, oldToken, switched)).status).toBe(200);
    expect((await listDevices(client.site.slug, newToken, switched)).status).toBe(200);
    await verifyWithServedJwks(oldToken, { bindings: { SIGNING_KEYS: switched } });

    // 4. After the longest token lifetime, retire the old key: its tokens no longer verify.
    const retired = keySet(newKey);
    expect((await servedJwks({ SIGNING_KEYS: retired })).keys.map((k) => k.kid)).toEqual(["k-2026-07"]);
    const refused = await listDevices(client.site.slug, oldToken, retired);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
    expect((await listDevices(client.site.slug, newToken, retired)).status).toBe(200);
    expect((await eventsFor(client.clientId)).map((e) => [e.event, e.detailCode])).toEqual([
      ["api_access_denied", "InvalidSignature"],
    ]);
  });

  it("accepts a retired key kept in the set without its private part (verify only)", async () => {
    const client = await createClient();
    const oldKey = await privateJwk("k-old");
    const newKey = await privateJwk("k-new");
    const oldToken = await tokenFor(client, keySet(oldKey));
    const { d: _d, ...oldPublic } = oldKey;
    const set = keySet(newKey, oldPublic);
    expect((await listDevices(client.site.slug, oldToken, set)).status).toBe(200);
  });
});

describe("authorization server metadata (RFC 8414)", () => {
  it("describes the token endpoint, the JWKS, the grant and the client authentication methods", async () => {
    const res = await callWorker("/.well-known/oauth-authorization-server");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
    expect(await res.json()).toEqual({
      issuer: ORIGIN,
      token_endpoint: `${ORIGIN}/oauth/token`,
      jwks_uri: `${ORIGIN}/.well-known/jwks.json`,
      grant_types_supported: ["client_credentials"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "private_key_jwt"],
      token_endpoint_auth_signing_alg_values_supported: ["ES256", "RS256", "EdDSA"],
      scopes_supported: [
        "devices:read",
        "devices:write",
        "registrations:read",
        "registrations:write",
        "security-log:read",
      ],
      response_types_supported: [],
    });
  });

  it("uses the configured ISSUER for the metadata and the tokens", async () => {
    const issuer = "https://login.alloyscan.example";
    const res = await callWorker("/.well-known/oauth-authorization-server", {}, { ISSUER: `${issuer}/` });
    const metadata = (await res.json()) as { issuer: string; token_endpoint: string };
    expect(metadata.issuer).toBe(issuer);
    expect(metadata.token_endpoint).toBe(`${issuer}/oauth/token`);
    const client = await createClient();
    const token = await requestToken({ ...client, bindings: { ISSUER: issuer } });
    const body = (await token.json()) as { access_token: string };
    const [, payload] = body.access_token.split(".");
    expect(JSON.parse(atob((payload ?? "").replace(/-/g, "+").replace(/_/g, "/"))).iss).toBe(issuer);
  });
});
