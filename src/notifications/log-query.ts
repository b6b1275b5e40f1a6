import { and, asc, count, desc, eq, exists, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import {
  appRegistrations,
  clientKeys,
  NOTIFICATION_TEMPLATES,
  type NotificationTemplate,
  notificationDeliveries,
  notifications,
} from "../db/schema";

export const LOG_PAGE_SIZE = 25;
const MAX_PAGE = 100_000;

/** The log's query string: every parameter optional, each validated; unknown parameters are ignored. */
export const notificationLogQuerySchema = z.object({
  template: z
    .union([z.literal(""), z.enum(NOTIFICATION_TEMPLATES)], { error: "Choose one of the listed templates." })
    .optional(),
  registration: z
    .string({ error: "Choose one of the listed registrations." })
    .regex(/^(|[1-9][0-9]{0,9})$/, "Choose one of the listed registrations.")
    .optional(),
  page: z
    .string({ error: "The page must be a whole number from 1." })
    .regex(/^[1-9][0-9]{0,5}$/, "The page must be a whole number from 1.")
    .optional(),
});

export type NotificationLogQuery = z.infer<typeof notificationLogQuerySchema>;

export interface NotificationLogFilter {
  template?: NotificationTemplate;
  registrationId?: number;
}

export interface DeliveryRow {
  recipientEmail: string;
  state: "queued" | "sent" | "retrying" | "failed";
  attempts: number;
  lastError: string | null;
  sentAt: number | null;
}

export interface NotificationRow {
  id: number;
  template: NotificationTemplate;
  /** Null once the registration was deleted: the log keeps its name and Client ID as text. */
  registrationId: number | null;
  registrationName: string;
  clientId: string;
  /** A notice about a public key: its `kid`, null once the key was deleted. */
  key: { kid: string | null } | null;
  /** A notice about a Client secret: its hint (null for a secret issued before hints). */
  secret: { hint: string | null } | null;
  expirationDate: string;
  expiresAt: number;
  firedAt: number;
  deliveries: DeliveryRow[];
}

export interface NotificationLogPage {
  rows: NotificationRow[];
  total: number;
  page: number;
  pages: number;
}

/** The Site's registrations that appear in its log, for the registration filter (current names). */
export function loggedRegistrations(db: Db, siteId: number) {
  return db
    .select({ id: appRegistrations.id, name: appRegistrations.name })
    .from(appRegistrations)
    .where(
      and(
        eq(appRegistrations.siteId, siteId),
        exists(
          db.select({ one: sql`1` }).from(notifications).where(eq(notifications.registrationId, appRegistrations.id)),
        ),
      ),
    )
    .orderBy(asc(sql`lower(${appRegistrations.name})`), asc(appRegistrations.id))
    .all();
}

/** Whether `registrationId` is a registration of this Site (an id from another Site never matches). */
export async function isSiteRegistration(db: Db, siteId: number, registrationId: number): Promise<boolean> {
  const row = await db
    .select({ id: appRegistrations.id })
    .from(appRegistrations)
    .where(and(eq(appRegistrations.id, registrationId), eq(appRegistrations.siteId, siteId)))
    .get();
  return Boolean(row);
}

/** One page of a Site's notification log, newest first, with each notice's deliveries. */
export async function searchNotificationLog(
  db: Db,
  siteId: number,
  filter: NotificationLogFilter,
  page: number,
  size = LOG_PAGE_SIZE,
): Promise<NotificationLogPage> {
  const where = and(
    eq(notifications.siteId, siteId),
    filter.template ? eq(notifications.template, filter.template) : undefined,
    filter.registrationId ? eq(notifications.registrationId, filter.registrationId) : undefined,
  );
  const current = Math.min(Math.max(1, page), MAX_PAGE);
  const [totalRow] = await db.select({ total: count() }).from(notifications).where(where).all();
  const total = totalRow?.total ?? 0;
  const rows = await db
    .select({
      id: notifications.id,
      template: notifications.template,
      registrationId: notifications.registrationId,
      registrationName: notifications.registrationName,
      clientId: notifications.clientId,
      dedupeKey: notifications.dedupeKey,
      kid: clientKeys.kid,
      secretHint: notifications.secretHint,
      expirationDate: notifications.expirationDate,
      expiresAt: notifications.expiresAt,
      firedAt: notifications.firedAt,
    })
    .from(notifications)
    .leftJoin(clientKeys, eq(clientKeys.id, notifications.keyId))
    .where(where)
    .orderBy(desc(notifications.firedAt), desc(notifications.id))
    .limit(size)
    .offset((current - 1) * size)
    .all();
  const deliveries =
    rows.length === 0
      ? []
      : await db
          .select({
            notificationId: notificationDeliveries.notificationId,
            recipientEmail: notificationDeliveries.recipientEmail,
            state: notificationDeliveries.state,
            attempts: notificationDeliveries.attempts,
            lastError: notificationDeliveries.lastError,
            sentAt: notificationDeliveries.sentAt,
          })
          .from(notificationDeliveries)
          .where(
            inArray(
              notificationDeliveries.notificationId,
              rows.map((r) => r.id),
            ),
          )
          .orderBy(asc(notificationDeliveries.recipientEmail))
          .all();
  return {
    rows: rows.map(({ dedupeKey, kid, secretHint, ...row }) => ({
      ...row,
      key: dedupeKey.startsWith("key:") ? { kid } : null,
      secret: dedupeKey.startsWith("secret:") ? { hint: secretHint } : null,
      deliveries: deliveries
        .filter((d) => d.notificationId === row.id)
        .map(({ notificationId: _, ...delivery }) => delivery),
    })),
    total,
    page: current,
    pages: Math.max(1, Math.ceil(total / size)),
  };
}
