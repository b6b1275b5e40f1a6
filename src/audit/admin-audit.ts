import { and, Column, desc, eq, is, SQL, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { z } from "zod";
import type { Db } from "../db/client";
import { adminAuditEvents } from "../db/schema";

/**
 * The admin audit trail (§4): who changed what, when, for Sites, users, registrations and their keys. One vocabulary
 * of actions (a verb each) and of field keys (the code's own camelCase names), one writer and one reader.
 */
export const AUDIT_ACTIONS = [
  "create",
  "update",
  "delete",
  "enable",
  "disable",
  "grant_global_admin",
  "revoke_global_admin",
  "add_membership",
  "change_role",
  "remove_membership",
  "change_password",
  "reset_password",
  "add_key",
  "remove_key",
  "add_secret",
  "revoke_secret",
  "set_secret_expiry",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditTargetType = "site" | "user" | "app_registration" | "client_key" | "client_secret";

/** `{ field: [before, after] }`; `null` stands for "did not exist" (created or deleted). Never holds a secret. */
export type AuditChanges = Record<string, [AuditValue, AuditValue]>;
export type AuditValue = string | number | boolean | null | string[];

/** Who made a change: the signed-in user (`actorOf` in src/auth/guards.ts), or a registration (management API). */
export interface AuditActor {
  /** The user's id; null when the actor is an App registration calling the management API. */
  id: number | null;
  /** The user's email, or for an App registration its name and Client ID: text that outlives the actor. */
  email: string;
}

const sameValue = (a: AuditValue, b: AuditValue) => JSON.stringify(a) === JSON.stringify(b);

/** The fields whose value differs between `before` and `after`, as audit changes. */
export function diffChanges(
  before: Readonly<Record<string, AuditValue>>,
  after: Readonly<Record<string, AuditValue>>,
): AuditChanges {
  const changes: AuditChanges = {};
  for (const key of Object.keys(after)) {
    const a = before[key] ?? null;
    const b = after[key] ?? null;
    if (!sameValue(a, b)) changes[key] = [a, b];
  }
  return changes;
}

/** A value taken from the row being changed (a column or an SQL expression) rather than a constant. */
type FromRow<T> = SQLiteColumn | SQL<T>;

export interface AuditEntry {
  /** The Site the change is about (a Site's own changes, a membership, a registration); null for account-wide ones. */
  siteId: FromRow<number> | number | null;
  registrationId?: FromRow<number> | number | null;
  targetType: AuditTargetType;
  /** What the change is about, as text that outlives it: a slug, an email, a registration's name, a key's kid, a secret's hint. */
  targetLabel: FromRow<string> | string;
  action: AuditAction;
  changes: FromRow<string> | AuditChanges;
  actor: AuditActor;
}

/** When an audit row is written: only if the change it records happens, decided inside the same D1 batch. */
export type AuditCondition =
  /** Placed right after the change: written when that statement changed a row (`changes() > 0`). */
  | "afterChange"
  /** Placed right before the change: one row per row of `from` that `where` selects, the rows the change acts on. */
  | { from: SQLiteTable; where: SQL | undefined };

/** A column or an SQL expression: embedded as SQL; anything else is bound as a parameter. */
const isSql = (v: unknown): v is SQL | SQLiteColumn => is(v, SQL) || is(v, Column);

/** The one writer: an `INSERT … SELECT` of one audit row that exists only if its change happened. */
export function auditStatement(db: Db, entry: AuditEntry, now: number, when: AuditCondition = "afterChange") {
  const value = (v: unknown) => (v === null || v === undefined ? sql`null` : sql`${v}`);
  const changes = isSql(entry.changes) ? entry.changes : JSON.stringify(entry.changes);
  // Every column of admin_audit_events, in table order.
  const values = sql.join(
    [
      sql`null`,
      value(entry.siteId),
      value(entry.registrationId ?? null),
      value(entry.targetType),
      value(entry.targetLabel),
      value(entry.action),
      value(changes),
      value(entry.actor.id),
      value(entry.actor.email),
      value(now),
    ],
    sql`, `,
  );
  const select =
    when === "afterChange"
      ? sql`select ${values} where changes() > 0`
      : sql`select ${values} from ${when.from} where ${when.where ?? sql`1`}`;
  return db.insert(adminAuditEvents).select(select);
}

const auditValue: z.ZodType<AuditValue> = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]);
const auditChanges = z.record(z.string(), z.tuple([auditValue, auditValue]));

/** Reads a stored `changes` column; anything unreadable shows as no detail rather than failing the page. */
export function parseAuditChanges(json: string): AuditChanges {
  try {
    const parsed = auditChanges.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

export interface AuditRow {
  id: number;
  action: string;
  targetLabel: string;
  changes: AuditChanges;
  actorEmail: string;
  at: number;
  siteId: number | null;
}

/** Whose trail to read: a Site's own changes, a user's (by email, which outlives the account), or a registration's. */
export type AuditSubject =
  | { type: "site"; siteId: number }
  | { type: "user"; email: string }
  | { type: "registration"; siteId: number; registrationId: number };

function subjectFilter(subject: AuditSubject) {
  switch (subject.type) {
    case "site":
      return and(eq(adminAuditEvents.siteId, subject.siteId), eq(adminAuditEvents.targetType, "site"));
    case "user":
      return and(eq(adminAuditEvents.targetType, "user"), eq(adminAuditEvents.targetLabel, subject.email));
    case "registration":
      // The Site id is always part of the filter: no other Site's rows, whatever the id.
      return and(
        eq(adminAuditEvents.registrationId, subject.registrationId),
        eq(adminAuditEvents.siteId, subject.siteId),
      );
  }
}

/** The one reader: the newest audit rows about one subject, newest first. */
export async function listAuditTrail(db: Db, subject: AuditSubject, limit = 100): Promise<AuditRow[]> {
  const rows = await db
    .select()
    .from(adminAuditEvents)
    .where(subjectFilter(subject))
    .orderBy(desc(adminAuditEvents.at), desc(adminAuditEvents.id))
    .limit(limit)
    .all();
  return rows.map((row) => ({
    id: row.id,
    action: row.action,
    targetLabel: row.targetLabel,
    changes: parseAuditChanges(row.changes),
    actorEmail: row.actorEmail,
    at: row.at,
    siteId: row.siteId,
  }));
}

/** The email of the user whose deletion this audit row records, or undefined when the row records no such thing. */
export async function deletedUserEmail(db: Db, auditId: number): Promise<string | undefined> {
  const row = await db
    .select({ email: adminAuditEvents.targetLabel })
    .from(adminAuditEvents)
    .where(
      and(
        eq(adminAuditEvents.id, auditId),
        eq(adminAuditEvents.targetType, "user"),
        eq(adminAuditEvents.action, "delete"),
      ),
    )
    .get();
  return row?.email;
}
