import { CompactSign, type CryptoKey, decodeJwt, errors, importJWK, type JWK, jwtVerify } from "jose";
import { type Settling, settling } from "../lib/settled";

/**
 * The jose calls for our own tokens live in this module: signing keys (import, JWKS), access token signing and
 * verification. Every `jwtVerify` names its algorithms, issuer, audience and `typ`. Two other modules call jose,
 * each for one job and nothing else: `client-auth/private-key-jwt.ts` verifies client assertions against a
 * registration's public keys (§9), and `src/client-keys/parse.ts` imports an uploaded PEM or JWK and computes its
 * thumbprint.
 */

/** Algorithms our own signing keys may use (§7: ES256, or EdDSA). */
export const SIGNING_ALGORITHMS = ["ES256", "EdDSA"] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** RFC 9068 §2.1: the media type of JWT access tokens. */
export const ACCESS_TOKEN_TYPE = "at+jwt";

/** Public members per key type (RFC 7518 §6): everything else, above all `d`, never leaves the Worker. */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  EC: ["kty", "crv", "x", "y"],
  OKP: ["kty", "crv", "x"],
};

interface VerificationKey {
  alg: SigningAlgorithm;
  key: CryptoKey;
}

export interface SigningKeySet {
  /** The first key of the set: it signs every new access token. */
  signer: { kid: string; alg: SigningAlgorithm; key: CryptoKey };
  /** Every key of the set by `kid`: tokens signed by any of them verify (rotation). */
  verifiers: ReadonlyMap<string, VerificationKey>;
  algorithms: SigningAlgorithm[];
  /** What GET /.well-known/jwks.json serves: public members only. */
  publicJwks: { keys: JWK[] };
}

export class SigningKeyConfigError extends Error {
  override name = "SigningKeyConfigError";
}

function publicPart(jwk: JWK & { kid: string; alg: SigningAlgorithm }): JWK {
  const members = PUBLIC_MEMBERS[jwk.kty ?? ""] ?? [];
  const out: Record<string, unknown> = {};
  for (const name of members) out[name] = (jwk as Record<string, unknown>)[name];
  return { ...out, kid: jwk.kid, alg: jwk.alg, use: "sig" } as JWK;
}

function parseKeySet(source: string): (JWK & { kid: string; alg: SigningAlgorithm })[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch {
    throw new SigningKeyConfigError("SIGNING_KEYS is not JSON");
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new SigningKeyConfigError("SIGNING_KEYS has no keys");
  const seen = new Set<string>();
  return keys.map((key: JWK, index) => {
    if (typeof key !== "object" || key === null) throw new SigningKeyConfigError(`SIGNING_KEYS[${index}] is not a JWK`);
    if (typeof key.kid !== "string" || key.kid === "" || seen.has(key.kid)) {
      throw new SigningKeyConfigError(`SIGNING_KEYS[${index}] needs a unique kid`);
    }
    seen.add(key.kid);
    if (!SIGNING_ALGORITHMS.includes(key.alg as SigningAlgorithm) || !PUBLIC_MEMBERS[key.kty ?? ""]) {
      throw new SigningKeyConfigError(`SIGNING_KEYS[${index}] must be an EC (ES256) or OKP (EdDSA) key with alg`);
    }
    if (index === 0 && typeof key.d !== "string") {
      throw new SigningKeyConfigError("the first key of SIGNING_KEYS signs and must be a private key");
    }
    return key as JWK & { kid: string; alg: SigningAlgorithm };
  });
}

async function importKeySet(source: string): Promise<SigningKeySet> {
  const jwks = parseKeySet(source);
  const verifiers = new Map<string, VerificationKey>();
  const publicJwks: JWK[] = [];
  for (const jwk of jwks) {
    const pub = publicPart(jwk);
    publicJwks.push(pub);
    verifiers.set(jwk.kid, { alg: jwk.alg, key: (await importJWK(pub, jwk.alg)) as CryptoKey });
  }
  const first = jwks[0] as (typeof jwks)[number];
  const signer = { kid: first.kid, alg: first.alg, key: (await importJWK(first, first.alg)) as CryptoKey };
  return { signer, verifiers, algorithms: [...new Set(jwks.map((k) => k.alg))], publicJwks: { keys: publicJwks } };
}

let cached: { source: string; keys: Settling<SigningKeySet> } | undefined;

/**
 * The key set of the `SIGNING_KEYS` secret, imported once per isolate (§7) and re-imported only when the secret
 * changes. A set that fails to import is not cached, so a fixed secret is picked up without a restart.
 */
function signingKeySet(source: string): Settling<SigningKeySet> {
  if (cached?.source === source) return cached.keys;
  const entry = {
    source,
    keys: settling(importKeySet(source), () => {
      if (cached === entry) cached = undefined;
    }),
  };
  cached = entry;
  return entry.keys;
}

export function loadSigningKeys(source: string): Promise<SigningKeySet> {
  return signingKeySet(source).promise;
}

/**
 * The key set once it is imported, without a promise to wait on: what the token endpoint signs with on every
 * request after the first (`loadedSigningKeys(s) ?? (await loadSigningKeys(s))`).
 */
export function loadedSigningKeys(source: string): SigningKeySet | undefined {
  return signingKeySet(source).value;
}

export interface AccessTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  client_id: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
  jti: string;
  scope: string;
  site: string;
}

const encoder = new TextEncoder();

/**
 * RFC 9068 §2: a JWT access token with header `typ: at+jwt`, signed by the first key of the set. A JWT is a JWS
 * whose payload is its claims as JSON (RFC 7519 §7.1); the claims are complete and typed here, so jose signs them as
 * they are (CompactSign), without SignJWT's copy and checks of each claim on every token.
 */
export function signAccessToken(keys: SigningKeySet, claims: AccessTokenClaims): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: keys.signer.alg, kid: keys.signer.kid, typ: ACCESS_TOKEN_TYPE })
    .sign(keys.signer.key);
}

/** Why a bearer token was refused, in §8 detail codes. */
export type TokenRejection = "AccessTokenExpired" | "InvalidSignature" | "InvalidIssuer" | "InvalidTokenType";

export type AccessTokenVerification =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; reason: TokenRejection; description: string };

const REQUIRED_CLAIMS = ["iat", "exp", "sub", "client_id", "jti", "site"];

function rejection(reason: TokenRejection, description: string): AccessTokenVerification {
  return { ok: false, reason, description };
}

/**
 * Verifies an access token locally with the published keys (§7): algorithm pinned to the key named by `kid`,
 * issuer, audience and `typ` pinned. `now` is milliseconds.
 */
export async function verifyAccessToken(
  keys: SigningKeySet,
  token: string,
  expected: { issuer: string; audience: string; now: number },
): Promise<AccessTokenVerification> {
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.kid === undefined ? undefined : keys.verifiers.get(header.kid);
        // The algorithm is pinned to the key: a token naming another algorithm for a known kid never verifies.
        if (!key || header.alg !== key.alg) throw new errors.JWKSNoMatchingKey();
        return key.key;
      },
      {
        algorithms: keys.algorithms,
        issuer: expected.issuer,
        audience: expected.audience,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: REQUIRED_CLAIMS,
        currentDate: new Date(expected.now),
      },
    );
    for (const claim of ["sub", "client_id", "jti", "site"] as const) {
      if (typeof payload[claim] !== "string")
        return rejection("InvalidTokenType", `The ${claim} claim is not a string.`);
    }
    if (payload.scope !== undefined && typeof payload.scope !== "string") {
      return rejection("InvalidTokenType", "The scope claim is not a string.");
    }
    return { ok: true, claims: payload as unknown as AccessTokenClaims };
  } catch (error) {
    return rejectionOf(error);
  }
}

function rejectionOf(error: unknown): AccessTokenVerification {
  if (error instanceof errors.JWTExpired) return rejection("AccessTokenExpired", "The access token expired.");
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "typ":
        return rejection("InvalidTokenType", "The token is not an access token (typ at+jwt).");
      case "iss":
        return rejection("InvalidIssuer", "The access token was issued by another issuer.");
      case "aud":
        return rejection("InvalidIssuer", "The access token was issued for another audience.");
      default:
        return rejection("InvalidTokenType", `The access token's ${error.claim} claim is missing or invalid.`);
    }
  }
  if (error instanceof errors.JOSEError) {
    return rejection("InvalidSignature", "The access token's signature does not verify.");
  }
  throw error;
}

/**
 * The `client_id` a token claims, without verifying it: only to attribute a refused token to a registration in the
 * security log ("Client ID as sent", §8). Null when the token is not a readable JWT.
 */
export function unverifiedClientId(token: string): string | null {
  try {
    const claims = decodeJwt(token);
    return typeof claims.client_id === "string" ? claims.client_id : null;
  } catch {
    return null;
  }
}

const MAX_CACHED_TOKENS = 10_000;
/** Per key set: verified tokens (with the issuer and audience they were checked for) → their claims. */
const verifiedTokens = new WeakMap<SigningKeySet, Map<string, AccessTokenClaims>>();

/**
 * `verifyAccessToken` with a per-isolate memory of tokens that verified: a consumer sends the same token for up to
 * its lifetime, and repeating the signature check for the same bytes, keys, issuer and audience proves nothing new.
 * Only `exp` depends on time, so it is checked again on every use. A new key set (rotation) starts an empty memory.
 */
export async function verifyAccessTokenCached(
  keys: SigningKeySet,
  token: string,
  expected: { issuer: string; audience: string; now: number },
): Promise<AccessTokenVerification> {
  let cache = verifiedTokens.get(keys);
  if (!cache) {
    cache = new Map();
    verifiedTokens.set(keys, cache);
  }
  const cacheKey = `${expected.issuer} ${expected.audience} ${token}`;
  const claims = cache.get(cacheKey);
  if (claims && claims.exp > expected.now / 1000) return { ok: true, claims };
  cache.delete(cacheKey);
  const verified = await verifyAccessToken(keys, token, expected);
  if (verified.ok) {
    if (cache.size >= MAX_CACHED_TOKENS) cache.clear();
    cache.set(cacheKey, verified.claims);
  }
  return verified;
}
