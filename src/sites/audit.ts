import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { adminAuditEvents } from "../db/schema";

export type AuditTargetType = "site" | "user";

/** Who made a change: the signed-in Global Administrator, or a user changing their own password. */
export interface Actor {
  id: number;
  email: string;
}

export interface AdminAuditEntry {
  /** The Site the change is about (a Site's own changes, a membership); null for account-wide changes. */
  siteId: number | SQL | null;
  targetType: AuditTargetType;
  /** The Site's slug or the user's email: both are fixed once created, so they identify the target for good. */
  targetLabel: string;
  action: string;
  /** `{ field: [before, after] }`, never a password or its hash. */
  changes: Record<string, readonly [unknown, unknown]>;
  actor: Actor;
}

/**
 * The statement that records one admin audit row, written only when the statement just before it in the same batch
 * changed a row (`changes() > 0`): a conditional write that found nothing to change leaves no trail behind it.
 */
export function auditAfterChange(db: Db, entry: AdminAuditEntry, now: number) {
  const siteId = entry.siteId ?? sql`null`;
  return db
    .insert(adminAuditEvents)
    .select(
      sql`select null, ${siteId}, null, ${entry.targetType}, ${entry.targetLabel}, ${entry.action}, ${JSON.stringify(
        entry.changes,
      )}, ${entry.actor.id}, ${entry.actor.email}, ${now} where changes() > 0`,
    );
}

export interface AuditRow {
  id: number;
  action: string;
  changes: Record<string, [unknown, unknown]>;
  actorEmail: string;
  at: number;
  siteId: number | null;
}

function parseChanges(value: string): Record<string, [unknown, unknown]> {
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed && typeof parsed === "object" ? (parsed as Record<string, [unknown, unknown]>) : {};
  } catch {
    return {};
  }
}

/** The latest changes to one Site or one user, newest first. */
export async function listAuditTrail(
  db: Db,
  target: { type: "site"; siteId: number } | { type: "user"; email: string },
  limit = 50,
): Promise<AuditRow[]> {
  const where =
    target.type === "site"
      ? and(eq(adminAuditEvents.siteId, target.siteId), eq(adminAuditEvents.targetType, "site"))
      : and(eq(adminAuditEvents.targetType, "user"), eq(adminAuditEvents.targetLabel, target.email));
  const rows = await db
    .select()
    .from(adminAuditEvents)
    .where(where)
    .orderBy(desc(adminAuditEvents.at), desc(adminAuditEvents.id))
    .limit(limit)
    .all();
  return rows.map((row) => ({
    id: row.id,
    action: row.action,
    changes: parseChanges(row.changes),
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
