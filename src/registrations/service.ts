import { and, eq, ne, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import {
  type AuditActor,
  type AuditChanges,
  type AuditEntry,
  type AuditTargetType,
  auditStatement,
  diffChanges,
} from "../audit/admin-audit";
import type { Db } from "../db/client";
import { type AppRegistration, appRegistrations, type Site } from "../db/schema";
import { sha256Hex } from "../lib/crypto";
import { calendarDateInZone, startOfDayInZone } from "../lib/time";
import { forgetCachedClients } from "../oauth/client-cache";
import { PAGE_SIZES } from "./grid-query";
import { extendedDate } from "./lifecycle";
import { insertRegistrationWithSecret } from "./repository";
import { checkExpirationDate, type RegistrationFormErrors, type RegistrationFormInput } from "./validation";

export const AUDIT_TARGET = "app_registration" satisfies AuditTargetType;

/** The fields an administrator edits (§4), in the shape the audit trail records them. */
export interface EditableFields {
  [field: string]: string | number | boolean | string[];
  name: string;
  description: string;
  expirationDate: string;
  enabled: boolean;
  scopes: string[];
  /** Seconds. */
  accessTokenLifetime: number;
}

export function editableFields(reg: AppRegistration): EditableFields {
  return {
    name: reg.name,
    description: reg.description,
    expirationDate: reg.expirationDate,
    enabled: reg.enabled,
    scopes: reg.scopes.split(" ").filter(Boolean),
    accessTokenLifetime: reg.accessTokenLifetime,
  };
}

function fieldsFromInput(input: RegistrationFormInput): EditableFields {
  return {
    name: input.name,
    description: input.description,
    expirationDate: input.expirationDate,
    enabled: input.enabled,
    scopes: input.scopes,
    accessTokenLifetime: input.lifetimeMinutes * 60,
  };
}

/**
 * A short fingerprint of the editable values. The edit form carries it, so saving over values someone else changed
 * in the meantime is detected instead of silently undoing their change.
 */
export async function registrationVersion(reg: AppRegistration): Promise<string> {
  return (await sha256Hex(JSON.stringify(editableFields(reg)))).slice(0, 16);
}

export function expirationRules(site: Site, now: number, unchangedDate?: string) {
  return { today: calendarDateInZone(now, site.timeZone), maxDays: site.maxRegistrationDays, unchangedDate };
}

/** D1 reports the (site, lower(name)) unique index by name when a second registration takes a name. */
function isDuplicateName(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (
      /UNIQUE constraint failed/.test(e.message) &&
      /app_registrations_site_name_idx|site_id, lower/.test(e.message)
    ) {
      return true;
    }
  }
  return false;
}

const DUPLICATE_NAME = "Another App registration of this Site already has this name.";

/** The row of one registration of one Site: ownership is part of every lookup (§10). */
export function findRegistration(db: Db, siteId: number, id: number) {
  return db
    .select()
    .from(appRegistrations)
    .where(and(eq(appRegistrations.id, id), eq(appRegistrations.siteId, siteId)))
    .get();
}

/** A registration of one Site by its Client ID (§10: ownership is part of the lookup). */
export function findByClientId(db: Db, siteId: number, clientId: string) {
  return db
    .select()
    .from(appRegistrations)
    .where(and(eq(appRegistrations.siteId, siteId), eq(appRegistrations.clientId, clientId)))
    .get();
}

/**
 * The audit event of a change to the registration rows `where` selects, as an `INSERT … SELECT` from those rows: run
 * in the same batch just before the change, it writes the event only if the change has a row to act on.
 */
function auditRegistrationChange(
  db: Db,
  where: SQL | undefined,
  event: { site: Site } & Pick<AuditEntry, "targetLabel" | "action" | "changes" | "actor">,
  now: number,
) {
  const { site, ...rest } = event;
  return auditStatement(
    db,
    { siteId: site.id, registrationId: appRegistrations.id, targetType: AUDIT_TARGET, ...rest },
    now,
    { from: appRegistrations, where },
  );
}

export type CreateResult =
  | { ok: true; registration: AppRegistration; clientSecret: string }
  | { ok: false; errors: RegistrationFormErrors };

/**
 * §4 create: the registration, its first secret and the audit event in one D1 batch. The plaintext secret is only
 * in the return value; the audit event records the fields, never the secret or its hash.
 */
export async function createRegistration(
  db: Db,
  pepper: string,
  args: {
    site: Site;
    actor: AuditActor;
    input: RegistrationFormInput;
    /** More statements of the same change, in the same batch (the management API's Idempotency-Key row). */
    alongside?: (clientId: string) => BatchItem<"sqlite">[];
  },
  now: number,
): Promise<CreateResult> {
  const { site, actor, input } = args;
  const dateError = checkExpirationDate(input.expirationDate, expirationRules(site, now));
  if (dateError) return { ok: false, errors: { expirationDate: dateError } };
  const fields = fieldsFromInput(input);
  try {
    const created = await insertRegistrationWithSecret(
      db,
      pepper,
      {
        siteId: site.id,
        siteTimeZone: site.timeZone,
        name: fields.name,
        description: fields.description,
        expirationDate: fields.expirationDate,
        enabled: fields.enabled,
        scopes: fields.scopes,
        accessTokenLifetime: fields.accessTokenLifetime,
        createdBy: actor.id,
        createdByLabel: actor.email,
      },
      now,
      (clientId) => {
        const changes: AuditChanges = { ...diffChanges({}, fields), clientId: [null, clientId] };
        return [
          auditRegistrationChange(
            db,
            eq(appRegistrations.clientId, clientId),
            { site, targetLabel: fields.name, action: "create", changes, actor },
            now,
          ),
          ...(args.alongside?.(clientId) ?? []),
        ];
      },
    );
    return { ok: true, ...created };
  } catch (error) {
    if (isDuplicateName(error)) return { ok: false, errors: { name: DUPLICATE_NAME } };
    throw error;
  }
}

export type UpdateResult =
  | { kind: "not_found" }
  | { kind: "invalid"; errors: RegistrationFormErrors }
  | { kind: "conflict"; current: AppRegistration }
  | { kind: "unchanged"; registration: AppRegistration }
  | { kind: "updated"; registration: AppRegistration; changes: AuditChanges };

/** Every editable column equal to the values the change was computed from: a compare-and-swap (§10). */
function unchangedSince(before: AppRegistration): SQL {
  return and(
    eq(appRegistrations.name, before.name),
    eq(appRegistrations.description, before.description),
    eq(appRegistrations.expirationDate, before.expirationDate),
    eq(appRegistrations.enabled, before.enabled),
    eq(appRegistrations.scopes, before.scopes),
    eq(appRegistrations.accessTokenLifetime, before.accessTokenLifetime),
  ) as SQL;
}

/**
 * §4 edit, and §3 renewal (a later Expiration date: same Client ID, secrets untouched). The update and its audit
 * event are one batch, both conditional on the row still holding the values the change was computed from.
 */
export async function updateRegistration(
  db: Db,
  args: { site: Site; actor: AuditActor; id: number; version: string; input: RegistrationFormInput },
  now: number,
): Promise<UpdateResult> {
  const { site, actor, id, input } = args;
  const before = await findRegistration(db, site.id, id);
  if (!before) return { kind: "not_found" };
  if ((await registrationVersion(before)) !== args.version) return { kind: "conflict", current: before };
  const dateError = checkExpirationDate(input.expirationDate, expirationRules(site, now, before.expirationDate));
  if (dateError) return { kind: "invalid", errors: { expirationDate: dateError } };

  const after = fieldsFromInput(input);
  const changes = diffChanges(editableFields(before), after);
  if (Object.keys(changes).length === 0) return { kind: "unchanged", registration: before };

  const where = and(eq(appRegistrations.id, id), eq(appRegistrations.siteId, site.id), unchangedSince(before));
  try {
    const [, updated] = await db.batch([
      auditRegistrationChange(db, where, { site, targetLabel: after.name, action: "update", changes, actor }, now),
      db
        .update(appRegistrations)
        .set({
          name: after.name,
          description: after.description,
          expirationDate: after.expirationDate,
          expiresAt: changes.expirationDate ? startOfDayInZone(after.expirationDate, site.timeZone) : before.expiresAt,
          enabled: after.enabled,
          scopes: after.scopes.join(" "),
          accessTokenLifetime: after.accessTokenLifetime,
          updatedAt: now,
        })
        .where(where)
        .returning(),
    ]);
    const registration = updated[0];
    if (!registration) {
      const current = await findRegistration(db, site.id, id);
      return current ? { kind: "conflict", current } : { kind: "not_found" };
    }
    forgetCachedClients({ registrationId: registration.id });
    return { kind: "updated", registration, changes };
  } catch (error) {
    if (isDuplicateName(error)) return { kind: "invalid", errors: { name: DUPLICATE_NAME } };
    throw error;
  }
}

export type EnableResult =
  | { kind: "not_found" }
  | { kind: "unchanged"; registration: AppRegistration }
  | { kind: "changed"; registration: AppRegistration };

/**
 * §3 enable/disable, as "set to" (not "toggle"), so a repeated or raced click is a no-op rather than a flip. The
 * update and its audit event only happen when the value actually changes.
 */
export async function setRegistrationEnabled(
  db: Db,
  args: { site: Site; actor: AuditActor; id: number; enabled: boolean },
  now: number,
): Promise<EnableResult> {
  const { site, id } = args;
  const [, updated] = await db.batch(enabledStatements(db, args, now));
  const registration = updated[0];
  if (registration) {
    forgetCachedClients({ registrationId: registration.id });
    return { kind: "changed", registration };
  }
  const current = await findRegistration(db, site.id, id);
  return current ? { kind: "unchanged", registration: current } : { kind: "not_found" };
}

/** Enable or disable one registration: its audit event and its update, both only when the value actually changes. */
function enabledStatements(db: Db, args: { site: Site; actor: AuditActor; id: number; enabled: boolean }, now: number) {
  const { site, actor, id, enabled } = args;
  const where = and(
    eq(appRegistrations.id, id),
    eq(appRegistrations.siteId, site.id),
    ne(appRegistrations.enabled, enabled),
  );
  return [
    auditRegistrationChange(
      db,
      where,
      {
        site,
        targetLabel: appRegistrations.name,
        action: enabled ? "enable" : "disable",
        changes: { enabled: [!enabled, enabled] },
        actor,
      },
      now,
    ),
    db.update(appRegistrations).set({ enabled, updatedAt: now }).where(where).returning(),
  ] as const;
}

/** The audit record of a deletion, built from the row as it is when deleted. */
const deletedSnapshot = sql<string>`json_object(
  'name', json_array(${appRegistrations.name}, null),
  'clientId', json_array(${appRegistrations.clientId}, null),
  'expirationDate', json_array(${appRegistrations.expirationDate}, null),
  'enabled', json_array(json(case when ${appRegistrations.enabled} then 'true' else 'false' end), null)
)`;

export type DeleteResult = { kind: "not_found" } | { kind: "deleted"; name: string; clientId: string };

/**
 * §3 delete: the registration goes, its secrets and keys with it (foreign-key cascade), its security-log rows stay.
 * The audit event is written from the row itself in the same batch.
 */
export async function deleteRegistration(
  db: Db,
  args: { site: Site; actor: AuditActor; id: number },
  now: number,
): Promise<DeleteResult> {
  const [, deleted] = await db.batch(deleteStatements(db, args, now));
  const row = deleted[0];
  forgetCachedClients({ registrationId: args.id });
  return row ? { kind: "deleted", ...row } : { kind: "not_found" };
}

/** Delete one registration: the audit event, written from the row itself, then the row. */
function deleteStatements(db: Db, args: { site: Site; actor: AuditActor; id: number }, now: number) {
  const { site, actor, id } = args;
  const where = and(eq(appRegistrations.id, id), eq(appRegistrations.siteId, site.id));
  return [
    auditRegistrationChange(
      db,
      where,
      { site, targetLabel: appRegistrations.name, action: "delete", changes: deletedSnapshot, actor },
      now,
    ),
    db
      .delete(appRegistrations)
      .where(where)
      .returning({ id: appRegistrations.id, name: appRegistrations.name, clientId: appRegistrations.clientId }),
  ] as const;
}

export const BULK_ACTIONS = ["disable", "enable", "extend", "delete"] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];
/** The most rows one bulk action takes: the grid's largest page. */
export const BULK_LIMIT = Math.max(...PAGE_SIZES);
/** The longest bulk extension; a Site's maximum Expiration date usually stops it earlier. */
export const MAX_EXTEND_DAYS = 3650;

/**
 * A bulk action on registrations of one Site, read just before: every row's change and its audit event go in one D1
 * batch, so either all of them happen or none does. Each statement is conditional on the row as it was read (an
 * extension on its Expiration date, enable and disable on the value differing), so a row someone changed meanwhile is
 * left alone. Returns the rows actually changed.
 */
export async function applyBulkAction(
  db: Db,
  args: { site: Site; actor: AuditActor; rows: AppRegistration[]; action: BulkAction; days?: number },
  now: number,
): Promise<number[]> {
  const { site, actor, rows, action } = args;
  const today = calendarDateInZone(now, site.timeZone);
  const statements: BatchItem<"sqlite">[] = [];
  for (const row of rows) {
    const target = { site, actor, id: row.id };
    if (action === "disable" || action === "enable") {
      statements.push(...enabledStatements(db, { ...target, enabled: action === "enable" }, now));
    } else if (action === "delete") {
      statements.push(...deleteStatements(db, target, now));
    } else {
      const date = extendedDate(row.expirationDate, today, args.days ?? 0);
      const where = and(
        eq(appRegistrations.id, row.id),
        eq(appRegistrations.siteId, site.id),
        eq(appRegistrations.expirationDate, row.expirationDate),
      );
      statements.push(
        auditRegistrationChange(
          db,
          where,
          {
            site,
            targetLabel: row.name,
            action: "update",
            changes: { expirationDate: [row.expirationDate, date] },
            actor,
          },
          now,
        ),
        db
          .update(appRegistrations)
          .set({ expirationDate: date, expiresAt: startOfDayInZone(date, site.timeZone), updatedAt: now })
          .where(where)
          .returning({ id: appRegistrations.id }),
      );
    }
  }
  if (statements.length === 0) return [];
  const results = (await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as unknown[];
  // Every second result is a change's RETURNING rows.
  const changed = results.filter((_, i) => i % 2 === 1).flatMap((r) => (r as { id: number }[]).map((x) => x.id));
  for (const id of changed) forgetCachedClients({ registrationId: id });
  return changed;
}
