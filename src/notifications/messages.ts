import { z } from "zod";
import { NOTIFICATION_TEMPLATES } from "../db/schema";

/** One due notice, as the cron selected it: what it is about, which milestone, for which expiry. */
export interface DueNotice {
  kind: "reg" | "key" | "secret";
  id: number;
  template: (typeof NOTIFICATION_TEMPLATES)[number];
  expiresAt: number;
}

/** A Queue message asking the consumer to record due notices (log rows and deliveries) and enqueue their emails. */
export interface NoticeBatchMessage {
  /** The cron's `scheduledTime`: when the notices fired. */
  firedAt: number;
  notices: DueNotice[];
}

/** A Queue message asking the consumer to send one delivery's email. */
export interface DeliveryMessage {
  deliveryId: number;
}

const dueNotice = z.object({
  kind: z.enum(["reg", "key", "secret"]),
  id: z.number().int().positive(),
  template: z.enum(NOTIFICATION_TEMPLATES),
  expiresAt: z.number().int(),
});

/** Messages come back from the Queue as untyped data: each one is checked before it is acted on. */
export const queueMessage = z.union([
  z.object({ deliveryId: z.number().int().positive() }),
  z.object({ firedAt: z.number().int(), notices: z.array(dueNotice).min(1).max(1000) }),
]);
