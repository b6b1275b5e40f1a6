import { and, asc, eq, inArray, lte } from "drizzle-orm";
import type { Context } from "hono";
import { createDb, type Db } from "../db/client";
import { appRegistrations, memberships, sites } from "../db/schema";
import type { AppEnv } from "../env";
import { isHtmx } from "../lib/htmx";

export interface ApiClientAlert {
  registrationId: number;
  name: string;
  clientId: string;
  siteSlug: string;
  siteName: string;
  expirationDate: string;
}

/** Expired registrations (enabled and `now >= expires_at`, §6) of the given Sites, computed from the data. */
export async function loadApiClientAlerts(db: Db, siteIds: number[], now: number): Promise<ApiClientAlert[]> {
  if (siteIds.length === 0) return [];
  return db
    .select({
      registrationId: appRegistrations.id,
      name: appRegistrations.name,
      clientId: appRegistrations.clientId,
      siteSlug: sites.slug,
      siteName: sites.name,
      expirationDate: appRegistrations.expirationDate,
    })
    .from(appRegistrations)
    .innerJoin(sites, eq(sites.id, appRegistrations.siteId))
    .where(
      and(
        inArray(appRegistrations.siteId, siteIds),
        eq(appRegistrations.enabled, true),
        lte(appRegistrations.expiresAt, now),
      ),
    )
    .orderBy(asc(sites.name), asc(appRegistrations.name))
    .all();
}

/** The Sites a user is a Site Administrator of. */
async function administeredSiteIds(db: Db, userId: number): Promise<number[]> {
  const rows = await db
    .select({ siteId: memberships.siteId })
    .from(memberships)
    .where(and(eq(memberships.userId, userId), eq(memberships.role, "site_admin")))
    .all();
  return rows.map((r) => r.siteId);
}

/**
 * The banners of §6 for the page being rendered: the current Site's for its administrators, every Site's for a
 * Global Administrator, on a page of no Site (the account page) those of every Site the user administers, none for
 * Site Users (they cannot open a registration, so a banner would only link them to a
 * 403). Computed at page load from the data, so a banner appears the moment a registration expires and is gone on
 * the next load after renewal, re-disabling or deletion.
 */
export async function alertsForPage(c: Context<AppEnv>): Promise<ApiClientAlert[]> {
  const session = c.var.session;
  if (!session) return [];
  // Banners belong to full pages: a fragment swapped into a page by htmx never carries a second copy.
  if (isHtmx(c) && c.req.header("HX-Request-Type") === "partial") return [];
  const db = createDb(c.env.DB);
  const siteIds = session.user.isGlobalAdmin
    ? c.var.reachableSites.map((s) => s.id)
    : c.var.siteContext
      ? c.var.siteContext.isAdmin
        ? [c.var.siteContext.site.id]
        : []
      : // A page of no Site (the account page): every Site the user administers.
        c.var.reachableSites.length > 0
        ? await administeredSiteIds(db, session.user.id)
        : [];
  return loadApiClientAlerts(db, siteIds, c.var.now);
}
