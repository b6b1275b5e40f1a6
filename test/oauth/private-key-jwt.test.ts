import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { base64url, exportJWK, type JWTPayload, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { usedAssertions } from "../../src/db/schema";
import { d1ReplayStore, purgeUsedAssertions } from "../../src/oauth/assertion-replay";
import {
  type AssertionKey,
  type ClientAssertionInput,
  JWT_BEARER_ASSERTION_TYPE,
  verifyClientAssertion,
} from "../../src/oauth/client-auth/private-key-jwt";
import { db } from "../helpers/app";
import {
  assertionClaims,
  attackerKey,
  type ClientKey,
  clientKey,
  hmacWithPublicKey,
  signAssertion,
  unsecuredAssertion,
} from "../helpers/client-assertions";

const ISSUER = "https://auth.alloyscan.test";
const TOKEN_ENDPOINT = `${ISSUER}/oauth/token`;
const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const NOW_S = NOW / 1000;
const HOUR_S = 3600;

interface Client {
  clientId: string;
  key: ClientKey;
  keys: AssertionKey[];
  claims: JWTPayload;
}

async function client(alg: "ES256" | "RS256" | "EdDSA" = "ES256"): Promise<Client> {
  const clientId = crypto.randomUUID();
  const key = await clientKey(alg);
  return { clientId, key, keys: [key.stored], claims: assertionClaims(clientId, ISSUER, NOW) };
}

function verify(c: Client, assertion: string, overrides: Partial<ClientAssertionInput> = {}) {
  return verifyClientAssertion({
    assertionType: JWT_BEARER_ASSERTION_TYPE,
    assertion,
    registration: { clientId: c.clientId, keys: c.keys },
    issuer: ISSUER,
    tokenEndpoint: TOKEN_ENDPOINT,
    now: NOW,
    replay: d1ReplayStore(env.DB),
    ...overrides,
  });
}

async function codeOf(promise: ReturnType<typeof verifyClientAssertion>) {
  const result = await promise;
  return result.ok ? "ok" : result.code;
}

describe("a correct assertion", () => {
  for (const alg of ["ES256", "RS256", "EdDSA"] as const) {
    it(`authenticates the client with an ${alg} key and names the key used`, async () => {
      const c = await client(alg);
      const result = await verify(c, await signAssertion(c.key, c.claims));
      expect(result).toEqual({ ok: true, clientId: c.clientId, key: c.key.stored });
    });
  }

  it("accepts RFC 9864's alg Ed25519 for a key pinned to EdDSA, and only for such a key", async () => {
    const ed = await client("EdDSA");
    const fullySpecified = await signAssertion(ed.key, ed.claims, { header: { alg: "Ed25519" } });
    expect(await codeOf(verify(ed, fullySpecified))).toBe("ok");
    const es = await client("ES256");
    const onEcKey = await signAssertion(es.key, es.claims, { header: { alg: "Ed25519" }, signWith: ed.key.privateKey });
    expect(await codeOf(verify(es, onEcKey))).toBe("UnsupportedAlgo");
  });

  it("accepts client_id when it names the same client, and the token endpoint URL or a one-value array as aud", async () => {
    const c = await client();
    expect(await codeOf(verify(c, await signAssertion(c.key, c.claims), { clientId: c.clientId }))).toBe("ok");
    const endpoint = await signAssertion(c.key, c.claims, { claims: { aud: TOKEN_ENDPOINT, jti: "endpoint" } });
    expect(await codeOf(verify(c, endpoint))).toBe("ok");
    const single = await signAssertion(c.key, c.claims, { claims: { aud: [ISSUER], jti: "array" } });
    expect(await codeOf(verify(c, single))).toBe("ok");
  });

  it("accepts typ client-authentication+jwt, no typ, and a key whose expiry is still ahead", async () => {
    const c = await client();
    c.keys = [{ ...c.key.stored, expiresAt: NOW + 1000 }];
    for (const typ of ["client-authentication+jwt", "application/client-authentication+jwt", undefined]) {
      const assertion = await signAssertion(c.key, c.claims, { header: { typ }, claims: { jti: `typ-${typ}` } });
      expect(await codeOf(verify(c, assertion))).toBe("ok");
    }
  });

  it("ignores jwk, jku, x5u and x5c headers: the registered key is the only one that verifies", async () => {
    const c = await client();
    const attacker = await attackerKey();
    const header = {
      jwk: await exportJWK(attacker.publicKey),
      jku: "https://attacker.example/jwks.json",
      x5u: "https://attacker.example/cert.pem",
      x5c: ["MIIBfake"],
    };
    expect(await codeOf(verify(c, await signAssertion(c.key, c.claims, { header })))).toBe("ok");
  });

  it("accepts iat and nbf up to 60 seconds ahead and exactly 2 hours of validity", async () => {
    const c = await client();
    const ahead = await signAssertion(c.key, c.claims, {
      claims: { iat: NOW_S + 60, nbf: NOW_S + 60, exp: NOW_S + 60 + 2 * HOUR_S, jti: "edge" },
    });
    expect(await codeOf(verify(c, ahead))).toBe("ok");
    const noIat = await signAssertion(c.key, c.claims, {
      claims: { iat: undefined, exp: NOW_S + 2 * HOUR_S, jti: "n" },
    });
    expect(await codeOf(verify(c, noIat))).toBe("ok");
  });
});

describe("each failure has its §8 code", () => {
  it("MissingKeyId: no kid, or an empty one, in the header", async () => {
    const c = await client();
    expect(await codeOf(verify(c, await signAssertion(c.key, c.claims, { header: { kid: undefined } })))).toBe(
      "MissingKeyId",
    );
    expect(await codeOf(verify(c, await signAssertion(c.key, c.claims, { header: { kid: "" } })))).toBe("MissingKeyId");
  });

  it("MissingKey: a kid the registration does not hold, or a key that has expired", async () => {
    const c = await client();
    const unknown = await signAssertion(c.key, c.claims, { header: { kid: "not-registered" } });
    expect(await codeOf(verify(c, unknown))).toBe("MissingKey");
    const expired = { ...c, keys: [{ ...c.key.stored, expiresAt: NOW }] };
    expect(await codeOf(verify(expired, await signAssertion(c.key, c.claims)))).toBe("MissingKey");
    // A kid registered on another client is unknown here.
    const other = await client();
    expect(await codeOf(verify(c, await signAssertion(other.key, { ...other.claims, iss: c.clientId })))).toBe(
      "MissingKey",
    );
  });

  it("UnsupportedAlgo: alg none, HS256 keyed with the public key, and an algorithm other than the key's", async () => {
    const c = await client("RS256");
    expect(await codeOf(verify(c, unsecuredAssertion(c.key, c.claims)))).toBe("UnsupportedAlgo");
    expect(await codeOf(verify(c, await hmacWithPublicKey(c.key, c.claims)))).toBe("UnsupportedAlgo");
    // PS256 with a real RSA key under the RS256 key's kid.
    const ps256 = await attackerKey("PS256");
    const pss = await signAssertion(c.key, c.claims, { header: { alg: "PS256" }, signWith: ps256.privateKey });
    expect(await codeOf(verify(c, pss))).toBe("UnsupportedAlgo");
    const es = await attackerKey("ES256");
    const otherAlg = await signAssertion(c.key, c.claims, { header: { alg: "ES256" }, signWith: es.privateKey });
    expect(await codeOf(verify(c, otherAlg))).toBe("UnsupportedAlgo");
  });

  it("InvalidSignature: another key of the same type, an embedded attacker jwk, a tampered payload", async () => {
    for (const alg of ["ES256", "RS256", "EdDSA"] as const) {
      const c = await client(alg);
      const attacker = await attackerKey(alg);
      const forged = await signAssertion(c.key, c.claims, { signWith: attacker.privateKey });
      expect(await codeOf(verify(c, forged))).toBe("InvalidSignature");
      const embedded = await signAssertion(c.key, c.claims, {
        signWith: attacker.privateKey,
        header: { jwk: await exportJWK(attacker.publicKey) },
      });
      expect(await codeOf(verify(c, embedded))).toBe("InvalidSignature");
    }
    const c = await client();
    const [header, , signature] = (await signAssertion(c.key, c.claims)).split(".");
    const tampered = `${header}.${base64url.encode(JSON.stringify({ ...c.claims, exp: NOW_S + 100 }))}.${signature}`;
    expect(await codeOf(verify(c, tampered))).toBe("InvalidSignature");
  });

  it("InvalidIssuer: iss or sub is not the Client ID, or aud is not ours", async () => {
    const c = await client();
    const cases: Record<string, unknown>[] = [
      { iss: crypto.randomUUID() },
      { iss: undefined },
      { sub: crypto.randomUUID() },
      { sub: undefined },
      { aud: "https://other-server.example" },
      { aud: `${ISSUER}/` },
      { aud: undefined },
      { aud: [ISSUER, "https://other-server.example"] },
    ];
    for (const claims of cases) {
      const assertion = await signAssertion(c.key, c.claims, { claims });
      expect({ claims, code: await codeOf(verify(c, assertion)) }).toEqual({ claims, code: "InvalidIssuer" });
    }
  });

  it("ClientIdMismatch: client_id names another client than iss", async () => {
    const c = await client();
    const assertion = await signAssertion(c.key, c.claims, { claims: { iss: crypto.randomUUID() } });
    // The registration was found by client_id; the assertion says it is from someone else.
    expect(await codeOf(verify(c, assertion, { clientId: c.clientId }))).toBe("ClientIdMismatch");
  });

  it("TokenNotAcceptable: iat or nbf more than 60 seconds in the future", async () => {
    const c = await client();
    const iat = await signAssertion(c.key, c.claims, { claims: { iat: NOW_S + 61, exp: NOW_S + 600 } });
    expect(await codeOf(verify(c, iat))).toBe("TokenNotAcceptable");
    const nbf = await signAssertion(c.key, c.claims, { claims: { nbf: NOW_S + 120 } });
    expect(await codeOf(verify(c, nbf))).toBe("TokenNotAcceptable");
    const text = await signAssertion(c.key, c.claims, { claims: { iat: "now" } });
    expect(await codeOf(verify(c, text))).toBe("TokenNotAcceptable");
  });

  it("TokenExpired: exp passed, exp now, or no exp at all", async () => {
    const c = await client();
    for (const exp of [NOW_S - 1, NOW_S, undefined, "tomorrow"]) {
      const assertion = await signAssertion(c.key, c.claims, { claims: { exp, iat: NOW_S - 600 } });
      expect({ exp, code: await codeOf(verify(c, assertion)) }).toEqual({ exp, code: "TokenExpired" });
    }
  });

  it("TokenValidityTooBroad: exp more than 2 hours after iat, or from now without iat", async () => {
    const c = await client();
    const broad = await signAssertion(c.key, c.claims, { claims: { exp: NOW_S + 2 * HOUR_S + 1 } });
    expect(await codeOf(verify(c, broad))).toBe("TokenValidityTooBroad");
    const old = await signAssertion(c.key, c.claims, { claims: { iat: NOW_S - 3 * HOUR_S, exp: NOW_S + 60 } });
    expect(await codeOf(verify(c, old))).toBe("TokenValidityTooBroad");
    const noIat = await signAssertion(c.key, c.claims, { claims: { iat: undefined, exp: NOW_S + 2 * HOUR_S + 1 } });
    expect(await codeOf(verify(c, noIat))).toBe("TokenValidityTooBroad");
  });

  it("TokenReplayed: the same assertion twice, or a new one reusing a jti that is still live", async () => {
    const c = await client();
    const assertion = await signAssertion(c.key, c.claims);
    expect(await codeOf(verify(c, assertion))).toBe("ok");
    expect(await codeOf(verify(c, assertion))).toBe("TokenReplayed");
    const sameJti = await signAssertion(c.key, c.claims, { claims: { iat: NOW_S + 1, exp: NOW_S + 400 } });
    expect(await codeOf(verify(c, sameJti))).toBe("TokenReplayed");
    const row = await db()
      .select()
      .from(usedAssertions)
      .where(eq(usedAssertions.key, `${c.clientId}:${c.claims.jti}`))
      .get();
    expect(row?.expiresAt).toBe((c.claims.exp as number) * 1000);
  });

  it("InvalidTokenType: an access token (typ at+jwt), another JWT type, or a token from our own issuer", async () => {
    const c = await client();
    const accessToken = await signAssertion(c.key, c.claims, { header: { typ: "at+jwt" } });
    expect(await codeOf(verify(c, accessToken))).toBe("InvalidTokenType");
    const logout = await signAssertion(c.key, c.claims, { header: { typ: "logout+jwt" } });
    expect(await codeOf(verify(c, logout))).toBe("InvalidTokenType");
    const ours = await signAssertion(c.key, c.claims, { header: { typ: undefined }, claims: { iss: ISSUER } });
    expect(await codeOf(verify(c, ours))).toBe("InvalidTokenType");
  });

  it("InvalidIntegration: no registration has the Client ID", async () => {
    const c = await client();
    expect(await codeOf(verify(c, await signAssertion(c.key, c.claims), { registration: null }))).toBe(
      "InvalidIntegration",
    );
  });

  it("MalformedRequest: wrong assertion type, no assertion, not a JWS, claims not an object, crit, no jti", async () => {
    const c = await client();
    const good = await signAssertion(c.key, c.claims);
    expect(
      await codeOf(verify(c, good, { assertionType: "urn:ietf:params:oauth:client-assertion-type:saml2-bearer" })),
    ).toBe("MalformedRequest");
    expect(await codeOf(verify(c, "", {}))).toBe("MalformedRequest");
    expect(await codeOf(verify(c, "not.a.jwt"))).toBe("MalformedRequest");
    expect(await codeOf(verify(c, "only-one-part"))).toBe("MalformedRequest");
    const [header] = good.split(".");
    expect(await codeOf(verify(c, `${header}.WzEsMiwzXQ.c2ln`))).toBe("MalformedRequest");
    const crit = await signAssertion(c.key, c.claims, {
      header: { crit: ["urn:example:policy"], "urn:example:policy": "strict" },
      crit: { "urn:example:policy": true },
    });
    expect(await codeOf(verify(c, crit))).toBe("MalformedRequest");
    for (const jti of [undefined, "", 42, "j".repeat(257)]) {
      const assertion = await signAssertion(c.key, c.claims, { claims: { jti } });
      expect({ jti, code: await codeOf(verify(c, assertion)) }).toEqual({ jti, code: "MalformedRequest" });
    }
  });
});

describe("single use of jti", () => {
  it("exactly one of 50 parallel uses of one assertion succeeds against the real D1", async () => {
    const c = await client();
    const assertion = await signAssertion(c.key, c.claims);
    const results = await Promise.all(Array.from({ length: 50 }, () => codeOf(verify(c, assertion))));
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r === "TokenReplayed")).toHaveLength(49);
  });

  it("an assertion refused for another reason does not use up its jti", async () => {
    const c = await client();
    const wrongAudience = await signAssertion(c.key, c.claims, { claims: { aud: "https://elsewhere.example" } });
    expect(await codeOf(verify(c, wrongAudience))).toBe("InvalidIssuer");
    expect(await codeOf(verify(c, await signAssertion(c.key, c.claims)))).toBe("ok");
  });

  it("a jti is per client, and free again once the assertion that used it has expired", async () => {
    const first = await client();
    const second = await client();
    const jti = crypto.randomUUID();
    expect(await codeOf(verify(first, await signAssertion(first.key, first.claims, { claims: { jti } })))).toBe("ok");
    expect(await codeOf(verify(second, await signAssertion(second.key, second.claims, { claims: { jti } })))).toBe(
      "ok",
    );
    const later = NOW + 301_000;
    const fresh = assertionClaims(first.clientId, ISSUER, later);
    const reused = await signAssertion(first.key, fresh, { claims: { jti } });
    expect(await codeOf(verify(first, reused, { now: later }))).toBe("ok");
    expect(await codeOf(verify(first, reused, { now: later }))).toBe("TokenReplayed");
  });

  it("the purge deletes only rows whose assertion has expired", async () => {
    const c = await client();
    const expiring = `${c.clientId}:purge-old`;
    const live = `${c.clientId}:purge-live`;
    await db()
      .insert(usedAssertions)
      .values([
        { key: expiring, expiresAt: 1000 },
        { key: live, expiresAt: Number.MAX_SAFE_INTEGER },
      ]);
    let result = { deleted: 0, done: false };
    while (!result.done) result = await purgeUsedAssertions(env.DB, 2000, { batchSize: 1 });
    const keys = (await db().select().from(usedAssertions).all()).map((r) => r.key);
    expect(keys).not.toContain(expiring);
    expect(keys).toContain(live);
  });
});

describe("our own access token as an assertion", () => {
  it("is refused as InvalidTokenType even when signed by a registered key", async () => {
    const c = await client();
    const token = await new SignJWT({ ...c.claims, client_id: c.clientId, scope: "devices:read", iss: ISSUER })
      .setProtectedHeader({ alg: "ES256", kid: c.key.kid, typ: "at+jwt" })
      .sign(c.key.privateKey);
    expect(await codeOf(verify(c, token))).toBe("InvalidTokenType");
  });
});
