import { hmacBytes, hmacHex, randomToken } from "../lib/crypto";

/** §2: `asc_` + 43 base64url characters (256 random bits). */
export const CLIENT_SECRET_PATTERN = /^asc_[A-Za-z0-9_-]{43}$/;

const SECRET_PREFIX = "asc_";

export function generateClientSecret(): string {
  return `${SECRET_PREFIX}${randomToken(32)}`;
}

/**
 * §2: the only part of a secret stored in the clear and ever shown again: `asc_` plus its first 4 random characters
 * (24 of its 256 bits), enough to tell two secrets of a registration apart.
 */
export function clientSecretHint(secret: string): string {
  return secret.slice(0, SECRET_PREFIX.length + 4);
}

/** The only form in which a client secret is stored: HMAC-SHA256 keyed with the server-side pepper, hex. */
export function hashClientSecret(pepper: string, secret: string): Promise<string> {
  return hmacHex(pepper, secret);
}

/** The same keyed hash as bytes, as the token endpoint compares it with the stored ones (client-store.ts). */
export function clientSecretDigest(pepper: string, secret: string): Promise<Uint8Array> {
  return hmacBytes(pepper, secret);
}

export function generateClientId(): string {
  return crypto.randomUUID();
}
