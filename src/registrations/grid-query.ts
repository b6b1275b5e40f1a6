import { z } from "zod";
import { displayText } from "../lib/text";
import { parseCalendarDate } from "../lib/time";

/**
 * The App registrations grid's state lives in the query string (§4: shareable, reload and back/forward show the same
 * thing). This module parses it (zod), writes it back in one canonical form, and knows the built-in views.
 */

export const GRID_COLUMNS = [
  "site",
  "name",
  "client_id",
  "created",
  "enabled",
  "last_used",
  "tokens_30d",
  "expires",
  "state",
] as const;
export type GridColumn = (typeof GRID_COLUMNS)[number];

export const COLUMN_LABELS: Record<GridColumn, string> = {
  site: "Site",
  name: "Name",
  state: "State",
  client_id: "Client ID",
  created: "Registration date",
  enabled: "Enabled",
  last_used: "Last used",
  tokens_30d: "Tokens (30 d)",
  expires: "Expires",
};

/** Columns the ⚙️ settings offer but do not show until chosen. */
export const OPTIONAL_COLUMNS: readonly GridColumn[] = ["tokens_30d"];

/** "Unused for N days": neither used nor created within the last N days. */
export const UNUSED_DAYS_MAX = 3650;

export const STATE_FILTERS = ["active", "expiring_30", "expiring_7", "expired", "disabled"] as const;
export type StateFilter = (typeof STATE_FILTERS)[number];

export const STATE_FILTER_LABELS: Record<StateFilter, string> = {
  active: "Active",
  expiring_30: "Expiring within 30 days",
  expiring_7: "Expiring within 7 days",
  expired: "Expired",
  disabled: "Disabled",
};

export const PAGE_SIZES = [10, 25, 50, 100] as const;
export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE = 100_000;
export const FILTER_TEXT_MAX = 100;

/** Which grid: one Site's, or the Global Administrator's all-Sites grid (with a Site column and filter). */
export type GridScope = "site" | "all";

export interface GridQuery {
  q?: string;
  state?: StateFilter;
  enabled?: "yes" | "no";
  /** Last used before 00:00 of this date (YYYY-MM-DD, in the Site's zone; UTC on the all-Sites grid). */
  usedBefore?: string;
  neverUsed?: boolean;
  /** Not used in the last N days (and, if never used, created more than N days ago): candidates to retire. */
  unusedDays?: number;
  /** All-Sites grid only: a Site slug. */
  site?: string;
  sort: GridColumn;
  dir: "asc" | "desc";
  page: number;
  /** Visible columns when the URL says so (a saved view); otherwise the user's ⚙️ settings apply. */
  cols?: GridColumn[];
}

const DEFAULT_SORT: GridColumn = "name";

/** An empty field (a GET form submits every field, filled or not) is the same as an absent one. */
const blankToUndefined = (v: unknown) => (v === "" ? undefined : v);
const once = (label: string) => z.string({ error: `${label} must appear once.` });
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankToUndefined, schema.optional());

function queryShape(scope: GridScope) {
  const columns = scope === "all" ? GRID_COLUMNS : GRID_COLUMNS.filter((c) => c !== "site");
  const columnList = `${columns.join(", ")}`;
  return z.object({
    q: optional(once("q").max(FILTER_TEXT_MAX, `q (the search) is limited to ${FILTER_TEXT_MAX} characters.`)),
    state: optional(z.enum(STATE_FILTERS, { error: `state must be one of ${STATE_FILTERS.join(", ")}.` })),
    enabled: optional(z.enum(["yes", "no"], { error: "enabled must be yes or no." })),
    used_before: optional(
      once("used_before").refine((v) => parseCalendarDate(v) !== null, "used_before must be a date as YYYY-MM-DD."),
    ),
    never_used: optional(z.enum(["1", "true", "on"], { error: "never_used must be 1." })),
    unused_days: optional(
      once("unused_days")
        .regex(/^\d{1,4}$/, "unused_days must be a whole number of days.")
        .transform(Number)
        .refine((n) => n >= 1 && n <= UNUSED_DAYS_MAX, `unused_days must be between 1 and ${UNUSED_DAYS_MAX}.`),
    ),
    sort: optional(z.enum(columns as [GridColumn, ...GridColumn[]], { error: `sort must be one of ${columnList}.` })),
    dir: optional(z.enum(["asc", "desc"], { error: "dir must be asc or desc." })),
    page: optional(
      once("page")
        .regex(/^\d{1,6}$/, "page must be a whole number.")
        .transform(Number)
        .refine((n) => n >= 1 && n <= MAX_PAGE, `page must be between 1 and ${MAX_PAGE}.`),
    ),
    cols: optional(
      once("cols")
        .max(200)
        .transform((v) => v.split(",").filter(Boolean))
        .refine((list) => list.every((c) => (columns as readonly string[]).includes(c)), {
          message: `cols must list columns among ${columnList}.`,
        }),
    ),
  });
}

const SHAPES = {
  site: queryShape("site"),
  all: queryShape("all").extend({
    site: optional(once("site").regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "site must be a Site slug.")),
  }),
};

type ParsedParams = z.output<(typeof SHAPES)["all"]>;

function toGridQuery(d: ParsedParams): GridQuery {
  return {
    q: d.q?.trim() || undefined,
    state: d.state,
    enabled: d.enabled,
    usedBefore: d.used_before,
    neverUsed: d.never_used ? true : undefined,
    unusedDays: d.unused_days,
    site: d.site,
    sort: d.sort ?? DEFAULT_SORT,
    dir: d.dir ?? "asc",
    page: d.page ?? 1,
    cols: d.cols && d.cols.length > 0 ? orderColumns(d.cols as GridColumn[]) : undefined,
  };
}

/**
 * The grid's query string schema. Unknown parameters are ignored; a known parameter with a bad value is refused
 * (the page answers 400 naming every problem, with a link back to the Default View). Blank values count as absent.
 */
export function gridQuerySchema(scope: GridScope) {
  return (SHAPES[scope] as (typeof SHAPES)["all"]).transform(toGridQuery);
}

export type GridQueryResult = { ok: true; query: GridQuery } | { ok: false; problems: string[] };

/** Problems of a failed parse, one sentence each. */
export function gridQueryProblems(error: z.core.$ZodError): string[] {
  return [...new Set(error.issues.map((i) => i.message))];
}

export function parseGridQuery(scope: GridScope, params: Record<string, string | string[]>): GridQueryResult {
  const parsed = gridQuerySchema(scope).safeParse(params);
  return parsed.success ? { ok: true, query: parsed.data } : { ok: false, problems: gridQueryProblems(parsed.error) };
}

export const DEFAULT_QUERY: GridQuery = { sort: DEFAULT_SORT, dir: "asc", page: 1 };

function orderColumns(cols: readonly GridColumn[]): GridColumn[] {
  return GRID_COLUMNS.filter((c) => c === "name" || cols.includes(c));
}

/** The query string of a grid state, in one canonical order, without defaults (`""` for the Default View). */
export function serializeGridQuery(query: Partial<GridQuery>, options: { page?: boolean } = {}): string {
  const params = new URLSearchParams();
  if (query.q) params.set("q", query.q);
  if (query.state) params.set("state", query.state);
  if (query.enabled) params.set("enabled", query.enabled);
  if (query.usedBefore) params.set("used_before", query.usedBefore);
  if (query.neverUsed) params.set("never_used", "1");
  if (query.unusedDays) params.set("unused_days", String(query.unusedDays));
  if (query.site) params.set("site", query.site);
  if (query.sort && query.sort !== DEFAULT_SORT) params.set("sort", query.sort);
  if (query.dir === "desc") params.set("dir", "desc");
  if (query.cols) params.set("cols", orderColumns(query.cols).join(","));
  if (options.page !== false && query.page && query.page > 1) params.set("page", String(query.page));
  return params.toString();
}

/** A grid URL: `base` plus the canonical query string. */
export function gridHref(base: string, query: Partial<GridQuery>): string {
  const qs = serializeGridQuery(query);
  return qs ? `${base}?${qs}` : base;
}

/** Whether any filter is set (the Filter button shows it). */
export function activeFilterCount(query: GridQuery): number {
  return [query.q, query.state, query.enabled, query.usedBefore, query.neverUsed, query.unusedDays, query.site].filter(
    Boolean,
  ).length;
}

export interface GridView {
  /** `builtin:<key>` or `saved:<id>`. */
  key: string;
  name: string;
  /** Canonical query string (no page). */
  query: string;
  savedId?: number;
}

/** §4 built-in views. */
export const BUILT_IN_VIEWS: GridView[] = [
  { key: "builtin:default", name: "Default View", query: "" },
  {
    key: "builtin:expiring",
    name: "Expiring within 30 days",
    query: serializeGridQuery({ state: "expiring_30", sort: "expires", dir: "asc" }),
  },
  { key: "builtin:expired", name: "Expired", query: serializeGridQuery({ state: "expired" }) },
  { key: "builtin:disabled", name: "Disabled", query: serializeGridQuery({ state: "disabled" }) },
  { key: "builtin:never-used", name: "Never used", query: serializeGridQuery({ neverUsed: true }) },
  { key: "builtin:unused-90", name: "Unused for 90 days", query: serializeGridQuery({ unusedDays: 90 }) },
];

/** The view whose query is exactly the current state (page aside), if any. */
export function matchingView(views: GridView[], query: GridQuery): GridView | undefined {
  const current = serializeGridQuery(query, { page: false });
  return views.find((v) => v.query === current);
}

/** ⚙️ settings remembered per user (table user_preferences). */
export interface GridSettings {
  columns: GridColumn[];
  pageSize: number;
}

export function defaultGridSettings(scope: GridScope): GridSettings {
  return {
    columns: GRID_COLUMNS.filter((c) => (scope === "all" || c !== "site") && !OPTIONAL_COLUMNS.includes(c)),
    pageSize: DEFAULT_PAGE_SIZE,
  };
}

const storedSettings = z.object({
  columns: z.array(z.enum(GRID_COLUMNS)),
  pageSize: z.number().refine((n) => (PAGE_SIZES as readonly number[]).includes(n)),
});

/** Reads stored settings; anything unreadable falls back to the defaults. */
export function parseGridSettings(scope: GridScope, json: string | undefined): GridSettings {
  if (!json) return defaultGridSettings(scope);
  try {
    const parsed = storedSettings.safeParse(JSON.parse(json));
    if (!parsed.success) return defaultGridSettings(scope);
    return { columns: settingsColumns(scope, parsed.data.columns), pageSize: parsed.data.pageSize };
  } catch {
    return defaultGridSettings(scope);
  }
}

function settingsColumns(scope: GridScope, columns: readonly GridColumn[]): GridColumn[] {
  return orderColumns(columns.filter((c) => scope === "all" || c !== "site"));
}

/** The ⚙️ form: visible columns (Name always) and page size. */
export function gridSettingsForm(scope: GridScope) {
  const columns = scope === "all" ? GRID_COLUMNS : GRID_COLUMNS.filter((c) => c !== "site");
  return z.object({
    columns: z
      .preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(z.string()))
      .refine((list) => list.every((c) => (columns as readonly string[]).includes(c)), "Choose known columns.")
      .transform((list) => settingsColumns(scope, list as GridColumn[])),
    pageSize: z
      .string({ error: "Choose a page size." })
      .transform(Number)
      .refine((n) => (PAGE_SIZES as readonly number[]).includes(n), `Choose ${PAGE_SIZES.join(", ")} rows per page.`),
    /** The grid state to return to (its query string). */
    returnTo: z.string().max(2000).optional(),
  });
}

export const SAVED_VIEW_NAME_MAX = 60;
export const SAVED_VIEWS_MAX = 30;

export const saveViewForm = z.object({
  name: displayText(
    z
      .string({ error: "Name the view." })
      .trim()
      .min(1, "Name the view.")
      .max(SAVED_VIEW_NAME_MAX, `Use at most ${SAVED_VIEW_NAME_MAX} characters.`),
  ),
  /** The grid state to save (its query string). */
  query: z.string().max(2000).default(""),
});

/** Parses a query string kept in a form field or a saved view. */
export function parseQueryString(scope: GridScope, qs: string): GridQueryResult {
  const params: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(qs.startsWith("?") ? qs.slice(1) : qs)) {
    const existing = params[k];
    params[k] = existing === undefined ? v : Array.isArray(existing) ? [...existing, v] : [existing, v];
  }
  return parseGridQuery(scope, params);
}
