// How the bench talks to each server: token requests, verification of what they issue, D1 counters, sign-in.
import { setTimeout as sleep } from "node:timers/promises";
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";

export const FORM = "application/x-www-form-urlencoded";

/** RFC 6749 §2.3.1: client_secret_basic, each part form-url-encoded before Base64. */
export function basicAuthorization(clientId, secret) {
  const encode = (value) => encodeURIComponent(value).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString("base64")}`;
}

export function tokenRequest(baseUrl, clientId, secret, extraHeaders = {}) {
  return {
    url: `${baseUrl}/oauth/token`,
    method: "POST",
    headers: { Authorization: basicAuthorization(clientId, secret), "Content-Type": FORM, ...extraHeaders },
    body: "grant_type=client_credentials&scope=devices%3Aread",
  };
}

/** A public JWK set from the private set in SIGNING_KEYS. */
export function publicKeySet(signingKeysJson) {
  const { keys } = JSON.parse(signingKeysJson);
  return { keys: keys.map(({ d: _d, ...pub }) => pub) };
}

/**
 * One token request, checked the way an API would check it: 200, a JWT with typ at+jwt, ES256, the expected
 * audience and scope, a signature that verifies against the issuer's keys. Returns { ok, reason?, accessToken }.
 */
export async function probeToken({ request, keys, audience }) {
  let res;
  try {
    res = await fetch(request.url, { method: "POST", headers: request.headers, body: request.body });
  } catch (error) {
    return { ok: false, reason: `request failed: ${error.message}` };
  }
  const text = await res.text();
  if (res.status !== 200) return { ok: false, reason: `answered ${res.status}: ${text.slice(0, 200)}` };
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: `answered 200 without JSON: ${text.slice(0, 200)}` };
  }
  const accessToken = body.access_token;
  if (typeof accessToken !== "string") return { ok: false, reason: `no access_token in ${text.slice(0, 200)}` };
  try {
    const header = decodeProtectedHeader(accessToken);
    const keySet = typeof keys === "string" ? createRemoteJWKSet(new URL(keys)) : createLocalJWKSet(keys);
    const { payload } = await jwtVerify(accessToken, keySet, { algorithms: ["ES256"], typ: "at+jwt", audience });
    if (
      !String(payload.scope ?? "")
        .split(" ")
        .includes("devices:read")
    ) {
      return { ok: false, reason: `token scope is "${payload.scope}"` };
    }
    return { ok: true, accessToken, header, payload, cacheControl: res.headers.get("cache-control") };
  } catch (error) {
    return { ok: false, reason: `issued token does not verify: ${error.message}` };
  }
}

async function json(url, init) {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/** The D1 query counter of bench/instrumented-entry.ts. */
export const d1Counter = {
  start: (baseUrl) => json(`${baseUrl}/__bench/d1/start`, { method: "POST" }),
  stop: (baseUrl) => json(`${baseUrl}/__bench/d1/stop`, { method: "POST" }),
  read: (baseUrl) => json(`${baseUrl}/__bench/d1`),
  /** Waits until the chosen buckets stop changing (work left in waitUntil has finished), then returns them. */
  async settle(baseUrl, pick, { quietMs = 750, timeoutMs = 60_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last = JSON.stringify(pick((await this.read(baseUrl)).buckets));
    let quietSince = Date.now();
    while (Date.now() < deadline) {
      await sleep(150);
      const snapshot = (await this.read(baseUrl)).buckets;
      const current = JSON.stringify(pick(snapshot));
      if (current !== last) {
        last = current;
        quietSince = Date.now();
      } else if (Date.now() - quietSince >= quietMs) {
        return snapshot;
      }
    }
    throw new Error("D1 activity did not settle within the time limit");
  },
};

/** Signs in through the real form and returns the Cookie header of the new session. */
export async function signIn(baseUrl, email, password) {
  const res = await fetch(`${baseUrl}/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": FORM, Origin: baseUrl },
    body: new URLSearchParams({ email, password, next: "/" }).toString(),
  });
  await res.arrayBuffer();
  const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0]);
  if (res.status !== 303 || cookies.length === 0) throw new Error(`sign-in as ${email} answered ${res.status}`);
  return cookies.join("; ");
}
