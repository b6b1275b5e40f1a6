import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { throttleCounters } from "../db/schema";
import { MINUTE } from "../lib/time";

/**
 * Admin sign-in throttling (§10), in fixed 15-minute windows of `throttle_counters`. Three budgets, each counted by a
 * conditional upsert that reserves one attempt *before* the password is checked, so parallel attempts cannot all
 * slip past a count read earlier (a reservation either fits the budget or changes nothing):
 *
 * - **per IP** (20): an IP that used its budget is refused whatever it sends, without checking the password;
 * - **per account and IP** (5): the same IP is refused for that account, without checking the password; guessing one
 *   account from many IPs costs an IP per 5 guesses, and the account holder's own IP is untouched;
 * - **per account** (5, from any IP): past it, attempts that fail anyway are answered 429 instead of 401. The
 *   password is still checked, so the right password from an IP that is not blocked always signs in: an attacker can
 *   never lock the real administrator out (the token endpoint's own rule for Client IDs).
 *
 * A successful check gives its reservations back: the IP's slot is returned and the account's failures are cleared.
 */
export const SIGN_IN_WINDOW = 15 * MINUTE;
export const SIGN_IN_MAX_FAILURES_PER_ACCOUNT = 5;
export const SIGN_IN_MAX_FAILURES_PER_ACCOUNT_AND_IP = 5;
export const SIGN_IN_MAX_FAILURES_PER_IP = 20;

function windowStart(now: number, windowMs: number): number {
  return Math.floor(now / windowMs) * windowMs;
}

/** Seconds until the window containing `now` ends (for Retry-After). */
export function secondsUntilWindowEnds(now: number, windowMs: number): number {
  return Math.max(1, Math.ceil((windowStart(now, windowMs) + windowMs - now) / 1000));
}

/** The statement that takes one slot of `key`'s budget, returning the new count only when it fitted. */
function reserveStatement(db: Db, key: string, limit: number, start: number) {
  return db
    .insert(throttleCounters)
    .values({ key, windowStart: start, count: 1 })
    .onConflictDoUpdate({
      target: [throttleCounters.key, throttleCounters.windowStart],
      set: { count: sql`${throttleCounters.count} + 1` },
      setWhere: sql`${throttleCounters.count} < ${limit}`,
    })
    .returning({ count: throttleCounters.count });
}

/**
 * The sign-in throttle's keys: the email as typed (so unknown accounts are throttled too) and the caller's IP. Every
 * check of a user's password counts: signing in and changing one's own password.
 */
export interface PasswordAttempt {
  email: string;
  ip: string;
}

const accountKey = (email: string) => `signin:account:${email}`;
const accountIpKey = (email: string, ip: string) => `${accountKey(email)}|ip:${ip}`;
const ipKey = (ip: string) => `signin:ip:${ip}`;

/** What the reservation of one password check found. */
export type AttemptReservation =
  /** Not checked at all: the IP, or this account from this IP, used its budget. */
  | { kind: "blocked" }
  /** Checked. `accountOverBudget`: a failure is answered 429, not 401. */
  | { kind: "reserved"; accountOverBudget: boolean; release: () => Promise<void> };

/** Reserves one password check against every budget in one D1 batch (one transaction), before any PBKDF2 work. */
export async function reservePasswordAttempt(
  db: Db,
  attempt: PasswordAttempt,
  now: number,
): Promise<AttemptReservation> {
  const start = windowStart(now, SIGN_IN_WINDOW);
  const ip = ipKey(attempt.ip);
  const [byIp, byAccountAndIp, byAccount] = await db.batch([
    reserveStatement(db, ip, SIGN_IN_MAX_FAILURES_PER_IP, start),
    reserveStatement(db, accountIpKey(attempt.email, attempt.ip), SIGN_IN_MAX_FAILURES_PER_ACCOUNT_AND_IP, start),
    reserveStatement(db, accountKey(attempt.email), SIGN_IN_MAX_FAILURES_PER_ACCOUNT, start),
  ]);
  if (byIp.length === 0 || byAccountAndIp.length === 0) return { kind: "blocked" };
  return {
    kind: "reserved",
    accountOverBudget: byAccount.length === 0,
    // The right password: the IP's slot goes back, and the account starts afresh from every IP.
    release: async () => {
      await db.batch([
        db
          .update(throttleCounters)
          .set({ count: sql`max(${throttleCounters.count} - 1, 0)` })
          .where(sql`${throttleCounters.key} = ${ip} and ${throttleCounters.windowStart} = ${start}`),
        clearAccountStatement(db, attempt.email, start),
      ]);
    },
  };
}

/** Deletes the account's budget and its per-IP budgets in the window starting at `start`. */
function clearAccountStatement(db: Db, email: string, start: number) {
  const key = accountKey(email);
  // `key|…` rows sort between `key|` and `key}` ('}' follows '|' in every collation SQLite uses for text).
  return db
    .delete(throttleCounters)
    .where(
      sql`${throttleCounters.windowStart} = ${start} and (${throttleCounters.key} = ${key} or (${throttleCounters.key} >= ${`${key}|`} and ${throttleCounters.key} < ${`${key}}`}))`,
    );
}

/** Forgets the account's failures from every IP (not the IPs' own): after a new password set by an administrator. */
export async function clearSignInFailures(db: Db, email: string, now: number): Promise<void> {
  await clearAccountStatement(db, email, windowStart(now, SIGN_IN_WINDOW));
}
