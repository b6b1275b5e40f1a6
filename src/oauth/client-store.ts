import { RETIRED_SECRET_RETENTION } from "../client-secrets/policy";
import type { KeyAlgorithm } from "../db/schema";
import { fromHex } from "../lib/crypto";
/** A public key registered for private_key_jwt (§9), as the one read returns it. */
export interface StoredClientKey {
  id: number;
  kid: string;
  alg: KeyAlgorithm;
  /** The public JWK, JSON text. */
  publicJwk: string;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

/**
 * A Client secret as the token endpoint loads it: its keyed hash and what decides its state. Revoked and expired
 * secrets come too, for their retention (90 days), so a refusal can say which old secret the consumer still sends.
 */
export interface StoredClientSecret {
  id: number;
  /** HMAC-SHA256 with the pepper: the stored hex, decoded once per read, so each token compares bytes. */
  digest: Uint8Array;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

/** A registration as the token endpoint sees it: everything one token request needs, from one D1 read. */
export interface StoredClient {
  registrationId: number;
  clientId: string;
  name: string;
  enabled: boolean;
  scopes: string[];
  /** Seconds. */
  accessTokenLifetime: number;
  expiresAt: number;
  lastUsedAt: number | null;
  siteId: number;
  siteSlug: string;
  siteRestApiEnabled: boolean;
  /**
   * The live secrets and the newest retired ones, at most MAX_SECRETS_LOADED; liveness is decided at each request
   * from `expiresAt` and `revokedAt`, so a cached entry stays exact about expiry.
   */
  secrets: StoredClientSecret[];
  /** Public keys for private_key_jwt; expiry is checked by that method. */
  keys: StoredClientKey[];
}

export interface TokenClientLookup {
  /** Null when no registration has the Client ID. */
  client: StoredClient | null;
  /** Throttle blocks other isolates recorded for the current window (see throttle.ts). */
  ipBlocked: boolean;
  clientBlocked: boolean;
}

/**
 * Secrets compared per request: the live ones (at most two) first, then the newest retired ones. Rotations beyond
 * this within the retention are still refused, as `InvalidSecret` instead of `SecretRevoked` or `SecretExpired`.
 */
export const MAX_SECRETS_LOADED = 10;

interface LookupRow {
  registration_id: number | null;
  name: string | null;
  enabled: number | null;
  scopes: string | null;
  access_token_lifetime: number | null;
  expires_at: number | null;
  last_used_at: number | null;
  site_id: number | null;
  site_slug: string | null;
  rest_api_enabled: number | null;
  client_secrets: string | null;
  client_keys: string | null;
  ip_blocked: number;
  client_blocked: number;
}

/*
 * §7 hot path budget: at most one D1 read for a token request that the isolate's cache cannot answer (client-cache.ts). The anchor row makes the statement return exactly one row even
 * for an unknown Client ID, so the throttle markers come back either way; the registration is found through the
 * unique index on client_id, its secrets through client_secrets_registration_idx, its public keys through
 * client_keys_registration_kid_idx, the markers through the primary key of throttle_counters.
 */
const LOOKUP_SQL = `
SELECT
  r.id AS registration_id, r.name, r.enabled, r.scopes, r.access_token_lifetime, r.expires_at, r.last_used_at,
  s.id AS site_id, s.slug AS site_slug, s.rest_api_enabled,
  (SELECT json_group_array(json_object('id', cs.id, 'hash', cs.secret_hash, 'expires_at', cs.expires_at,
      'revoked_at', cs.revoked_at, 'last_used_at', cs.last_used_at))
    FROM (SELECT * FROM client_secrets c WHERE c.registration_id = r.id
      AND (c.revoked_at IS NULL OR c.revoked_at > ?2 - ${RETIRED_SECRET_RETENTION})
      AND (c.expires_at IS NULL OR c.expires_at > ?2 - ${RETIRED_SECRET_RETENTION})
      ORDER BY (c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > ?2)) DESC, c.id DESC
      LIMIT ${MAX_SECRETS_LOADED}) cs
  ) AS client_secrets,
  (SELECT json_group_array(json_object('id', k.id, 'kid', k.kid, 'alg', k.alg, 'public_jwk', k.public_jwk,
      'expires_at', k.expires_at, 'last_used_at', k.last_used_at))
    FROM client_keys k WHERE k.registration_id = r.id
  ) AS client_keys,
  EXISTS (SELECT 1 FROM throttle_counters t WHERE t.key = ?3 AND t.window_start = ?5) AS ip_blocked,
  EXISTS (SELECT 1 FROM throttle_counters t WHERE t.key = ?4 AND t.window_start = ?5) AS client_blocked
FROM (SELECT 1) AS anchor
LEFT JOIN app_registrations r ON r.client_id = ?1
LEFT JOIN sites s ON s.id = r.site_id`;

function parseArray(json: string | null): unknown[] {
  if (!json) return [];
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value : [];
}

interface KeyRow {
  id: number;
  kid: string;
  alg: StoredClientKey["alg"];
  public_jwk: string;
  expires_at: number | null;
  last_used_at: number | null;
}

interface SecretRow {
  id: number;
  hash: string;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

function parseSecrets(json: string | null): StoredClientSecret[] {
  return (parseArray(json) as SecretRow[]).map((s) => ({
    id: s.id,
    digest: fromHex(s.hash),
    expiresAt: s.expires_at,
    revokedAt: s.revoked_at,
    lastUsedAt: s.last_used_at,
  }));
}

function parseKeys(json: string | null): StoredClientKey[] {
  return (parseArray(json) as KeyRow[]).map((k) => ({
    id: k.id,
    kid: k.kid,
    alg: k.alg,
    publicJwk: k.public_jwk,
    expiresAt: k.expires_at,
    lastUsedAt: k.last_used_at,
  }));
}

/**
 * Loads the registration of `clientId` with its Site and live secret hashes, and whether the caller's IP or the
 * Client ID is blocked in the current throttle window: one statement, one D1 round trip.
 */
export async function lookupTokenClient(
  d1: Pick<D1Database, "prepare">,
  input: { clientId: string; ipBlockKey: string; clientBlockKey: string; windowStart: number; now: number },
): Promise<TokenClientLookup> {
  const row = await d1
    .prepare(LOOKUP_SQL)
    .bind(input.clientId, input.now, input.ipBlockKey, input.clientBlockKey, input.windowStart)
    .first<LookupRow>();
  if (!row) throw new Error("token client lookup returned no row");
  const found = row.registration_id !== null && row.site_id !== null;
  return {
    ipBlocked: row.ip_blocked === 1,
    clientBlocked: row.client_blocked === 1,
    client: found
      ? {
          registrationId: row.registration_id as number,
          clientId: input.clientId,
          name: row.name ?? "",
          enabled: row.enabled === 1,
          scopes: (row.scopes ?? "").split(" ").filter(Boolean),
          accessTokenLifetime: row.access_token_lifetime ?? 0,
          expiresAt: row.expires_at ?? 0,
          lastUsedAt: row.last_used_at,
          siteId: row.site_id as number,
          siteSlug: row.site_slug ?? "",
          siteRestApiEnabled: row.rest_api_enabled === 1,
          secrets: parseSecrets(row.client_secrets),
          keys: parseKeys(row.client_keys),
        }
      : null,
  };
}

/** Site and name of a registration, for recording a failure that happened before the lookup above. */
export async function findRegistrationForLog(
  d1: D1Database,
  clientId: string,
): Promise<{ siteId: number; name: string } | null> {
  const row = await d1
    .prepare("SELECT site_id, name FROM app_registrations WHERE client_id = ?")
    .bind(clientId)
    .first<{ site_id: number; name: string }>();
  return row ? { siteId: row.site_id, name: row.name } : null;
}
