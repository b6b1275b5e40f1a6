/** Memberships (§2): a user's role in a Site, added, changed and removed with their audit rows. */
import { and, eq, type SQL, sql } from "drizzle-orm";
import type { AuditActor } from "../audit/admin-audit";
import type { Db } from "../db/client";
import { memberships, type Role, type Site } from "../db/schema";
import { auditUserChange, type UserSummary } from "./accounts";

/** The user's membership of the Site (its role), if any. */
function membershipOf(db: Db, userId: number, siteId: number) {
  return db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.userId, userId), eq(memberships.siteId, siteId)))
    .get();
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
  const existing = await membershipOf(db, target.id, site.id);
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
    auditUserChange(
      db,
      {
        siteId: site.id,
        email: target.email,
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
  const existing = await membershipOf(db, target.id, site.id);
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
    auditUserChange(
      db,
      {
        siteId: site.id,
        email: target.email,
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
