import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq, inArray, sql } from "drizzle-orm";
import { notificationDeliveries, notifications, type Role } from "../../src/db/schema";
import type { Bindings, NotificationMessage } from "../../src/env";
import worker from "../../src/index";
import { handleQueue } from "../../src/notifications/consumer";
import { createSite, createUser, db } from "./app";

export const CRON = "*/15 * * * *";
export const QUEUE = "app-registrations-notifications";
export const DEAD_LETTER_QUEUE = "app-registrations-notifications-dlq";

/** A Site with `admins` Site Administrators (and whatever else the test adds). */
export async function siteWithAdmins(admins = 1, site: Parameters<typeof createSite>[0] = {}) {
  const created = await createSite(site);
  const users = [];
  for (let i = 0; i < admins; i++) users.push(await createUser({ sites: [[created.id, "site_admin" as Role]] }));
  return { site: created, admins: users };
}

/** Forgets where the cron left off, so the next run starts with a full sweep (as on a fresh database). */
export async function resetCronState() {
  await env.DB.prepare("DELETE FROM job_state WHERE name LIKE 'expiry-notices:%'").run();
}

export interface SentEmail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * The real bindings with the Queue and the email sender replaced by recorders (the platform's bindings, not our
 * code), so a test sees every message and email and decides when and how often each message is delivered.
 */
export function recordingBindings(options: { sendEmail?: (email: SentEmail) => Promise<void> } = {}) {
  const pending: NotificationMessage[] = [];
  const emails: SentEmail[] = [];
  const queue = {
    async send(body: NotificationMessage) {
      pending.push(body);
    },
    async sendBatch(messages: { body: NotificationMessage }[]) {
      for (const m of messages) pending.push(m.body);
    },
  } as unknown as Queue<NotificationMessage>;
  const email = {
    async send(message: SentEmail) {
      if (options.sendEmail) await options.sendEmail(message);
      emails.push(message);
      return { messageId: `<${emails.length}@test>` };
    },
  } as unknown as SendEmail;
  const bindings: Bindings = { ...env, NOTIFICATIONS: queue, EMAIL: email };
  return {
    env: bindings,
    pending,
    emails,
    /** Takes the messages enqueued so far (they are no longer pending). */
    take: () => pending.splice(0, pending.length),
  };
}

let messageCounter = 0;

/** Delivers messages to the consumer as the Queue would (`attempts` as given) and returns acks and retries. */
export async function deliverMessages(
  bindings: Bindings,
  bodies: NotificationMessage[],
  options: { queue?: string; attempts?: number } = {},
) {
  const batch = createMessageBatch<NotificationMessage>(
    options.queue ?? QUEUE,
    bodies.map((body) => ({
      id: `message-${++messageCounter}`,
      timestamp: new Date(),
      attempts: options.attempts ?? 1,
      body,
    })),
  );
  // The test harness's result lists retried messages without their delay, so the options are read off the calls.
  const delays = new Map<string, number | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      delays.set(message.id, options?.delaySeconds);
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await handleQueue(batch, bindings, ctx);
  const result = await getQueueResult(batch, ctx);
  const ids = batch.messages.map((m) => m.id);
  return {
    acked: result.explicitAcks.map((id) => ids.indexOf(id)),
    retried: result.retryMessages.map((r) => ({ index: ids.indexOf(r.msgId), delaySeconds: delays.get(r.msgId) })),
  };
}

/** Runs the Worker's own scheduled handler at `scheduledTime` with the given bindings (and cron expression). */
export async function runScheduled(scheduledTime: number, bindings: Bindings = env, cron = CRON) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron }), bindings, ctx);
  await waitOnExecutionContext(ctx);
}

/** Delivers every pending message, and the messages those produce, until the Queue is empty. */
export async function drain(recorder: ReturnType<typeof recordingBindings>) {
  for (let round = 0; round < 10 && recorder.pending.length > 0; round++) {
    await deliverMessages(recorder.env, recorder.take());
  }
}

export async function notificationsFor(registrationIds: number[]) {
  return db()
    .select()
    .from(notifications)
    .where(inArray(notifications.registrationId, registrationIds))
    .orderBy(notifications.id)
    .all();
}

export async function deliveriesFor(notificationId: number) {
  return db()
    .select()
    .from(notificationDeliveries)
    .where(eq(notificationDeliveries.notificationId, notificationId))
    .orderBy(notificationDeliveries.recipientEmail)
    .all();
}

/** Moves a registration's expiry, as a direct database edit (what `wrangler d1 execute` would do). */
export async function setExpiry(registrationId: number, expiresAt: number, expirationDate = "2000-01-01") {
  await env.DB.prepare("UPDATE app_registrations SET expires_at = ?, expiration_date = ? WHERE id = ?")
    .bind(expiresAt, expirationDate, registrationId)
    .run();
}

export async function setEnabled(registrationId: number, enabled: boolean) {
  await db().run(sql`UPDATE app_registrations SET enabled = ${enabled ? 1 : 0} WHERE id = ${registrationId}`);
}
