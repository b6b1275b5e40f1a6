import { MINUTE } from "../lib/time";
import { restoreUsage, type UsageFlush, usageStatements } from "./usage";

/**
 * Last used (§7), of registrations, of their Client secrets and of their public keys (§9): minute-accurate, written at most once per row per
 * minute, after the response. Most token requests write nothing: the one read already says whether the column is
 * fresh, and this isolate remembers what it wrote; the conditional UPDATE settles races between isolates.
 */

export type LastUsedSubject = "app_registration" | "client_key" | "client_secret";

const MAX_TRACKED = 10_000;
/** `subject:id` → the `now` this isolate last wrote. */
const writtenByIsolate = new Map<string, number>();

const fresh = (at: number | null | undefined, now: number) => at != null && at <= now && now - at < MINUTE;

/**
 * Whether this request records Last used of the row: not when the row as read (`lastUsedAt`), or this isolate, saw
 * a use within the minute. A request that gets `true` has claimed the write for this isolate's minute.
 */
export function claimLastUsedWrite(
  subject: LastUsedSubject,
  id: number,
  lastUsedAt: number | null | undefined,
  now: number,
): boolean {
  // The row as read is the usual answer, so the key is built only when it is not.
  if (fresh(lastUsedAt, now)) return false;
  const key = `${subject}:${id}`;
  if (fresh(writtenByIsolate.get(key), now)) return false;
  if (writtenByIsolate.size >= MAX_TRACKED) writtenByIsolate.clear();
  writtenByIsolate.set(key, now);
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

const RECORD_SECRET_LAST_USED_SQL = `UPDATE client_secrets SET last_used_at = ?1
WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1 - ${MINUTE})`;

/**
 * Records a successful issuance for the registration and for the Client secret that matched, each only when its
 * write was claimed (null otherwise), with the registration's token counts this isolate had not written yet
 * (usage.ts): one D1 batch, one round trip. Returns the rows changed. Counts are given back when the batch fails.
 */
export async function recordUse(
  d1: D1Database,
  use: { registrationId: number | null; secretId: number | null; ip: string; usage?: UsageFlush | null },
  now: number,
): Promise<number> {
  const statements: D1PreparedStatement[] = use.usage ? usageStatements(d1, use.usage) : [];
  if (use.registrationId !== null) {
    statements.push(d1.prepare(RECORD_LAST_USED_SQL).bind(now, use.ip || null, use.registrationId));
  }
  if (use.secretId !== null) statements.push(d1.prepare(RECORD_SECRET_LAST_USED_SQL).bind(now, use.secretId));
  if (statements.length === 0) return 0;
  try {
    const results = await d1.batch(statements);
    return results.reduce((sum, r) => sum + (r.meta.changes ?? 0), 0);
  } catch (error) {
    if (use.usage) restoreUsage(use.usage);
    throw error;
  }
}

const RECORD_KEY_LAST_USED_SQL = `UPDATE client_keys SET last_used_at = ?1
WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1 - ${MINUTE})`;

/** Records a successful authentication with the key; returns the rows changed (0 when already written this minute). */
export async function recordKeyLastUsed(d1: D1Database, keyId: number, now: number): Promise<number> {
  const result = await d1.prepare(RECORD_KEY_LAST_USED_SQL).bind(now, keyId).run();
  return result.meta.changes;
}
