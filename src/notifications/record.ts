import type { Bindings } from "../env";
import { calendarDateInZone } from "../lib/time";
import { dedupeKey, laterTemplates } from "./cadence";
import { sendDeliveryMessages } from "./deliveries";
import type { DueNotice, NoticeBatchMessage } from "./messages";

export interface RecordSummary {
  /** Notification rows this message wrote (notices another copy already wrote are not counted). */
  recorded: number;
  deliveries: number;
  /** Delivery messages enqueued (those of this message's notices still `queued`, so a retry re-sends them). */
  enqueued: number;
}

/**
 * Records the due notices of one Queue message: the notification log rows (at most once each, by their unique
 * dedupe key) and one delivery per Site Administrator, in one D1 batch; then one Queue message per delivery still
 * `queued`. Running it again (a redelivered or duplicated message) writes nothing twice and re-enqueues only what
 * was not sent yet, so a failed enqueue is repaired by the Queue's retry of this message.
 */
export async function recordNotices(
  env: Pick<Bindings, "DB" | "NOTIFICATIONS">,
  message: NoticeBatchMessage,
): Promise<RecordSummary> {
  const d1 = env.DB;
  const { firedAt, notices } = message;
  const keyIds = notices.filter((n) => n.kind === "key").map((n) => n.id);
  const secretIds = notices.filter((n) => n.kind === "secret").map((n) => n.id);
  const zones = new Map<string, string>();
  if (keyIds.length > 0 || secretIds.length > 0) {
    // Keys and secrets expire at an instant; the log shows its date in the Site's zone.
    const rows = await d1
      .prepare(
        `SELECT 'key' AS kind, k.id, s.time_zone FROM json_each(?1) j CROSS JOIN client_keys k ON k.id = j.value
           JOIN app_registrations r ON r.id = k.registration_id JOIN sites s ON s.id = r.site_id
         UNION ALL
         SELECT 'secret', c.id, s.time_zone FROM json_each(?2) j CROSS JOIN client_secrets c ON c.id = j.value
           JOIN app_registrations r ON r.id = c.registration_id JOIN sites s ON s.id = r.site_id`,
      )
      .bind(JSON.stringify(keyIds), JSON.stringify(secretIds))
      .all<{ kind: string; id: number; time_zone: string }>();
    for (const row of rows.results) zones.set(`${row.kind}:${row.id}`, row.time_zone);
  }
  const payload = (kind: DueNotice["kind"]) =>
    JSON.stringify(
      notices
        .filter((n) => n.kind === kind)
        .map((n) => ({
          id: n.id,
          template: n.template,
          expiresAt: n.expiresAt,
          expirationDate:
            kind === "reg" ? null : calendarDateInZone(n.expiresAt, zones.get(`${kind}:${n.id}`) ?? "UTC"),
          dedupeKey: dedupeKey(n, n.template, n.expiresAt),
          later: laterTemplates(n.template).map((t) => dedupeKey(n, t, n.expiresAt)),
        })),
    );
  const keys = JSON.stringify(notices.map((n) => dedupeKey(n, n.template, n.expiresAt)));
  // A notice is skipped when a later one already fired for the same expiry (a replay of an earlier instant). The
  // registration is re-checked in the statement itself: one disabled or renewed since the cron read it gets none.
  const noLaterNotice =
    "NOT EXISTS (SELECT 1 FROM json_each(json_extract(j.value, '$.later')) l JOIN notifications n ON n.dedupe_key = l.value)";
  const [regs, keyNotices, secretNotices, deliveries, queued] = await d1.batch([
    d1
      .prepare(
        `INSERT INTO notifications (site_id, registration_id, key_id, registration_name, client_id, template,
           expires_at, expiration_date, fired_at, dedupe_key)
         SELECT r.site_id, r.id, NULL, r.name, r.client_id, json_extract(j.value, '$.template'), r.expires_at,
           r.expiration_date, ?1, json_extract(j.value, '$.dedupeKey')
         FROM json_each(?2) j CROSS JOIN app_registrations r ON r.id = json_extract(j.value, '$.id')
         WHERE r.enabled = 1 AND r.expires_at = json_extract(j.value, '$.expiresAt') AND ${noLaterNotice}
         ON CONFLICT (dedupe_key) DO NOTHING`,
      )
      .bind(firedAt, payload("reg")),
    d1
      .prepare(
        `INSERT INTO notifications (site_id, registration_id, key_id, registration_name, client_id, template,
           expires_at, expiration_date, fired_at, dedupe_key)
         SELECT r.site_id, r.id, k.id, r.name, r.client_id, json_extract(j.value, '$.template'), k.expires_at,
           json_extract(j.value, '$.expirationDate'), ?1, json_extract(j.value, '$.dedupeKey')
         FROM json_each(?2) j CROSS JOIN client_keys k ON k.id = json_extract(j.value, '$.id')
           JOIN app_registrations r ON r.id = k.registration_id
         WHERE r.enabled = 1 AND k.expires_at = json_extract(j.value, '$.expiresAt') AND ${noLaterNotice}
         ON CONFLICT (dedupe_key) DO NOTHING`,
      )
      .bind(firedAt, payload("key")),
    // A secret notice names the secret by its hint, kept on the row: the secret itself is purged 90 days after it retires.
    d1
      .prepare(
        `INSERT INTO notifications (site_id, registration_id, key_id, secret_hint, registration_name, client_id, template,
           expires_at, expiration_date, fired_at, dedupe_key)
         SELECT r.site_id, r.id, NULL, c.hint, r.name, r.client_id, json_extract(j.value, '$.template'), c.expires_at,
           json_extract(j.value, '$.expirationDate'), ?1, json_extract(j.value, '$.dedupeKey')
         FROM json_each(?2) j CROSS JOIN client_secrets c ON c.id = json_extract(j.value, '$.id')
           JOIN app_registrations r ON r.id = c.registration_id
         WHERE r.enabled = 1 AND c.revoked_at IS NULL AND c.expires_at = json_extract(j.value, '$.expiresAt')
           AND ${noLaterNotice}
         ON CONFLICT (dedupe_key) DO NOTHING`,
      )
      .bind(firedAt, payload("secret")),
    // One delivery per active Site Administrator, for notices that have none yet. A copy of this message that
    // lost the race on the dedupe key (or a notice fired by another run, with another fired_at) adds none.
    d1
      .prepare(
        `INSERT INTO notification_deliveries (notification_id, recipient_email, state, attempts, updated_at)
         SELECT n.id, u.email, 'queued', 0, ?1
         FROM json_each(?2) j CROSS JOIN notifications n ON n.dedupe_key = j.value
           JOIN memberships m ON m.site_id = n.site_id AND m.role = 'site_admin'
           JOIN users u ON u.id = m.user_id
         WHERE n.fired_at = ?1 AND u.disabled = 0
           AND NOT EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.notification_id = n.id)
         ON CONFLICT (notification_id, recipient_email) DO NOTHING`,
      )
      .bind(firedAt, keys),
    d1
      .prepare(
        `SELECT d.id FROM json_each(?2) j CROSS JOIN notifications n ON n.dedupe_key = j.value
           JOIN notification_deliveries d ON d.notification_id = n.id
         WHERE n.fired_at = ?1 AND d.state = 'queued' ORDER BY d.id`,
      )
      .bind(firedAt, keys),
  ]);
  const ids = ((queued?.results ?? []) as { id: number }[]).map((r) => r.id);
  await sendDeliveryMessages(env.NOTIFICATIONS, ids);
  return {
    recorded: (regs?.meta.changes ?? 0) + (keyNotices?.meta.changes ?? 0) + (secretNotices?.meta.changes ?? 0),
    deliveries: deliveries?.meta.changes ?? 0,
    enqueued: ids.length,
  };
}
