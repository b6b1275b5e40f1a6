import type { Context } from "hono";
import { recordSecurityEvent } from "../audit/security-events";
import type { Db } from "../db/client";
import { type PasswordAttempt, SIGN_IN_WINDOW, secondsUntilWindowEnds } from "./throttle";

/**
 * A refused password check, at sign-in or when a user changes their own password (§8 "Admin sign-in failed"): the
 * security-log row, naming the endpoint, and for a throttled attempt the `Retry-After` of the window. Each route then
 * renders its own page.
 */
export async function recordPasswordFailure(
  c: Context,
  db: Db,
  attempt: PasswordAttempt & { endpoint: string },
  detailCode: "InvalidCredentials" | "UserDisabled" | "TooManyFailures",
  now: number,
): Promise<void> {
  await recordSecurityEvent(
    db,
    {
      siteId: null,
      event: "admin_sign_in_failed",
      detailCode,
      clientId: attempt.email || null,
      ip: attempt.ip,
      userAgent: c.req.header("User-Agent") ?? "",
      endpoint: attempt.endpoint,
    },
    now,
  );
  if (detailCode === "TooManyFailures") c.header("Retry-After", String(secondsUntilWindowEnds(now, SIGN_IN_WINDOW)));
}
