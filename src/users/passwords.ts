import { and, eq, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { AuditActor } from "../audit/admin-audit";
import type { Db } from "../db/client";
import { users } from "../db/schema";
import { auditUserChange, type UserSummary } from "./accounts";
import { createSessionStatement, invalidateUserSessionsStatement } from "./sessions";

/**
 * Passwords (§10): the one policy, the forms that set one, and the two ways a password changes (a user changes
 * their own; a Global Administrator sets a new one). Sign-in and the account page (src/auth) use this module.
 */

export const MIN_PASSWORD_LENGTH = 12;

/**
 * Every password an account can get, initial or changed: at least MIN_PASSWORD_LENGTH characters, at most 1,024.
 * Never trimmed: spaces are part of a password.
 */
export const passwordPolicy = (missing: string) =>
  z
    .string({ error: missing })
    .min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`)
    .max(1024, "Use at most 1024 characters.");

/** A new password obeys the one password policy; an absent field is checked as an empty one. */
const newPassword = passwordPolicy("Enter a new password.").prefault("");

/** A password typed to be compared, not stored: only its size is limited. Never trimmed. */
const typedPassword = z.string().max(1024, "Use at most 1024 characters.").prefault("");

/** The new password, typed twice. */
function confirmMatches(value: { newPassword: string; confirmPassword: string }, ctx: z.RefinementCtx) {
  if (value.newPassword === value.confirmPassword) return;
  ctx.addIssue({
    code: "custom",
    path: ["confirmPassword"],
    message: value.confirmPassword ? "The two new passwords do not match." : "Enter the new password again.",
  });
}

/** A Global Administrator sets a new password for a user. */
export const setPasswordForm = z.object({ newPassword, confirmPassword: typedPassword }).superRefine(confirmMatches);

/** A signed-in user changes their own password, proving they know the current one. */
export const changePasswordForm = z
  .object({
    currentPassword: typedPassword.pipe(z.string().min(1, "Enter your current password.")),
    newPassword,
    confirmPassword: typedPassword,
  })
  .superRefine(confirmMatches);

/** The stored hash is this one: true only after an update to it ran, because every hash has a fresh salt. */
const storesPasswordHash = (userId: number, passwordHash: string): SQL =>
  sql`exists (select 1 from users u where u.id = ${userId} and u.password_hash = ${passwordHash})`;

/**
 * The statements that replace a user's password hash: the update (narrowed by `onlyIf`), its audit row (never the
 * password or a hash) and the end of every session of the user, each written only if the update was.
 */
function passwordChangeStatements(
  db: Db,
  target: { id: number; email: string },
  passwordHash: string,
  onlyIf: SQL | undefined,
  action: "change_password" | "reset_password",
  actor: AuditActor,
  now: number,
) {
  return [
    db
      .update(users)
      .set({ passwordHash })
      .where(and(eq(users.id, target.id), onlyIf)),
    auditUserChange(db, { email: target.email, action, changes: {}, actor }, now),
    invalidateUserSessionsStatement(db, target.id, storesPasswordHash(target.id, passwordHash)),
  ] as const;
}

export type PasswordResetResult = { ok: true } | { ok: false; code: "OwnPassword" | "NotFound" };

/**
 * A Global Administrator sets a new password for another user (`passwordHash` from hashPassword()): every session of
 * theirs ends in the same batch, so whoever held the old password loses access at once. Their own password they
 * change like everyone else, with the current one (changeOwnPassword).
 */
export async function resetPassword(
  db: Db,
  target: UserSummary,
  passwordHash: string,
  actor: AuditActor,
  now: number,
): Promise<PasswordResetResult> {
  if (target.id === actor.id) return { ok: false, code: "OwnPassword" };
  const [updated] = await db.batch(
    passwordChangeStatements(db, target, passwordHash, undefined, "reset_password", actor, now),
  );
  return updated.meta.changes ? { ok: true } : { ok: false, code: "NotFound" };
}

export type PasswordChangeResult = { ok: true; token: string; csrfToken: string } | { ok: false; code: "Conflict" };

/**
 * A user replaces their own password, which they proved by verifying it against `verifiedHash`. In one batch, and
 * only if `verifiedHash` is still the stored hash (two changes at once cannot both succeed): the new hash, the audit
 * row, the end of every session of the user and a new session that keeps them signed in on a new token.
 */
export async function changeOwnPassword(
  db: Db,
  user: { id: number; email: string },
  verifiedHash: string,
  passwordHash: string,
  now: number,
): Promise<PasswordChangeResult> {
  const session = await createSessionStatement(db, user.id, now, storesPasswordHash(user.id, passwordHash));
  const [updated] = await db.batch([
    ...passwordChangeStatements(
      db,
      user,
      passwordHash,
      eq(users.passwordHash, verifiedHash),
      "change_password",
      { id: user.id, email: user.email },
      now,
    ),
    session.statement,
  ]);
  return updated.meta.changes
    ? { ok: true, token: session.token, csrfToken: session.csrfToken }
    : { ok: false, code: "Conflict" };
}
