import { hmacHex, randomToken } from "../lib/crypto";

/** §2: `asc_` + 43 base64url characters (256 random bits). */
export const CLIENT_SECRET_PATTERN = /^asc_[A-Za-z0-9_-]{43}$/;

export function generateClientSecret(): string {
  return `asc_${randomToken(32)}`;
}

/** The only form in which a client secret is stored: HMAC-SHA256 keyed with the server-side pepper, hex. */
export function hashClientSecret(pepper: string, secret: string): Promise<string> {
  return hmacHex(pepper, secret);
}

export function generateClientId(): string {
  return crypto.randomUUID();
}
