import type { StoredClient, TokenClientLookup } from "./client-store";

/**
 * The token endpoint's hot-path cache (§7): what the client lookup returned, kept in this isolate for a few seconds,
 * so that a warm token request makes no D1 round trip. Keyed by Client ID (the registration, its Site, its live
 * secret hashes and keys, and whether the Client ID's throttle block marker was set) and by caller IP (whether the
 * IP's marker was set). Entries are bounded in age and in number.
 *
 * What this costs in freshness, and why it is safe:
 * - Grants are never delayed: any refusal that comes from cached data is confirmed by a fresh read from the primary
 *   before it is answered (token-endpoint.ts), so a re-enabled, renewed or widened registration, a new secret or an
 *   added key works on the very next request.
 * - Revocations (disable, delete, a revoked secret, a removed key, a narrower scope, the Site's REST API off, a block
 *   marker written by another isolate) reach an isolate that holds the entry within CLIENT_CACHE_TTL_MS. The isolate
 *   that makes an admin change forgets the entries it concerns at once.
 * - Expiry is exact: it is computed from the cached `expires_at` at every request.
 * - Entries are refreshed ahead (CLIENT_CACHE_REFRESH_MS) by one request after its answer; that background read may
 *   come from a read replica, which can only delay a revocation by the replica's lag (README, Decisions).
 */

/** How long a lookup is trusted: the revocation bound of a deployment without read replication. */
export const CLIENT_CACHE_TTL_MS = 5_000;
/**
 * Past this age an entry is still served, and the first request that sees it re-reads it after its own answer
 * (refresh ahead), so under steady load entries are renewed before they expire and no request waits for D1.
 */
export const CLIENT_CACHE_REFRESH_MS = 2_500;
/** At most this many Client IDs and this many IPs are held; the oldest entry goes first. */
export const CLIENT_CACHE_MAX_ENTRIES = 10_000;

interface Entry {
  windowStart: number;
  fetchedAt: number;
  /** When a request claimed this entry's refresh (refresh ahead); undefined while none is under way. */
  refreshing?: number;
}

interface ClientEntry extends Entry {
  client: StoredClient;
  clientBlocked: boolean;
}

interface IpEntry extends Entry {
  ipBlocked: boolean;
}

const clients = new Map<string, ClientEntry>();
const ips = new Map<string, IpEntry>();

const fresh = (entry: { fetchedAt: number }, now: number) =>
  now >= entry.fetchedAt && now - entry.fetchedAt < CLIENT_CACHE_TTL_MS;

/** A cached block marker holds only in the throttle window it was read in (a block ends with its window). */
const blockedNow = (blocked: boolean, entry: { windowStart: number }, windowStart: number) =>
  blocked && entry.windowStart === windowStart;

function remember<T>(map: Map<string, T>, key: string, value: T) {
  map.delete(key);
  if (map.size >= CLIENT_CACHE_MAX_ENTRIES) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, value);
}

/**
 * The cached lookup of `clientId` for a caller at `ip`, when both are younger than the TTL; otherwise undefined, and
 * the caller reads D1. Unknown Client IDs are never cached: their refusal always comes from a read. A new throttle
 * window does not expire entries (that would send every client to D1 at once each minute); it only ends the blocks
 * they recorded.
 */
export function cachedLookup(
  clientId: string,
  ip: string,
  now: number,
  windowStart: number,
): TokenClientLookup | undefined {
  const client = clients.get(clientId);
  const caller = ips.get(ip);
  if (!client || !caller || !fresh(client, now) || !fresh(caller, now)) return undefined;
  return {
    client: client.client,
    clientBlocked: blockedNow(client.clientBlocked, client, windowStart),
    ipBlocked: blockedNow(caller.ipBlocked, caller, windowStart),
  };
}

const dueForRefresh = (entry: Entry | undefined, now: number) =>
  entry !== undefined &&
  now - entry.fetchedAt >= CLIENT_CACHE_REFRESH_MS &&
  (entry.refreshing === undefined || now - entry.refreshing >= CLIENT_CACHE_TTL_MS);

/**
 * Whether this request re-reads the lookup after its answer: true for the first request that finds the Client ID's or
 * the IP's entry CLIENT_CACHE_REFRESH_MS old; the claim holds for CLIENT_CACHE_TTL_MS.
 */
export function claimRefresh(clientId: string, ip: string, now: number): boolean {
  const client = clients.get(clientId);
  const caller = ips.get(ip);
  if (!dueForRefresh(client, now) && !dueForRefresh(caller, now)) return false;
  if (client) client.refreshing = now;
  if (caller) caller.refreshing = now;
  return true;
}

/** Keeps what a D1 lookup answered (a found registration, and the caller IP's marker). */
export function rememberLookup(
  lookup: TokenClientLookup,
  clientId: string,
  ip: string,
  now: number,
  windowStart: number,
): void {
  remember(ips, ip, { ipBlocked: lookup.ipBlocked, windowStart, fetchedAt: now });
  if (lookup.client) {
    remember(clients, clientId, {
      client: lookup.client,
      clientBlocked: lookup.clientBlocked,
      windowStart,
      fetchedAt: now,
    });
  } else {
    clients.delete(clientId);
  }
}

/**
 * Forgets the cached registrations an admin change in this isolate concerns: one registration (an edit, enable or
 * disable, delete, key or secret change) or every registration of a Site (its REST API switch).
 */
export function forgetCachedClients(which: { registrationId: number } | { siteId: number }): void {
  for (const [clientId, entry] of clients) {
    const hit =
      "registrationId" in which
        ? entry.client.registrationId === which.registrationId
        : entry.client.siteId === which.siteId;
    if (hit) clients.delete(clientId);
  }
}
