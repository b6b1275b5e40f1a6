import { DAY, HOUR, MINUTE } from "../lib/time";

/**
 * Token counts per registration and Site, per UTC hour (kept two days) and UTC day (kept 400 days), without adding to the token endpoint's
 * budget: each success is counted in this isolate, and the first success of each minute writes the registration's
 * counts in the after-response batch that also carries Last used (last-used.ts): at most one write a minute per
 * registration and isolate. What an isolate eviction can lose is what it had not written yet: at most the last
 * minute's count of each registration it served.
 */

/** Counts not written yet, by registration: its Site and its count per UTC hour number. */
interface Pending {
  siteId: number;
  hours: Map<number, number>;
}

/** Bounded like the isolate's other maps; past this the oldest registration's unwritten count is dropped. */
const MAX_PENDING = 10_000;
const pending = new Map<number, Pending>();

export const utcDay = (at: number) => Math.floor(at / DAY);
export const utcHour = (at: number) => Math.floor(at / HOUR);

/** One successful issuance for the registration at `now`. */
export function countIssuance(registrationId: number, siteId: number, now: number): void {
  addCount(registrationId, siteId, utcHour(now), 1);
}

function addCount(registrationId: number, siteId: number, hour: number, n: number): void {
  let entry = pending.get(registrationId);
  if (!entry) {
    if (pending.size >= MAX_PENDING) {
      const oldest = pending.keys().next().value;
      if (oldest !== undefined) pending.delete(oldest);
    }
    entry = { siteId, hours: new Map() };
    pending.set(registrationId, entry);
  }
  entry.hours.set(hour, (entry.hours.get(hour) ?? 0) + n);
}

export interface UsageFlush {
  registrationId: number;
  siteId: number;
  /** [UTC hour, tokens] */
  hours: [number, number][];
}

/** When this isolate last wrote each registration's counts. */
const flushedAt = new Map<number, number>();

/**
 * Whether this request writes the registration's counts: the first one in each minute of this isolate (its own
 * clock, not the row's Last used, which another isolate may keep fresh while this one's counts wait).
 */
export function claimUsageFlush(registrationId: number, now: number): boolean {
  const last = flushedAt.get(registrationId);
  if (last !== undefined && now >= last && now - last < MINUTE) return false;
  if (flushedAt.size >= MAX_PENDING) flushedAt.clear();
  flushedAt.set(registrationId, now);
  return true;
}

/** Takes the registration's unwritten counts (they are this caller's to write, or to give back on failure). */
export function takeUsage(registrationId: number): UsageFlush | null {
  const entry = pending.get(registrationId);
  if (!entry) return null;
  pending.delete(registrationId);
  return { registrationId, siteId: entry.siteId, hours: [...entry.hours] };
}

/** Gives counts back after a failed write, so the next write carries them. */
export function restoreUsage(flush: UsageFlush): void {
  for (const [hour, n] of flush.hours) addCount(flush.registrationId, flush.siteId, hour, n);
}

// One upsert per table; a registration deleted meanwhile is skipped (the join), never a failed batch.
const upsert = (table: string, owner: "registration_id" | "site_id", unit: "hour" | "day", join: string) =>
  `INSERT INTO ${table} (${owner}, ${unit}, tokens)
SELECT o.id, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]')
FROM json_each(?2) j JOIN ${join} o ON o.id = ?1
WHERE true
ON CONFLICT (${owner}, ${unit}) DO UPDATE SET tokens = tokens + excluded.tokens`;

const REGISTRATION_HOURLY = upsert("usage_hourly", "registration_id", "hour", "app_registrations");
const REGISTRATION_DAILY = upsert("usage_daily", "registration_id", "day", "app_registrations");
const SITE_HOURLY = upsert("site_usage_hourly", "site_id", "hour", "sites");
const SITE_DAILY = upsert("site_usage_daily", "site_id", "day", "sites");

/** The four upserts that write a registration's taken counts: per hour and per day, of it and of its Site. */
export function usageStatements(d1: D1Database, flush: UsageFlush): D1PreparedStatement[] {
  const hours = JSON.stringify(flush.hours);
  const perDay = new Map<number, number>();
  for (const [hour, n] of flush.hours) {
    const day = Math.floor((hour * HOUR) / DAY);
    perDay.set(day, (perDay.get(day) ?? 0) + n);
  }
  const days = JSON.stringify([...perDay]);
  return [
    d1.prepare(REGISTRATION_HOURLY).bind(flush.registrationId, hours),
    d1.prepare(REGISTRATION_DAILY).bind(flush.registrationId, days),
    d1.prepare(SITE_HOURLY).bind(flush.siteId, hours),
    d1.prepare(SITE_DAILY).bind(flush.siteId, days),
  ];
}
