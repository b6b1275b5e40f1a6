#!/usr/bin/env node
// Gets an AlloyScan access token with private_key_jwt (RFC 7523): signs a one-time client assertion with the
// client's private key and exchanges it at the token endpoint. Needs Node 18+ and the `jose` package.
//
//   node scripts/examples/private-key-jwt.mjs <base-url> <client-id> <private-key-file> [--kid <kid>] [--scope <scope>]
//
// <private-key-file> is a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----", as written by `openssl genpkey`) or a private
// JWK (JSON). The kid must be the one registered with the public key: taken from the JWK, or given with --kid.
// Prints the token response as JSON; exits with 1 when the request is refused.
import { createPrivateKey, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { importJWK, importPKCS8, SignJWT } from "jose";

const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const ASSERTION_LIFETIME_SECONDS = 60;

function usage(message) {
  console.error(
    `${message}\n\nUsage: node private-key-jwt.mjs <base-url> <client-id> <private-key-file> [--kid <kid>] [--scope <scope>]`,
  );
  process.exit(2);
}

/** The JWS algorithm AlloyScan pins to each kind of key. */
function algorithmFor(keyObject) {
  const type = keyObject.asymmetricKeyType;
  if (type === "ec" && keyObject.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  if (type === "rsa") return "RS256";
  if (type === "ed25519") return "EdDSA";
  usage(`Unsupported key type ${type}: use an EC P-256, RSA (2048 bits or more) or Ed25519 key.`);
}

async function loadPrivateKey(file, kidOption) {
  const text = readFileSync(file, "utf8").trim();
  if (text.startsWith("{")) {
    const jwk = JSON.parse(text);
    if (!jwk.d) usage(`${file} holds a public key; the client signs with the private key.`);
    const alg = jwk.alg ?? algorithmFor(createPrivateKey({ key: jwk, format: "jwk" }));
    const kid = kidOption ?? jwk.kid;
    if (!kid) usage("The JWK has no kid: pass the registered kid with --kid.");
    return { key: await importJWK(jwk, alg), alg, kid };
  }
  if (!kidOption) usage("Pass the kid the public key was registered with: --kid <kid>.");
  const alg = algorithmFor(createPrivateKey(text));
  return { key: await importPKCS8(text, alg), alg, kid: kidOption };
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { kid: { type: "string" }, scope: { type: "string" } },
});
const [baseUrl, clientId, keyFile] = positionals;
if (!baseUrl || !clientId || !keyFile) usage("Missing arguments.");

// RFC 8414 discovery: the issuer is the audience of the assertion, the token endpoint where it is sent.
const metadataUrl = new URL("/.well-known/oauth-authorization-server", baseUrl);
const metadataResponse = await fetch(metadataUrl);
if (!metadataResponse.ok) usage(`${metadataUrl} answered ${metadataResponse.status}.`);
const metadata = await metadataResponse.json();

const { key, alg, kid } = await loadPrivateKey(keyFile, values.kid);
const now = Math.floor(Date.now() / 1000);
const assertion = await new SignJWT({ jti: randomUUID() })
  .setProtectedHeader({ alg, kid, typ: "JWT" })
  .setIssuer(clientId)
  .setSubject(clientId)
  .setAudience(metadata.issuer)
  .setIssuedAt(now)
  .setExpirationTime(now + ASSERTION_LIFETIME_SECONDS)
  .sign(key);

const form = new URLSearchParams({
  grant_type: "client_credentials",
  client_assertion_type: ASSERTION_TYPE,
  client_assertion: assertion,
});
if (values.scope) form.set("scope", values.scope);

const response = await fetch(metadata.token_endpoint, {
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
  body: form,
});
const body = await response.text();
try {
  console.log(JSON.stringify(JSON.parse(body), null, 2));
} catch {
  console.log(body);
}
if (!response.ok) {
  console.error(`The token endpoint answered ${response.status}. The Security log of the Site names the reason.`);
  process.exit(1);
}
