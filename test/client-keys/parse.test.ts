import { calculateJwkThumbprint, exportJWK } from "jose";
import { describe, expect, it } from "vitest";
import { MAX_KEY_INPUT_BYTES, parseClientKeyUpload } from "../../src/client-keys/parse";
import { generateClientKeyPair, generateP384KeyPair, generateWeakRsaKeyPair } from "../helpers/key-pairs";
import { privateKeyPem, publicKeyPem, selfSignedCertificate } from "../helpers/x509";

const ALGORITHMS = ["ES256", "RS256", "EdDSA"] as const;

async function refusal(input: Parameters<typeof parseClientKeyUpload>[0]) {
  const result = await parseClientKeyUpload(input);
  if (result.ok) throw new Error(`expected a refusal, got key ${result.key.kid}`);
  return result.error;
}

describe("accepted uploads", () => {
  for (const alg of ALGORITHMS) {
    it(`takes a public ${alg} JWK with its own kid and pins ${alg}`, async () => {
      const pair = await generateClientKeyPair(alg);
      const result = await parseClientKeyUpload({ key: JSON.stringify({ ...pair.publicJwk, kid: "jwk-1" }) });
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.key.kid).toBe("jwk-1");
      expect(result.key.alg).toBe(alg);
      expect(result.key.fingerprint).toBe(await calculateJwkThumbprint(pair.publicJwk, "sha256"));
      expect(result.key.publicJwk).toEqual({ ...pair.publicJwk, kid: "jwk-1", alg, use: "sig" });
    });

    it(`takes a PEM certificate of an ${alg} key with the kid from the form`, async () => {
      const pair = await generateClientKeyPair(alg);
      const certificate = await selfSignedCertificate(pair, alg);
      const result = await parseClientKeyUpload({ key: certificate, kid: "cert-1" });
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.key).toMatchObject({ kid: "cert-1", alg });
      // The certificate's key and the generated public key are the same key: same RFC 7638 thumbprint.
      expect(result.key.fingerprint).toBe(await calculateJwkThumbprint(pair.publicJwk, "sha256"));
      expect(Object.keys(result.key.publicJwk).sort()).toEqual(
        [...Object.keys(pair.publicJwk), "kid", "alg", "use"].sort(),
      );
    });
  }

  it("takes a PEM public key (SubjectPublicKeyInfo) when the chosen algorithm fits", async () => {
    const pair = await generateClientKeyPair("ES256");
    const result = await parseClientKeyUpload({ key: await publicKeyPem(pair.publicKey), kid: "spki", alg: "ES256" });
    expect(result.ok && result.key.fingerprint).toBe(await calculateJwkThumbprint(pair.publicJwk));
  });

  it("takes the one key of a JWK set, ignores surrounding whitespace and keeps only public members", async () => {
    const pair = await generateClientKeyPair("RS256");
    const jwks = JSON.stringify({ keys: [{ ...pair.publicJwk, kid: "set-1", x5t: "ignored", ext: true }] });
    const result = await parseClientKeyUpload({ key: `\n  ${jwks}\n` });
    expect(result.ok && result.key.publicJwk).toEqual({ ...pair.publicJwk, kid: "set-1", alg: "RS256", use: "sig" });
  });

  it("takes an Ed25519 JWK declaring RFC 9864's alg Ed25519 and pins it as EdDSA", async () => {
    const pair = await generateClientKeyPair("EdDSA");
    const result = await parseClientKeyUpload({
      key: JSON.stringify({ ...pair.publicJwk, kid: "ed", alg: "Ed25519" }),
    });
    expect(result.ok && result.key.alg).toBe("EdDSA");
  });

  it("accepts a kid typed in the form that equals the JWK's own", async () => {
    const pair = await generateClientKeyPair("EdDSA");
    const result = await parseClientKeyUpload({ key: JSON.stringify({ ...pair.publicJwk, kid: "k" }), kid: "k" });
    expect(result.ok).toBe(true);
  });
});

describe("refused uploads", () => {
  it("refuses a private JWK", async () => {
    const pair = await generateClientKeyPair("ES256");
    const error = await refusal({ key: JSON.stringify({ ...pair.privateJwk, kid: "p" }) });
    expect(error).toMatchObject({ field: "key", code: "private_key" });
    expect(error.message).toContain("private key");
  });

  it("refuses a private RSA JWK even when only its CRT members are left", async () => {
    const pair = await generateClientKeyPair("RS256");
    const { d: _d, ...withoutD } = pair.privateJwk;
    expect((await refusal({ key: JSON.stringify({ ...withoutD, kid: "p" }) })).code).toBe("private_key");
  });

  it("refuses a PEM private key and a PEM holding a certificate and its private key", async () => {
    const pair = await generateClientKeyPair("ES256");
    const privatePem = await privateKeyPem(pair.privateKey);
    expect((await refusal({ key: privatePem, kid: "p" })).code).toBe("private_key");
    const bundle = `${await selfSignedCertificate(pair, "ES256")}${privatePem}`;
    expect((await refusal({ key: bundle, kid: "p" })).code).toBe("private_key");
    const legacy = privatePem.replaceAll("PRIVATE KEY", "EC PRIVATE KEY");
    expect((await refusal({ key: legacy, kid: "p" })).code).toBe("private_key");
  });

  it("refuses a symmetric key", async () => {
    const error = await refusal({ key: JSON.stringify({ kty: "oct", k: "c2VjcmV0LXNlY3JldC1zZWNyZXQ", kid: "s" }) });
    expect(error).toMatchObject({ field: "key", code: "symmetric_key" });
    expect(error.message).toContain("symmetric");
  });

  it("refuses RSA keys under 2048 bits, as JWK and as certificate", async () => {
    const weak = await generateWeakRsaKeyPair(1024);
    const jwk = await exportJWK(weak.publicKey);
    const asJwk = await refusal({ key: JSON.stringify({ ...jwk, kid: "weak" }) });
    expect(asJwk).toMatchObject({ code: "weak_rsa", message: expect.stringContaining("1024 bits") });
    const asCertificate = await refusal({ key: await selfSignedCertificate(weak, "RS256"), kid: "weak" });
    expect(asCertificate.code).toBe("weak_rsa");
  });

  it("refuses EC curves other than P-256, as JWK and as certificate", async () => {
    const p384 = await generateP384KeyPair();
    const jwk = await exportJWK(p384.publicKey);
    expect(await refusal({ key: JSON.stringify({ ...jwk, kid: "p384" }) })).toMatchObject({
      code: "unsupported_key",
      message: expect.stringContaining("P-384"),
    });
    const certificate = await selfSignedCertificate(p384, "ES384");
    expect(await refusal({ key: certificate, kid: "p384" })).toMatchObject({
      code: "unsupported_key",
      message: expect.stringContaining("P-384"),
    });
  });

  it("refuses an OKP key that is not Ed25519", async () => {
    const x25519 = { kty: "OKP", crv: "X25519", x: "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo", kid: "x" };
    expect((await refusal({ key: JSON.stringify(x25519) })).code).toBe("unsupported_key");
  });

  it("refuses an algorithm that does not fit the key, chosen in the form or declared in the JWK", async () => {
    const ec = await generateClientKeyPair("ES256");
    const chosen = await refusal({ key: JSON.stringify({ ...ec.publicJwk, kid: "m" }), alg: "RS256" });
    expect(chosen).toMatchObject({ field: "alg", code: "algorithm_mismatch" });
    const declared = await refusal({ key: JSON.stringify({ ...ec.publicJwk, kid: "m", alg: "EdDSA" }) });
    expect(declared).toMatchObject({ field: "key", code: "algorithm_mismatch" });
    const certificate = await refusal({ key: await selfSignedCertificate(ec, "ES256"), kid: "m", alg: "EdDSA" });
    expect(certificate).toMatchObject({ field: "alg", code: "algorithm_mismatch" });
    expect(certificate.message).toContain("EC P-256");
  });

  it("refuses algorithms other than ES256, RS256 and EdDSA", async () => {
    const rsa = await generateClientKeyPair("RS256");
    expect(await refusal({ key: JSON.stringify({ ...rsa.publicJwk, kid: "u" }), alg: "HS256" })).toMatchObject({
      field: "alg",
      code: "unsupported_algorithm",
    });
    expect(await refusal({ key: JSON.stringify({ ...rsa.publicJwk, kid: "u", alg: "PS256" }) })).toMatchObject({
      field: "key",
      code: "unsupported_algorithm",
    });
    expect((await refusal({ key: JSON.stringify({ ...rsa.publicJwk, kid: "u" }), alg: "none" })).code).toBe(
      "unsupported_algorithm",
    );
  });

  it("refuses keys marked for encryption", async () => {
    const ec = await generateClientKeyPair("ES256");
    expect((await refusal({ key: JSON.stringify({ ...ec.publicJwk, kid: "e", use: "enc" }) })).code).toBe(
      "not_for_signing",
    );
  });

  it("refuses garbage, broken JSON, a broken certificate and an EC point that is not on the curve", async () => {
    expect((await refusal({ key: "hello, this is my key" })).code).toBe("unreadable");
    expect((await refusal({ key: '{"kty": "EC",' })).code).toBe("unreadable");
    expect((await refusal({ key: "[1,2,3]" })).code).toBe("unreadable");
    const broken = "-----BEGIN CERTIFICATE-----\nTUlJQnNvbWV0aGluZw==\n-----END CERTIFICATE-----";
    expect((await refusal({ key: broken, kid: "b" })).code).toBe("unreadable");
    const ec = await generateClientKeyPair("ES256");
    const offCurve = { ...ec.publicJwk, y: ec.publicJwk.x, kid: "off" };
    expect((await refusal({ key: JSON.stringify(offCurve) })).code).toBe("unreadable");
  });

  it("refuses an empty upload and one over 16 KB before parsing it", async () => {
    expect((await refusal({ key: "   " })).code).toBe("empty");
    const big = JSON.stringify({ kty: "EC", padding: "x".repeat(MAX_KEY_INPUT_BYTES) });
    expect(await refusal({ key: big })).toMatchObject({ code: "too_large", message: expect.stringContaining("16 KB") });
  });

  it("refuses a JWK set with several keys and a PEM with several certificates", async () => {
    const a = await generateClientKeyPair("ES256");
    const b = await generateClientKeyPair("ES256");
    expect((await refusal({ key: JSON.stringify({ keys: [a.publicJwk, b.publicJwk] }) })).code).toBe("several_keys");
    const chain = `${await selfSignedCertificate(a, "ES256")}${await selfSignedCertificate(b, "ES256")}`;
    expect((await refusal({ key: chain, kid: "c" })).code).toBe("several_keys");
  });

  it("requires a kid: always for a certificate, for a JWK that has none", async () => {
    const pair = await generateClientKeyPair("ES256");
    const certificate = await refusal({ key: await selfSignedCertificate(pair, "ES256") });
    expect(certificate).toMatchObject({ field: "kid", code: "kid_required" });
    expect((await refusal({ key: JSON.stringify(pair.publicJwk) })).code).toBe("kid_required");
  });

  it("refuses a kid that differs from the JWK's own or is not a plain token", async () => {
    const pair = await generateClientKeyPair("ES256");
    expect(await refusal({ key: JSON.stringify({ ...pair.publicJwk, kid: "a" }), kid: "b" })).toMatchObject({
      field: "kid",
      code: "kid_mismatch",
    });
    expect((await refusal({ key: JSON.stringify(pair.publicJwk), kid: "two words" })).code).toBe("kid_invalid");
    expect((await refusal({ key: JSON.stringify(pair.publicJwk), kid: "k".repeat(129) })).code).toBe("kid_invalid");
  });
});
