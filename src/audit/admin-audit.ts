import { and, Column, desc, eq, is, SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { z } from "zod";
import type { Db } from "../db/client";
import { adminAuditEvents } from "../db/schema";

/** `{ field: [before, after] }`; `null` stands for "did not exist" (created or deleted). Never holds a secret. */
export type AuditChanges = Record<string, [AuditValue, AuditValue]>;
export type AuditValue = string | number | boolean | null | string[];

export interface AuditActor {
  id: number;
  email: string;
}

export interface AdminAuditInput {
  siteId: number | null;
  targetType: string;
  targetLabel: string;
  action: string;
  changes: AuditChanges;
  actor: AuditActor;
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

export interface ConditionalAuditInput {
  siteId: number | null;
  registrationId: FromRow<number> | number | null;
  targetType: string;
  targetLabel: FromRow<string> | string;
  action: string;
  changes: FromRow<string> | AuditChanges;
  actor: AuditActor;
}

/**
 * The columns of one audit row as a SELECT list (in table order), for `INSERT … SELECT` statements that write the
 * row only when the change they record happens: the caller adds `FROM <the changed table> WHERE <the change's own
 * condition>` and runs it in the same D1 batch as the change, before it. Values may come from the row itself.
 */
export function auditEventSelection(input: ConditionalAuditInput, now: number) {
  // A column or expression is embedded as SQL, anything else bound as a parameter.
  const value = <T>(v: FromRow<T> | T | null, name: string) =>
    v === null ? sql<null>`null`.as(name) : sql<T>`${v}`.as(name);
  const changes = is(input.changes, SQL) || is(input.changes, Column) ? input.changes : JSON.stringify(input.changes);
  return {
    id: sql<null>`null`.as("id"),
    siteId: value(input.siteId, "site_id"),
    registrationId: value(input.registrationId, "registration_id"),
    targetType: value(input.targetType, "target_type"),
    targetLabel: value(input.targetLabel, "target_label"),
    action: value(input.action, "action"),
    changes: value(changes, "changes"),
    actorUserId: value(input.actor.id, "actor_user_id"),
    actorEmail: value(input.actor.email, "actor_email"),
    at: value(now, "at"),
  };
}

/** An unconditional audit insert (for changes that cannot fail once the batch runs). */
export function adminAuditStatement(db: Db, input: AdminAuditInput & { registrationId: number | null }, now: number) {
  return db.insert(adminAuditEvents).values({
    siteId: input.siteId,
    registrationId: input.registrationId,
    targetType: input.targetType,
    targetLabel: input.targetLabel,
    action: input.action,
    changes: JSON.stringify(input.changes),
    actorUserId: input.actor.id,
    actorEmail: input.actor.email,
    at: now,
  });
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

export interface AuditTrailEntry {
  id: number;
  action: string;
  targetLabel: string;
  changes: AuditChanges;
  actorEmail: string;
  at: number;
}

/** The newest audit events about one registration of one Site (the Site id is always part of the filter). */
export async function loadRegistrationAuditTrail(
  db: Db,
  siteId: number,
  registrationId: number,
  limit = 100,
): Promise<AuditTrailEntry[]> {
  const rows = await db
    .select({
      id: adminAuditEvents.id,
      action: adminAuditEvents.action,
      targetLabel: adminAuditEvents.targetLabel,
      changes: adminAuditEvents.changes,
      actorEmail: adminAuditEvents.actorEmail,
      at: adminAuditEvents.at,
    })
    .from(adminAuditEvents)
    .where(and(eq(adminAuditEvents.registrationId, registrationId), eq(adminAuditEvents.siteId, siteId)))
    .orderBy(desc(adminAuditEvents.at), desc(adminAuditEvents.id))
    .limit(limit)
    .all();
  return rows.map((r) => ({ ...r, changes: parseAuditChanges(r.changes) }));
}
