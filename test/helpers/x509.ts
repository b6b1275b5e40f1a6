/**
 * A minimal self-signed X.509 v3 certificate builder (DER by hand, signed with WebCrypto), so tests upload real
 * certificates for fresh key pairs without fixture files.
 */

type Der = Uint8Array<ArrayBuffer>;

function length(n: number): Der {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function concat(...parts: Der[]): Der {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const tlv = (tag: number, ...content: Der[]): Der => {
  const body = concat(...content);
  return concat(Uint8Array.of(tag), length(body.length), body);
};
const ascii = (text: string): Der => Uint8Array.from(text, (ch) => ch.charCodeAt(0));
const sequence = (...items: Der[]) => tlv(0x30, ...items);
const set = (...items: Der[]) => tlv(0x31, ...items);
const nullValue = () => Uint8Array.of(0x05, 0x00);
const utf8 = (text: string) => tlv(0x0c, ascii(text));
const bitString = (bytes: Der) => tlv(0x03, Uint8Array.of(0), bytes);
const explicit = (n: number, content: Der) => tlv(0xa0 | n, content);

function integer(bytes: Der): Der {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? concat(Uint8Array.of(0), trimmed) : trimmed);
}

function oid(dotted: string): Der {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk: number[] = [];
    let v = arc;
    do {
      chunk.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let j = 0; j < chunk.length - 1; j++) chunk[j] = (chunk[j] ?? 0) | 0x80;
    bytes.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(bytes));
}

function utcTime(date: Date): Der {
  const iso = date.toISOString();
  const text = `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(0x17, ascii(text));
}

const name = (cn: string) => sequence(set(sequence(oid("2.5.4.3"), utf8(cn))));

export type CertificateAlgorithm = "ES256" | "ES384" | "RS256" | "EdDSA";

const SIGNATURE: Record<CertificateAlgorithm, { identifier: Der; params: Parameters<SubtleCrypto["sign"]>[0] }> = {
  ES256: { identifier: sequence(oid("1.2.840.10045.4.3.2")), params: { name: "ECDSA", hash: "SHA-256" } },
  ES384: { identifier: sequence(oid("1.2.840.10045.4.3.3")), params: { name: "ECDSA", hash: "SHA-384" } },
  RS256: { identifier: sequence(oid("1.2.840.113549.1.1.11"), nullValue()), params: { name: "RSASSA-PKCS1-v1_5" } },
  EdDSA: { identifier: sequence(oid("1.3.101.112")), params: { name: "Ed25519" } },
};

/** ECDSA signatures in X.509 are DER `SEQUENCE { r, s }`, WebCrypto gives `r || s`. */
function ecdsaDer(raw: Der): Der {
  const half = raw.length / 2;
  return sequence(integer(raw.subarray(0, half)), integer(raw.subarray(half)));
}

function pem(label: string, der: Der): string {
  let binary = "";
  for (const b of der) binary += String.fromCharCode(b);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** A self-signed certificate for the key pair, PEM encoded. */
export async function selfSignedCertificate(
  keyPair: { publicKey: CryptoKey; privateKey: CryptoKey },
  alg: CertificateAlgorithm,
  subject = "AlloyScan test client",
): Promise<string> {
  const spki = new Uint8Array((await crypto.subtle.exportKey("spki", keyPair.publicKey)) as ArrayBuffer);
  const serial = crypto.getRandomValues(new Uint8Array(12));
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const now = Date.now();
  const tbs = sequence(
    explicit(0, integer(Uint8Array.of(2))),
    integer(serial),
    SIGNATURE[alg].identifier,
    name(subject),
    sequence(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 365 * 86_400_000))),
    name(subject),
    spki,
  );
  let signature = new Uint8Array(
    (await crypto.subtle.sign(SIGNATURE[alg].params, keyPair.privateKey, tbs)) as ArrayBuffer,
  );
  if (alg === "ES256" || alg === "ES384") signature = ecdsaDer(signature);
  return pem("CERTIFICATE", sequence(tbs, SIGNATURE[alg].identifier, bitString(signature)));
}

/** The SubjectPublicKeyInfo of a public key, PEM encoded. */
export async function publicKeyPem(publicKey: CryptoKey): Promise<string> {
  return pem("PUBLIC KEY", new Uint8Array((await crypto.subtle.exportKey("spki", publicKey)) as ArrayBuffer));
}

/** The PKCS#8 private key, PEM encoded (what a careless upload would paste). */
export async function privateKeyPem(privateKey: CryptoKey): Promise<string> {
  return pem("PRIVATE KEY", new Uint8Array((await crypto.subtle.exportKey("pkcs8", privateKey)) as ArrayBuffer));
}
