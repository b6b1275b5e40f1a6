/** User accounts (§4, Global Administrator): list, find, create, disable, the Global Administrator flag, delete. */
import { and, asc, count, eq, inArray, or, type SQL, sql } from "drizzle-orm";
import { type AuditAction, type AuditActor, type AuditChanges, auditStatement } from "../audit/admin-audit";
import type { Db } from "../db/client";
import { adminAuditEvents, memberships, type Role, type Site, sites, users } from "../db/schema";
import { invalidateUserSessionsStatement } from "./sessions";

/**
 * The audit row of a change to a user account or one of its memberships (`siteId`), written only when the statement
 * before it in the batch changed a row. The email identifies the account for good, even after it is deleted.
 */
export function auditUserChange(
  db: Db,
  change: { email: string; siteId?: number; action: AuditAction; changes: AuditChanges; actor: AuditActor },
  now: number,
) {
  const { email, siteId, ...rest } = change;
  return auditStatement(db, { siteId: siteId ?? null, targetType: "user", targetLabel: email, ...rest }, now);
}

/** The actions of an account's two switches, by the value they were set to. */
const SWITCH_ACTIONS = {
  disabled: { true: "disable", false: "enable" },
  isGlobalAdmin: { true: "grant_global_admin", false: "revoke_global_admin" },
} as const satisfies Record<string, Record<"true" | "false", AuditAction>>;

/** The audit row of an account switch (`disabled`, `isGlobalAdmin`) set to `value`. */
function auditUserSwitch(
  db: Db,
  target: { email: string },
  field: keyof typeof SWITCH_ACTIONS,
  value: boolean,
  actor: AuditActor,
  now: number,
) {
  const action = SWITCH_ACTIONS[field][`${value}`];
  return auditUserChange(db, { email: target.email, action, changes: { [field]: [!value, value] }, actor }, now);
}

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
  const audit = auditUserChange(
    db,
    {
      email: email,
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
        auditUserChange(
          db,
          {
            siteId: m.site.id,
            email: email,
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
  const audit = auditUserSwitch(db, target, "disabled", disabled, actor, now);
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
    auditUserSwitch(db, target, "isGlobalAdmin", isGlobalAdmin, actor, now),
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
    auditUserChange(
      db,
      {
        email: target.email,
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
