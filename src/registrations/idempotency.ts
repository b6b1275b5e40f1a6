import { and, eq, gt } from "drizzle-orm";
import type { Db } from "../db/client";
import { apiIdempotencyKeys } from "../db/schema";
import { DAY } from "../lib/time";

/**
 * One-time keys of the creates that must never run twice: the management API's Idempotency-Key (the caller is the
 * calling registration's Client ID) and the create form's one-time token (the caller is `user:<id>`). Each is stored
 * in the same D1 batch as the registration it created.
 */

/** Idempotency-Key rows are kept this long. */
export const IDEMPOTENCY_WINDOW = DAY;

export function findIdempotencyKey(db: Db, callerClientId: string, key: string, now: number) {
  return db
    .select()
    .from(apiIdempotencyKeys)
    .where(
      and(
        eq(apiIdempotencyKeys.callerClientId, callerClientId),
        eq(apiIdempotencyKeys.key, key),
        gt(apiIdempotencyKeys.createdAt, now - IDEMPOTENCY_WINDOW),
      ),
    )
    .get();
}

/** The cron's purge of Idempotency-Key rows past their 24 hours. */
export async function purgeIdempotencyKeys(d1: D1Database, now: number, options: { batchSize: number }) {
  const result = await d1
    .prepare(
      `DELETE FROM api_idempotency_keys WHERE rowid IN (SELECT rowid FROM api_idempotency_keys
         WHERE created_at <= ?1 ORDER BY created_at LIMIT ?2)`,
    )
    .bind(now - IDEMPOTENCY_WINDOW, options.batchSize)
    .run();
  const deleted = result.meta.changes ?? 0;
  return { deleted, done: deleted < options.batchSize };
}
