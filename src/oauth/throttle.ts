/**
 * Token endpoint throttling (§8). Every failed token request is counted in D1 *before* its answer, with one atomic
 * upsert per key, so parallel failures cannot slip past the budget: of any burst, exactly the first
 * TOKEN_FAILURE_LIMIT failures in a window are answered 401, and the rest 429. Successes are never counted and never
 * wait. A key that runs over its budget is blocked until the end of the window: at once in this isolate, and through
 * a marker row in throttle_counters that the token endpoint's read returns for every other isolate.
 *
 * Two keys: the caller's IP (blocks every request from that IP) and the Client ID as sent (blocks only the failing
 * attempts for that Client ID, so the real client with the right secret keeps getting tokens from anywhere while an
 * attacker floods wrong secrets for its Client ID).
 */

/** Fixed windows of one minute. */
export const TOKEN_THROTTLE_WINDOW = 60_000;
/** Failures per key and window that are answered 401; the next ones are 429. */
export const TOKEN_FAILURE_LIMIT = 20;

const MAX_KEY_PART = 128;
const MAX_TRACKED_BLOCKS = 10_000;

export interface ThrottleKeys {
  /** Null when the caller's IP is unknown (no CF-Connecting-IP: never the case behind Cloudflare). */
  ip: string | null;
  client: string | null;
}

const ipKey = (ip: string) => (ip ? `token:ip:${ip.slice(0, MAX_KEY_PART)}` : null);

export function throttleKeys(ip: string, clientId: string | null): ThrottleKeys {
  return { ip: ipKey(ip), client: clientId ? `token:client:${clientId.slice(0, MAX_KEY_PART)}` : null };
}

/** Whether this isolate has blocked the caller's IP in the current window (no key is built while nothing is blocked). */
export function isIpBlockedInIsolate(ip: string, now: number): boolean {
  return isolateBlocks.size > 0 && isBlockedInIsolate(ipKey(ip), now);
}

/** The throttle_counters key of a block marker for a throttle key. */
export function blockMarkerKey(key: string | null): string {
  return key ? `block:${key}` : "";
}

export function throttleWindowStart(now: number): number {
  return Math.floor(now / TOKEN_THROTTLE_WINDOW) * TOKEN_THROTTLE_WINDOW;
}

/** Seconds until the current window ends (Retry-After), at least 1. */
export function retryAfterSeconds(now: number): number {
  return Math.max(1, Math.ceil((throttleWindowStart(now) + TOKEN_THROTTLE_WINDOW - now) / 1000));
}

/** key → start of the window it is blocked in. */
const isolateBlocks = new Map<string, number>();

export function isBlockedInIsolate(key: string | null, now: number): boolean {
  return key !== null && isolateBlocks.get(key) === throttleWindowStart(now);
}

function blockInIsolate(key: string, now: number) {
  if (isolateBlocks.size >= MAX_TRACKED_BLOCKS) {
    const current = throttleWindowStart(now);
    for (const [k, start] of isolateBlocks) if (start !== current) isolateBlocks.delete(k);
    if (isolateBlocks.size >= MAX_TRACKED_BLOCKS) isolateBlocks.clear();
  }
  isolateBlocks.set(key, throttleWindowStart(now));
}

const COUNT_SQL = `INSERT INTO throttle_counters (key, window_start, count) VALUES (?1, ?2, 1)
ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1 RETURNING count`;

const MARK_BLOCKED_SQL = `INSERT INTO throttle_counters (key, window_start, count)
SELECT ?3, ?2, 1 WHERE (SELECT count FROM throttle_counters WHERE key = ?1 AND window_start = ?2) > ?4
ON CONFLICT (key, window_start) DO NOTHING`;

/**
 * Counts one failed token request against each key, in one D1 batch (a transaction) that also writes the block
 * marker of every key the failure took over budget. Returns those keys: the failure is answered 429, not 401.
 */
export async function countTokenFailure(d1: D1Database, keys: (string | null)[], now: number): Promise<string[]> {
  const live = keys.filter((key): key is string => key !== null);
  if (live.length === 0) return [];
  const windowStart = throttleWindowStart(now);
  const results = await d1.batch<{ count: number }>(
    live.flatMap((key) => [
      d1.prepare(COUNT_SQL).bind(key, windowStart),
      d1.prepare(MARK_BLOCKED_SQL).bind(key, windowStart, blockMarkerKey(key), TOKEN_FAILURE_LIMIT),
    ]),
  );
  const over = live.filter((_, i) => (results[2 * i]?.results[0]?.count ?? 0) > TOKEN_FAILURE_LIMIT);
  for (const key of over) blockInIsolate(key, now);
  return over;
}
