import { DAY } from "../lib/time";
import { loadUsage, type UsageSummary } from "./queries";

/**
 * The Admin Center overview (a Site's, or every Site's for a Global Administrator): registrations by state, usage,
 * the registrations failing most in the last 24 hours, and the next expiries. Each figure is one statement whose
 * cost does not grow with the number of registrations beyond an index range count (the state counts read the
 * (site_id, enabled, expires_at) index; the lists are LIMIT 5 on an index order; usage reads per-Site daily rows).
 */

export type OverviewScope = { kind: "site"; siteId: number } | { kind: "all" };

/** The grid's state views (§3); "Expiring (30 d)" includes the 7-day ones, like the grid's filter. */
export interface StateCounts {
  active: number;
  expiring_30: number;
  expiring_7: number;
  expired: number;
  disabled: number;
}

export interface FailingRegistration {
  clientId: string;
  name: string | null;
  failures: number;
  siteSlug: string;
  siteName: string;
}

export interface UpcomingExpiry {
  id: number;
  name: string;
  clientId: string;
  expiresAt: number;
  siteSlug: string;
  siteName: string;
  siteTimeZone: string;
}

export interface Overview {
  states: StateCounts;
  usage: UsageSummary;
  failing: FailingRegistration[];
  expiries: UpcomingExpiry[];
}

export const OVERVIEW_LIST_SIZE = 5;

export async function loadOverview(d1: D1Database, scope: OverviewScope, now: number): Promise<Overview> {
  const site = scope.kind === "site";
  const owner = site ? "r.site_id = ?1 AND " : "";
  const bindSite = (statement: D1PreparedStatement, ...rest: unknown[]) =>
    site ? statement.bind(scope.siteId, ...rest) : statement.bind(...rest);
  const p = (n: number) => `?${site ? n + 1 : n}`;
  const countWhere = (condition: string, ...values: number[]) =>
    bindSite(d1.prepare(`SELECT count(*) AS n FROM app_registrations r WHERE ${owner}${condition}`), ...values);
  const statements = [
    countWhere(`r.enabled = 1 AND r.expires_at > ${p(1)}`, now + 30 * DAY),
    countWhere(`r.enabled = 1 AND r.expires_at > ${p(1)} AND r.expires_at <= ${p(2)}`, now, now + 30 * DAY),
    countWhere(`r.enabled = 1 AND r.expires_at > ${p(1)} AND r.expires_at <= ${p(2)}`, now, now + 7 * DAY),
    countWhere(`r.enabled = 1 AND r.expires_at <= ${p(1)}`, now),
    countWhere("r.enabled = 0"),
    bindSite(
      d1.prepare(
        `SELECT e.client_id, max(e.registration_name) AS name, sum(e.count) AS failures, s.slug, s.name AS site_name
         FROM security_events e JOIN sites s ON s.id = e.site_id
         WHERE ${site ? "e.site_id = ?1 AND " : ""}e.last_at >= ${p(1)}
           AND e.event IN ('service_auth_failed', 'api_access_denied') AND e.client_id IS NOT NULL
         GROUP BY e.site_id, e.client_id ORDER BY failures DESC, e.client_id LIMIT ${OVERVIEW_LIST_SIZE}`,
      ),
      now - DAY,
    ),
    bindSite(
      d1.prepare(
        `SELECT r.id, r.name, r.client_id, r.expires_at, s.slug, s.name AS site_name, s.time_zone
         FROM app_registrations r JOIN sites s ON s.id = r.site_id
         WHERE ${owner}r.enabled = 1 AND r.expires_at > ${p(1)}
         ORDER BY r.expires_at, r.id LIMIT ${OVERVIEW_LIST_SIZE}`,
      ),
      now,
    ),
  ];
  const [results, usage] = await Promise.all([
    d1.batch(statements),
    loadUsage(d1, site ? { kind: "site", siteId: scope.siteId } : { kind: "all" }, now),
  ]);
  const n = (i: number) => Number((results[i]?.results?.[0] as { n?: number } | undefined)?.n ?? 0);
  type FailRow = { client_id: string; name: string | null; failures: number; slug: string; site_name: string };
  type ExpiryRow = {
    id: number;
    name: string;
    client_id: string;
    expires_at: number;
    slug: string;
    site_name: string;
    time_zone: string;
  };
  return {
    states: { active: n(0), expiring_30: n(1), expiring_7: n(2), expired: n(3), disabled: n(4) },
    usage,
    failing: ((results[5]?.results ?? []) as FailRow[]).map((row) => ({
      clientId: row.client_id,
      name: row.name,
      failures: row.failures,
      siteSlug: row.slug,
      siteName: row.site_name,
    })),
    expiries: ((results[6]?.results ?? []) as ExpiryRow[]).map((row) => ({
      id: row.id,
      name: row.name,
      clientId: row.client_id,
      expiresAt: row.expires_at,
      siteSlug: row.slug,
      siteName: row.site_name,
      siteTimeZone: row.time_zone,
    })),
  };
}
