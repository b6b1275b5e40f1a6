/**
 * Where the cron left off, so a run reads only what changed since the previous one (§5: the cost grows with the due
 * registrations, not with the total).
 *
 * The values live in the `job_state` table, one integer per name.
 */

const KEYS = {
  through: "expiry-notices:through",
  registrationId: "expiry-notices:registration-id",
  keyId: "expiry-notices:key-id",
  auditId: "expiry-notices:audit-id",
  requeueThrough: "expiry-notices:requeue-through",
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
    .prepare(`SELECT name AS key, value FROM job_state WHERE name IN (${placeholders})`)
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
        `INSERT INTO job_state (name, value) VALUES (?, ?)
         ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)`,
      )
      .bind(KEYS[field], value),
  );
}
