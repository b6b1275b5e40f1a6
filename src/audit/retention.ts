import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { DAY } from "../lib/time";

/** §8: security-log rows are kept for 90 days. */
export const SECURITY_LOG_RETENTION = 90 * DAY;

/**
 * Deletes up to `batchSize` rows last seen more than 90 days before `now` (the cron's scheduled time), oldest first,
 * through the last-seen index. Returns how many went and whether nothing older is left.
 */
export async function purgeSecurityEvents(
  db: Db,
  now: number,
  { batchSize = 1000 }: { batchSize?: number } = {},
): Promise<{ deleted: number; done: boolean }> {
  const cutoff = now - SECURITY_LOG_RETENTION;
  const result = await db.run(sql`
    delete from security_events
    where id in (select id from security_events where last_at < ${cutoff} order by last_at limit ${batchSize})
  `);
  const deleted = result.meta.changes ?? 0;
  return { deleted, done: deleted < batchSize };
}
