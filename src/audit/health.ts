import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import type { SecurityEventType } from "../db/schema";
import { DAY } from "../lib/time";

/** A registration's health at a glance: last success, last failure, failures in the last 24 hours. */
export interface RegistrationHealth {
  clientId: string;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
  lastFailure: { event: SecurityEventType; detailCode: string; ip: string; at: number } | null;
  /** Failed requests (token endpoint and REST API) in the 24 hours before `now`: the sum of the rows' counts. */
  failuresLast24h: number;
}

interface HealthRow {
  clientId: string;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
  event: SecurityEventType | null;
  detailCode: string | null;
  ip: string | null;
  lastFailureAt: number | null;
  failuresLast24h: number | null;
}

/**
 * Health of many registrations of a Site in one query (for a grid column): each registration's own row, joined
 * with its newest security-log row and its 24-hour failure sum, both from one window over its log rows. The
 * Client IDs travel as one JSON parameter, so a page of any size stays within D1's bound-parameter limit.
 */
export async function loadRegistrationsHealth(
  db: Db,
  siteId: number,
  clientIds: string[],
  now: number,
): Promise<Map<string, RegistrationHealth>> {
  if (clientIds.length === 0) return new Map();
  const ids = JSON.stringify(clientIds);
  const rows = await db.all<HealthRow>(sql`
    select r.client_id as clientId, r.last_used_at as lastUsedAt, r.last_used_ip as lastUsedIp,
           f.event as event, f.detail_code as detailCode, f.ip as ip, f.last_at as lastFailureAt,
           f.failures_24h as failuresLast24h
    from app_registrations r
    left join (
      select client_id, event, detail_code, ip, last_at, failures_24h
      from (
        select client_id, event, detail_code, ip, last_at,
               row_number() over (partition by client_id order by last_at desc, id desc) as newest,
               sum(case when last_at >= ${now - DAY} then count else 0 end) over (partition by client_id) as failures_24h
        from security_events
        where site_id = ${siteId}
          and event in ('service_auth_failed', 'api_access_denied')
          and client_id in (select value from json_each(${ids}))
          and first_at <= ${now}
      )
      where newest = 1
    ) f on f.client_id = r.client_id
    where r.site_id = ${siteId} and r.client_id in (select value from json_each(${ids}))
  `);
  return new Map(
    rows.map((row) => [
      row.clientId,
      {
        clientId: row.clientId,
        lastUsedAt: row.lastUsedAt,
        lastUsedIp: row.lastUsedIp,
        lastFailure:
          row.event && row.detailCode && row.lastFailureAt !== null
            ? { event: row.event, detailCode: row.detailCode, ip: row.ip ?? "", at: row.lastFailureAt }
            : null,
        failuresLast24h: Number(row.failuresLast24h ?? 0),
      },
    ]),
  );
}

/** Health of one registration of a Site; null when the Site has no registration with that Client ID. */
export async function loadRegistrationHealth(
  db: Db,
  siteId: number,
  clientId: string,
  now: number,
): Promise<RegistrationHealth | null> {
  return (await loadRegistrationsHealth(db, siteId, [clientId], now)).get(clientId) ?? null;
}
