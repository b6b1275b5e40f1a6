import { and, eq, gt, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { sessions, type User, users } from "../db/schema";
import { randomToken, sha256Hex } from "../lib/crypto";
import { HOUR, MINUTE } from "../lib/time";

export const SESSION_COOKIE = "__Host-session";
/** §10: idle timeout 8 h, absolute timeout 7 days. */
export const SESSION_IDLE_TIMEOUT = 8 * HOUR;
export const SESSION_ABSOLUTE_TIMEOUT = 7 * 24 * HOUR;
/** last_seen_at is refreshed at most this often, so page loads do not each write to D1. */
const TOUCH_INTERVAL = 5 * MINUTE;

export type SessionValidation =
  | { session: { id: string; csrfToken: string; createdAt: number; lastSeenAt: number; expiresAt: number }; user: User }
  | { session: null; user: null };

/** A new session's cookie token (256 random bits), CSRF token and row; the row stores only the token's SHA-256. */
async function newSession(userId: number, now: number) {
  const token = randomToken(32);
  const csrfToken = randomToken(32);
  const row = {
    id: await sha256Hex(token),
    userId,
    csrfToken,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + SESSION_ABSOLUTE_TIMEOUT,
  };
  return { token, csrfToken, row };
}

/** Creates a session for `userId` and returns the cookie token; only its SHA-256 is stored. */
export async function createSession(
  db: Db,
  userId: number,
  now: number,
): Promise<{ token: string; csrfToken: string }> {
  const { token, csrfToken, row } = await newSession(userId, now);
  await db.insert(sessions).values(row);
  return { token, csrfToken };
}

/**
 * A fresh session for `userId` as an unexecuted statement that writes it only if `onlyIf` holds when it runs, for a
 * batch that ends the user's other sessions in the same transaction (a password change keeps its author signed in,
 * on a new token).
 */
export async function createSessionStatement(db: Db, userId: number, now: number, onlyIf: SQL) {
  const { token, csrfToken, row } = await newSession(userId, now);
  const statement = db
    .insert(sessions)
    .select(
      sql`select ${row.id}, ${row.userId}, ${row.csrfToken}, ${row.createdAt}, ${row.lastSeenAt}, ${row.expiresAt} where ${onlyIf}`,
    );
  return { token, csrfToken, statement };
}

export async function validateSessionToken(db: Db, token: string, now: number): Promise<SessionValidation> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return { session: null, user: null };
  const id = await sha256Hex(token);
  const row = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, id), gt(sessions.expiresAt, now)))
    .get();
  if (!row) return { session: null, user: null };
  if (row.user.disabled || now - row.session.lastSeenAt >= SESSION_IDLE_TIMEOUT) {
    await db.delete(sessions).where(eq(sessions.id, id));
    return { session: null, user: null };
  }
  if (now - row.session.lastSeenAt >= TOUCH_INTERVAL) {
    await db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, id));
  }
  return { session: row.session, user: row.user };
}

export async function invalidateSession(db: Db, sessionId: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, sessionId));
}

/** Ends every session of a user (on disable, §10). */
export async function invalidateUserSessions(db: Db, userId: number): Promise<void> {
  await db.delete(sessions).where(eq(sessions.userId, userId));
}

/**
 * The statement of invalidateUserSessions, unexecuted, for a batch that disables the user in the same transaction
 * (§10); `onlyIf` narrows it (e.g. to "the user is now disabled").
 */
export function invalidateUserSessionsStatement(db: Db, userId: number, onlyIf?: SQL) {
  return db.delete(sessions).where(and(eq(sessions.userId, userId), onlyIf));
}
