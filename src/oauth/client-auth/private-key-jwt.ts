import { type CryptoKey, compactVerify, decodeJwt, decodeProtectedHeader, errors, importJWK, type JWK } from "jose";
import { KEY_ALGORITHMS, type KeyAlgorithm } from "../../db/schema";
import { strictUtf8 } from "../../lib/text";
import { afterResponse } from "../after-response";
import { d1ReplayStore, type ReplayStore } from "../assertion-replay";
import { TOKEN_ENDPOINT_PATH } from "../config";
import type { AssertionOnlyFailureCode } from "../errors";
import { claimLastUsedWrite, recordKeyLastUsed } from "../last-used";
import type { ClientAuthMethod } from "./types";

/**
 * private_key_jwt client authentication (§9; RFC 7523 §3 and §2.2, RFC 7521 §4.2, RFC 9700 §2.5 and its note on
 * audience values). The client signs a short-lived JWT with a private key whose public half is registered on its App
 * registration; every way the assertion can be wrong ends in one §8 detail code.
 */

/** RFC 7523 §2.2 */
export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** Algorithms a registered key may be pinned to, as advertised in `token_endpoint_auth_signing_alg_values_supported`. */
export const CLIENT_ASSERTION_SIGNING_ALGORITHMS: readonly KeyAlgorithm[] = KEY_ALGORITHMS;

/**
 * The `alg` header values each pinned algorithm accepts. RFC 9864 names the Ed25519 signature `Ed25519` and
 * deprecates the polymorphic `EdDSA`; both denote the same algorithm on an Ed25519 key, and current clients (such as
 * oauth4webapi) send `Ed25519`.
 */
const ACCEPTED_HEADER_ALGORITHMS: Record<KeyAlgorithm, readonly string[]> = {
  ES256: ["ES256"],
  RS256: ["RS256"],
  EdDSA: ["EdDSA", "Ed25519"],
};

/** §9: `iat` and `nbf` may be this far ahead of our clock (the client's clock may run a little fast). */
export const MAX_FUTURE_SKEW_SECONDS = 60;
/** §9 and seed 004 (TokenValidityTooBroad): an assertion is valid for at most two hours. */
export const MAX_ASSERTION_VALIDITY_SECONDS = 2 * 60 * 60;
/** `jti` is part of a D1 primary key; real ones are UUIDs or 128-bit random strings. */
export const MAX_JTI_LENGTH = 256;

/** What verifying an assertion can fail with: a §9 code, or the request/registration codes every method shares. */
export type AssertionFailureCode = "MalformedRequest" | "InvalidIntegration" | AssertionOnlyFailureCode;

/** A registered public key as the token endpoint loads it. */
export interface AssertionKey {
  id: number;
  kid: string;
  alg: KeyAlgorithm;
  /** The stored public JWK (JSON text). */
  publicJwk: string;
  /** Epoch ms; null for a key without expiry. */
  expiresAt: number | null;
  lastUsedAt?: number | null;
}

export interface ClientAssertionInput {
  /** `client_assertion_type` as sent. */
  assertionType: string | undefined;
  /** `client_assertion` as sent. */
  assertion: string | undefined;
  /** `client_id` as sent (optional with private_key_jwt, RFC 7521 §4.2). */
  clientId?: string | undefined;
  /** The registration the request names (by client_id, or by the assertion's iss), with its keys; null if unknown. */
  registration: { clientId: string; keys: readonly AssertionKey[] } | null;
  /** Our issuer identifier: the audience an assertion must name (RFC 7523bis). */
  issuer: string;
  /** The token endpoint URL, accepted as audience too (RFC 7523 §3 item 3). */
  tokenEndpoint: string;
  /** Epoch ms. */
  now: number;
  replay: ReplayStore;
}

export type ClientAssertionResult =
  | { ok: true; clientId: string; key: AssertionKey }
  | { ok: false; code: AssertionFailureCode };

const fail = (code: AssertionFailureCode): ClientAssertionResult => ({ ok: false, code });

/** `typ` values of a client assertion (RFC 7523bis `client-authentication+jwt`, or the generic `JWT`). */
const ASSERTION_TYPES = new Set(["application/jwt", "application/client-authentication+jwt"]);

/** RFC 7515 §4.1.9: `typ` is a media type whose `application/` prefix may be left out; compared case-insensitively. */
function mediaTypeOf(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.includes("/") ? lower : `application/${lower}`;
}

interface DecodedAssertion {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** The header and claims without verifying anything, or null when the assertion is not a compact JWS with a JSON claims set. */
export function decodeClientAssertion(assertion: string): DecodedAssertion | null {
  if (assertion.split(".").length !== 3) return null;
  try {
    return { header: decodeProtectedHeader(assertion), claims: decodeJwt(assertion) };
  } catch {
    return null;
  }
}

/** The Client ID an assertion claims to come from, to look its registration up (nothing is verified yet). */
export function claimedClientId(decoded: DecodedAssertion): string | null {
  const { header, claims } = decoded;
  const pick = (...values: unknown[]) => values.find((v): v is string => typeof v === "string" && v !== "") ?? null;
  // An access token presented as an assertion is attributed to the client it was issued to (RFC 9068 client_id).
  if (typeof header.typ === "string" && mediaTypeOf(header.typ) === "application/at+jwt") {
    return pick(claims.client_id, claims.sub, claims.iss);
  }
  return pick(claims.iss);
}

/**
 * Verifies a client assertion (§9) and names the first thing wrong with it as a §8 detail code. Order: the form,
 * the token type, the key (kid, expiry, pinned algorithm), the signature, then the claims of the now authentic
 * payload (iss/sub/client_id, aud, times), and last the single use of `jti`, so an assertion refused for any other
 * reason never burns its `jti`.
 */
export async function verifyClientAssertion(input: ClientAssertionInput): Promise<ClientAssertionResult> {
  if (input.assertionType !== JWT_BEARER_ASSERTION_TYPE || !input.assertion) return fail("MalformedRequest");
  const assertion = input.assertion;
  const decoded = decodeClientAssertion(assertion);
  if (!decoded) return fail("MalformedRequest");
  const { header } = decoded;

  // An access token (ours or anyone's), or another kind of JWT, is not a client assertion. Our own access tokens
  // are also recognised by their issuer, whatever their header says.
  if (typeof header.typ === "string" && !ASSERTION_TYPES.has(mediaTypeOf(header.typ))) return fail("InvalidTokenType");
  if (header.typ !== undefined && typeof header.typ !== "string") return fail("InvalidTokenType");
  if (decoded.claims.iss === input.issuer) return fail("InvalidTokenType");

  const registration = input.registration;
  if (!registration) return fail("InvalidIntegration");

  // RFC 7515 §4.1.11: we understand no extension, so any critical one makes the JWS invalid. `b64` (RFC 7797) only
  // takes effect through crit, so this also keeps unencoded payloads out.
  if (header.crit !== undefined || header.b64 !== undefined) return fail("MalformedRequest");

  // §9: the kid is required and names one of the registration's keys. jwk, jku, x5u and x5c are never used to
  // find a key: only registered keys verify.
  if (typeof header.kid !== "string" || header.kid === "") return fail("MissingKeyId");
  const kid = header.kid;
  const key = registration.keys.find((k) => k.kid === kid);
  if (!key || (key.expiresAt !== null && input.now >= key.expiresAt)) return fail("MissingKey");

  // The algorithm is pinned to the key: none, HMAC (with the public key as secret) and any other are refused.
  const algorithms = ACCEPTED_HEADER_ALGORITHMS[key.alg];
  if (typeof header.alg !== "string" || !algorithms.includes(header.alg)) return fail("UnsupportedAlgo");

  let payload: Uint8Array;
  try {
    const verified = await compactVerify(assertion, await importAssertionKey(key), { algorithms: [header.alg] });
    payload = verified.payload;
  } catch (error) {
    if (error instanceof errors.JOSEAlgNotAllowed) return fail("UnsupportedAlgo");
    return fail("InvalidSignature");
  }
  const claims = parseClaims(payload);
  if (!claims) return fail("MalformedRequest");

  // RFC 7523 §3 items 1 and 2: iss and sub are the Client ID; client_id, when sent, names the same client.
  if (typeof claims.iss !== "string") return fail("InvalidIssuer");
  if (input.clientId !== undefined && input.clientId !== claims.iss) return fail("ClientIdMismatch");
  if (claims.iss !== registration.clientId || claims.sub !== registration.clientId) return fail("InvalidIssuer");
  // RFC 7523 §3 item 3 and RFC 7523bis: aud is our issuer identifier (the token endpoint URL is still accepted), as
  // a single value, so an assertion meant for another server cannot be replayed here.
  if (!audienceAccepted(claims.aud, [input.issuer, input.tokenEndpoint])) return fail("InvalidIssuer");

  const nowSeconds = input.now / 1000;
  // RFC 7523 §3 item 4: exp is required and must not have passed.
  if (!isNumericDate(claims.exp) || claims.exp <= nowSeconds) return fail("TokenExpired");
  for (const claim of ["iat", "nbf"] as const) {
    const value = claims[claim];
    if (value === undefined) continue;
    if (!isNumericDate(value) || value > nowSeconds + MAX_FUTURE_SKEW_SECONDS) return fail("TokenNotAcceptable");
  }
  // §9: exp at most 2 hours after iat; without iat, at most 2 hours from now.
  const validFrom = isNumericDate(claims.iat) ? claims.iat : nowSeconds;
  if (claims.exp - validFrom > MAX_ASSERTION_VALIDITY_SECONDS) return fail("TokenValidityTooBroad");

  // RFC 7523 §3 item 7: single use until exp, through one atomic conditional insert.
  if (typeof claims.jti !== "string" || claims.jti === "" || claims.jti.length > MAX_JTI_LENGTH) {
    return fail("MalformedRequest");
  }
  const claimed = await input.replay.claim(`${registration.clientId}:${claims.jti}`, claims.exp * 1000, input.now);
  if (!claimed) return fail("TokenReplayed");
  return { ok: true, clientId: registration.clientId, key };
}

function isNumericDate(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function audienceAccepted(aud: unknown, accepted: string[]): boolean {
  const value = Array.isArray(aud) && aud.length === 1 ? aud[0] : aud;
  return typeof value === "string" && accepted.includes(value);
}

function parseClaims(payload: Uint8Array): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(strictUtf8.decode(payload));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

const MAX_CACHED_KEYS = 1000;
/** `alg|public JWK` → imported key: each registered key is imported once per isolate. */
const importedKeys = new Map<string, Promise<CryptoKey>>();

function importAssertionKey(key: AssertionKey): Promise<CryptoKey> {
  const cacheKey = `${key.alg}|${key.publicJwk}`;
  let imported = importedKeys.get(cacheKey);
  if (!imported) {
    if (importedKeys.size >= MAX_CACHED_KEYS) importedKeys.clear();
    imported = importJWK(JSON.parse(key.publicJwk) as JWK, key.alg) as Promise<CryptoKey>;
    // A failed import is not cached, so it is retried rather than remembered.
    imported.catch(() => importedKeys.delete(cacheKey));
    importedKeys.set(cacheKey, imported);
  }
  return imported;
}

/** What private_key_jwt reads from a token request. */
export interface PrivateKeyJwtCredentials {
  assertionType: string;
  assertion: string;
  /** `client_id` as sent, if it was. */
  clientIdParam: string | undefined;
}

/**
 * `private_key_jwt` (RFC 7523 §2.2, §3) as a client authentication method of the token endpoint. The registration
 * is looked up by client_id when sent, otherwise by the Client ID the assertion claims (its iss); every refusal is
 * the same 401 invalid_client for the caller and its §8 code in the security log.
 */
export const privateKeyJwt: ClientAuthMethod<PrivateKeyJwtCredentials> = {
  name: "private_key_jwt",
  usesAuthorizationHeader: false,
  signingAlgorithms: CLIENT_ASSERTION_SIGNING_ALGORITHMS,
  singleUse: true,
  present({ params }) {
    const assertionType = params.get("client_assertion_type");
    const assertion = params.get("client_assertion");
    if (assertionType === undefined && assertion === undefined) return { kind: "absent" };
    // RFC 7521 §4.2: both parameters travel together, and only the JWT bearer type is supported.
    if (assertion === undefined) {
      return { kind: "malformed", description: "client_assertion_type was sent without client_assertion." };
    }
    if (assertionType !== JWT_BEARER_ASSERTION_TYPE) {
      return { kind: "malformed", description: `client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}.` };
    }
    const clientIdParam = params.get("client_id");
    const decoded = decodeClientAssertion(assertion);
    // An unreadable assertion without client_id names no client: it is still answered (and logged) as a failed
    // client authentication, under no Site.
    const clientId = clientIdParam ?? (decoded ? claimedClientId(decoded) : null) ?? "";
    return { kind: "present", clientId, credentials: { assertionType, assertion, clientIdParam } };
  },
  async verify(credentials, client, context) {
    const result = await verifyClientAssertion({
      assertionType: credentials.assertionType,
      assertion: credentials.assertion,
      clientId: credentials.clientIdParam,
      registration: client ? { clientId: client.clientId, keys: client.keys } : null,
      issuer: context.issuer,
      tokenEndpoint: `${context.issuer}${TOKEN_ENDPOINT_PATH}`,
      now: context.now,
      replay: d1ReplayStore(context.env.DB),
    });
    if (!result.ok) return { ok: false, detail: result.code };
    const { key } = result;
    if (claimLastUsedWrite("client_key", key.id, key.lastUsedAt, context.now)) {
      afterResponse(context.waitUntil, "recording key last used", () =>
        recordKeyLastUsed(context.env.DB, key.id, context.now),
      );
    }
    return { ok: true };
  },
};
