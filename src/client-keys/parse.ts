import { calculateJwkThumbprint, exportJWK, importJWK, importSPKI, importX509, type JWK } from "jose";
import { KEY_ALGORITHMS, type KeyAlgorithm } from "../db/schema";
import { fromBase64url } from "../lib/crypto";

/** Uploads larger than this are refused before any parsing (a certificate or a JWK is a few KB at most). */
export const MAX_KEY_INPUT_BYTES = 16 * 1024;
export const MIN_RSA_BITS = 2048;
/** Larger RSA keys only cost verification time on the hot path. */
export const MAX_RSA_BITS = 8192;
export const MAX_KID_LENGTH = 128;

/** Stable codes for every way an upload can be refused; tests assert these, people read `message`. */
export type KeyUploadErrorCode =
  | "empty"
  | "too_large"
  | "unreadable"
  | "several_keys"
  | "private_key"
  | "symmetric_key"
  | "weak_rsa"
  | "unsupported_key"
  | "unsupported_algorithm"
  | "algorithm_mismatch"
  | "not_for_signing"
  | "kid_required"
  | "kid_invalid"
  | "kid_mismatch";

export interface KeyUploadError {
  /** The form field the message belongs next to. */
  field: "key" | "kid" | "alg";
  code: KeyUploadErrorCode;
  message: string;
}

/** A validated public key, ready to store: only public members, with its kid and pinned algorithm. */
export interface ParsedClientKey {
  kid: string;
  alg: KeyAlgorithm;
  publicJwk: JWK;
  /** RFC 7638 JWK thumbprint (SHA-256, base64url). */
  fingerprint: string;
}

export type KeyUploadResult = { ok: true; key: ParsedClientKey } | { ok: false; error: KeyUploadError };

export interface KeyUploadInput {
  /** A PEM certificate (or PEM public key) or a public JWK as JSON. */
  key: string;
  /** Required when the key itself carries none (always for PEM). */
  kid?: string;
  /** Empty means "take it from the key". */
  alg?: string;
}

const ALGORITHM_FOR_KEY_TYPE: Record<string, KeyAlgorithm> = { EC: "ES256", RSA: "RS256", OKP: "EdDSA" };
const KEY_TYPE_NAMES: Record<KeyAlgorithm, string> = {
  ES256: "an EC P-256 key",
  RS256: "an RSA key",
  EdDSA: "an Ed25519 key",
};
/** Members that only a private (or secret) key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const KID_PATTERN = /^[\x21-\x7e]+$/;

const refuse = (field: KeyUploadError["field"], code: KeyUploadErrorCode, message: string): KeyUploadResult => ({
  ok: false,
  error: { field, code, message },
});

const isAlgorithm = (value: unknown): value is KeyAlgorithm =>
  typeof value === "string" && (KEY_ALGORITHMS as readonly string[]).includes(value);

const unsupportedAlgorithm = (field: "key" | "alg", alg: string) =>
  refuse(field, "unsupported_algorithm", `The algorithm ${alg} is not supported. Use ES256, RS256 or EdDSA.`);

/**
 * Validates an uploaded public key (§9): a PEM certificate or PEM public key, or a public JWK (alone or as the only
 * key of a JWK set). Refuses private and symmetric keys, RSA under 2048 bits, curves other than P-256 and Ed25519,
 * algorithms other than ES256, RS256 and EdDSA, and an algorithm that does not fit the key.
 */
export async function parseClientKeyUpload(input: KeyUploadInput): Promise<KeyUploadResult> {
  if (new TextEncoder().encode(input.key).byteLength > MAX_KEY_INPUT_BYTES) {
    return refuse(
      "key",
      "too_large",
      `The key is larger than ${MAX_KEY_INPUT_BYTES / 1024} KB. Paste one certificate or one public JWK.`,
    );
  }
  const text = input.key.trim();
  if (!text) return refuse("key", "empty", "Paste a PEM certificate or a public JWK.");
  const chosenAlg = input.alg?.trim() ?? "";
  if (chosenAlg && !isAlgorithm(chosenAlg)) return unsupportedAlgorithm("alg", chosenAlg);
  const alg = chosenAlg ? (chosenAlg as KeyAlgorithm) : null;

  let candidate: { jwk: Record<string, unknown>; source: "jwk" | "pem" } | KeyUploadResult;
  if (text.startsWith("{")) candidate = readJwk(text);
  else if (text.includes("-----BEGIN")) candidate = await readPem(text);
  else {
    return refuse(
      "key",
      "unreadable",
      "This is neither a PEM certificate (-----BEGIN CERTIFICATE-----) nor a JWK (a JSON object).",
    );
  }
  if ("ok" in candidate) return candidate;
  return validateJwk(candidate.jwk, candidate.source, alg, input.kid?.trim() ?? "");
}

function readJwk(text: string): { jwk: Record<string, unknown>; source: "jwk" } | KeyUploadResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return refuse("key", "unreadable", "The JWK is not valid JSON.");
  }
  if (!isRecord(parsed)) return refuse("key", "unreadable", "The JWK must be a JSON object.");
  if ("keys" in parsed) {
    const keys = parsed.keys;
    if (!Array.isArray(keys) || keys.length !== 1 || !isRecord(keys[0])) {
      return refuse("key", "several_keys", "Paste one key: this JWK set does not hold exactly one key.");
    }
    return { jwk: keys[0], source: "jwk" };
  }
  return { jwk: parsed, source: "jwk" };
}

/** Key kinds a PEM may hold, as the algorithm to import it with and the JWK that import must produce. */
const PEM_KEY_KINDS: [string, { kty: string; crv?: string }][] = [
  ["ES256", { kty: "EC", crv: "P-256" }],
  ["RS256", { kty: "RSA" }],
  ["ES384", { kty: "EC", crv: "P-384" }],
  ["ES512", { kty: "EC", crv: "P-521" }],
  // Last: the runtime accepts some non-Ed25519 keys at import for Ed25519 and only fails at export.
  ["EdDSA", { kty: "OKP", crv: "Ed25519" }],
];

async function readPem(text: string): Promise<{ jwk: Record<string, unknown>; source: "pem" } | KeyUploadResult> {
  const labels = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1] ?? "");
  if (labels.some((label) => label.includes("PRIVATE KEY"))) {
    return refuse(
      "key",
      "private_key",
      "This is a private key. Upload only the certificate or the public key; the private key stays with the client.",
    );
  }
  if (labels.length !== 1) {
    return refuse("key", "several_keys", "Paste one certificate (the client's own, not the whole chain).");
  }
  const label = labels[0];
  if (label !== "CERTIFICATE" && label !== "PUBLIC KEY") {
    return refuse(
      "key",
      "unreadable",
      `A PEM "${label}" block is not supported. Paste a CERTIFICATE or a PUBLIC KEY (SubjectPublicKeyInfo).`,
    );
  }
  const match = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`).exec(text);
  if (!match) return refuse("key", "unreadable", `The ${label} block has no matching END line.`);
  const pem = match[0];
  const importPem = (a: string) =>
    label === "CERTIFICATE" ? importX509(pem, a, { extractable: true }) : importSPKI(pem, a, { extractable: true });
  const what = label === "CERTIFICATE" ? "certificate" : "public key";

  // The PEM does not say which algorithm its key is for: import it as each kind we can recognise and keep the one
  // whose key type matches; validateJwk then decides whether that kind is accepted (and fits the chosen algorithm).
  for (const [candidate, expected] of PEM_KEY_KINDS) {
    try {
      const jwk = await exportJWK(await importPem(candidate));
      if (jwk.kty === expected.kty && jwk.crv === expected.crv) return { jwk: { ...jwk }, source: "pem" };
    } catch {}
  }
  return refuse(
    "key",
    "unreadable",
    `The ${what} could not be read, or its key is of an unsupported type. Use EC P-256, RSA (2048 bits or more) or Ed25519.`,
  );
}

async function validateJwk(
  jwk: Record<string, unknown>,
  source: "jwk" | "pem",
  chosenAlg: KeyAlgorithm | null,
  formKid: string,
): Promise<KeyUploadResult> {
  const kty = jwk.kty;
  if (typeof kty !== "string") return refuse("key", "unreadable", 'The JWK has no "kty" (key type).');
  if (kty === "oct") {
    return refuse(
      "key",
      "symmetric_key",
      'This is a symmetric (kty "oct") key. private_key_jwt needs the public half of an asymmetric key pair.',
    );
  }
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
    return refuse(
      "key",
      "private_key",
      `This JWK contains private key material ("d"). Upload only the public key; the private key stays with the client.`,
    );
  }
  const inferred = ALGORITHM_FOR_KEY_TYPE[kty];
  if (!inferred) {
    return refuse("key", "unsupported_key", `Keys of type "${kty}" are not supported. Use EC P-256, RSA or Ed25519.`);
  }
  const curveProblem = checkCurve(kty, jwk.crv);
  if (curveProblem) return refuse("key", "unsupported_key", curveProblem);
  if (kty === "RSA") {
    const bits = modulusBits(jwk.n);
    if (bits === null) return refuse("key", "unreadable", 'The RSA key\'s modulus ("n") is missing or not base64url.');
    if (bits < MIN_RSA_BITS) {
      return refuse(
        "key",
        "weak_rsa",
        `This RSA key has ${bits} bits. RSA keys must have at least ${MIN_RSA_BITS} bits; generate a new key pair.`,
      );
    }
    if (bits > MAX_RSA_BITS) {
      return refuse("key", "unsupported_key", `This RSA key has ${bits} bits; at most ${MAX_RSA_BITS} are accepted.`);
    }
  }
  if (jwk.use !== undefined && jwk.use !== "sig") {
    return refuse(
      "key",
      "not_for_signing",
      `This key is marked "use": "${String(jwk.use)}"; it must be a signing key.`,
    );
  }
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify"))) {
    return refuse("key", "not_for_signing", 'This key\'s "key_ops" do not include "verify".');
  }

  // RFC 9864's fully-specified name for the Ed25519 signature is the algorithm we pin as EdDSA.
  const declared = jwk.alg === "Ed25519" ? "EdDSA" : jwk.alg;
  if (declared !== undefined && !isAlgorithm(declared)) return unsupportedAlgorithm("key", String(declared));
  if (declared !== undefined && declared !== inferred) {
    return refuse(
      "key",
      "algorithm_mismatch",
      `The JWK says "alg": "${declared}" but holds ${KEY_TYPE_NAMES[inferred]}, which signs with ${inferred}.`,
    );
  }
  if (chosenAlg && chosenAlg !== inferred) {
    return refuse(
      "alg",
      "algorithm_mismatch",
      `The key is ${KEY_TYPE_NAMES[inferred]}, which signs with ${inferred}, not ${chosenAlg}.`,
    );
  }
  const alg = inferred;

  let publicJwk: JWK;
  try {
    const imported = await importJWK(publicMembers(kty, jwk), alg, { extractable: true });
    if (imported instanceof Uint8Array) return refuse("key", "symmetric_key", "This is not an asymmetric key.");
    publicJwk = await exportJWK(imported);
  } catch {
    return refuse("key", "unreadable", "The key's numbers do not form a valid public key.");
  }

  const keyKid = typeof jwk.kid === "string" ? jwk.kid : "";
  if (formKid && keyKid && formKid !== keyKid) {
    return refuse(
      "kid",
      "kid_mismatch",
      `The JWK's own kid is "${keyKid}"; leave the kid field empty or use the same.`,
    );
  }
  const kid = formKid || keyKid;
  if (!kid) {
    return refuse(
      "kid",
      "kid_required",
      source === "pem" ? "Give the certificate a kid." : "The JWK has no kid: give it one in the kid field.",
    );
  }
  if (kid.length > MAX_KID_LENGTH || !KID_PATTERN.test(kid)) {
    return refuse(
      "kid",
      "kid_invalid",
      `A kid is 1 to ${MAX_KID_LENGTH} visible ASCII characters without spaces (the value the client puts in the assertion header).`,
    );
  }

  const fingerprint = await calculateJwkThumbprint(publicJwk, "sha256");
  return { ok: true, key: { kid, alg, fingerprint, publicJwk: { ...publicJwk, kid, alg, use: "sig" } } };
}

function checkCurve(kty: string, crv: unknown): string | null {
  if (kty === "EC" && crv !== "P-256") {
    return `EC keys must use the P-256 curve (ES256); this one uses ${typeof crv === "string" ? crv : "no curve"}.`;
  }
  if (kty === "OKP" && crv !== "Ed25519") {
    return `OKP keys must be Ed25519 (EdDSA); this one is ${typeof crv === "string" ? crv : "of no curve"}.`;
  }
  return null;
}

/** Only the public members of the key type, so nothing else reaches the import (RFC 7518 §6). */
function publicMembers(kty: string, jwk: Record<string, unknown>): JWK {
  const pick = (...names: string[]) => Object.fromEntries(names.map((n) => [n, jwk[n]]));
  if (kty === "EC") return { kty, ...pick("crv", "x", "y") } as JWK;
  if (kty === "OKP") return { kty, ...pick("crv", "x") } as JWK;
  return { kty, ...pick("n", "e") } as JWK;
}

function modulusBits(n: unknown): number | null {
  if (typeof n !== "string" || !/^[A-Za-z0-9_-]+$/.test(n)) return null;
  let bytes: Uint8Array;
  try {
    bytes = fromBase64url(n);
  } catch {
    return null;
  }
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i] ?? 0));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
