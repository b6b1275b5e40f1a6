import type { Bindings, NotificationMessage } from "../env";
import { DAY, HOUR } from "../lib/time";
import { advanceJobStateStatements, parseJobState, readJobStateStatement } from "./cursor";

/** Queues accept at most 100 messages per `sendBatch`. */
const SEND_BATCH_LIMIT = 100;
/** A delivery still `queued` this long after its notice fired is enqueued again by the cron. */
export const STUCK_AFTER = HOUR;
/** On its first run the re-enqueue looks this far back. */
export const STUCK_LOOKBACK = 7 * DAY;
const REQUEUE_LIMIT = 1000;

/** One Queue message per delivery. Throws when the Queue refuses, so the caller can keep the work for later. */
export async function sendDeliveryMessages(queue: Queue<NotificationMessage>, deliveryIds: number[]): Promise<void> {
  for (let i = 0; i < deliveryIds.length; i += SEND_BATCH_LIMIT) {
    const chunk = deliveryIds.slice(i, i + SEND_BATCH_LIMIT);
    await queue.sendBatch(chunk.map((deliveryId) => ({ body: { deliveryId } })));
  }
}

export interface RequeueSummary {
  requeued: number;
  rowsRead: number;
  enqueueError?: string;
  done: boolean;
}

/**
 * The safety net behind the consumer: deliveries still `queued` more than STUCK_AFTER after their notice fired
 * (their message was never enqueued, or was lost) are enqueued again. Each run looks at the notices that crossed the
 * STUCK_AFTER line since the previous run, per Site through the `(site_id, fired_at)` index, so its cost follows the
 * recent notices, not the size of the log. The consumer is idempotent: a duplicate message sends no second email.
 */
export async function requeueStuckDeliveries(
  env: Pick<Bindings, "DB" | "NOTIFICATIONS">,
  now: number,
): Promise<RequeueSummary> {
  const d1 = env.DB;
  const upTo = now - STUCK_AFTER;
  const state = await readJobStateStatement(d1, ["requeueThrough"]).all();
  const since = parseJobState(state.results).requeueThrough ?? upTo - STUCK_LOOKBACK;
  let rowsRead = state.meta.rows_read ?? 0;
  if (upTo <= since) return { requeued: 0, rowsRead, done: true };
  const stuck = await d1
    .prepare(
      // CROSS JOIN pins the join order: Sites, then their notices in the band, then those notices' deliveries.
      `SELECT d.id FROM sites s
         CROSS JOIN notifications n ON n.site_id = s.id AND n.fired_at > ?1 AND n.fired_at <= ?2
         CROSS JOIN notification_deliveries d ON d.notification_id = n.id
       WHERE d.state = 'queued' LIMIT ?3`,
    )
    .bind(since, upTo, REQUEUE_LIMIT + 1)
    .all<{ id: number }>();
  rowsRead += stuck.meta.rows_read ?? 0;
  const ids = stuck.results.slice(0, REQUEUE_LIMIT).map((r) => r.id);
  try {
    await sendDeliveryMessages(env.NOTIFICATIONS, ids);
  } catch (error) {
    return { requeued: 0, rowsRead, enqueueError: String(error), done: false };
  }
  const done = stuck.results.length <= REQUEUE_LIMIT;
  if (done) {
    const advanced = await d1.batch(advanceJobStateStatements(d1, { requeueThrough: upTo }));
    rowsRead += advanced.reduce((sum, r) => sum + (r.meta.rows_read ?? 0), 0);
  }
  return { requeued: ids.length, rowsRead, done };
}
