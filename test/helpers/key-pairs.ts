import { exportJWK, generateKeyPair, type JWK } from "jose";
import type { KeyAlgorithm } from "../../src/db/schema";

export interface TestKeyPair {
  alg: KeyAlgorithm;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
}

/** A fresh key pair of the algorithm (RSA: 2048 bits), with both halves as JWKs. */
export async function generateClientKeyPair(alg: KeyAlgorithm): Promise<TestKeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, publicKey, privateKey, publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
}

/** An RSA key pair below the accepted size (jose refuses to make one, WebCrypto does not). */
export async function generateWeakRsaKeyPair(bits = 1024): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: Uint8Array.of(1, 0, 1), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
}

export async function generateP384KeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
}
