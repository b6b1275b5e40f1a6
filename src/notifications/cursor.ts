/**
 * Where the cron left off, so a run reads only what changed since the previous one (§5: the cost grows with the due
 * registrations, not with the total).
 *
 * The schema has no table for job state, so these values live in `throttle_counters` (a generic key/window/count
 * table) under keys prefixed `job:`, with `window_start = 0` and the value in `count`. The retention purge leaves
 * `job:` keys alone. A dedicated `job_state(name PRIMARY KEY, value)` table would be their clean home.
 */

export const JOB_KEY_PREFIX = "job:";

const KEYS = {
  through: "job:expiry-notices:through",
  registrationId: "job:expiry-notices:registration-id",
  keyId: "job:expiry-notices:key-id",
  auditId: "job:expiry-notices:audit-id",
  requeueThrough: "job:expiry-notices:requeue-through",
} as const;

export type JobField = keyof typeof KEYS;

export interface ExpiryCursor {
  /** Every milestone whose moment is at or before this instant has been evaluated. */
  through: number;
  /** Highest app_registrations.id evaluated (newer rows are registrations created since). */
  registrationId: number;
  /** Highest client_keys.id evaluated. */
  keyId: number;
  /** Highest admin_audit_events.id evaluated (newer rows name registrations edited since). */
  auditId: number;
}

export function readJobStateStatement(d1: D1Database, fields: JobField[]): D1PreparedStatement {
  const placeholders = fields.map(() => "?").join(", ");
  return d1
    .prepare(`SELECT key, count AS value FROM throttle_counters WHERE window_start = 0 AND key IN (${placeholders})`)
    .bind(...fields.map((f) => KEYS[f]));
}

export function parseJobState(rows: unknown[]): Partial<Record<JobField, number>> {
  const state: Partial<Record<JobField, number>> = {};
  for (const row of rows as { key: string; value: number }[]) {
    const field = (Object.keys(KEYS) as JobField[]).find((f) => KEYS[f] === row.key);
    if (field) state[field] = Number(row.value);
  }
  return state;
}

export function cursorFromState(state: Partial<Record<JobField, number>>): ExpiryCursor | null {
  if (state.through === undefined) return null;
  return {
    through: state.through,
    registrationId: state.registrationId ?? 0,
    keyId: state.keyId ?? 0,
    auditId: state.auditId ?? 0,
  };
}

/** Moves values forward; never back (overlapping or replayed runs cannot undo a newer run's progress). */
export function advanceJobStateStatements(
  d1: D1Database,
  values: Partial<Record<JobField, number>>,
): D1PreparedStatement[] {
  return (Object.entries(values) as [JobField, number][]).map(([field, value]) =>
    d1
      .prepare(
        `INSERT INTO throttle_counters (key, window_start, count) VALUES (?, 0, ?)
         ON CONFLICT (key, window_start) DO UPDATE SET count = max(count, excluded.count)`,
      )
      .bind(KEYS[field], value),
  );
}
