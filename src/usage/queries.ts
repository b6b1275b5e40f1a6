import { DAY, HOUR } from "../lib/time";

/**
 * Usage at a glance: what the token counts (usage_hourly/usage_daily and their per-Site twins, written by the token
 * endpoint: src/oauth/usage.ts) and the security log's counted rows say about a registration, a Site or every Site.
 * Days are UTC days for every Site: a count never moves when a Site changes its time zone, and the charts say "UTC".
 * Every figure is one bounded query: its cost depends on the days shown, not on how many registrations there are.
 */

/** Daily rows are kept 400 days; hourly rows (for "the last 24 hours") two days. */
export const DAILY_RETENTION_DAYS = 400;
export const HOURLY_RETENTION = 2 * DAY;
export const CHART_DAYS = 30;

export interface UsageDay {
  /** UTC day number (epoch ms / 86,400,000). */
  day: number;
  /** YYYY-MM-DD (UTC). */
  date: string;
  tokens: number;
  failures: number;
}

export interface UsageSummary {
  days: UsageDay[];
  tokens24h: number;
  tokens7d: number;
  tokens30d: number;
  failures24h: number;
  failures30d: number;
  /** The day with the most tokens in the chart (null when there were none). */
  busiest: UsageDay | null;
}

export const dateOfDay = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);

/** Where the counts come from: one registration (by id and Client ID, within its Site), one Site, or every Site. */
export type UsageScope =
  | { kind: "registration"; siteId: number; registrationId: number; clientId: string }
  | { kind: "site"; siteId: number }
  | { kind: "all" };

/** Security-log events that are a registration's failures (not admin sign-ins). */
const FAILURE_EVENTS = "('service_auth_failed', 'api_access_denied')";

function tokenStatements(d1: D1Database, scope: UsageScope, firstDay: number, firstHour: number) {
  switch (scope.kind) {
    case "registration":
      return [
        d1
          .prepare("SELECT day, tokens FROM usage_daily WHERE registration_id = ?1 AND day >= ?2")
          .bind(scope.registrationId, firstDay),
        d1
          .prepare("SELECT coalesce(sum(tokens), 0) AS n FROM usage_hourly WHERE registration_id = ?1 AND hour >= ?2")
          .bind(scope.registrationId, firstHour),
      ];
    case "site":
      return [
        d1
          .prepare("SELECT day, tokens FROM site_usage_daily WHERE site_id = ?1 AND day >= ?2")
          .bind(scope.siteId, firstDay),
        d1
          .prepare("SELECT coalesce(sum(tokens), 0) AS n FROM site_usage_hourly WHERE site_id = ?1 AND hour >= ?2")
          .bind(scope.siteId, firstHour),
      ];
    case "all":
      return [
        d1
          .prepare("SELECT day, sum(tokens) AS tokens FROM site_usage_daily WHERE day >= ?1 GROUP BY day")
          .bind(firstDay),
        d1.prepare("SELECT coalesce(sum(tokens), 0) AS n FROM site_usage_hourly WHERE hour >= ?1").bind(firstHour),
      ];
  }
}

function failureStatements(d1: D1Database, scope: UsageScope, since: number, since24h: number) {
  const owner: [string, unknown[]] =
    scope.kind === "registration"
      ? ["client_id = ? AND site_id = ?", [scope.clientId, scope.siteId]]
      : scope.kind === "site"
        ? ["site_id = ?", [scope.siteId]]
        : ["site_id IS NOT NULL", []];
  const [where, params] = owner;
  return [
    d1
      .prepare(
        `SELECT last_at / ${DAY} AS day, sum(count) AS failures FROM security_events
         WHERE ${where} AND last_at >= ? AND event IN ${FAILURE_EVENTS} GROUP BY day`,
      )
      .bind(...params, since),
    d1
      .prepare(
        `SELECT coalesce(sum(count), 0) AS n FROM security_events
         WHERE ${where} AND last_at >= ? AND event IN ${FAILURE_EVENTS}`,
      )
      .bind(...params, since24h),
  ];
}

/** The last CHART_DAYS UTC days (today included) of tokens and failures, with the totals the pages show. */
export async function loadUsage(d1: D1Database, scope: UsageScope, now: number): Promise<UsageSummary> {
  const today = Math.floor(now / DAY);
  const firstDay = today - CHART_DAYS + 1;
  const firstHour = Math.floor(now / HOUR) - 23;
  const [daily, hourly, failuresDaily, failures24h] = await d1.batch([
    ...tokenStatements(d1, scope, firstDay, firstHour),
    ...failureStatements(d1, scope, firstDay * DAY, now - DAY),
  ]);
  const tokensByDay = new Map<number, number>();
  for (const row of (daily?.results ?? []) as { day: number; tokens: number }[]) tokensByDay.set(row.day, row.tokens);
  const failuresByDay = new Map<number, number>();
  for (const row of (failuresDaily?.results ?? []) as { day: number; failures: number }[]) {
    failuresByDay.set(Math.floor(row.day), row.failures);
  }
  const days: UsageDay[] = [];
  for (let day = firstDay; day <= today; day++) {
    days.push({ day, date: dateOfDay(day), tokens: tokensByDay.get(day) ?? 0, failures: failuresByDay.get(day) ?? 0 });
  }
  const sum = (list: UsageDay[], field: "tokens" | "failures") => list.reduce((n, d) => n + d[field], 0);
  const busiest = days.reduce<UsageDay | null>((best, d) => (d.tokens > (best?.tokens ?? 0) ? d : best), null);
  const first = (result: D1Result | undefined) => Number((result?.results?.[0] as { n?: number } | undefined)?.n ?? 0);
  return {
    days,
    tokens24h: first(hourly),
    tokens7d: sum(days.slice(-7), "tokens"),
    tokens30d: sum(days, "tokens"),
    failures24h: first(failures24h),
    failures30d: sum(days, "failures"),
    busiest,
  };
}

/** Every daily row of a registration in the retention, oldest first (the CSV export). */
export async function loadDailyUsage(
  d1: D1Database,
  registration: { id: number; siteId: number; clientId: string },
  now: number,
): Promise<UsageDay[]> {
  const firstDay = Math.floor(now / DAY) - DAILY_RETENTION_DAYS + 1;
  const [tokens, failures] = await d1.batch([
    d1
      .prepare("SELECT day, tokens FROM usage_daily WHERE registration_id = ?1 AND day >= ?2")
      .bind(registration.id, firstDay),
    d1
      .prepare(
        `SELECT last_at / ${DAY} AS day, sum(count) AS failures FROM security_events
         WHERE client_id = ?1 AND site_id = ?2 AND last_at >= ?3 AND event IN ${FAILURE_EVENTS} GROUP BY day`,
      )
      .bind(registration.clientId, registration.siteId, firstDay * DAY),
  ]);
  const byDay = new Map<number, UsageDay>();
  const at = (day: number) => {
    let row = byDay.get(day);
    if (!row) {
      row = { day, date: dateOfDay(day), tokens: 0, failures: 0 };
      byDay.set(day, row);
    }
    return row;
  };
  for (const row of (tokens?.results ?? []) as { day: number; tokens: number }[]) at(row.day).tokens = row.tokens;
  for (const row of (failures?.results ?? []) as { day: number; failures: number }[]) {
    at(Math.floor(row.day)).failures = row.failures;
  }
  return [...byDay.values()].sort((a, b) => a.day - b.day);
}

/** The cron's purge of token counts past their retention, one batch per table. */
export async function purgeUsageCounts(d1: D1Database, now: number, options: { batchSize: number }) {
  const firstDay = Math.floor(now / DAY) - DAILY_RETENTION_DAYS + 1;
  const firstHour = Math.floor((now - HOURLY_RETENTION) / HOUR);
  const purge = (table: string, unit: string, keep: number) =>
    d1
      .prepare(
        `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${unit} < ?1 ORDER BY ${unit} LIMIT ?2)`,
      )
      .bind(keep, options.batchSize);
  const results = await d1.batch([
    purge("usage_daily", "day", firstDay),
    purge("site_usage_daily", "day", firstDay),
    purge("usage_hourly", "hour", firstHour),
    purge("site_usage_hourly", "hour", firstHour),
  ]);
  const counts = results.map((r) => r.meta.changes ?? 0);
  return { deleted: counts.reduce((a, b) => a + b, 0), done: counts.every((n) => n < options.batchSize) };
}
