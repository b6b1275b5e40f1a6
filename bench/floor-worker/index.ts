import { importJWK, SignJWT } from "jose";

/**
 * The floor: the least work any client_credentials token endpoint on Workers must do, written as a Worker plainly
 * would (a URL object, URLSearchParams, SignJWT). It parses the form and the Basic header, HMACs the secret with the
 * pepper, compares in constant time and signs an ES256 access token with jose. No database, no logging, no
 * throttling. The real endpoint does more work than this, but it makes fewer of the runtime's objects per request,
 * and so answers faster under load (docs/performance.md).
 * A second path does the same plus one D1 read of the stored hash: the least a D1-backed endpoint can do.
 */
interface FloorEnv {
  /** Used only by the /oauth/token-d1 variant. */
  DB: D1Database;
  SIGNING_KEYS: string;
  SECRET_PEPPER: string;
  AUDIENCE: string;
  FLOOR_CLIENT_ID: string;
  FLOOR_CLIENT_SECRET_HASH: string;
  FLOOR_SCOPES: string;
  FLOOR_SITE: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const LIFETIME_SECONDS = 3600;

let signingKey: Promise<{ key: CryptoKey | Uint8Array; kid: string }> | undefined;
let hmacKey: Promise<CryptoKey> | undefined;

function loadSigningKey(env: FloorEnv) {
  signingKey ??= (async () => {
    const [jwk] = (JSON.parse(env.SIGNING_KEYS) as { keys: (JsonWebKey & { kid: string })[] }).keys;
    if (!jwk) throw new Error("SIGNING_KEYS holds no key");
    return { key: await importJWK(jwk, "ES256"), kid: jwk.kid };
  })();
  return signingKey;
}

function loadHmacKey(env: FloorEnv) {
  hmacKey ??= crypto.subtle.importKey(
    "raw",
    encoder.encode(env.SECRET_PEPPER),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return hmacKey;
}

function toHex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function parseBasic(header: string | null): { clientId: string; secret: string } | null {
  if (!header?.startsWith("Basic ")) return null;
  let decoded: string;
  try {
    decoded = atob(header.slice(6).trim());
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  try {
    // RFC 6749 §2.3.1: both parts are form-url-encoded before Base64.
    const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, " "));
    return { clientId: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

function oauthError(error: string, status: number) {
  return Response.json({ error }, { status, headers: { "Cache-Control": "no-store" } });
}

/** The one row the floor-with-D1 variant reads per request: the client's stored secret hash. */
const LOOKUP_SQL = "SELECT secret_hash FROM floor_clients WHERE client_id = ?1";

async function setUp(env: FloorEnv) {
  await env.DB.batch([
    env.DB.prepare("CREATE TABLE IF NOT EXISTS floor_clients (client_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL)"),
    env.DB.prepare("INSERT OR REPLACE INTO floor_clients (client_id, secret_hash) VALUES (?1, ?2)").bind(
      env.FLOOR_CLIENT_ID,
      env.FLOOR_CLIENT_SECRET_HASH,
    ),
  ]);
  return new Response(null, { status: 204 });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    // /oauth/token is the floor; /oauth/token-d1 is the same plus the one D1 read the spec allows, for comparison.
    const withD1 = url.pathname === "/oauth/token-d1";
    if (request.method === "POST" && url.pathname === "/__bench/setup") return setUp(env);
    if (request.method !== "POST" || (url.pathname !== "/oauth/token" && !withD1)) {
      return new Response("Not found", { status: 404, headers: { "X-Bench-Worker": "floor" } });
    }
    // arrayBuffer + TextDecoder: in workerd, request.text() costs measurably more CPU for the same bytes.
    const form = new URLSearchParams(decoder.decode(await request.arrayBuffer()));
    if (form.get("grant_type") !== "client_credentials") return oauthError("unsupported_grant_type", 400);
    const credentials = parseBasic(request.headers.get("Authorization"));
    if (!credentials) return oauthError("invalid_client", 401);
    const stored = withD1
      ? await env.DB.prepare(LOOKUP_SQL).bind(credentials.clientId).first<string>("secret_hash")
      : credentials.clientId === env.FLOOR_CLIENT_ID
        ? env.FLOOR_CLIENT_SECRET_HASH
        : null;
    const digest = toHex(await crypto.subtle.sign("HMAC", await loadHmacKey(env), encoder.encode(credentials.secret)));
    const expected = encoder.encode(stored ?? "");
    const actual = encoder.encode(digest);
    const secretOk = actual.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(actual, expected);
    if (stored === null || !secretOk) return oauthError("invalid_client", 401);
    const allowed = env.FLOOR_SCOPES.split(" ");
    const requested = form.get("scope")?.split(" ").filter(Boolean) ?? [];
    if (!requested.every((s) => allowed.includes(s))) return oauthError("invalid_scope", 400);
    const scope = (requested.length > 0 ? requested : allowed).join(" ");
    const { key, kid } = await loadSigningKey(env);
    const now = Math.floor(Date.now() / 1000);
    const accessToken = await new SignJWT({ client_id: credentials.clientId, scope, site: env.FLOOR_SITE })
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid })
      .setIssuer(url.origin)
      .setSubject(credentials.clientId)
      .setAudience(env.AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + LIFETIME_SECONDS)
      .setJti(crypto.randomUUID())
      .sign(key);
    return Response.json(
      { access_token: accessToken, token_type: "Bearer", expires_in: LIFETIME_SECONDS, scope },
      { headers: { "Cache-Control": "no-store" } },
    );
  },
} satisfies ExportedHandler<FloorEnv>;
