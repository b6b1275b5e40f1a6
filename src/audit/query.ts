import { and, count, desc, eq, gte, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { appRegistrations, SECURITY_EVENTS, type SecurityEventType, securityEvents, sites } from "../db/schema";
import { addCalendarDays, DAY, HOUR, parseCalendarDate, startOfDayInZone } from "../lib/time";
import { isDetailCode } from "./detail-codes";

/** Time-range presets of the filter, relative to now. */
export const RANGE_PRESETS = {
  "1h": { label: "Last hour", ms: HOUR },
  "24h": { label: "Last 24 hours", ms: DAY },
  "7d": { label: "Last 7 days", ms: 7 * DAY },
  "30d": { label: "Last 30 days", ms: 30 * DAY },
  "90d": { label: "Last 90 days (everything kept)", ms: 90 * DAY },
} as const;
export type RangePreset = keyof typeof RANGE_PRESETS;
const RANGE_KEYS = Object.keys(RANGE_PRESETS) as [RangePreset, ...RangePreset[]];
export const DEFAULT_RANGE: RangePreset = "7d";

export const PAGE_SIZES = [25, 50, 100] as const;
export const DEFAULT_PAGE_SIZE = 25;

/** Rows without a Site (unknown Client IDs, admin sign-in) in the Global Administrator's Site filter. */
export const NO_SITE = "none";

const blank = (value: unknown) => (typeof value === "string" && value.trim() === "" ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blank, schema.optional());
const calendarDate = (message: string) =>
  z.string({ error: message }).refine((value) => parseCalendarDate(value) !== null, { error: message });

/**
 * The security-log query string (§8 filters), validated field by field; unknown parameters are ignored. Every
 * field is optional and a blank value means "not filtered", so an untouched filter form is valid.
 */
export const securityLogQuerySchema = z
  .object({
    range: optional(z.enum(RANGE_KEYS, { error: "Choose one of the listed time ranges." })),
    from: optional(calendarDate("Enter the From date as YYYY-MM-DD.")),
    to: optional(calendarDate("Enter the To date as YYYY-MM-DD.")),
    event: optional(z.enum(SECURITY_EVENTS, { error: "Choose one of the listed events." })),
    code: optional(
      z
        .string({ error: "Choose one of the listed detail codes." })
        .refine(isDetailCode, { error: "Choose one of the listed detail codes." }),
    ),
    client: optional(
      z
        .string({ error: "Enter one Client ID (or email) of at most 256 characters." })
        .trim()
        .max(256, { error: "Enter one Client ID (or email) of at most 256 characters." }),
    ),
    ip: optional(
      z
        .string({ error: "Enter one IP address: digits, letters a–f, dots and colons." })
        .trim()
        .max(45, { error: "An IP address has at most 45 characters." })
        .regex(/^[0-9A-Fa-f:.]+$/, { error: "Enter one IP address: digits, letters a–f, dots and colons." }),
    ),
    page: optional(
      z.coerce
        .number({ error: "The page must be a whole number from 1." })
        .int({ error: "The page must be a whole number from 1." })
        .min(1, { error: "The page must be a whole number from 1." })
        .max(100_000, { error: "The page must be a whole number from 1." }),
    ),
    size: optional(z.enum(["25", "50", "100"], { error: "Choose 25, 50 or 100 rows per page." })),
    site: optional(
      z
        .string({ error: "Choose one of the listed Sites." })
        .max(64, { error: "Choose one of the listed Sites." })
        .regex(/^[a-z0-9-]+$/, { error: "Choose one of the listed Sites." }),
    ),
  })
  .superRefine((q, ctx) => {
    if (q.from && q.to && q.to < q.from) {
      ctx.addIssue({ code: "custom", path: ["to"], message: "To must be on or after From." });
    }
  });

export type SecurityLogQuery = z.infer<typeof securityLogQuerySchema>;
export type SecurityLogField = keyof SecurityLogQuery;

/** The query's fields in their canonical order: every link to the log writes them in this order. */
export const SECURITY_LOG_FIELDS: readonly SecurityLogField[] = [
  "range",
  "from",
  "to",
  "event",
  "code",
  "client",
  "ip",
  "site",
  "size",
  "page",
];

/** A validated query resolved against a time zone and `now`: the instants and exact-match filters to apply. */
export interface SecurityLogFilter {
  /** Inclusive lower bound on the row's last-seen instant. */
  from?: number;
  /** Exclusive upper bound on the row's first-seen instant. */
  to?: number;
  event?: SecurityEventType;
  code?: string;
  client?: string;
  ip?: string;
  /** Global view only: a Site id, or null for rows tied to no Site. */
  siteId?: number | null;
}

/**
 * Dates are whole calendar days in `timeZone` (From at 00:00, To through 23:59:59); either date switches the
 * preset off. Without dates the preset (default: last 7 days) counts back from `now`.
 */
export function resolveTimeRange(query: SecurityLogQuery, timeZone: string, now: number) {
  if (query.from || query.to) {
    return {
      from: query.from ? startOfDayInZone(query.from, timeZone) : undefined,
      to: query.to ? startOfDayInZone(addCalendarDays(query.to, 1), timeZone) : undefined,
    };
  }
  return { from: now - RANGE_PRESETS[query.range ?? DEFAULT_RANGE].ms, to: undefined };
}

/** Who may see which rows: a Site's own rows, or (Global Administrator) every row, Site-less ones included. */
export type LogScope = { kind: "site"; siteId: number } | { kind: "global" };

/** The SQL of a scope and filter (the page, its CSV and the management API's feed share it). */
export function securityLogConditions(scope: LogScope, filter: SecurityLogFilter): SQL | undefined {
  const where: (SQL | undefined)[] = [];
  if (scope.kind === "site") where.push(eq(securityEvents.siteId, scope.siteId));
  else if (filter.siteId === null) where.push(isNull(securityEvents.siteId));
  else if (filter.siteId !== undefined) where.push(eq(securityEvents.siteId, filter.siteId));
  if (filter.from !== undefined) where.push(gte(securityEvents.lastAt, filter.from));
  if (filter.to !== undefined) where.push(lt(securityEvents.firstAt, filter.to));
  if (filter.event) where.push(eq(securityEvents.event, filter.event));
  if (filter.code) where.push(eq(securityEvents.detailCode, filter.code));
  if (filter.client) where.push(eq(securityEvents.clientId, filter.client));
  if (filter.ip) where.push(eq(securityEvents.ip, filter.ip));
  return and(...where);
}

/** One row of the security log with its Site and, when it still exists there, the registration it names. */
export interface SecurityLogRow {
  id: number;
  siteId: number | null;
  siteSlug: string | null;
  siteName: string | null;
  siteTimeZone: string | null;
  event: SecurityEventType;
  detailCode: string;
  clientId: string | null;
  registrationName: string | null;
  /** The registration with this Client ID in the row's Site, if it has not been deleted. */
  registrationId: number | null;
  ip: string;
  userAgent: string;
  endpoint: string;
  count: number;
  firstAt: number;
  lastAt: number;
}

const rowColumns = {
  id: securityEvents.id,
  siteId: securityEvents.siteId,
  siteSlug: sites.slug,
  siteName: sites.name,
  siteTimeZone: sites.timeZone,
  event: securityEvents.event,
  detailCode: securityEvents.detailCode,
  clientId: securityEvents.clientId,
  registrationName: securityEvents.registrationName,
  registrationId: appRegistrations.id,
  ip: securityEvents.ip,
  userAgent: securityEvents.userAgent,
  endpoint: securityEvents.endpoint,
  count: securityEvents.count,
  firstAt: securityEvents.firstAt,
  lastAt: securityEvents.lastAt,
};

function selectRows(db: Db, where: SQL | undefined) {
  return db
    .select(rowColumns)
    .from(securityEvents)
    .leftJoin(sites, eq(sites.id, securityEvents.siteId))
    .leftJoin(
      appRegistrations,
      and(eq(appRegistrations.clientId, securityEvents.clientId), eq(appRegistrations.siteId, securityEvents.siteId)),
    )
    .where(where)
    .orderBy(desc(securityEvents.lastAt), desc(securityEvents.id));
}

export interface SecurityLogPage {
  rows: SecurityLogRow[];
  /** Rows matching the filter. */
  total: number;
  /** Failures those rows stand for (the sum of their counts). */
  failures: number;
  page: number;
  size: number;
  pages: number;
}

/**
 * One page of the filtered log, newest first, with the totals. The two reads run side by side rather than in a D1
 * batch: batched results come back keyed by column name, and the joined tables share names such as `id`.
 */
export async function searchSecurityLog(
  db: Db,
  scope: LogScope,
  filter: SecurityLogFilter,
  page: number,
  size: number,
): Promise<SecurityLogPage> {
  const where = securityLogConditions(scope, filter);
  const [totals, rows] = await Promise.all([
    db
      .select({ total: count(), failures: sql<number>`coalesce(sum(${securityEvents.count}), 0)` })
      .from(securityEvents)
      .where(where)
      .all(),
    selectRows(db, where)
      .limit(size)
      .offset((page - 1) * size)
      .all(),
  ]);
  const total = totals[0]?.total ?? 0;
  return {
    rows: rows as SecurityLogRow[],
    total,
    failures: Number(totals[0]?.failures ?? 0),
    page,
    size,
    pages: Math.max(1, Math.ceil(total / size)),
  };
}

/** Every filtered row, newest first, in keyset batches so an export never holds the whole log in memory. */
export async function* securityLogBatches(
  db: Db,
  scope: LogScope,
  filter: SecurityLogFilter,
  batchSize = 500,
): AsyncGenerator<SecurityLogRow[]> {
  const base = securityLogConditions(scope, filter);
  let after: { lastAt: number; id: number } | null = null;
  for (;;) {
    const cursor: SQL | undefined = after
      ? or(
          lt(securityEvents.lastAt, after.lastAt),
          and(eq(securityEvents.lastAt, after.lastAt), lt(securityEvents.id, after.id)),
        )
      : undefined;
    const batch = (await selectRows(db, and(base, cursor)).limit(batchSize).all()) as SecurityLogRow[];
    if (batch.length) yield batch;
    const last = batch[batch.length - 1];
    if (!last || batch.length < batchSize) return;
    after = { lastAt: last.lastAt, id: last.id };
  }
}
