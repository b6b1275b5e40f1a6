/** All hashing, random tokens and constant-time comparison live here. */

import { type Settling, settling } from "./settled";

const encoder = new TextEncoder();

/**
 * The runtime's own encoders (Uint8Array.prototype.toBase64 and toHex, declared in typed-array-encoding.d.ts): one
 * string and no intermediate arrays, which matters on the token endpoint, where every request hashes a secret and
 * signs a token (docs/performance.md).
 */
export function base64url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

export function fromBase64url(value: string): Uint8Array {
  const padded = value.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((value.length + 3) % 4);
  const binary = atob(padded);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  return (bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toHex();
}

/** `bytes` random bytes as base64url (32 bytes = 256 bits = 43 characters). */
export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function sha256Hex(value: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", encoder.encode(value)));
}

/** HMAC keys by their secret (the pepper), imported once per isolate. */
const hmacKeys = new Map<string, Settling<CryptoKey>>();

function importHmacKey(secret: string): Settling<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    const imported = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    key = settling(imported, () => hmacKeys.delete(secret));
    hmacKeys.set(secret, key);
  }
  return key;
}

/** HMAC-SHA256 keyed with `secret` (the pepper), as bytes. Once the key is imported, it is used without waiting. */
export async function hmacBytes(secret: string, value: string): Promise<Uint8Array> {
  const key = importHmacKey(secret);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key.value ?? (await key.promise), encoder.encode(value)));
}

/** HMAC-SHA256 keyed with `secret` (the pepper), hex. */
export async function hmacHex(secret: string, value: string): Promise<string> {
  return toHex(await hmacBytes(secret, value));
}

/** The bytes of a hex string; empty when it is not hex (so it equals no digest). */
export function fromHex(hex: string): Uint8Array {
  try {
    return Uint8Array.fromHex(hex);
  } catch {
    return new Uint8Array();
  }
}

/** Constant-time equality of two byte strings of the same length (digests); different lengths are unequal. */
export function timingSafeEqualBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.byteLength !== right.byteLength) {
    // Compare against itself so the time spent does not depend on where the inputs differ.
    crypto.subtle.timingSafeEqual(left, left);
    return false;
  }
  return crypto.subtle.timingSafeEqual(left, right);
}

/** Constant-time equality of two strings of the same length (digests); different lengths are unequal. */
export function timingSafeEqual(a: string, b: string): boolean {
  return timingSafeEqualBytes(encoder.encode(a), encoder.encode(b));
}

export const PBKDF2_ITERATIONS = 100_000;

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const material = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, material, 256);
  return new Uint8Array(bits);
}

/** `pbkdf2_sha256$<iterations>$<salt>$<hash>` with a fresh 128-bit salt (§10). */
export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await pbkdf2(password, salt, iterations);
  return `pbkdf2_sha256$${iterations}$${base64url(salt)}$${base64url(hash)}`;
}

/** A well-formed hash nobody's password matches, verified against for unknown accounts (equal timing). */
export const DUMMY_PASSWORD_HASH =
  "pbkdf2_sha256$100000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iterationsText, saltText, hashText] = stored.split("$");
  const iterations = Number(iterationsText);
  if (scheme !== "pbkdf2_sha256" || !saltText || !hashText || !Number.isInteger(iterations) || iterations < 1) {
    return false;
  }
  const actual = await pbkdf2(password, fromBase64url(saltText), iterations);
  return timingSafeEqual(base64url(actual), hashText);
}
