import { DAY } from "../lib/time";
import { JOB_KEY_PREFIX } from "./cursor";

/** §8: the security log keeps 90 days. */
export const SECURITY_EVENT_RETENTION = 90 * DAY;
/** Throttle windows are minutes long; a day-old window can no longer count. */
export const THROTTLE_WINDOW_RETENTION = DAY;

export interface PurgeSummary {
  securityEvents: number;
  sessions: number;
  usedAssertions: number;
  throttleCounters: number;
  rowsRead: number;
  /** False when a table still had more to purge than the run's batches allowed: the next run continues. */
  done: boolean;
}

/**
 * Deletes what has a retention, oldest first, in bounded batches per table (each one statement through the table's
 * time index): security events older than 90 days, sessions past their absolute expiry, replay-protection entries
 * of assertions past their own `exp`, and throttle windows older than a day (job cursors excepted).
 */
export async function purgeExpired(
  d1: D1Database,
  now: number,
  options: { batchSize?: number; maxBatches?: number } = {},
): Promise<PurgeSummary> {
  const batchSize = options.batchSize ?? 1000;
  const maxBatches = options.maxBatches ?? 5;
  const targets = [
    {
      field: "securityEvents",
      sql: "DELETE FROM security_events WHERE id IN (SELECT id FROM security_events WHERE last_at < ?1 ORDER BY last_at LIMIT ?2)",
      cutoff: now - SECURITY_EVENT_RETENTION,
    },
    {
      field: "sessions",
      sql: "DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
      cutoff: now,
    },
    {
      field: "usedAssertions",
      sql: "DELETE FROM used_assertions WHERE rowid IN (SELECT rowid FROM used_assertions WHERE expires_at < ?1 ORDER BY expires_at LIMIT ?2)",
      cutoff: now,
    },
    {
      field: "throttleCounters",
      sql: `DELETE FROM throttle_counters WHERE rowid IN (SELECT rowid FROM throttle_counters
              WHERE window_start < ?1 AND key NOT LIKE '${JOB_KEY_PREFIX}%' ORDER BY window_start LIMIT ?2)`,
      cutoff: now - THROTTLE_WINDOW_RETENTION,
    },
  ] as const;
  const summary: PurgeSummary = {
    securityEvents: 0,
    sessions: 0,
    usedAssertions: 0,
    throttleCounters: 0,
    rowsRead: 0,
    done: true,
  };
  for (const target of targets) {
    let finished = false;
    for (let i = 0; i < maxBatches && !finished; i++) {
      const result = await d1.prepare(target.sql).bind(target.cutoff, batchSize).run();
      const deleted = result.meta.changes ?? 0;
      summary[target.field] += deleted;
      summary.rowsRead += result.meta.rows_read ?? 0;
      finished = deleted < batchSize;
    }
    if (!finished) summary.done = false;
  }
  return summary;
}
