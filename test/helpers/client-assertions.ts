import { base64url, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { parseClientKeyUpload } from "../../src/client-keys/parse";
import type { KeyAlgorithm } from "../../src/db/schema";
import { type AssertionKey, JWT_BEARER_ASSERTION_TYPE } from "../../src/oauth/client-auth/private-key-jwt";
import { generateClientKeyPair, type TestKeyPair } from "./key-pairs";

export { JWT_BEARER_ASSERTION_TYPE };

/** A client's key pair with its public half stored the way an upload stores it. */
export interface ClientKey extends TestKeyPair {
  kid: string;
  stored: AssertionKey;
}

let nextKeyId = 1_000_000;

export async function clientKey(alg: KeyAlgorithm, kid = `${alg.toLowerCase()}-${nextKeyId}`): Promise<ClientKey> {
  const pair = await generateClientKeyPair(alg);
  const parsed = await parseClientKeyUpload({ key: JSON.stringify({ ...pair.publicJwk, kid }) });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return {
    ...pair,
    kid,
    stored: {
      id: nextKeyId++,
      kid,
      alg,
      publicJwk: JSON.stringify(parsed.key.publicJwk),
      expiresAt: null,
      lastUsedAt: null,
    },
  };
}

export interface AssertionOptions {
  /** Claims to set or override; `undefined` values remove the claim. */
  claims?: Record<string, unknown>;
  /** Header parameters to set or override (alg and kid default to the key's). */
  header?: Record<string, unknown>;
  /** Sign with this private key instead of the client's. */
  signWith?: CryptoKey;
  /** Extensions the signer accepts in crit. */
  crit?: Record<string, boolean>;
}

/** The claims of a correct assertion for `clientId` at `nowMs`: iss = sub = Client ID, aud = issuer, 5 minutes. */
export function assertionClaims(clientId: string, audience: string, nowMs: number): JWTPayload {
  const now = Math.floor(nowMs / 1000);
  return { iss: clientId, sub: clientId, aud: audience, iat: now, exp: now + 300, jti: crypto.randomUUID() };
}

/** Signs a client assertion with real keys; options make it wrong in exactly one way. */
export async function signAssertion(key: ClientKey, base: JWTPayload, options: AssertionOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = { ...base, ...options.claims };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  const header: Record<string, unknown> = { alg: key.alg, kid: key.kid, typ: "JWT", ...options.header };
  for (const [name, value] of Object.entries(header)) if (value === undefined) delete header[name];
  return new SignJWT(claims)
    .setProtectedHeader(header as { alg: string })
    .sign(options.signWith ?? key.privateKey, options.crit ? { crit: options.crit } : undefined);
}

const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));

/** An unsecured JWT (alg none, empty signature) naming the client's kid. */
export function unsecuredAssertion(key: ClientKey, claims: JWTPayload): string {
  return `${encodeJson({ alg: "none", kid: key.kid, typ: "JWT" })}.${encodeJson(claims)}.`;
}

/** The classic key-confusion forgery: HS256 with the registered public key's bytes as the HMAC secret. */
export async function hmacWithPublicKey(key: ClientKey, claims: JWTPayload): Promise<string> {
  const secret = new TextEncoder().encode(key.stored.publicJwk);
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: key.kid, typ: "JWT" }).sign(secret);
}

/** A key pair the registration does not know (an attacker's). */
export async function attackerKey(alg: KeyAlgorithm | "PS256" = "ES256") {
  return generateKeyPair(alg, { extractable: true });
}

/** The form of a private_key_jwt token request. */
export function assertionForm(assertion: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    grant_type: "client_credentials",
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    client_assertion: assertion,
    ...extra,
  };
}
