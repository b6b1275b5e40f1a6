import { env, exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { auditStatement } from "../../src/audit/admin-audit";
import { appRegistrations, clientKeys, notificationDeliveries, notifications } from "../../src/db/schema";
import type { NotificationMessage } from "../../src/env";
import { DAY, HOUR, MINUTE, startOfDayInZone } from "../../src/lib/time";
import { evaluateExpiry } from "../../src/notifications/evaluate";
import { runCron } from "../../src/notifications/scheduled";
import { createUser, db } from "../helpers/app";
import {
  deliveriesFor,
  deliverMessages,
  drain,
  notificationsFor,
  recordingBindings,
  resetCronState,
  runScheduled,
  setEnabled,
  setExpiry,
  siteWithAdmins,
} from "../helpers/notifications";
import { createRegistration } from "../helpers/registrations";

const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A registration of `siteId` (a UTC Site) expiring at `expiresAt`: its UTC date, or that exact instant. */
async function expiringAt(siteId: number, expiresAt: number, overrides: { enabled?: boolean; name?: string } = {}) {
  const { registration } = await createRegistration(siteId, {
    expirationDate: utcDate(expiresAt),
    now: expiresAt - 90 * DAY,
    ...overrides,
  });
  if (registration.expiresAt === expiresAt) return registration;
  await setExpiry(registration.id, expiresAt, utcDate(expiresAt));
  return { ...registration, expiresAt };
}

const templatesOf = async (registrationId: number) => (await notificationsFor([registrationId])).map((n) => n.template);

beforeEach(resetCronState);

/**
 * A registration expiring on the day of `N` whose notice the cron at `N` records, with its delivery row written; then
 * the delivery's Queue message is lost (the Worker dies with it in flight), so the delivery stays `queued`.
 */
async function noticeWithLostDelivery(N: number) {
  const { site, admins } = await siteWithAdmins(1);
  const registration = await expiringAt(site.id, Math.floor(N / DAY) * DAY);
  const queue = recordingBindings();
  await runScheduled(N, queue.env);
  await deliverMessages(queue.env, queue.take());
  expect(queue.take()).toHaveLength(1);
  const [notice] = await notificationsFor([registration.id]);
  expect((await deliveriesFor(notice?.id ?? 0)).map((d) => d.state)).toEqual(["queued"]);
  return { admins, registration, notice, queue };
}

describe("the cron fires the §5 notices", () => {
  it("fires the latest due notice of each registration once, to every active Site Administrator", async () => {
    const E = Date.UTC(2031, 2, 1);
    const { site, admins } = await siteWithAdmins(2);
    await createUser({ sites: [[site.id, "site_user"]] });
    await createUser({ sites: [[site.id, "site_admin"]], disabled: true });
    await createUser({ global: true });
    const other = await siteWithAdmins(1);
    const expired = await expiringAt(site.id, E);
    const sevenDays = await expiringAt(site.id, E + 3 * DAY);
    const thirtyDays = await expiringAt(site.id, E + 20 * DAY);
    const later = await expiringAt(site.id, E + 31 * DAY);
    const disabled = await expiringAt(site.id, E + 3 * DAY, { enabled: false });
    const otherSite = await expiringAt(other.site.id, E + 5 * DAY);

    const queue = recordingBindings();
    await runScheduled(E, queue.env);
    await drain(queue);

    const fired = await notificationsFor([
      expired.id,
      sevenDays.id,
      thirtyDays.id,
      later.id,
      disabled.id,
      otherSite.id,
    ]);
    // Recorded nearest expiry first.
    expect(fired.map((n) => [n.registrationId, n.template, n.siteId])).toEqual([
      [expired.id, "expired", site.id],
      [sevenDays.id, "expires_in_7_days", site.id],
      [otherSite.id, "expires_in_7_days", other.site.id],
      [thirtyDays.id, "expires_in_30_days", site.id],
    ]);
    for (const n of fired) {
      expect(n.firedAt).toBe(E);
      expect(n.dedupeKey).toBe(`reg:${n.registrationId}|${n.template}|${n.expiresAt}`);
    }
    expect(fired[0]).toMatchObject({ registrationName: expired.name, clientId: expired.clientId, expiresAt: E });
    expect(fired[0]?.expirationDate).toBe(utcDate(E));

    const siteAdmins = admins.map((a) => a.email).sort();
    for (const n of fired.filter((f) => f.siteId === site.id)) {
      const deliveries = await deliveriesFor(n.id);
      expect(deliveries.map((d) => [d.recipientEmail, d.state, d.attempts])).toEqual(
        siteAdmins.map((email) => [email, "sent", 1]),
      );
    }
    expect((await deliveriesFor(fired[2]?.id ?? 0)).map((d) => d.recipientEmail)).toEqual([other.admins[0]?.email]);
    expect(queue.emails).toHaveLength(7);
    expect(queue.emails.filter((e) => e.to === siteAdmins[0]).map((e) => e.subject)).toEqual([
      `App registration has expired: ${expired.name} (${site.name})`,
      // The milestone fired (7 or 30 days); the subject says the real time left then, and the date.
      `App registration expires in 3 days, on ${utcDate(E + 3 * DAY)}: ${sevenDays.name} (${site.name})`,
      `App registration expires in 20 days, on ${utcDate(E + 20 * DAY)}: ${thirtyDays.name} (${site.name})`,
    ]);
    // The log keeps the milestone.
    expect(fired.map((n) => n.template)).toContain("expires_in_7_days");

    // The same instant again, and the next run: nothing new is written or sent.
    await runScheduled(E, queue.env);
    await runScheduled(E + 15 * MINUTE, queue.env);
    await drain(queue);
    expect(
      await notificationsFor([expired.id, sevenDays.id, thirtyDays.id, later.id, disabled.id, otherSite.id]),
    ).toEqual(fired);
    expect(queue.emails).toHaveLength(7);
  });

  it("walks 30 days, 7 days and day of at their exact instants, in the Site's time zone across a DST change", async () => {
    const { site } = await siteWithAdmins(1, { timeZone: "Europe/Berlin" });
    // 00:00 on 15 April 2032 in Berlin (CEST) is 22:00 UTC on the 14th; 30 days earlier Berlin is on CET.
    const { registration } = await createRegistration(site.id, {
      expirationDate: "2032-04-15",
      now: Date.UTC(2032, 0, 1),
    });
    const E = startOfDayInZone("2032-04-15", "Europe/Berlin");
    expect(E).toBe(Date.UTC(2032, 3, 14, 22));
    const queue = recordingBindings();
    const at = async (now: number) => {
      await runScheduled(now, queue.env);
      await drain(queue);
      return templatesOf(registration.id);
    };
    expect(await at(E - 30 * DAY - 1)).toEqual([]);
    expect(await at(E - 30 * DAY)).toEqual(["expires_in_30_days"]);
    expect(await at(E - 30 * DAY + 15 * MINUTE)).toEqual(["expires_in_30_days"]);
    expect(await at(E - 7 * DAY - 1)).toEqual(["expires_in_30_days"]);
    expect(await at(E - 7 * DAY)).toEqual(["expires_in_30_days", "expires_in_7_days"]);
    expect(await at(E - 1)).toEqual(["expires_in_30_days", "expires_in_7_days"]);
    expect(await at(E)).toEqual(["expires_in_30_days", "expires_in_7_days", "expired"]);
    expect(await at(E + 15 * MINUTE)).toEqual(["expires_in_30_days", "expires_in_7_days", "expired"]);
    const fired = await notificationsFor([registration.id]);
    expect(fired.map((n) => n.firedAt)).toEqual([E - 30 * DAY, E - 7 * DAY, E]);
    expect(fired.map((n) => n.expirationDate)).toEqual(["2032-04-15", "2032-04-15", "2032-04-15"]);
    expect(queue.emails).toHaveLength(3);
  });

  it("gives a registration created 5 days before its expiry the 7-day notice only, on the next run", async () => {
    const E = Date.UTC(2033, 4, 20);
    const { site } = await siteWithAdmins(1);
    const queue = recordingBindings();
    const first = await runCron(queue.env, E - 5 * DAY + 2 * HOUR);
    expect(first.expiry).toMatchObject({ mode: "sweep", reason: "first-run", due: 0, done: true });
    const { registration } = await createRegistration(site.id, { expirationDate: utcDate(E), now: E - 5 * DAY });
    const next = await runCron(queue.env, E - 5 * DAY + 2 * HOUR + 15 * MINUTE);
    expect(next.expiry).toMatchObject({ mode: "incremental", due: 1, enqueued: 1, done: true });
    await drain(queue);
    expect(await templatesOf(registration.id)).toEqual(["expires_in_7_days"]);
    await runCron(queue.env, E);
    await drain(queue);
    expect(await templatesOf(registration.id)).toEqual(["expires_in_7_days", "expired"]);
  });

  it("catches up after missed runs with the latest notice only", async () => {
    const E = Date.UTC(2034, 8, 10);
    const { site } = await siteWithAdmins(1);
    const registration = await expiringAt(site.id, E);
    const queue = recordingBindings();
    await runScheduled(E - 40 * DAY, queue.env);
    // No run for 38 days: the 30-day notice's moment passed unseen; only the 7-day notice is sent.
    await runScheduled(E - 2 * DAY, queue.env);
    await drain(queue);
    expect(await templatesOf(registration.id)).toEqual(["expires_in_7_days"]);
    // No run again until a day after the expiry.
    await runScheduled(E + DAY, queue.env);
    await drain(queue);
    expect(await templatesOf(registration.id)).toEqual(["expires_in_7_days", "expired"]);
    expect((await notificationsFor([registration.id])).map((n) => n.firedAt)).toEqual([E - 2 * DAY, E + DAY]);
  });

  it("still sends a missed expired notice within the 30-day catch-up horizon, and not later", async () => {
    const E = Date.UTC(2035, 1, 1);
    const { site } = await siteWithAdmins(1);
    const recent = await expiringAt(site.id, E - 30 * DAY);
    const old = await expiringAt(site.id, E - 30 * DAY - 1000);
    const queue = recordingBindings();
    await runScheduled(E, queue.env);
    await drain(queue);
    expect(await templatesOf(recent.id)).toEqual(["expired"]);
    expect(await templatesOf(old.id)).toEqual([]);
  });

  it("starts a fresh cadence after renewal", async () => {
    const E = Date.UTC(2036, 5, 1);
    const { site } = await siteWithAdmins(1);
    const registration = await expiringAt(site.id, E);
    const queue = recordingBindings();
    await runScheduled(E, queue.env);
    await drain(queue);
    expect(await templatesOf(registration.id)).toEqual(["expired"]);

    const renewed = E + 90 * DAY;
    await setExpiry(registration.id, renewed, utcDate(renewed));
    await runScheduled(E + HOUR, queue.env);
    await runScheduled(renewed - 30 * DAY - MINUTE, queue.env);
    await drain(queue);
    expect(await templatesOf(registration.id)).toEqual(["expired"]);
    await runScheduled(renewed - 30 * DAY, queue.env);
    await drain(queue);
    const fired = await notificationsFor([registration.id]);
    expect(fired.map((n) => [n.template, n.expiresAt, n.expirationDate])).toEqual([
      ["expired", E, utcDate(E)],
      ["expires_in_30_days", renewed, utcDate(renewed)],
    ]);
  });

  it("notices an edit into a window on the next run through the admin audit trail, else on the daily sweep", async () => {
    const T = Date.UTC(2037, 2, 3, 9);
    const { site, admins } = await siteWithAdmins(1);
    const audited = await expiringAt(site.id, T + 200 * DAY);
    const silent = await expiringAt(site.id, T + 200 * DAY);
    const queue = recordingBindings();
    await runCron(queue.env, T);

    // Renewed (here: shortened) to 10 days ahead: the 30-day moment is already in the past.
    for (const reg of [audited, silent]) await setExpiry(reg.id, T + 10 * DAY, utcDate(T + 10 * DAY));
    await auditStatement(
      db(),
      {
        siteId: site.id,
        registrationId: audited.id,
        targetType: "app_registration",
        targetLabel: audited.name,
        action: "update",
        changes: { expirationDate: [utcDate(T + 200 * DAY), utcDate(T + 10 * DAY)] },
        actor: { id: admins[0]?.id ?? 0, email: admins[0]?.email ?? "" },
      },
      T + 5 * MINUTE,
      { from: appRegistrations, where: eq(appRegistrations.id, audited.id) },
    );
    const next = await runCron(queue.env, T + 15 * MINUTE);
    expect(next.expiry?.mode).toBe("incremental");
    await drain(queue);
    expect(await templatesOf(audited.id)).toEqual(["expires_in_30_days"]);
    expect(await templatesOf(silent.id)).toEqual([]);

    // An edit made outside the product (SQL by hand) is caught by the first run of the next UTC day.
    const sweep = await runCron(queue.env, Date.UTC(2037, 2, 4, 0, 0));
    expect(sweep.expiry).toMatchObject({ mode: "sweep", reason: "daily" });
    await drain(queue);
    expect(await templatesOf(silent.id)).toEqual(["expires_in_30_days"]);
    expect(await templatesOf(audited.id)).toEqual(["expires_in_30_days"]);
  });

  it("evaluates everything due when triggered by hand (no cron expression), as after an expiry set by SQL", async () => {
    const T = Date.UTC(2037, 7, 7, 15);
    const { site } = await siteWithAdmins(1);
    const registration = await expiringAt(site.id, T + 100 * DAY);
    const queue = recordingBindings();
    await runScheduled(T, queue.env);
    // Expired by hand to yesterday: before the previous run, so the next regular run does not look at it.
    await setExpiry(registration.id, Date.UTC(2037, 7, 6), "2037-08-06");
    await runScheduled(T + 5 * MINUTE, queue.env);
    await drain(queue);
    expect(await templatesOf(registration.id)).toEqual([]);
    await runScheduled(T + 6 * MINUTE, queue.env, "");
    await drain(queue);
    expect(await templatesOf(registration.id)).toEqual(["expired"]);
  });

  it("sends nothing for a disabled registration; re-enabled, it gets the notice due then", async () => {
    const E = Date.UTC(2038, 6, 10, 12);
    const { site, admins } = await siteWithAdmins(1);
    const registration = await expiringAt(site.id, Date.UTC(2038, 6, 13), { enabled: false });
    const queue = recordingBindings();
    await runScheduled(E, queue.env);
    await drain(queue);
    expect(await templatesOf(registration.id)).toEqual([]);

    await setEnabled(registration.id, true);
    await auditStatement(
      db(),
      {
        siteId: site.id,
        registrationId: registration.id,
        targetType: "app_registration",
        targetLabel: registration.name,
        action: "enable",
        changes: { enabled: [false, true] },
        actor: { id: admins[0]?.id ?? 0, email: admins[0]?.email ?? "" },
      },
      E + MINUTE,
      { from: appRegistrations, where: eq(appRegistrations.id, registration.id) },
    );
    await runScheduled(E + 15 * MINUTE, queue.env);
    await drain(queue);
    expect(await templatesOf(registration.id)).toEqual(["expires_in_7_days"]);

    // Disabled again before the expiry: no expired notice.
    await setEnabled(registration.id, false);
    await runScheduled(Date.UTC(2038, 6, 13, 1), queue.env);
    await drain(queue);
    expect(await templatesOf(registration.id)).toEqual(["expires_in_7_days"]);
  });

  it("never duplicates, whether runs repeat, overlap or run concurrently, and messages arrive twice", async () => {
    const N = Date.UTC(2039, 0, 15, 10);
    const { site, admins } = await siteWithAdmins(2);
    const regs = [
      await expiringAt(site.id, Date.UTC(2039, 0, 15)),
      await expiringAt(site.id, Date.UTC(2039, 0, 18)),
      await expiringAt(site.id, Date.UTC(2039, 1, 1)),
    ];
    const queue = recordingBindings();
    await Promise.all([runScheduled(N, queue.env), runScheduled(N, queue.env), runScheduled(N + MINUTE, queue.env)]);
    await runScheduled(N, queue.env);
    const noticeMessages = queue.take();
    expect(noticeMessages.length).toBeGreaterThanOrEqual(3);
    // Every copy delivered, concurrently, and each one twice.
    await Promise.all([...noticeMessages, ...noticeMessages].map((m) => deliverMessages(queue.env, [m])));
    const fired = await notificationsFor(regs.map((r) => r.id));
    expect(fired.map((n) => n.template)).toEqual(["expired", "expires_in_7_days", "expires_in_30_days"]);
    const deliveryMessages = queue.take();
    for (const n of fired) expect(await deliveriesFor(n.id)).toHaveLength(2);
    await Promise.all([...deliveryMessages, ...deliveryMessages].map((m) => deliverMessages(queue.env, [m])));
    await drain(queue);
    expect(queue.emails).toHaveLength(6);
    for (const admin of admins) expect(queue.emails.filter((e) => e.to === admin.email)).toHaveLength(3);
    for (const n of fired) {
      expect((await deliveriesFor(n.id)).map((d) => [d.state, d.attempts])).toEqual([
        ["sent", 1],
        ["sent", 1],
      ]);
    }
  });

  it("gives private_key_jwt public keys with an expiry their own cadence", async () => {
    const N = Date.UTC(2040, 3, 1, 6);
    const { site } = await siteWithAdmins(1, { timeZone: "America/New_York" });
    const { registration } = await createRegistration(site.id, { expirationDate: "2041-01-01", now: N });
    const { registration: disabled } = await createRegistration(site.id, {
      expirationDate: "2041-01-01",
      enabled: false,
      now: N,
    });
    const key = (registrationId: number, kid: string, expiresAt: number | null) =>
      db()
        .insert(clientKeys)
        .values({
          registrationId,
          kid,
          alg: "ES256",
          publicJwk: "{}",
          fingerprint: kid,
          expiresAt,
          createdAt: N - DAY,
        })
        .returning()
        .get();
    const expiring = await key(registration.id, "signing-2040", N + 3 * DAY);
    await key(registration.id, "no-expiry", null);
    await key(disabled.id, "disabled-owner", N + 3 * DAY);
    const queue = recordingBindings();
    await runScheduled(N, queue.env);
    await drain(queue);
    const fired = await notificationsFor([registration.id, disabled.id]);
    expect(fired.map((n) => [n.keyId, n.template, n.expiresAt, n.dedupeKey])).toEqual([
      [expiring.id, "expires_in_7_days", N + 3 * DAY, `key:${expiring.id}|expires_in_7_days|${N + 3 * DAY}`],
    ]);
    // 06:00 UTC on 4 April is 02:00 in New York: the Site's date.
    expect(fired[0]?.expirationDate).toBe("2040-04-04");
    expect(queue.emails[0]?.subject).toBe(
      `App registration expires in 3 days, on 2040-04-04: public key signing-2040 of ${registration.name} (${site.name})`,
    );
  });
});

describe("bounded, lossless runs", () => {
  it("leaves what one run cannot handle to the next run, without duplicates", async () => {
    const N = Date.UTC(2041, 9, 9, 9);
    const { site } = await siteWithAdmins(1);
    const regs = [];
    for (let i = 0; i < 5; i++) regs.push(await expiringAt(site.id, Date.UTC(2041, 9, 12 + i)));
    const queue = recordingBindings();
    const runs = [];
    for (let i = 0; i < 3; i++) {
      runs.push(await evaluateExpiry(queue.env, N + i * 15 * MINUTE, { maxNotices: 2 }));
      await drain(queue);
    }
    // Each window query stops after maxNotices + 1 rows: enough to know more is due.
    expect(runs.map((r) => [r.mode, r.due, r.enqueued, r.done])).toEqual([
      ["sweep", 3, 2, false],
      ["sweep", 3, 2, false],
      ["sweep", 1, 1, true],
    ]);
    expect((await notificationsFor(regs.map((r) => r.id))).map((n) => n.registrationId)).toEqual(regs.map((r) => r.id));
    const after = await evaluateExpiry(queue.env, N + 45 * MINUTE, { maxNotices: 2 });
    expect(after).toMatchObject({ mode: "incremental", due: 0, done: true });
  });

  it("loses nothing when the Queue refuses: the run fails and the next one sends the notices", async () => {
    const N = Date.UTC(2042, 1, 2, 3);
    const { site } = await siteWithAdmins(1);
    const registration = await expiringAt(site.id, Date.UTC(2042, 1, 5));
    const refusing = {
      ...env,
      NOTIFICATIONS: {
        async send() {
          throw new Error("queue unavailable");
        },
        async sendBatch() {
          throw new Error("queue unavailable");
        },
      } as unknown as Queue<NotificationMessage>,
    };
    const error = vi.spyOn(console, "log").mockImplementation(() => {});
    await expect(runScheduled(N, refusing)).rejects.toThrow("expiry: enqueue failed: queue unavailable");
    error.mockRestore();
    expect(await templatesOf(registration.id)).toEqual([]);
    const queue = recordingBindings();
    const next = await runCron(queue.env, N + 15 * MINUTE);
    expect(next.expiry).toMatchObject({ mode: "sweep", reason: "first-run", due: 1, enqueued: 1 });
    await drain(queue);
    expect(await templatesOf(registration.id)).toEqual(["expires_in_7_days"]);
  });

  it("enqueues again deliveries still queued an hour after their notice fired", async () => {
    const N = Date.UTC(2043, 3, 4, 5);
    const { admins, notice, queue } = await noticeWithLostDelivery(N);

    const early = await runCron(queue.env, N + 45 * MINUTE);
    expect(early.requeue).toMatchObject({ requeued: 0, done: true });
    const late = await runCron(queue.env, N + 75 * MINUTE);
    expect(late.requeue).toMatchObject({ requeued: 1, done: true });
    await drain(queue);
    expect((await deliveriesFor(notice?.id ?? 0)).map((d) => [d.recipientEmail, d.state])).toEqual([
      [admins[0]?.email, "sent"],
    ]);
    // Each stuck delivery is looked at once.
    const again = await runCron(queue.env, N + 90 * MINUTE);
    expect(again.requeue).toMatchObject({ requeued: 0 });
    expect(queue.emails).toHaveLength(1);
  });
});

describe("on the platform's own Queue and email binding", () => {
  it("re-sends a delivery whose message was lost at the first regular cron run an hour later, end to end", async () => {
    const N = Date.UTC(2045, 5, 6, 7);
    const { admins, notice, registration } = await noticeWithLostDelivery(N);

    // The Cron Trigger's own runs, every 15 minutes on their schedule (a cron expression, not a replay by hand), on
    // the real Queue, consumer and send_email binding.
    const self = exports.default as unknown as {
      scheduled(event: { scheduledTime: Date; cron: string }): Promise<void>;
    };
    for (let t = N + 15 * MINUTE; t <= N + 75 * MINUTE; t += 15 * MINUTE) {
      await self.scheduled({ scheduledTime: new Date(t), cron: "*/15 * * * *" });
    }
    const sent = await vi.waitFor(
      async () => {
        const [row] = await deliveriesFor(notice?.id ?? 0);
        if (row?.state !== "sent") throw new Error("not sent yet");
        return row;
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(sent).toMatchObject({ recipientEmail: admins[0]?.email, state: "sent", attempts: 1 });
    // One notice, one delivery: nothing was recorded twice on the way.
    expect(await notificationsFor([registration.id])).toHaveLength(1);
    expect(await deliveriesFor(notice?.id ?? 0)).toHaveLength(1);
  });

  it("the Worker's scheduled export fires, the consumer records and sends, and the log shows it sent", async () => {
    const N = Date.UTC(2044, 4, 5, 6);
    const { site, admins } = await siteWithAdmins(1);
    const registration = await expiringAt(site.id, Date.UTC(2044, 4, 6));
    // The runtime's own dispatch of a scheduled event to the Worker (its typings only declare fetch).
    const self = exports.default as unknown as {
      scheduled(event: { scheduledTime: Date; cron: string }): Promise<void>;
    };
    await self.scheduled({ scheduledTime: new Date(N), cron: "*/15 * * * *" });
    const delivery = await vi.waitFor(
      async () => {
        const [notice] = await notificationsFor([registration.id]);
        if (!notice) throw new Error("not recorded yet");
        const row = await db()
          .select()
          .from(notificationDeliveries)
          .where(eq(notificationDeliveries.notificationId, notice.id))
          .get();
        if (row?.state !== "sent") throw new Error("not sent yet");
        return row;
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(delivery).toMatchObject({ recipientEmail: admins[0]?.email, state: "sent", attempts: 1 });
    expect(
      await db().select().from(notifications).where(eq(notifications.registrationId, registration.id)).all(),
    ).toHaveLength(1);
  });
});
