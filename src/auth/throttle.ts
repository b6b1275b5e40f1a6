import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { throttleCounters } from "../db/schema";
import { MINUTE } from "../lib/time";

/** Admin sign-in: at most this many failures per account and per IP in a 15-minute window. */
export const SIGN_IN_WINDOW = 15 * MINUTE;
export const SIGN_IN_MAX_FAILURES_PER_ACCOUNT = 5;
export const SIGN_IN_MAX_FAILURES_PER_IP = 20;

function windowStart(now: number, windowMs: number): number {
  return Math.floor(now / windowMs) * windowMs;
}

/** Current failure counts for the given keys in the window containing `now`. */
export async function failureCounts(
  db: Db,
  keys: string[],
  windowMs: number,
  now: number,
): Promise<Map<string, number>> {
  const start = windowStart(now, windowMs);
  const rows = await db
    .select({ key: throttleCounters.key, count: throttleCounters.count })
    .from(throttleCounters)
    .where(sql`${throttleCounters.windowStart} = ${start} and ${throttleCounters.key} in ${keys}`)
    .all();
  return new Map(rows.map((r) => [r.key, r.count]));
}

/** Adds one failure to each key with a single upsert per key, in one batch. */
export async function recordFailures(db: Db, keys: string[], windowMs: number, now: number): Promise<void> {
  const start = windowStart(now, windowMs);
  const statements = keys.map((key) =>
    db
      .insert(throttleCounters)
      .values({ key, windowStart: start, count: 1 })
      .onConflictDoUpdate({
        target: [throttleCounters.key, throttleCounters.windowStart],
        set: { count: sql`${throttleCounters.count} + 1` },
      }),
  );
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}

export async function clearFailures(db: Db, keys: string[], windowMs: number, now: number): Promise<void> {
  const start = windowStart(now, windowMs);
  await db
    .delete(throttleCounters)
    .where(sql`${throttleCounters.windowStart} = ${start} and ${throttleCounters.key} in ${keys}`);
}

/** Seconds until the window containing `now` ends (for Retry-After). */
export function secondsUntilWindowEnds(now: number, windowMs: number): number {
  return Math.max(1, Math.ceil((windowStart(now, windowMs) + windowMs - now) / 1000));
}

/**
 * The sign-in throttle counts failures per account (the email as typed, so unknown accounts are throttled too) and
 * per IP. Every check of a user's password counts: signing in and changing one's own password.
 */
export interface PasswordAttempt {
  email: string;
  ip: string;
}

const signInKeys = ({ email, ip }: PasswordAttempt) => [`signin:account:${email}`, `signin:ip:${ip}`] as const;

/** Whether the account or the IP has used up its failures in the window containing `now`. */
export async function isSignInThrottled(db: Db, attempt: PasswordAttempt, now: number): Promise<boolean> {
  const [accountKey, ipKey] = signInKeys(attempt);
  const counts = await failureCounts(db, [accountKey, ipKey], SIGN_IN_WINDOW, now);
  return (
    (counts.get(accountKey) ?? 0) >= SIGN_IN_MAX_FAILURES_PER_ACCOUNT ||
    (counts.get(ipKey) ?? 0) >= SIGN_IN_MAX_FAILURES_PER_IP
  );
}

export async function recordSignInFailure(db: Db, attempt: PasswordAttempt, now: number): Promise<void> {
  await recordFailures(db, [...signInKeys(attempt)], SIGN_IN_WINDOW, now);
}

/** Forgets the account's failures (not the IP's): after a right password, or a new one set by an administrator. */
export async function clearSignInFailures(db: Db, email: string, now: number): Promise<void> {
  const [accountKey] = signInKeys({ email, ip: "" });
  await clearFailures(db, [accountKey], SIGN_IN_WINDOW, now);
}
