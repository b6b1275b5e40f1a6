import { and, asc, eq, sql } from "drizzle-orm";
import { type AuditActor, type AuditChanges, auditStatement } from "../audit/admin-audit";
import type { Db } from "../db/client";
import { appRegistrations, memberships, type Role, type Site, sites, users } from "../db/schema";
import { parseCalendarDate, startOfDayInZone } from "../lib/time";
import { forgetCachedClients } from "../oauth/client-cache";
import type { NewSiteInput, SiteSettingsInput } from "./validation";

// Correlated counts spelled out in SQL: inside a subquery an unqualified "id" would name the inner table's column.
const REGISTRATION_COUNT = sql<number>`(select count(*) from app_registrations r where r.site_id = "sites"."id")`;
const MEMBER_COUNT = sql<number>`(select count(*) from memberships m where m.site_id = "sites"."id")`;

export interface SiteSummary {
  site: Site;
  registrations: number;
  members: number;
}

const summaryColumns = { site: sites, registrations: REGISTRATION_COUNT, members: MEMBER_COUNT };

/** Every Site with its number of registrations and members, by name. */
export async function listSites(db: Db): Promise<SiteSummary[]> {
  return db.select(summaryColumns).from(sites).orderBy(asc(sites.name), asc(sites.slug)).all();
}

export async function findSiteBySlug(db: Db, slug: string): Promise<SiteSummary | undefined> {
  return db.select(summaryColumns).from(sites).where(eq(sites.slug, slug)).get();
}

export interface SiteMember {
  userId: number;
  email: string;
  name: string;
  disabled: boolean;
  role: Role;
}

export async function listSiteMembers(db: Db, siteId: number): Promise<SiteMember[]> {
  return db
    .select({
      userId: users.id,
      email: users.email,
      name: users.name,
      disabled: users.disabled,
      role: memberships.role,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.siteId, siteId))
    .orderBy(asc(users.email))
    .all();
}

export type CreateSiteResult = { ok: true; site: Site } | { ok: false; code: "SlugTaken" };

/** Creates a Site and its audit row in one batch; a slug already in use changes nothing. */
export async function createSite(
  db: Db,
  input: NewSiteInput,
  actor: AuditActor,
  now: number,
): Promise<CreateSiteResult> {
  const [inserted] = await db.batch([
    db
      .insert(sites)
      .values({
        slug: input.slug,
        name: input.name,
        timeZone: input.timeZone,
        restApiEnabled: input.restApiEnabled,
        maxRegistrationDays: input.maxRegistrationDays,
        createdAt: now,
      })
      .onConflictDoNothing({ target: sites.slug })
      .returning(),
    auditStatement(
      db,
      {
        siteId: sql`(select s.id from sites s where s.slug = ${input.slug})`,
        targetType: "site",
        targetLabel: input.slug,
        action: "create",
        changes: {
          slug: [null, input.slug],
          name: [null, input.name],
          timeZone: [null, input.timeZone],
          restApiEnabled: [null, input.restApiEnabled],
          maxRegistrationDays: [null, input.maxRegistrationDays],
        },
        actor,
      },
      now,
    ),
  ]);
  const site = inserted[0];
  return site ? { ok: true, site } : { ok: false, code: "SlugTaken" };
}

export type UpdateSiteResult =
  | { ok: true; site: Site; changed: boolean; recomputed: number }
  | { ok: false; code: "Conflict" };

/** `{ column: [before, after] }` for the settings that differ. */
export function siteChanges(before: Site, input: SiteSettingsInput): AuditChanges {
  const changes: AuditChanges = {};
  if (before.name !== input.name) changes.name = [before.name, input.name];
  if (before.timeZone !== input.timeZone) changes.timeZone = [before.timeZone, input.timeZone];
  if (before.restApiEnabled !== input.restApiEnabled) {
    changes.restApiEnabled = [before.restApiEnabled, input.restApiEnabled];
  }
  if (before.maxRegistrationDays !== input.maxRegistrationDays) {
    changes.maxRegistrationDays = [before.maxRegistrationDays, input.maxRegistrationDays];
  }
  return changes;
}

/**
 * Expiration date → `expires_at` in `timeZone` for every distinct Expiration date of the Site's registrations:
 * the date is what the administrator chose, so a new zone moves the instant, never the date.
 */
async function expiryInstantsInZone(db: Db, siteId: number, timeZone: string): Promise<Record<string, number>> {
  const rows = await db
    .selectDistinct({ date: appRegistrations.expirationDate })
    .from(appRegistrations)
    .where(eq(appRegistrations.siteId, siteId))
    .all();
  const instants: Record<string, number> = {};
  for (const { date } of rows) {
    if (parseCalendarDate(date)) instants[date] = startOfDayInZone(date, timeZone);
  }
  return instants;
}

/**
 * Applies new settings to a Site as read in `before`. One batch: the update (conditional on the row still being
 * `before`, so a concurrent change is never overwritten), its audit row, and, when the time zone changes, the
 * recomputed `expires_at` of every registration (00:00 of its unchanged Expiration date in the new zone, §3).
 */
export async function updateSite(
  db: Db,
  before: Site,
  input: SiteSettingsInput,
  actor: AuditActor,
  now: number,
): Promise<UpdateSiteResult> {
  const changes = siteChanges(before, input);
  if (Object.keys(changes).length === 0) return { ok: true, site: before, changed: false, recomputed: 0 };

  const update = db
    .update(sites)
    .set({
      name: input.name,
      timeZone: input.timeZone,
      restApiEnabled: input.restApiEnabled,
      maxRegistrationDays: input.maxRegistrationDays,
    })
    .where(
      and(
        eq(sites.id, before.id),
        eq(sites.name, before.name),
        eq(sites.timeZone, before.timeZone),
        eq(sites.restApiEnabled, before.restApiEnabled),
        eq(sites.maxRegistrationDays, before.maxRegistrationDays),
      ),
    )
    .returning();
  const audit = auditStatement(
    db,
    { siteId: before.id, targetType: "site", targetLabel: before.slug, action: "update", changes, actor },
    now,
  );

  if (!changes.timeZone) {
    const [updated] = await db.batch([update, audit]);
    forgetCachedClients({ siteId: before.id });
    const site = updated[0];
    return site ? { ok: true, site, changed: true, recomputed: 0 } : { ok: false, code: "Conflict" };
  }

  const instants = JSON.stringify(await expiryInstantsInZone(db, before.id, input.timeZone));
  const recompute = db
    .update(appRegistrations)
    .set({
      expiresAt: sql`(select j.value from json_each(${instants}) j where j.key = "app_registrations"."expiration_date")`,
    })
    .where(
      and(
        eq(appRegistrations.siteId, before.id),
        sql`"app_registrations"."expiration_date" in (select j.key from json_each(${instants}) j)`,
        // Only if the Site now has the new zone, i.e. the update above (or an identical one) took effect.
        sql`exists (select 1 from sites s where s.id = ${before.id} and s.time_zone = ${input.timeZone})`,
      ),
    );
  const [updated, , recomputed] = await db.batch([update, audit, recompute]);
  forgetCachedClients({ siteId: before.id });
  const site = updated[0];
  return site
    ? { ok: true, site, changed: true, recomputed: recomputed.meta.changes ?? 0 }
    : { ok: false, code: "Conflict" };
}

/** Turns a Site's REST API on or off (the Sites list's toggle), audited like any other settings change. */
export async function setRestApiEnabled(db: Db, before: Site, enabled: boolean, actor: AuditActor, now: number) {
  return updateSite(
    db,
    before,
    {
      name: before.name,
      timeZone: before.timeZone,
      restApiEnabled: enabled,
      maxRegistrationDays: before.maxRegistrationDays,
    },
    actor,
    now,
  );
}
