import { and, asc, count, eq, inArray, or, type SQL, sql } from "drizzle-orm";
import { type AuditActor, auditStatement } from "../audit/admin-audit";
import { createSessionStatement, invalidateUserSessionsStatement } from "../auth/sessions";
import type { Db } from "../db/client";
import { adminAuditEvents, memberships, type Role, type Site, sites, users } from "../db/schema";

/** A user as the admin pages show it: never the password hash. */
export interface UserSummary {
  id: number;
  email: string;
  name: string;
  isGlobalAdmin: boolean;
  disabled: boolean;
  createdAt: number;
}

export interface UserMembership {
  siteId: number;
  slug: string;
  siteName: string;
  role: Role;
}

export interface UserWithMemberships {
  user: UserSummary;
  memberships: UserMembership[];
}

const summaryColumns = {
  id: users.id,
  email: users.email,
  name: users.name,
  isGlobalAdmin: users.isGlobalAdmin,
  disabled: users.disabled,
  createdAt: users.createdAt,
};

async function membershipsOf(db: Db, userIds: number[]): Promise<Map<number, UserMembership[]>> {
  const byUser = new Map<number, UserMembership[]>();
  if (userIds.length === 0) return byUser;
  const rows = await db
    .select({
      userId: memberships.userId,
      siteId: sites.id,
      slug: sites.slug,
      siteName: sites.name,
      role: memberships.role,
    })
    .from(memberships)
    .innerJoin(sites, eq(sites.id, memberships.siteId))
    .where(inArray(memberships.userId, userIds))
    .orderBy(asc(sites.name), asc(sites.slug))
    .all();
  for (const { userId, ...membership } of rows) {
    const list = byUser.get(userId) ?? [];
    list.push(membership);
    byUser.set(userId, list);
  }
  return byUser;
}

export interface UserListQuery {
  /** Email or name contains (case-insensitive). */
  q: string;
  page: number;
  pageSize: number;
}

/** One page of users by email, each with their memberships. */
export async function listUsers(db: Db, query: UserListQuery): Promise<{ rows: UserWithMemberships[]; total: number }> {
  const needle = query.q.trim().toLowerCase();
  // instr() rather than LIKE: what the administrator typed is matched literally, `%` and `_` included.
  const where = needle
    ? or(sql`instr(lower(${users.email}), ${needle}) > 0`, sql`instr(lower(${users.name}), ${needle}) > 0`)
    : undefined;
  const [totalRow, page] = await db.batch([
    db.select({ total: count() }).from(users).where(where),
    db
      .select(summaryColumns)
      .from(users)
      .where(where)
      .orderBy(asc(users.email))
      .limit(query.pageSize)
      .offset((query.page - 1) * query.pageSize),
  ]);
  const byUser = await membershipsOf(
    db,
    page.map((u) => u.id),
  );
  return {
    total: totalRow[0]?.total ?? 0,
    rows: page.map((user) => ({ user, memberships: byUser.get(user.id) ?? [] })),
  };
}

export async function findUser(db: Db, id: number): Promise<UserWithMemberships | undefined> {
  const user = await db.select(summaryColumns).from(users).where(eq(users.id, id)).get();
  if (!user) return undefined;
  const byUser = await membershipsOf(db, [user.id]);
  return { user, memberships: byUser.get(user.id) ?? [] };
}

export interface NewUser {
  email: string;
  name: string;
  /** hashPassword() output; the password itself never reaches this module. */
  passwordHash: string;
  isGlobalAdmin: boolean;
  /** An optional first membership. */
  membership: { site: Site; role: Role } | null;
}

export type CreateUserResult = { ok: true; user: UserSummary } | { ok: false; code: "EmailTaken" };

/**
 * Creates a user (email unique, stored lower-case), the audit row and the optional first membership in one batch.
 * Each statement after the insert runs only when the one before it wrote a row (`changes() > 0`), so an email that
 * is already taken leaves everything as it was.
 */
export async function createUser(db: Db, input: NewUser, actor: AuditActor, now: number): Promise<CreateUserResult> {
  const email = input.email.toLowerCase();
  const insert = db
    .insert(users)
    .values({
      email,
      name: input.name,
      passwordHash: input.passwordHash,
      isGlobalAdmin: input.isGlobalAdmin,
      disabled: false,
      createdAt: now,
    })
    .onConflictDoNothing({ target: users.email })
    .returning(summaryColumns);
  const audit = auditStatement(
    db,
    {
      siteId: null,
      targetType: "user",
      targetLabel: email,
      action: "create",
      changes: { email: [null, email], name: [null, input.name], isGlobalAdmin: [null, input.isGlobalAdmin] },
      actor,
    },
    now,
  );
  const m = input.membership;
  const [inserted] = m
    ? await db.batch([
        insert,
        audit,
        db
          .insert(memberships)
          .select(sql`select u.id, ${m.site.id}, ${m.role} from users u where u.email = ${email} and changes() > 0`),
        auditStatement(
          db,
          {
            siteId: m.site.id,
            targetType: "user",
            targetLabel: email,
            action: "add_membership",
            changes: { site: [null, m.site.slug], role: [null, m.role] },
            actor,
          },
          now,
        ),
      ])
    : await db.batch([insert, audit]);
  const user = inserted[0];
  return user ? { ok: true, user } : { ok: false, code: "EmailTaken" };
}

export type UserChangeResult =
  | { ok: true; user: UserSummary; changed: boolean }
  | { ok: false; code: "SelfDisable" | "LastGlobalAdmin" | "NotFound" };

/** Another enabled Global Administrator than `userId` exists: the condition that keeps at least one. */
const anotherActiveGlobalAdmin = (userId: number): SQL =>
  sql`exists (select 1 from users other where other.is_global_admin = 1 and other.disabled = 0 and other.id <> ${userId})`;

async function afterConditionalChange(
  db: Db,
  userId: number,
  changedRows: UserSummary[],
  inDesiredState: (user: UserSummary) => boolean,
): Promise<UserChangeResult> {
  const changed = changedRows[0];
  if (changed) return { ok: true, user: changed, changed: true };
  const now = await db.select(summaryColumns).from(users).where(eq(users.id, userId)).get();
  if (!now) return { ok: false, code: "NotFound" };
  // Nothing was written: either it already was so, or the last-Global-Administrator condition held it back.
  return inDesiredState(now) ? { ok: true, user: now, changed: false } : { ok: false, code: "LastGlobalAdmin" };
}

/**
 * Disables or re-enables a user. Disabling ends every session of theirs in the same batch (§10). Nobody disables
 * their own account, and the last enabled Global Administrator cannot be disabled.
 */
export async function setUserDisabled(
  db: Db,
  target: UserSummary,
  disabled: boolean,
  actor: AuditActor,
  now: number,
): Promise<UserChangeResult> {
  if (disabled && target.id === actor.id) return { ok: false, code: "SelfDisable" };
  const audit = auditStatement(
    db,
    {
      siteId: null,
      targetType: "user",
      targetLabel: target.email,
      action: disabled ? "disable" : "enable",
      changes: { disabled: [!disabled, disabled] },
      actor,
    },
    now,
  );
  if (!disabled) {
    const [updated] = await db.batch([
      db
        .update(users)
        .set({ disabled: false })
        .where(and(eq(users.id, target.id), eq(users.disabled, true)))
        .returning(summaryColumns),
      audit,
    ]);
    return afterConditionalChange(db, target.id, updated, (u) => !u.disabled);
  }
  const [updated] = await db.batch([
    db
      .update(users)
      .set({ disabled: true })
      .where(
        and(
          eq(users.id, target.id),
          eq(users.disabled, false),
          or(eq(users.isGlobalAdmin, false), anotherActiveGlobalAdmin(target.id)),
        ),
      )
      .returning(summaryColumns),
    audit,
    invalidateUserSessionsStatement(
      db,
      target.id,
      sql`exists (select 1 from users u where u.id = ${target.id} and u.disabled = 1)`,
    ),
  ]);
  return afterConditionalChange(db, target.id, updated, (u) => u.disabled);
}

/** Grants or removes the Global Administrator flag; the last enabled Global Administrator keeps theirs. */
export async function setGlobalAdmin(
  db: Db,
  target: UserSummary,
  isGlobalAdmin: boolean,
  actor: AuditActor,
  now: number,
): Promise<UserChangeResult> {
  const condition = isGlobalAdmin
    ? and(eq(users.id, target.id), eq(users.isGlobalAdmin, false))
    : and(eq(users.id, target.id), eq(users.isGlobalAdmin, true), anotherActiveGlobalAdmin(target.id));
  const [updated] = await db.batch([
    db.update(users).set({ isGlobalAdmin }).where(condition).returning(summaryColumns),
    auditStatement(
      db,
      {
        siteId: null,
        targetType: "user",
        targetLabel: target.email,
        action: isGlobalAdmin ? "grant_global_admin" : "revoke_global_admin",
        changes: { isGlobalAdmin: [!isGlobalAdmin, isGlobalAdmin] },
        actor,
      },
      now,
    ),
  ]);
  return afterConditionalChange(db, target.id, updated, (u) => u.isGlobalAdmin === isGlobalAdmin);
}

export type DeleteUserResult =
  | { ok: true; auditId: number }
  | { ok: false; code: "SelfDelete" | "NotDisabled" | "NotFound" };

/**
 * Deletes a disabled user: disabling comes first (it ends every session at once), deleting second. The delete is
 * conditional on the user still being disabled, so a user enabled meanwhile stays, and its audit row is written in the
 * same batch only if the delete happened. Memberships, sessions, saved views and preferences go with the user
 * (foreign-key cascade); registrations they created stay with no creator; audit and security-log rows keep the email
 * as text. Nobody deletes their own account.
 */
export async function deleteUser(
  db: Db,
  target: UserSummary,
  actor: AuditActor,
  now: number,
): Promise<DeleteUserResult> {
  if (target.id === actor.id) return { ok: false, code: "SelfDelete" };
  const [deleted, audit] = await db.batch([
    db
      .delete(users)
      .where(and(eq(users.id, target.id), eq(users.disabled, true)))
      .returning({ id: users.id }),
    auditStatement(
      db,
      {
        siteId: null,
        targetType: "user",
        targetLabel: target.email,
        action: "delete",
        changes: { email: [target.email, null], name: [target.name, null] },
        actor,
      },
      now,
    ).returning({ id: adminAuditEvents.id }),
  ]);
  const auditId = deleted[0] ? audit[0]?.id : undefined;
  if (auditId !== undefined) return { ok: true, auditId };
  const still = await db.select({ id: users.id }).from(users).where(eq(users.id, target.id)).get();
  return { ok: false, code: still ? "NotDisabled" : "NotFound" };
}

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
    auditStatement(
      db,
      { siteId: null, targetType: "user", targetLabel: target.email, action, changes: {}, actor },
      now,
    ),
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

export type MembershipChangeResult =
  | { ok: true; action: "add_membership" | "change_role" | "remove_membership" | null }
  | { ok: false; code: "Conflict" | "NotMember" | "LastSiteAdmin" };

/**
 * Another enabled Site Administrator of the Site. Expiry notices go to a Site's enabled Site Administrators (§5), so
 * a membership change may not leave a Site without one. (Disabling a user is not held back: someone who leaves must
 * lose access at once.)
 */
const anotherActiveSiteAdmin = (siteId: number, userId: number): SQL =>
  sql`exists (select 1 from memberships other join users u on u.id = other.user_id
    where other.site_id = ${siteId} and other.role = 'site_admin' and other.user_id <> ${userId} and u.disabled = 0)`;

/**
 * Why a conditional write to a membership read as `expectedRole` changed nothing: the membership is gone, it
 * changed meanwhile (Conflict), or it is unchanged and so was held back as the Site's last Site Administrator.
 */
async function whyUnchanged(
  db: Db,
  target: UserSummary,
  site: Site,
  expectedRole: Role,
): Promise<"Gone" | "Conflict" | "LastSiteAdmin"> {
  const now = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.userId, target.id), eq(memberships.siteId, site.id)))
    .get();
  if (!now) return "Gone";
  return now.role === expectedRole && expectedRole === "site_admin" ? "LastSiteAdmin" : "Conflict";
}

/**
 * Adds the user to a Site with a role, or changes their role there. The write is conditional on what was read
 * (no membership yet / the old role), so two administrators editing at once never silently overwrite each other,
 * and a Site's last enabled Site Administrator keeps the role.
 */
export async function setMembership(
  db: Db,
  target: UserSummary,
  site: Site,
  role: Role,
  actor: AuditActor,
  now: number,
): Promise<MembershipChangeResult> {
  const existing = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.userId, target.id), eq(memberships.siteId, site.id)))
    .get();
  if (existing?.role === role) return { ok: true, action: null };
  const action = existing ? "change_role" : "add_membership";
  const write = existing
    ? db
        .update(memberships)
        .set({ role })
        .where(
          and(
            eq(memberships.userId, target.id),
            eq(memberships.siteId, site.id),
            eq(memberships.role, existing.role),
            existing.role === "site_admin" ? anotherActiveSiteAdmin(site.id, target.id) : undefined,
          ),
        )
    : db.insert(memberships).values({ userId: target.id, siteId: site.id, role }).onConflictDoNothing();
  const [result] = await db.batch([
    write,
    auditStatement(
      db,
      {
        siteId: site.id,
        targetType: "user",
        targetLabel: target.email,
        action,
        changes: existing
          ? { site: [site.slug, site.slug], role: [existing.role, role] }
          : { site: [null, site.slug], role: [null, role] },
        actor,
      },
      now,
    ),
  ]);
  if (result.meta.changes) return { ok: true, action };
  const why = existing ? await whyUnchanged(db, target, site, existing.role) : "Conflict";
  return { ok: false, code: why === "LastSiteAdmin" ? why : "Conflict" };
}

export async function removeMembership(
  db: Db,
  target: UserSummary,
  site: Site,
  actor: AuditActor,
  now: number,
): Promise<MembershipChangeResult> {
  const existing = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.userId, target.id), eq(memberships.siteId, site.id)))
    .get();
  if (!existing) return { ok: false, code: "NotMember" };
  const [result] = await db.batch([
    db
      .delete(memberships)
      .where(
        and(
          eq(memberships.userId, target.id),
          eq(memberships.siteId, site.id),
          existing.role === "site_admin" ? anotherActiveSiteAdmin(site.id, target.id) : undefined,
        ),
      ),
    auditStatement(
      db,
      {
        siteId: site.id,
        targetType: "user",
        targetLabel: target.email,
        action: "remove_membership",
        changes: { site: [site.slug, null], role: [existing.role, null] },
        actor,
      },
      now,
    ),
  ]);
  if (result.meta.changes) return { ok: true, action: "remove_membership" };
  const why = await whyUnchanged(db, target, site, existing.role);
  // Removed meanwhile by another administrator: what was asked for holds.
  return why === "Gone" ? { ok: true, action: null } : { ok: false, code: why };
}
