#!/usr/bin/env node
// Rotates an App registration's own Client secret without downtime, through the management API. Needs Node 18+ and
// nothing else. The registration must have the registrations:write scope (granted by an administrator).
//
//   node scripts/examples/self-rotate.mjs <base-url> <site> <client-id> <secret-file> [--overlap 1d]
//
// <secret-file> holds the current Client secret. The script
//   1. gets an access token with that secret,
//   2. issues a new secret (the old one keeps working for the overlap: now, 1d, 7d, 30d or never),
//   3. switches: checks that the new secret gets a token, then writes it to <secret-file> (mode 600),
//   4. revokes the old secret with a token of the new one.
// It prints what it did as JSON, naming secrets by their hints only; it exits with 1 when a step is refused.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { overlap: { type: "string", default: "1d" } },
});
const [base, site, clientId, secretFile] = positionals;
if (!base || !site || !clientId || !secretFile) {
  console.error("Usage: node self-rotate.mjs <base-url> <site> <client-id> <secret-file> [--overlap 1d]");
  process.exit(2);
}

function fail(step, status, body) {
  console.error(JSON.stringify({ step, status, body }, null, 2));
  process.exit(1);
}

async function token(secret) {
  const res = await fetch(new URL("/oauth/token", base), {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`,
    },
    body: new URLSearchParams({ grant_type: "client_credentials", scope: "registrations:write" }),
  });
  const body = await res.json();
  if (res.status !== 200) fail("token", res.status, body);
  return body.access_token;
}

async function management(accessToken, method, path, payload) {
  const res = await fetch(new URL(`/api/v1/sites/${site}/app-registrations/${clientId}${path}`, base), {
    method,
    headers: {
      Authorization: `Bearer ${accessToken}`,
      ...(payload ? { "Content-Type": "application/json" } : {}),
    },
    body: payload ? JSON.stringify(payload) : undefined,
  });
  const body = res.status === 204 ? null : await res.json();
  return { status: res.status, body };
}

const oldSecret = readFileSync(secretFile, "utf8").trim();
const oldToken = await token(oldSecret);

const issued = await management(oldToken, "POST", "/secrets", { old_secret_expires_in: values.overlap });
if (issued.status !== 201) fail("new secret", issued.status, issued.body);
const { client_secret: newSecret, hint, previous } = issued.body;

// Switch: the new secret must work before it replaces the old one on disk (written beside it, then renamed).
const newToken = await token(newSecret);
writeFileSync(`${secretFile}.new`, `${newSecret}\n`, { mode: 0o600 });
renameSync(`${secretFile}.new`, secretFile);

let revoked = null;
if (previous && previous.state === "live") {
  const res = await management(newToken, "DELETE", `/secrets/${previous.id}`);
  if (res.status !== 204) fail("revoke old secret", res.status, res.body);
  revoked = previous.hint;
}
console.log(
  JSON.stringify(
    { client_id: clientId, new_secret: hint, revoked, stopped: previous?.state === "expired" ? previous.hint : null },
    null,
    2,
  ),
);
