import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { type SecurityEventType, securityEvents } from "../db/schema";
import { MINUTE } from "../lib/time";

export interface SecurityEventInput {
  siteId: number | null;
  event: SecurityEventType;
  detailCode: string;
  /** The Client ID as sent (or the email typed at admin sign-in). */
  clientId: string | null;
  registrationName?: string | null;
  ip: string;
  userAgent: string;
  endpoint: string;
}

const MAX_TEXT = 256;
const clip = (value: string | null | undefined) => (value == null ? null : value.slice(0, MAX_TEXT));

/**
 * The statement that records one failure (§8). Identical failures (same Site, Client ID, code and IP) within the
 * same minute coalesce into one row whose count grows: one conditional upsert, so a flood stays one row.
 */
export function securityEventStatement(db: Db, input: SecurityEventInput, now: number) {
  const minute = Math.floor(now / MINUTE);
  const clientId = clip(input.clientId);
  const ip = clip(input.ip) ?? "";
  const coalesceKey = [input.siteId ?? "-", clientId ?? "-", input.detailCode, ip, input.event, minute].join("|");
  return db
    .insert(securityEvents)
    .values({
      siteId: input.siteId,
      event: input.event,
      detailCode: input.detailCode,
      clientId,
      registrationName: clip(input.registrationName),
      ip,
      userAgent: clip(input.userAgent) ?? "",
      endpoint: clip(input.endpoint) ?? "",
      count: 1,
      firstAt: now,
      lastAt: now,
      coalesceKey,
    })
    .onConflictDoUpdate({
      target: securityEvents.coalesceKey,
      // Concurrent writes may land out of order: keep the true first and last moments.
      set: {
        count: sql`${securityEvents.count} + 1`,
        firstAt: sql`min(${securityEvents.firstAt}, ${now})`,
        lastAt: sql`max(${securityEvents.lastAt}, ${now})`,
      },
    });
}

export async function recordSecurityEvent(db: Db, input: SecurityEventInput, now: number): Promise<void> {
  await securityEventStatement(db, input, now);
}

/** The caller's IP as Cloudflare reports it. */
export function callerIp(headers: { header(name: string): string | undefined }): string {
  return headers.header("CF-Connecting-IP") ?? "";
}
