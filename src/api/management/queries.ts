import { and, asc, eq, gt, lt, type SQL, sql } from "drizzle-orm";
import type { z } from "zod";
import { securityLogConditions } from "../../audit/query";
import type { ClientKeySummary } from "../../client-keys/repository";
import { type ClientSecretSummary, secretState } from "../../client-secrets/policy";
import type { Db } from "../../db/client";
import { type AppRegistration, appRegistrations, type Site, securityEvents, sites } from "../../db/schema";
import { base64url, fromBase64url } from "../../lib/crypto";

import { DAY, MINUTE, startOfDayInZone } from "../../lib/time";
import type { Scope } from "../../oauth/config";
import { registrationState } from "../../registrations/lifecycle";
import type {
  keyResource,
  REGISTRATION_STATES,
  registrationListQuery,
  registrationResource,
  secretResource,
  securityEventResource,
  securityEventsQuery,
} from "./schemas";

const iso = (at: number) => new Date(at).toISOString();
const isoOrNull = (at: number | null) => (at === null ? null : iso(at));

const STATE_OF = {
  Active: "active",
  "Expiring (30 d)": "expiring",
  "Expiring (7 d)": "expiring",
  Expired: "expired",
  Disabled: "disabled",
} as const;

export function toRegistrationResource(
  reg: AppRegistration,
  site: Pick<Site, "slug">,
  now: number,
): z.infer<typeof registrationResource> {
  return {
    client_id: reg.clientId,
    name: reg.name,
    description: reg.description,
    enabled: reg.enabled,
    state: STATE_OF[registrationState(reg, now)],
    expiration_date: reg.expirationDate,
    expires_at: iso(reg.expiresAt),
    scopes: reg.scopes.split(" ").filter(Boolean) as Scope[],
    access_token_lifetime: reg.accessTokenLifetime,
    created_at: iso(reg.createdAt),
    updated_at: iso(reg.updatedAt),
    last_used_at: isoOrNull(reg.lastUsedAt),
    site: site.slug,
  };
}

export function toSecretResource(secret: ClientSecretSummary, now: number): z.infer<typeof secretResource> {
  return {
    id: secret.id,
    hint: secret.hint,
    state: secretState(secret, now).toLowerCase() as "live" | "expired" | "revoked",
    created_at: iso(secret.createdAt),
    created_by: secret.createdBy,
    expires_at: isoOrNull(secret.expiresAt),
    revoked_at: isoOrNull(secret.revokedAt),
    last_used_at: isoOrNull(secret.lastUsedAt),
  };
}

export function toKeyResource(key: ClientKeySummary): z.infer<typeof keyResource> {
  return {
    id: key.id,
    kid: key.kid,
    alg: key.alg,
    fingerprint: key.fingerprint,
    expires_at: isoOrNull(key.expiresAt),
    created_at: iso(key.createdAt),
    last_used_at: isoOrNull(key.lastUsedAt),
  };
}

/** The Site of the path and the calling registration (by the token's client_id, in that Site): one D1 batch. */
export async function loadSiteAndCaller(db: Db, slug: string, callerClientId: string) {
  const [siteRows, callerRows] = await db.batch([
    db.select().from(sites).where(eq(sites.slug, slug)).limit(1),
    db
      .select()
      .from(appRegistrations)
      .where(
        and(
          eq(appRegistrations.clientId, callerClientId),
          sql`${appRegistrations.siteId} = (select ${sites.id} from ${sites} where ${sites.slug} = ${slug})`,
        ),
      )
      .limit(1),
  ]);
  return { site: siteRows[0] ?? null, caller: callerRows[0] ?? null };
}

function encodeCursor(id: number): string {
  return base64url(new TextEncoder().encode(`r:${id}`));
}

/** The id after which a page starts, or null for a cursor this API did not give out. */
export function decodeCursor(cursor: string): number | null {
  try {
    const match = /^r:([1-9][0-9]{0,15})$/.exec(new TextDecoder().decode(fromBase64url(cursor)));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

function stateCondition(state: (typeof REGISTRATION_STATES)[number], now: number): SQL {
  const enabled = eq(appRegistrations.enabled, true);
  switch (state) {
    case "disabled":
      return eq(appRegistrations.enabled, false);
    case "expired":
      return and(enabled, sql`${appRegistrations.expiresAt} <= ${now}`) as SQL;
    case "expiring":
      return and(
        enabled,
        sql`${appRegistrations.expiresAt} > ${now}`,
        sql`${appRegistrations.expiresAt} <= ${now + 30 * DAY}`,
      ) as SQL;
    case "active":
      return and(enabled, sql`${appRegistrations.expiresAt} > ${now + 30 * DAY}`) as SQL;
  }
}

/** One page of a Site's registrations in creation order (id), filtered like the grid's states (§3). */
export async function listRegistrationsPage(
  db: Db,
  site: Site,
  query: z.output<typeof registrationListQuery>,
  after: number,
  now: number,
) {
  const conditions: (SQL | undefined)[] = [eq(appRegistrations.siteId, site.id), gt(appRegistrations.id, after)];
  if (query.state) conditions.push(stateCondition(query.state, now));
  if (query.expires_before) {
    conditions.push(lt(appRegistrations.expiresAt, startOfDayInZone(query.expires_before, site.timeZone)));
  }
  if (query.name) {
    const pattern = `%${query.name.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    conditions.push(sql`lower(${appRegistrations.name}) like ${pattern} escape '\\'`);
  }
  const rows = await db
    .select()
    .from(appRegistrations)
    .where(and(...conditions))
    .orderBy(asc(appRegistrations.id))
    .limit(query.limit + 1)
    .all();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { rows: page, nextCursor: rows.length > query.limit && last ? encodeCursor(last.id) : null };
}

/** How long after its minute ends a security-log row may still grow (late failures coalescing into it). */
export const EVENT_SETTLE_MS = MINUTE;

/**
 * The Site's security log as a feed for polling (SIEM): rows after `since_id` in id order, and only rows that can no
 * longer change (their coalescing minute ended EVENT_SETTLE_MS ago). The page stops at the first row that is still
 * open, so the next poll's `since_id` never skips one: no gaps and no duplicates.
 */
export async function securityEventsFeed(
  db: Db,
  siteId: number,
  query: z.output<typeof securityEventsQuery>,
  now: number,
): Promise<{ items: z.infer<typeof securityEventResource>[]; nextSinceId: number }> {
  const since = query.since_id ?? 0;
  const where = and(
    securityLogConditions(
      { kind: "site", siteId },
      {
        from: query.from === undefined ? undefined : Date.parse(query.from),
        to: query.to === undefined ? undefined : Date.parse(query.to),
        event: query.event,
        code: query.code,
        client: query.client_id,
        ip: query.ip,
      },
    ),
    gt(securityEvents.id, since),
  );
  const rows = await db
    .select()
    .from(securityEvents)
    .where(where)
    .orderBy(asc(securityEvents.id))
    .limit(query.limit)
    .all();
  const settledBefore = Math.floor(now / MINUTE) * MINUTE - EVENT_SETTLE_MS;
  const open = rows.findIndex((r) => r.firstAt >= settledBefore);
  const settled = open < 0 ? rows : rows.slice(0, open);
  return {
    items: settled.map((r) => ({
      id: r.id,
      event: r.event,
      detail_code: r.detailCode,
      client_id: r.clientId,
      registration_name: r.registrationName,
      ip: r.ip,
      user_agent: r.userAgent,
      endpoint: r.endpoint,
      count: r.count,
      first_at: iso(r.firstAt),
      last_at: iso(r.lastAt),
    })),
    nextSinceId: settled.at(-1)?.id ?? since,
  };
}
