import { eq } from "drizzle-orm";
import { recordSecurityEvent, type SecurityEventInput } from "../../src/audit/security-events";
import { securityEvents } from "../../src/db/schema";
import { call, db, formBody, ORIGIN } from "./app";

/** A fixed instant for tests that pin the clock: 2031-03-10 09:30:00 UTC (a Monday). */
export const T0 = Date.UTC(2031, 2, 10, 9, 30, 0);

/**
 * Records one failure through the same function the token endpoint, the REST API and admin sign-in call
 * (src/audit/security-events.ts), for tests of the log's reading side.
 */
export async function recordFailure(input: Partial<SecurityEventInput> & { siteId: number | null }, now: number) {
  await recordSecurityEvent(
    db(),
    {
      event: "service_auth_failed",
      detailCode: "InvalidSecret",
      clientId: crypto.randomUUID(),
      registrationName: null,
      ip: "203.0.113.10",
      userAgent: "backup-script/1.0",
      endpoint: "POST /oauth/token",
      ...input,
    },
    now,
  );
}

/** Admin sign-in through the real form, as a browser would post it. */
export function postSignIn(email: string, password: string, ip: string, now?: number, userAgent = "test-browser") {
  return call("/sign-in", {
    method: "POST",
    headers: {
      Origin: ORIGIN,
      "Content-Type": "application/x-www-form-urlencoded",
      "CF-Connecting-IP": ip,
      "User-Agent": userAgent,
    },
    body: formBody({ email, password }),
    now,
  });
}

export function rowsForClient(clientId: string) {
  return db().select().from(securityEvents).where(eq(securityEvents.clientId, clientId)).all();
}

/** The text of each data row of the log table (tags stripped, whitespace collapsed). */
export function tableRows(html: string): string[] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? "";
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((m) =>
    (m[1] ?? "")
      .replace(/<[^>]+>/g, " ")
      .replace(/\s+/g, " ")
      .trim(),
  );
}

/** Text as hono/jsx escapes it in HTML. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}
