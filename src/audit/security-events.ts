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

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Whether `value` is an IPv4 address (dotted quad) or an IPv6 address (RFC 4291 text forms, no zone). */
export function isIpAddress(value: string): boolean {
  if (value.length > 45) return false;
  if (IPV4.test(value)) return true;
  if (!value.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(value)) return false;
  try {
    new URL(`http://[${value}]/`);
    return true;
  } catch {
    return false;
  }
}

/**
 * The caller's IP as Cloudflare reports it (CF-Connecting-IP). Anything that is not an IP address is recorded as
 * unknown (empty), so the header can never carry other text into the security log or the throttle keys.
 */
export function callerIp(headers: { header(name: string): string | undefined }): string {
  const ip = headers.header("CF-Connecting-IP")?.trim() ?? "";
  return isIpAddress(ip) ? ip : "";
}
