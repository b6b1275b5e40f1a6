import type { Bindings } from "../env";

/**
 * Token endpoint throttling (§8). Failures are counted with the TOKEN_FAILURE_LIMITER rate-limit binding, called only
 * after a failure, so successful requests are never counted and never wait for it. When a key runs over its budget
 * it is blocked until the end of the current window: at once in this isolate, and through a marker row in
 * throttle_counters that the token endpoint's one D1 read returns for every other isolate.
 *
 * Two keys: the caller's IP (blocks every request from that IP) and the Client ID as sent (blocks only the failing
 * attempts for that Client ID, so the real client with the right secret keeps getting tokens from anywhere while an
 * attacker floods wrong secrets for its Client ID).
 */

/** The binding's period (wrangler.toml `simple.period`): windows are aligned to it. */
export const TOKEN_THROTTLE_WINDOW = 60_000;

const MAX_KEY_PART = 128;
const MAX_TRACKED_BLOCKS = 10_000;

export interface ThrottleKeys {
  /** Null when the caller's IP is unknown (no CF-Connecting-IP: never the case behind Cloudflare). */
  ip: string | null;
  client: string | null;
}

export function throttleKeys(ip: string, clientId: string | null): ThrottleKeys {
  return {
    ip: ip ? `token:ip:${ip.slice(0, MAX_KEY_PART)}` : null,
    client: clientId ? `token:client:${clientId.slice(0, MAX_KEY_PART)}` : null,
  };
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

const MARK_BLOCKED_SQL =
  "INSERT INTO throttle_counters (key, window_start, count) VALUES (?, ?, 1) ON CONFLICT (key, window_start) DO NOTHING";

/**
 * Counts one failed token request against each key. A key the binding refuses is over budget: it is blocked for the
 * rest of the window. Runs after the response (waitUntil); a limiter fault is logged and counts nothing.
 */
export async function countTokenFailure(
  env: Pick<Bindings, "TOKEN_FAILURE_LIMITER" | "DB">,
  keys: (string | null)[],
  now: number,
): Promise<string[]> {
  const live = keys.filter((key): key is string => key !== null && !isBlockedInIsolate(key, now));
  const outcomes = await Promise.all(
    live.map((key) =>
      env.TOKEN_FAILURE_LIMITER.limit({ key }).then(
        (outcome) => outcome.success,
        (error: unknown) => {
          console.error("token failure limiter", error);
          return true;
        },
      ),
    ),
  );
  const over = live.filter((_, i) => !outcomes[i]);
  if (over.length === 0) return over;
  for (const key of over) blockInIsolate(key, now);
  const windowStart = throttleWindowStart(now);
  await env.DB.batch(over.map((key) => env.DB.prepare(MARK_BLOCKED_SQL).bind(blockMarkerKey(key), windowStart)));
  return over;
}
