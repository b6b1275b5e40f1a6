import { MINUTE } from "../lib/time";
import type { StoredClient } from "./client-store";

/**
 * Last used (§7): minute-accurate, written at most once per registration per minute, after the response. Most token
 * requests write nothing: the one read already says whether the column is fresh, and this isolate remembers what it
 * wrote; the conditional UPDATE settles races between isolates.
 */

const MAX_TRACKED = 10_000;
/** registration id → the `now` this isolate last wrote. */
const writtenByIsolate = new Map<number, number>();

const fresh = (at: number | null | undefined, now: number) => at != null && at <= now && now - at < MINUTE;

/**
 * Whether this token request records Last used: not when the row read for it, or this isolate, saw a use within the
 * minute. A request that gets `true` has claimed the write for this isolate's minute.
 */
export function claimLastUsedWrite(client: StoredClient, now: number): boolean {
  if (fresh(client.lastUsedAt, now) || fresh(writtenByIsolate.get(client.registrationId), now)) return false;
  if (writtenByIsolate.size >= MAX_TRACKED) writtenByIsolate.clear();
  writtenByIsolate.set(client.registrationId, now);
  return true;
}

const RECORD_LAST_USED_SQL = `UPDATE app_registrations SET last_used_at = ?1, last_used_ip = ?2
WHERE id = ?3 AND (last_used_at IS NULL OR last_used_at < ?1 - ${MINUTE})`;

/** Records a successful issuance; returns the number of rows changed (0 when another isolate wrote this minute). */
export async function recordLastUsed(d1: D1Database, registrationId: number, ip: string, now: number): Promise<number> {
  const result = await d1
    .prepare(RECORD_LAST_USED_SQL)
    .bind(now, ip || null, registrationId)
    .run();
  return result.meta.changes;
}
