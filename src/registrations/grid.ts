import { and, asc, count, desc, eq, gt, isNull, lt, lte, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { appRegistrations, savedViews, sites, userPreferences } from "../db/schema";
import { DAY, startOfDayInZone } from "../lib/time";
import { CHART_DAYS } from "../usage/queries";
import {
  type GridColumn,
  type GridQuery,
  type GridScope,
  type GridSettings,
  type GridView,
  parseGridSettings,
  parseQueryString,
  SAVED_VIEWS_MAX,
  serializeGridQuery,
} from "./grid-query";

/** One grid row: only the columns the grid shows (never anything secret). */
export interface GridRow {
  id: number;
  name: string;
  clientId: string;
  createdAt: number;
  enabled: boolean;
  lastUsedAt: number | null;
  expiresAt: number;
  expirationDate: string;
  siteSlug: string;
  siteName: string;
  siteTimeZone: string;
  /** Tokens issued in the last 30 UTC days. */
  tokens30d: number;
  /** Tokens per UTC day over those 30 days, oldest first (the sparkline). */
  usage: number[];
}

export interface GridPage {
  rows: GridRow[];
  total: number;
  page: number;
  pageCount: number;
  pageSize: number;
}

/** The per-Site grid is one Site's rows; the all-Sites grid is every Site's (Global Administrator). */
export type GridSource =
  | { scope: "site"; site: { id: number; slug: string; name: string; timeZone: string } }
  | { scope: "all" };

const r = appRegistrations;
/** Exactly the expression of the unique index (site_id, lower(name)), so name order reads the index. */
const lowerName = sql`lower(${r.name})`;

function stateCondition(state: NonNullable<GridQuery["state"]>, now: number): SQL {
  // §3, the same boundaries as lifecycle.registrationState, as ranges of the indexed expires_at.
  switch (state) {
    case "disabled":
      return eq(r.enabled, false);
    case "expired":
      return and(eq(r.enabled, true), lte(r.expiresAt, now)) as SQL;
    case "expiring_7":
      return and(eq(r.enabled, true), gt(r.expiresAt, now), lte(r.expiresAt, now + 7 * DAY)) as SQL;
    case "expiring_30":
      return and(eq(r.enabled, true), gt(r.expiresAt, now), lte(r.expiresAt, now + 30 * DAY)) as SQL;
    case "active":
      return and(eq(r.enabled, true), gt(r.expiresAt, now + 30 * DAY)) as SQL;
  }
}

function conditions(source: GridSource, query: GridQuery, now: number): SQL | undefined {
  const list: (SQL | undefined)[] = [];
  if (source.scope === "site") list.push(eq(r.siteId, source.site.id));
  else if (query.site) list.push(eq(sites.slug, query.site));
  // The toolbar's search: part of the name or of the Client ID, case-insensitive.
  if (query.q) {
    list.push(sql`(instr(${lowerName}, lower(${query.q})) > 0 or instr(lower(${r.clientId}), lower(${query.q})) > 0)`);
  }
  if (query.state) list.push(stateCondition(query.state, now));
  if (query.enabled) list.push(eq(r.enabled, query.enabled === "yes"));
  if (query.usedBefore) {
    const zone = source.scope === "site" ? source.site.timeZone : "UTC";
    list.push(lt(r.lastUsedAt, startOfDayInZone(query.usedBefore, zone)));
  }
  if (query.neverUsed) list.push(isNull(r.lastUsedAt));
  if (query.unusedDays) {
    const since = now - query.unusedDays * DAY;
    list.push(sql`((${r.lastUsedAt} is null and ${r.createdAt} < ${since}) or ${r.lastUsedAt} < ${since})` as SQL);
  }
  return and(...list);
}

/** §3 state as a number, in order of urgency (registrationState's boundaries). */
function stateRank(now: number): SQL<number> {
  return sql<number>`case when ${r.enabled} = 0 then 4 when ${r.expiresAt} <= ${now} then 0
    when ${r.expiresAt} <= ${now + 7 * DAY} then 1 when ${r.expiresAt} <= ${now + 30 * DAY} then 2 else 3 end`;
}

/** Tokens of the last CHART_DAYS UTC days, from the registration's daily rows (at most 30 primary-key reads). */
function tokens30d(now: number): SQL<number> {
  const firstDay = Math.floor(now / DAY) - CHART_DAYS + 1;
  return sql<number>`(select coalesce(sum(u.tokens), 0) from usage_daily u where u.registration_id = ${r.id} and u.day >= ${firstDay})`;
}

/** The same days as `[day, tokens]` pairs (JSON), for the sparkline: no second round trip. */
function usageSeries(now: number): SQL<string> {
  const firstDay = Math.floor(now / DAY) - CHART_DAYS + 1;
  return sql<string>`(select json_group_array(json_array(u.day - ${firstDay}, u.tokens)) from usage_daily u where u.registration_id = ${r.id} and u.day >= ${firstDay})`;
}

function seriesOf(json: string | null): number[] {
  const series = new Array<number>(CHART_DAYS).fill(0);
  try {
    for (const [index, tokens] of JSON.parse(json ?? "[]") as [number, number][]) {
      if (index >= 0 && index < CHART_DAYS) series[index] = tokens;
    }
  } catch {
    // A series that cannot be read shows as no use.
  }
  return series;
}

function ordering(source: GridSource, sort: GridColumn, dir: "asc" | "desc", now: number): SQL[] {
  const d = dir === "asc" ? asc : desc;
  // Ties are broken by name, then id, so pages never overlap or skip rows.
  const thenName = source.scope === "all" ? [asc(lowerName), asc(sites.name), asc(r.id)] : [asc(lowerName)];
  switch (sort) {
    case "name":
      return source.scope === "all" ? [d(lowerName), asc(sites.name), asc(r.id)] : [d(lowerName)];
    case "site":
      return [d(sites.name), ...thenName];
    case "client_id":
      return [d(r.clientId)];
    case "created":
      return [d(r.createdAt), d(r.id)];
    case "enabled":
      return [d(r.enabled), ...thenName];
    case "last_used":
      // Never used rows last in either direction.
      return [asc(sql`${r.lastUsedAt} is null`), d(r.lastUsedAt), ...thenName];
    case "expires":
      return [d(r.expiresAt), ...thenName];
    case "state":
      // Most urgent first when ascending: Expired, Expires within 7 days, within 30 days, Active, Disabled.
      return [d(stateRank(now)), asc(r.expiresAt), ...thenName];
    case "tokens_30d":
      // Sums 30 daily rows per registration of the filter: the one order whose cost grows with the Site.
      return [d(tokens30d(now)), ...thenName];
  }
}

/**
 * The two statements behind one page of the grid: an index-only COUNT, and the page's rows, filtered, sorted and
 * limited in D1. Exposed so their query plans can be checked.
 */
export function gridStatements(db: Db, source: GridSource, query: GridQuery, pageSize: number, now: number) {
  const where = conditions(source, query, now);
  const order = ordering(source, query.sort, query.dir, now);
  const fields = {
    id: r.id,
    name: r.name,
    clientId: r.clientId,
    createdAt: r.createdAt,
    enabled: r.enabled,
    lastUsedAt: r.lastUsedAt,
    expiresAt: r.expiresAt,
    expirationDate: r.expirationDate,
    tokens30d: tokens30d(now).as("tokens_30d"),
    usageSeries: usageSeries(now).as("usage_series"),
  };
  const rows = (page: number) => {
    const offset = (page - 1) * pageSize;
    if (source.scope === "site") {
      return db
        .select(fields)
        .from(r)
        .where(where)
        .orderBy(...order)
        .limit(pageSize)
        .offset(offset);
    }
    return db
      .select({
        ...fields,
        // Aliased: D1 returns columns by name, and `name` is also a registration column.
        siteSlug: sql<string>`${sites.slug}`.as("site_slug"),
        siteName: sql<string>`${sites.name}`.as("site_name"),
        siteTimeZone: sql<string>`${sites.timeZone}`.as("site_time_zone"),
      })
      .from(r)
      .innerJoin(sites, eq(sites.id, r.siteId))
      .where(where)
      .orderBy(...order)
      .limit(pageSize)
      .offset(offset);
  };
  const total =
    source.scope === "site" || !query.site
      ? db.select({ n: count() }).from(r).where(where)
      : db.select({ n: count() }).from(r).innerJoin(sites, eq(sites.id, r.siteId)).where(where);
  return { total, rows };
}

/**
 * One page of the grid, filtered and sorted in D1 (never all rows in memory), with the total from an index-only
 * COUNT, both in one round trip. The cost depends on the page size, not on how many registrations there are.
 */
export async function loadGridPage(
  db: Db,
  source: GridSource,
  query: GridQuery,
  pageSize: number,
  now: number,
): Promise<GridPage> {
  const statements = gridStatements(db, source, query, pageSize, now);
  const [counted, firstTry] = await db.batch([statements.total, statements.rows(query.page)]);
  const n = counted[0]?.n ?? 0;
  const pageCount = Math.max(1, Math.ceil(n / pageSize));
  let page = query.page;
  let rows: typeof firstTry = firstTry;
  if (rows.length === 0 && page > pageCount) {
    // Past the end (rows were deleted, or a hand-edited URL): show the last page.
    page = pageCount;
    rows = await statements.rows(page);
  }
  const withSite = ({ usageSeries: series, ...row }: (typeof rows)[number]): GridRow => {
    const usage = { usage: seriesOf(series), tokens30d: Number(row.tokens30d) };
    return source.scope === "site"
      ? { ...row, ...usage, siteSlug: source.site.slug, siteName: source.site.name, siteTimeZone: source.site.timeZone }
      : ({ ...row, ...usage } as GridRow);
  };
  return { rows: rows.map(withSite), total: n, page, pageCount, pageSize };
}

/** Keys of the grid in saved_views.grid and user_preferences.key. */
export const GRID_KEYS: Record<GridScope, string> = { site: "registrations", all: "registrations:all" };
const settingsKey = (scope: GridScope) => `grid:${GRID_KEYS[scope]}`;

/** The user's ⚙️ settings and saved views for a grid, in one round trip. */
export async function loadGridPersonalisation(
  db: Db,
  scope: GridScope,
  userId: number,
): Promise<{ settings: GridSettings; views: GridView[] }> {
  const [prefs, saved] = await db.batch([
    db
      .select({ value: userPreferences.value })
      .from(userPreferences)
      .where(and(eq(userPreferences.userId, userId), eq(userPreferences.key, settingsKey(scope)))),
    db
      .select({ id: savedViews.id, name: savedViews.name, query: savedViews.query })
      .from(savedViews)
      .where(and(eq(savedViews.userId, userId), eq(savedViews.grid, GRID_KEYS[scope])))
      .orderBy(asc(sql`lower(${savedViews.name})`))
      .limit(SAVED_VIEWS_MAX),
  ]);
  const views: GridView[] = [];
  for (const v of saved) {
    // A stored query is parsed again before use, and shown in its canonical form.
    const parsed = parseQueryString(scope, v.query);
    if (parsed.ok) {
      views.push({
        key: `saved:${v.id}`,
        name: v.name,
        query: serializeGridQuery(parsed.query, { page: false }),
        savedId: v.id,
      });
    }
  }
  return { settings: parseGridSettings(scope, prefs[0]?.value), views };
}

export async function saveGridSettings(db: Db, scope: GridScope, userId: number, settings: GridSettings) {
  const value = JSON.stringify({ columns: settings.columns, pageSize: settings.pageSize });
  await db
    .insert(userPreferences)
    .values({ userId, key: settingsKey(scope), value })
    .onConflictDoUpdate({ target: [userPreferences.userId, userPreferences.key], set: { value } });
}

/**
 * Saves the current grid state as a named view of the user's (same name: replaced). At most SAVED_VIEWS_MAX per
 * user and grid, checked in the same statement as the insert.
 */
export async function saveGridView(
  db: Db,
  scope: GridScope,
  userId: number,
  view: { name: string; query: string },
  now: number,
): Promise<"saved" | "limit"> {
  const grid = GRID_KEYS[scope];
  const result = await db.run(sql`
    insert into ${savedViews} (user_id, site_id, grid, name, query, created_at)
    select ${userId}, null, ${grid}, ${view.name}, ${view.query}, ${now}
    where (select count(*) from ${savedViews} where user_id = ${userId} and grid = ${grid}) < ${SAVED_VIEWS_MAX}
       or exists (select 1 from ${savedViews} where user_id = ${userId} and grid = ${grid} and name = ${view.name})
    on conflict (user_id, grid, name) do update set query = excluded.query`);
  return result.meta.changes > 0 ? "saved" : "limit";
}

/** Deletes one of the user's own saved views (another user's id changes nothing). */
export async function deleteGridView(db: Db, scope: GridScope, userId: number, viewId: number): Promise<boolean> {
  const deleted = await db
    .delete(savedViews)
    .where(and(eq(savedViews.id, viewId), eq(savedViews.userId, userId), eq(savedViews.grid, GRID_KEYS[scope])))
    .returning({ id: savedViews.id });
  return deleted.length > 0;
}
