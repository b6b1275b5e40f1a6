import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { appRegistrations, notificationDeliveries } from "../../src/db/schema";
import type { NotificationMessage } from "../../src/env";
import { DAY, HOUR } from "../../src/lib/time";
import { retryDelaySeconds } from "../../src/notifications/consumer";
import type { NoticeBatchMessage } from "../../src/notifications/messages";
import { db } from "../helpers/app";
import {
  DEAD_LETTER_QUEUE,
  deliveriesFor,
  deliverMessages,
  notificationsFor,
  recordingBindings,
  setEnabled,
  setExpiry,
  siteWithAdmins,
} from "../helpers/notifications";
import { createRegistration } from "../helpers/registrations";

const N = Date.UTC(2031, 4, 1, 12);

/** A Site Administrator's pending email: a registration with a recorded 7-day notice and one queued delivery. */
async function queuedDelivery(bindings = recordingBindings()) {
  const { site, admins } = await siteWithAdmins(1);
  const { registration, clientSecret } = await createRegistration(site.id, { expirationDate: "2031-05-04", now: N });
  const notice: NoticeBatchMessage = {
    firedAt: N,
    notices: [{ kind: "reg", id: registration.id, template: "expires_in_7_days", expiresAt: registration.expiresAt }],
  };
  const recorded = await deliverMessages(bindings.env, [notice]);
  expect(recorded.acked).toEqual([0]);
  const [message] = bindings.take();
  if (!message || !("deliveryId" in message)) throw new Error("no delivery message");
  return { site, admin: admins[0], registration, clientSecret, message, bindings };
}

const deliveryRow = (id: number) =>
  db().select().from(notificationDeliveries).where(eq(notificationDeliveries.id, id)).get();

describe("the queue consumer", () => {
  it("sends a delivery's email once, marks it sent, and sends nothing when the message comes again", async () => {
    const { message, bindings, admin } = await queuedDelivery();
    const first = await deliverMessages(bindings.env, [message]);
    expect(first).toEqual({ acked: [0], retried: [] });
    expect(bindings.emails.map((e) => [e.from, e.to])).toEqual([[env.EMAIL_FROM, admin?.email]]);
    expect(await deliveryRow(message.deliveryId)).toMatchObject({ state: "sent", attempts: 1, lastError: null });
    expect((await deliveryRow(message.deliveryId))?.sentAt).toBeGreaterThan(0);

    const again = await deliverMessages(bindings.env, [message, message], { attempts: 2 });
    expect(again).toEqual({ acked: [0, 1], retried: [] });
    expect(bindings.emails).toHaveLength(1);
    expect(await deliveryRow(message.deliveryId)).toMatchObject({ state: "sent", attempts: 1 });
  });

  it("sends once when two copies of a message are handled at the same time", async () => {
    const { message, bindings } = await queuedDelivery();
    const results = await Promise.all([
      deliverMessages(bindings.env, [message]),
      deliverMessages(bindings.env, [message]),
      deliverMessages(bindings.env, [message]),
    ]);
    expect(results.flatMap((r) => r.acked)).toEqual([0, 0, 0]);
    expect(bindings.emails).toHaveLength(1);
    expect(await deliveryRow(message.deliveryId)).toMatchObject({ state: "sent", attempts: 1 });
  });

  it("retries a failing send with exponential backoff and records each attempt until it succeeds", async () => {
    let relayDown = true;
    const bindings = recordingBindings({
      sendEmail: async () => {
        if (relayDown) throw new Error("mail relay unavailable");
      },
    });
    const { message } = await queuedDelivery(bindings);
    for (const [attempt, delay] of [
      [1, 30],
      [2, 60],
      [3, 120],
    ] as const) {
      const result = await deliverMessages(bindings.env, [message], { attempts: attempt });
      expect(result).toEqual({ acked: [], retried: [{ index: 0, delaySeconds: delay }] });
      expect(await deliveryRow(message.deliveryId)).toMatchObject({
        state: "retrying",
        attempts: attempt,
        lastError: "mail relay unavailable",
        sentAt: null,
      });
    }
    expect(bindings.emails).toHaveLength(0);
    relayDown = false;
    expect(await deliverMessages(bindings.env, [message], { attempts: 4 })).toEqual({ acked: [0], retried: [] });
    expect(await deliveryRow(message.deliveryId)).toMatchObject({ state: "sent", attempts: 4, lastError: null });
    expect(bindings.emails).toHaveLength(1);
    expect([1, 2, 3, 4, 5, 6, 10].map(retryDelaySeconds)).toEqual([30, 60, 120, 240, 480, 960, 3600]);
  });

  it("marks a delivery failed when its message reaches the dead-letter queue, and never a sent one", async () => {
    const failing = recordingBindings({
      sendEmail: async () => {
        throw new Error("550 mailbox unavailable");
      },
    });
    const { message } = await queuedDelivery(failing);
    await deliverMessages(failing.env, [message], { attempts: 6 });
    const dead = await deliverMessages(failing.env, [message], { queue: DEAD_LETTER_QUEUE });
    expect(dead).toEqual({ acked: [0], retried: [] });
    expect(await deliveryRow(message.deliveryId)).toMatchObject({
      state: "failed",
      attempts: 6 - 5,
      lastError: "550 mailbox unavailable",
    });
    // A late copy on the main queue does not resurrect it.
    await deliverMessages(failing.env, [message]);
    expect(await deliveryRow(message.deliveryId)).toMatchObject({ state: "failed" });

    const { message: sent, bindings } = await queuedDelivery();
    await deliverMessages(bindings.env, [sent]);
    await deliverMessages(bindings.env, [sent], { queue: DEAD_LETTER_QUEUE });
    expect(await deliveryRow(sent.deliveryId)).toMatchObject({ state: "sent" });
  });

  it("retries with backoff when D1 is unavailable, having sent nothing", async () => {
    const { message, bindings } = await queuedDelivery();
    const broken = {
      ...bindings.env,
      DB: {
        prepare() {
          throw new Error("D1 is unavailable");
        },
        batch() {
          throw new Error("D1 is unavailable");
        },
      } as unknown as D1Database,
    };
    const quiet = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await deliverMessages(broken, [message], { attempts: 2 })).toEqual({
      acked: [],
      retried: [{ index: 0, delaySeconds: 60 }],
    });
    quiet.mockRestore();
    expect(bindings.emails).toHaveLength(0);
    expect(await deliveryRow(message.deliveryId)).toMatchObject({ state: "queued", attempts: 0 });
  });

  it("acknowledges a malformed message and does nothing with it", async () => {
    const bindings = recordingBindings();
    const quiet = vi.spyOn(console, "error").mockImplementation(() => {});
    const result = await deliverMessages(bindings.env, [
      { deliveryId: "1; DROP TABLE users" } as unknown as NotificationMessage,
      { firedAt: N, notices: [] } as unknown as NotificationMessage,
      { deliveryId: 987654321 },
    ]);
    quiet.mockRestore();
    expect(result).toEqual({ acked: [0, 1, 2], retried: [] });
    expect(bindings.emails).toHaveLength(0);
  });
});

describe("recording a notice batch", () => {
  it("writes nothing for a registration disabled or renewed after the cron selected it", async () => {
    const { site } = await siteWithAdmins(1);
    const { registration: disabled } = await createRegistration(site.id, { expirationDate: "2031-05-04", now: N });
    const { registration: renewed } = await createRegistration(site.id, { expirationDate: "2031-05-04", now: N });
    const { registration: kept } = await createRegistration(site.id, { expirationDate: "2031-05-04", now: N });
    const message: NoticeBatchMessage = {
      firedAt: N,
      notices: [disabled, renewed, kept].map((r) => ({
        kind: "reg" as const,
        id: r.id,
        template: "expires_in_7_days" as const,
        expiresAt: r.expiresAt,
      })),
    };
    await setEnabled(disabled.id, false);
    await setExpiry(renewed.id, renewed.expiresAt + 365 * DAY);
    const bindings = recordingBindings();
    await deliverMessages(bindings.env, [message]);
    expect((await notificationsFor([disabled.id, renewed.id, kept.id])).map((n) => n.registrationId)).toEqual([
      kept.id,
    ]);
  });

  it("skips a notice when a later one already fired for the same expiry (a replay of an earlier instant)", async () => {
    const { site } = await siteWithAdmins(1);
    const { registration } = await createRegistration(site.id, { expirationDate: "2031-05-04", now: N });
    const notice = (template: "expires_in_30_days" | "expires_in_7_days") => ({
      firedAt: N,
      notices: [{ kind: "reg" as const, id: registration.id, template, expiresAt: registration.expiresAt }],
    });
    const bindings = recordingBindings();
    await deliverMessages(bindings.env, [notice("expires_in_7_days")]);
    await deliverMessages(bindings.env, [notice("expires_in_30_days")]);
    expect((await notificationsFor([registration.id])).map((n) => n.template)).toEqual(["expires_in_7_days"]);
  });

  it("re-enqueues the notice's queued deliveries when the message comes again after a failed enqueue", async () => {
    const { site, admins } = await siteWithAdmins(2);
    const { registration } = await createRegistration(site.id, { expirationDate: "2031-05-04", now: N });
    const message: NoticeBatchMessage = {
      firedAt: N + HOUR,
      notices: [{ kind: "reg", id: registration.id, template: "expires_in_7_days", expiresAt: registration.expiresAt }],
    };
    const refusing = {
      ...env,
      NOTIFICATIONS: {
        async sendBatch() {
          throw new Error("queue unavailable");
        },
      } as unknown as Queue<NotificationMessage>,
    };
    const quiet = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await deliverMessages(refusing, [message])).toEqual({
      acked: [],
      retried: [{ index: 0, delaySeconds: 30 }],
    });
    quiet.mockRestore();
    const [notice] = await notificationsFor([registration.id]);
    expect((await deliveriesFor(notice?.id ?? 0)).map((d) => d.state)).toEqual(["queued", "queued"]);

    const bindings = recordingBindings();
    expect(await deliverMessages(bindings.env, [message], { attempts: 2 })).toEqual({ acked: [0], retried: [] });
    const requeued = bindings.take();
    expect(requeued).toHaveLength(2);
    await deliverMessages(bindings.env, requeued);
    expect(bindings.emails.map((e) => e.to).sort()).toEqual(admins.map((a) => a.email).sort());
    expect(await notificationsFor([registration.id])).toHaveLength(1);
  });

  it("keeps the notification log row when the registration is deleted later", async () => {
    const { message, bindings, registration } = await queuedDelivery();
    await db().delete(appRegistrations).where(eq(appRegistrations.id, registration.id));
    await deliverMessages(bindings.env, [message]);
    expect(bindings.emails[0]?.text).toContain("The registration has been deleted since this notice was written");
    expect(await deliveryRow(message.deliveryId)).toMatchObject({ state: "sent" });
  });
});
