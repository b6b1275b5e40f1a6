import type { Bindings, NotificationMessage } from "../env";
import { DAY } from "../lib/time";
import { crossingWindows, dueNotice, dueWindow, EXPIRED_CATCH_UP, MILESTONES, type NoticeSubject } from "./cadence";
import {
  advanceJobStateStatements,
  cursorFromState,
  type ExpiryCursor,
  parseJobState,
  readJobStateStatement,
} from "./cursor";
import type { DueNotice, NoticeBatchMessage } from "./messages";

/** At most this many notices fire per run; the rest wait for the next run (nothing is lost: see `done`). */
export const MAX_NOTICES_PER_RUN = 1000;
/** Notices per Queue message (about 100 bytes each; a message may hold 128 KB). */
const NOTICES_PER_MESSAGE = 100;
/** Queues accept at most 100 messages per `sendBatch`. */
const SEND_BATCH_LIMIT = 100;

export type EvaluationMode =
  | { kind: "incremental"; cursor: ExpiryCursor }
  | { kind: "sweep"; reason: "first-run" | "replay" | "stale-cursor" | "daily" | "manual" };

/**
 * How a run at `now` selects its candidates. Incremental: only what changed since the cursor (milestones whose
 * moment passed, registrations and keys created since, registrations edited since, secrets given an expiry since). A full sweep of every
 * `expires_at` that can be due reads more and is the safety net: on the first run, when the cursor is older than
 * the catch-up horizon, on a replay of an earlier instant, once per UTC day (for edits made outside the product,
 * such as SQL run by hand), and when asked for (`manual`: a trigger by hand).
 */
export function chooseMode(cursor: ExpiryCursor | null, now: number, manual = false): EvaluationMode {
  if (manual) return { kind: "sweep", reason: "manual" };
  if (!cursor) return { kind: "sweep", reason: "first-run" };
  if (now < cursor.through) return { kind: "sweep", reason: "replay" };
  if (now - cursor.through > EXPIRED_CATCH_UP) return { kind: "sweep", reason: "stale-cursor" };
  if (Math.floor(now / DAY) !== Math.floor(cursor.through / DAY)) return { kind: "sweep", reason: "daily" };
  return { kind: "incremental", cursor };
}

export interface ExpiryRunSummary {
  mode: EvaluationMode["kind"];
  reason?: string;
  /**
   * Registrations and keys selected as due (a notice due and not yet recorded for their `expires_at`); each window
   * query stops after `maxNotices + 1` rows, so past that this counts what was read, not everything due.
   */
  due: number;
  /** Notices handed to the consumer in this run. */
  enqueued: number;
  enqueueError?: string;
  /** Rows D1 read by the window queries that select the due registrations and keys. */
  selectionRowsRead: number;
  /** Rows D1 read by the whole evaluation. */
  rowsRead: number;
  /** False when more notices were due than one run handles, or they could not be enqueued: the next run goes on. */
  done: boolean;
}

const int = (n: number) => {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not an integer: ${n}`);
  return String(n);
};

/** SQL for the latest template due at `now` for an `expires_at` column already limited to `dueWindow(now)`. */
function dueTemplateSql(column: string, now: number): string {
  const cases = [...MILESTONES]
    .reverse()
    .map((m) => `WHEN ${column} <= ${int(now + m.before)} THEN '${m.template}'`)
    .join(" ");
  return `CASE ${cases} END`;
}

/** No notice yet for the due template of this subject and `expires_at` (a probe of the unique dedupe index). */
function notNotifiedSql(kind: NoticeSubject["kind"], idColumn: string, expiresColumn: string, now: number): string {
  return `NOT EXISTS (SELECT 1 FROM notifications n WHERE n.dedupe_key =
    '${kind}:' || ${idColumn} || '|' || ${dueTemplateSql(expiresColumn, now)} || '|' || ${expiresColumn})`;
}

interface Source {
  statement: D1PreparedStatement;
  kind: NoticeSubject["kind"];
}

function registrationSource(d1: D1Database, now: number, range: string, params: number[], limit: number): Source {
  const sql = `SELECT r.id, r.expires_at FROM app_registrations r
    WHERE ${range} AND +r.enabled = 1 AND ${notNotifiedSql("reg", "r.id", "r.expires_at", now)}
    ORDER BY r.expires_at, r.id LIMIT ${int(limit)}`;
  return { statement: d1.prepare(sql).bind(...params), kind: "reg" };
}

function keySource(d1: D1Database, now: number, range: string, params: number[], limit: number): Source {
  const sql = `SELECT k.id, k.expires_at FROM client_keys k JOIN app_registrations r ON r.id = k.registration_id
    WHERE ${range} AND +r.enabled = 1 AND ${notNotifiedSql("key", "k.id", "k.expires_at", now)}
    ORDER BY k.expires_at, k.id LIMIT ${int(limit)}`;
  return { statement: d1.prepare(sql).bind(...params), kind: "key" };
}

/**
 * A Client secret is due for notices only while live and when its expiry was set ahead of time by a rotation (an
 * old secret told to stop "now" expired by the administrator's own hand: nothing to warn about).
 */
function secretSource(d1: D1Database, now: number, range: string, params: number[], limit: number): Source {
  const sql = `SELECT s.id, s.expires_at FROM client_secrets s JOIN app_registrations r ON r.id = s.registration_id
    WHERE ${range} AND +s.revoked_at IS NULL AND s.expires_at > s.expiry_set_at AND +r.enabled = 1
      AND ${notNotifiedSql("secret", "s.id", "s.expires_at", now)}
    ORDER BY s.expires_at, s.id LIMIT ${int(limit)}`;
  return { statement: d1.prepare(sql).bind(...params), kind: "secret" };
}

/** The window queries of a run: each reads only rows that can be due (see `chooseMode`). */
function candidateSources(
  d1: D1Database,
  mode: EvaluationMode,
  now: number,
  newest: ExpiryCursor,
  limit: number,
): Source[] {
  const all = dueWindow(now);
  if (mode.kind === "sweep") {
    return [
      registrationSource(d1, now, "r.expires_at > ? AND r.expires_at <= ?", [all.from, all.to], limit),
      keySource(d1, now, "k.expires_at > ? AND k.expires_at <= ?", [all.from, all.to], limit),
      secretSource(d1, now, "s.expires_at > ? AND s.expires_at <= ?", [all.from, all.to], limit),
    ];
  }
  const { cursor } = mode;
  const sources: Source[] = [];
  // Milestones whose moment fell in (cursor.through, now]: time passing, the usual case.
  for (const w of crossingWindows(cursor.through, now)) {
    sources.push(registrationSource(d1, now, "r.expires_at > ? AND r.expires_at <= ?", [w.from, w.to], limit));
    sources.push(keySource(d1, now, "k.expires_at > ? AND k.expires_at <= ?", [w.from, w.to], limit));
    sources.push(secretSource(d1, now, "s.expires_at > ? AND s.expires_at <= ?", [w.from, w.to], limit));
  }
  // Created since the last run, possibly inside a window already (`+` keeps SQLite on the rowid range).
  const dueRange = "+r.expires_at > ? AND +r.expires_at <= ?";
  if (newest.registrationId > cursor.registrationId) {
    sources.push(
      registrationSource(
        d1,
        now,
        `r.id > ? AND r.id <= ? AND ${dueRange}`,
        [cursor.registrationId, newest.registrationId, all.from, all.to],
        limit,
      ),
    );
  }
  if (newest.keyId > cursor.keyId) {
    sources.push(
      keySource(
        d1,
        now,
        "k.id > ? AND k.id <= ? AND +k.expires_at > ? AND +k.expires_at <= ?",
        [cursor.keyId, newest.keyId, all.from, all.to],
        limit,
      ),
    );
  }
  // Edited since the last run (renewed into a window, re-enabled): the admin audit trail names them.
  if (newest.auditId > cursor.auditId) {
    const edited =
      "IN (SELECT a.registration_id FROM admin_audit_events a WHERE a.id > ? AND a.id <= ? AND a.registration_id IS NOT NULL)";
    sources.push(
      registrationSource(
        d1,
        now,
        `r.id ${edited} AND ${dueRange}`,
        [cursor.auditId, newest.auditId, all.from, all.to],
        limit,
      ),
    );
    sources.push(
      keySource(
        d1,
        now,
        `k.registration_id ${edited} AND +k.expires_at > ? AND +k.expires_at <= ?`,
        [cursor.auditId, newest.auditId, all.from, all.to],
        limit,
      ),
    );
    // A secret is issued without expiry; only a rotation gives one (to the secret live before), and its audit row
    // names the registration. So secrets need no "created since" source.
    sources.push(
      secretSource(
        d1,
        now,
        `s.registration_id IN (SELECT a.registration_id FROM admin_audit_events a WHERE a.id > ? AND a.id <= ?
          AND a.action = 'set_secret_expiry') AND +s.expires_at > ? AND +s.expires_at <= ?`,
        [cursor.auditId, newest.auditId, all.from, all.to],
        limit,
      ),
    );
  }
  return sources;
}

const rowsRead = (results: (D1Result | undefined)[]) => results.reduce((sum, r) => sum + (r?.meta.rows_read ?? 0), 0);

/**
 * Enqueues due notices for the consumer to record, NOTICES_PER_MESSAGE per message. The cron itself writes nothing
 * per notice: every write costs D1 reads (foreign-key and unique-index checks), which would make the cron's cost a
 * multiple of the due count; the consumer does those writes, with the Queue's retries behind them.
 */
async function enqueueNotices(queue: Queue<NotificationMessage>, notices: DueNotice[], firedAt: number) {
  const messages: { body: NoticeBatchMessage }[] = [];
  for (let i = 0; i < notices.length; i += NOTICES_PER_MESSAGE) {
    messages.push({ body: { firedAt, notices: notices.slice(i, i + NOTICES_PER_MESSAGE) } });
  }
  for (let i = 0; i < messages.length; i += SEND_BATCH_LIMIT) {
    await queue.sendBatch(messages.slice(i, i + SEND_BATCH_LIMIT));
  }
}

/**
 * Evaluates the §5 milestones at `now` (the cron's `scheduledTime`): selects what is due through the `expires_at`
 * indexes (each due row read once, already-notified rows skipped by the window or by a probe of the unique dedupe
 * index) and enqueues the notices. The consumer writes each notice at most once (unique dedupe key, `ON CONFLICT DO
 * NOTHING`) with one delivery per Site Administrator, then enqueues their emails. The cursor moves only when every
 * due notice was enqueued, so a run that cannot finish (or cannot enqueue) leaves the rest to the next run.
 */
export async function evaluateExpiry(
  env: Pick<Bindings, "DB" | "NOTIFICATIONS">,
  now: number,
  options: { maxNotices?: number; sweep?: boolean } = {},
): Promise<ExpiryRunSummary> {
  const d1 = env.DB;
  const maxNotices = options.maxNotices ?? MAX_NOTICES_PER_RUN;
  const [stateRows, newestRows] = await d1.batch([
    readJobStateStatement(d1, ["through", "registrationId", "keyId", "auditId"]),
    d1.prepare(
      `SELECT (SELECT max(id) FROM app_registrations) AS registration_id, (SELECT max(id) FROM client_keys) AS key_id,
         (SELECT max(id) FROM admin_audit_events) AS audit_id`,
    ),
  ]);
  const cursor = cursorFromState(parseJobState(stateRows?.results ?? []));
  const newestRow = (newestRows?.results?.[0] ?? {}) as Record<string, number | null>;
  const newest: ExpiryCursor = {
    through: now,
    registrationId: newestRow.registration_id ?? 0,
    keyId: newestRow.key_id ?? 0,
    auditId: newestRow.audit_id ?? 0,
  };
  const mode = chooseMode(cursor, now, options.sweep);
  const sources = candidateSources(d1, mode, now, newest, maxNotices + 1);
  const selected = sources.length > 0 ? await d1.batch(sources.map((s) => s.statement)) : [];
  const selectionRowsRead = rowsRead(selected);

  const candidates = new Map<string, DueNotice>();
  let exhausted = true;
  selected.forEach((result, i) => {
    const kind = sources[i]?.kind ?? "reg";
    const rows = (result.results ?? []) as { id: number; expires_at: number }[];
    if (rows.length > maxNotices) exhausted = false;
    for (const row of rows) {
      const template = dueNotice(row.expires_at, now);
      if (template) candidates.set(`${kind}:${row.id}`, { kind, id: row.id, template, expiresAt: row.expires_at });
    }
  });
  // The most urgent first: when a run cannot handle everything, the nearest expiries go out.
  const due = [...candidates.values()].sort((a, b) => a.expiresAt - b.expiresAt || a.id - b.id);
  const firing = due.slice(0, maxNotices);
  let done = exhausted && due.length <= maxNotices;
  let enqueueError: string | undefined;
  try {
    await enqueueNotices(env.NOTIFICATIONS, firing, now);
  } catch (error) {
    // Nothing is lost: the cursor stays, and the next run selects these notices again.
    enqueueError = error instanceof Error ? error.message : String(error);
    done = false;
  }
  let total = rowsRead([stateRows, newestRows]) + selectionRowsRead;
  if (done) total += rowsRead(await d1.batch(advanceJobStateStatements(d1, newest)));
  return {
    mode: mode.kind,
    reason: mode.kind === "sweep" ? mode.reason : undefined,
    due: due.length,
    enqueued: enqueueError ? 0 : firing.length,
    enqueueError,
    selectionRowsRead,
    rowsRead: total,
    done,
  };
}
