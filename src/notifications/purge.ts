import { purgeSecurityEvents } from "../audit/retention";
import { purgeRetiredSecrets } from "../client-secrets/repository";
import { createDb } from "../db/client";
import { DAY } from "../lib/time";
import { purgeUsedAssertions } from "../oauth/assertion-replay";
import { purgeIdempotencyKeys } from "../registrations/idempotency";
import { purgeUsageCounts } from "../usage/queries";

/** Throttle windows are minutes long; a day-old window can no longer count. */
export const THROTTLE_WINDOW_RETENTION = DAY;

export interface PurgeSummary {
  securityEvents: number;
  sessions: number;
  usedAssertions: number;
  retiredSecrets: number;
  idempotencyKeys: number;
  usageCounts: number;
  throttleCounters: number;
  /** False when a table still had more to purge than the run's batches allowed: the next run continues. */
  done: boolean;
}

type Purge = (batchSize: number) => Promise<{ deleted: number; done: boolean }>;

/** Deletes one batch through the table's time index (oldest first); `done` when less than a batch was left. */
function deleteBatch(d1: D1Database, sql: string, cutoff: number): Purge {
  return async (batchSize) => {
    const result = await d1.prepare(sql).bind(cutoff, batchSize).run();
    const deleted = result.meta.changes ?? 0;
    return { deleted, done: deleted < batchSize };
  };
}

/**
 * The cron's retention purge, in bounded batches per table: security events older than 90 days (§8, the security
 * log's own purge), replay-protection entries of assertions past their `exp` (private_key_jwt's own purge), Client
 * secrets revoked or expired more than 90 days ago (with their hashes, so the token endpoint forgets them), the
 * management API's Idempotency-Keys past their 24 hours, token counts (hourly ones after two days, daily ones after
 * 400 days), sessions
 * past their absolute expiry, and throttle windows older than a day.
 */
export async function purgeExpired(
  d1: D1Database,
  now: number,
  options: { batchSize?: number; maxBatches?: number } = {},
): Promise<PurgeSummary> {
  const batchSize = options.batchSize ?? 1000;
  const maxBatches = options.maxBatches ?? 5;
  const db = createDb(d1);
  const purges: [Exclude<keyof PurgeSummary, "done">, Purge][] = [
    ["securityEvents", (size) => purgeSecurityEvents(db, now, { batchSize: size })],
    ["usedAssertions", (size) => purgeUsedAssertions(d1, now, { batchSize: size })],
    ["retiredSecrets", (size) => purgeRetiredSecrets(d1, now, { batchSize: size })],
    ["idempotencyKeys", (size) => purgeIdempotencyKeys(d1, now, { batchSize: size })],
    ["usageCounts", (size) => purgeUsageCounts(d1, now, { batchSize: size })],
    [
      "sessions",
      deleteBatch(
        d1,
        "DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
        now,
      ),
    ],
    [
      "throttleCounters",
      deleteBatch(
        d1,
        `DELETE FROM throttle_counters WHERE rowid IN (SELECT rowid FROM throttle_counters
           WHERE window_start < ?1 ORDER BY window_start LIMIT ?2)`,
        now - THROTTLE_WINDOW_RETENTION,
      ),
    ],
  ];
  const summary: PurgeSummary = {
    securityEvents: 0,
    sessions: 0,
    usedAssertions: 0,
    retiredSecrets: 0,
    idempotencyKeys: 0,
    usageCounts: 0,
    throttleCounters: 0,
    done: true,
  };
  for (const [field, purge] of purges) {
    let finished = false;
    for (let i = 0; i < maxBatches && !finished; i++) {
      const { deleted, done } = await purge(batchSize);
      summary[field] += deleted;
      finished = done;
    }
    if (!finished) summary.done = false;
  }
  return summary;
}
