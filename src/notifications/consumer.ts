import { and, eq, inArray, ne } from "drizzle-orm";
import { createDb, type Db } from "../db/client";
import { clientKeys, notificationDeliveries, notifications, sites } from "../db/schema";
import type { Bindings, NotificationMessage } from "../env";
import { publicOrigin, renderExpiryEmail } from "./email";
import { queueMessage } from "./messages";
import { recordNotices } from "./record";

/** The dead-letter queue's name ends like this (wrangler.toml); its messages are deliveries that gave up. */
const DEAD_LETTER_SUFFIX = "-dlq";
/** First retry after 30 s, doubling per attempt (30 s, 1 min, 2 min, 4 min, 8 min), never above an hour. */
export const RETRY_BASE_SECONDS = 30;
export const RETRY_MAX_SECONDS = 3600;
const MAX_ERROR_LENGTH = 500;

export function retryDelaySeconds(attempt: number): number {
  return Math.min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** Math.max(0, attempt - 1));
}

export type DeliveryOutcome = "sent" | "already-sent" | "not-claimed" | "missing" | "retrying" | "failed";

async function loadDelivery(db: Db, deliveryId: number) {
  return db
    .select({
      id: notificationDeliveries.id,
      recipientEmail: notificationDeliveries.recipientEmail,
      state: notificationDeliveries.state,
      attempts: notificationDeliveries.attempts,
      template: notifications.template,
      registrationId: notifications.registrationId,
      registrationName: notifications.registrationName,
      clientId: notifications.clientId,
      dedupeKey: notifications.dedupeKey,
      expirationDate: notifications.expirationDate,
      expiresAt: notifications.expiresAt,
      firedAt: notifications.firedAt,
      siteSlug: sites.slug,
      siteName: sites.name,
      siteTimeZone: sites.timeZone,
      keyKid: clientKeys.kid,
      secretHint: notifications.secretHint,
    })
    .from(notificationDeliveries)
    .innerJoin(notifications, eq(notifications.id, notificationDeliveries.notificationId))
    .innerJoin(sites, eq(sites.id, notifications.siteId))
    .leftJoin(clientKeys, eq(clientKeys.id, notifications.keyId))
    .where(eq(notificationDeliveries.id, deliveryId))
    .get();
}

/**
 * Sends one delivery's email, at most once: a delivery already `sent` is acknowledged without sending, and the
 * send is claimed with a conditional update (on the attempts count) so two copies of a message cannot both send.
 */
export async function deliver(env: Bindings, deliveryId: number, now: number): Promise<DeliveryOutcome> {
  const db = createDb(env.DB);
  const delivery = await loadDelivery(db, deliveryId);
  if (!delivery) return "missing";
  if (delivery.state === "sent") return "already-sent";
  if (delivery.state === "failed") return "not-claimed";
  const claimed = await db
    .update(notificationDeliveries)
    .set({ attempts: delivery.attempts + 1, updatedAt: now })
    .where(
      and(
        eq(notificationDeliveries.id, deliveryId),
        inArray(notificationDeliveries.state, ["queued", "retrying"]),
        eq(notificationDeliveries.attempts, delivery.attempts),
      ),
    )
    .returning({ id: notificationDeliveries.id })
    .get();
  if (!claimed) return "not-claimed";

  try {
    const email = await renderExpiryEmail(
      {
        template: delivery.template,
        siteSlug: delivery.siteSlug,
        siteName: delivery.siteName,
        siteTimeZone: delivery.siteTimeZone,
        registrationId: delivery.registrationId,
        registrationName: delivery.registrationName,
        clientId: delivery.clientId,
        // A key notice keeps its `key:` dedupe key even after the key (and so key_id) is gone.
        key: delivery.dedupeKey.startsWith("key:") ? { kid: delivery.keyKid } : null,
        secret: delivery.dedupeKey.startsWith("secret:") ? { hint: delivery.secretHint } : null,
        expirationDate: delivery.expirationDate,
        expiresAt: delivery.expiresAt,
        asOf: delivery.firedAt,
      },
      publicOrigin(env),
    );
    await env.EMAIL.send({ from: env.EMAIL_FROM, to: delivery.recipientEmail, ...email });
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_LENGTH);
    await db
      .update(notificationDeliveries)
      .set({ state: "retrying", lastError: message, updatedAt: now })
      .where(and(eq(notificationDeliveries.id, deliveryId), ne(notificationDeliveries.state, "sent")));
    return "retrying";
  }
  await db
    .update(notificationDeliveries)
    .set({ state: "sent", sentAt: now, lastError: null, updatedAt: now })
    .where(eq(notificationDeliveries.id, deliveryId));
  return "sent";
}

/** A message from the dead-letter queue: every retry failed. The log shows the delivery as failed. */
export async function markFailed(env: Bindings, deliveryId: number, now: number): Promise<DeliveryOutcome> {
  const db = createDb(env.DB);
  const updated = await db
    .update(notificationDeliveries)
    .set({ state: "failed", updatedAt: now })
    .where(and(eq(notificationDeliveries.id, deliveryId), ne(notificationDeliveries.state, "sent")))
    .returning({ id: notificationDeliveries.id })
    .get();
  return updated ? "failed" : "already-sent";
}

/**
 * The notification Queue consumer (§5), for the main queue and its dead-letter queue (told apart by `batch.queue`).
 * Two kinds of message arrive: due notices from the cron (recorded in the log with their deliveries) and single
 * deliveries (one email each). Each message is handled and acknowledged on its own; a failure is retried with
 * exponential backoff, and after the queue's `max_retries` the message lands in the dead-letter queue, where a
 * delivery is marked failed (the log shows it) and a notice batch gets one last attempt.
 */
export async function handleQueue(batch: MessageBatch<NotificationMessage>, env: Bindings, _ctx: ExecutionContext) {
  const now = Date.now();
  const deadLetters = batch.queue.endsWith(DEAD_LETTER_SUFFIX);
  for (const message of batch.messages) {
    const parsed = queueMessage.safeParse(message.body);
    if (!parsed.success) {
      console.error(JSON.stringify({ event: "notification-message-invalid", queue: batch.queue, id: message.id }));
      message.ack();
      continue;
    }
    const body = parsed.data;
    try {
      if ("deliveryId" in body) {
        const outcome = deadLetters
          ? await markFailed(env, body.deliveryId, now)
          : await deliver(env, body.deliveryId, now);
        console.log(JSON.stringify({ event: "notification-delivery", queue: batch.queue, ...body, outcome }));
        if (outcome === "retrying") {
          message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
          continue;
        }
      } else {
        const recorded = await recordNotices(env, body);
        console.log(JSON.stringify({ event: "notification-notices", queue: batch.queue, ...recorded }));
      }
      message.ack();
    } catch (error) {
      // D1 or the Queue failed: nothing was recorded as done, so the message comes back later (or, from the
      // dead-letter queue, is dropped: the cron's daily sweep and re-enqueue pick the work up again).
      console.error(
        JSON.stringify({
          event: "notification-message-failed",
          queue: batch.queue,
          id: message.id,
          error: String(error),
        }),
      );
      if (deadLetters) message.ack();
      else message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
