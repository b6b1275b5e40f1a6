import { type Context, Hono } from "hono";
import { SecurityLogHelp } from "../../views/audit/help";
import {
  type FilterErrors,
  type FilterValues,
  type LogView,
  SecurityLogPageView,
  SecurityLogResults,
} from "../../views/audit/security-log";
import type { Crumb } from "../../views/layout";
import { createDb } from "../db/client";
import type { AppEnv } from "../env";
import { pickFields, validated } from "../lib/forms";
import { wantsFragment } from "../lib/htmx";
import { calendarDateInZone } from "../lib/time";
import { renderErrorPage } from "../pages";
import { globalSecurityLogUrl, securityLogUrl } from "../paths";
import { csvStream } from "./csv";
import {
  DEFAULT_PAGE_SIZE,
  type LogScope,
  NO_SITE,
  resolveTimeRange,
  SECURITY_LOG_FIELDS,
  type SecurityLogFilter,
  type SecurityLogQuery,
  searchSecurityLog,
  securityLogBatches,
  securityLogQuerySchema,
} from "./query";

/** What differs between a Site's log and the Global Administrator's: the view, the scope and the page chrome. */
export interface LogContext {
  view: LogView;
  scope: LogScope;
  /** The zone calendar dates of the filter are read in. */
  timeZone: string;
  title: string;
  crumbs: (leaf: Crumb) => Crumb[];
  fileLabel: string;
}

/** The filter as typed, to put back into the form (first value of each known field). */
function rawValues(c: Context<AppEnv>, view: LogView): FilterValues {
  const values: FilterValues = {};
  for (const field of SECURITY_LOG_FIELDS) {
    if (field === "site" && view.kind === "site") continue;
    const value = c.req.query(field);
    if (value !== undefined && value !== "") values[field] = value.trim();
  }
  return values;
}

/** Validates the query string; an invalid one is answered by `onInvalid` with the errors by field. */
function validLogQuery(onInvalid: (c: Context<AppEnv>, errors: FilterErrors) => Response | Promise<Response>) {
  return validated("query", securityLogQuerySchema, (c, _sent, errors) =>
    onInvalid(c, pickFields(errors, SECURITY_LOG_FIELDS)),
  );
}

/** The query resolved into a filter, or field errors (a Site slug no Site has is an error too). */
function resolveFilter(
  ctx: LogContext,
  query: SecurityLogQuery,
  now: number,
  sitesBySlug: Map<string, number>,
): { filter: SecurityLogFilter } | { errors: FilterErrors } {
  const filter: SecurityLogFilter = {
    ...resolveTimeRange(query, ctx.timeZone, now),
    event: query.event,
    code: query.code,
    client: query.client,
    ip: query.ip,
  };
  if (ctx.view.kind === "global" && query.site) {
    if (query.site === NO_SITE) filter.siteId = null;
    else {
      const id = sitesBySlug.get(query.site);
      if (id === undefined) return { errors: { site: "Choose one of the listed Sites." } };
      filter.siteId = id;
    }
  }
  return { filter };
}

function sitesBySlug(c: Context<AppEnv>): Map<string, number> {
  return new Map(c.var.reachableSites.map((s) => [s.slug, s.id]));
}

/**
 * The security log (§8) for one context: the page (full, or the results fragment for htmx), its CSV export and the
 * troubleshooting help. Every query parameter is validated; an invalid filter answers 400 with the errors and shows
 * no rows.
 */
export function createSecurityLogRoutes(contextOf: (c: Context<AppEnv>) => LogContext) {
  const renderPage = (
    c: Context<AppEnv>,
    ctx: LogContext,
    values: FilterValues,
    errors: FilterErrors,
    result: Awaited<ReturnType<typeof searchSecurityLog>> | null,
  ) => {
    if (Object.keys(errors).length) c.status(400);
    if (wantsFragment(c)) {
      return c.html(<SecurityLogResults view={ctx.view} values={values} result={result} errors={errors} />);
    }
    return c.render(
      <SecurityLogPageView view={ctx.view} values={values} errors={errors} result={result} helpHref={helpHref(ctx)} />,
      { title: ctx.title, breadcrumbs: ctx.crumbs({ label: "Security log" }) },
    );
  };

  return new Hono<AppEnv>()
    .get(
      "/",
      validLogQuery((c, errors) => {
        const ctx = contextOf(c);
        return renderPage(c, ctx, rawValues(c, ctx.view), errors, null);
      }),
      async (c) => {
        const ctx = contextOf(c);
        const query = c.req.valid("query");
        const values = rawValues(c, ctx.view);
        const resolved = resolveFilter(ctx, query, c.var.now, sitesBySlug(c));
        if ("errors" in resolved) return renderPage(c, ctx, values, resolved.errors, null);
        const size = Number(query.size ?? DEFAULT_PAGE_SIZE);
        const result = await searchSecurityLog(createDb(c.env.DB), ctx.scope, resolved.filter, query.page ?? 1, size);
        return renderPage(c, ctx, values, {}, result);
      },
    )
    .get(
      "/export.csv",
      validLogQuery((c, errors) =>
        renderErrorPage(c, 400, `The filter has errors: ${Object.values(errors).join(" ")}`),
      ),
      async (c) => {
        const ctx = contextOf(c);
        const resolved = resolveFilter(ctx, c.req.valid("query"), c.var.now, sitesBySlug(c));
        if ("errors" in resolved) {
          return renderErrorPage(c, 400, `The filter has errors: ${Object.values(resolved.errors).join(" ")}`);
        }
        const batches = securityLogBatches(createDb(c.env.DB), ctx.scope, resolved.filter);
        // The first batch is read before answering, so a database failure is a 5xx, not an empty file.
        const first = await batches.next();
        const date = calendarDateInZone(c.var.now, ctx.timeZone);
        return c.body(csvStream(first.done ? [] : first.value, batches), 200, {
          "Content-Type": "text/csv; charset=utf-8",
          "Content-Disposition": `attachment; filename="security-log-${ctx.fileLabel}-${date}.csv"`,
        });
      },
    )
    .get("/help", (c) => {
      const ctx = contextOf(c);
      return c.render(<SecurityLogHelp view={ctx.view} />, {
        title: `Troubleshooting · ${ctx.title}`,
        breadcrumbs: ctx.crumbs({ label: "Security log", href: `${helpHref(ctx).replace(/\/help$/, "")}` }).concat({
          label: "Troubleshooting",
        }),
      });
    });
}

function helpHref(ctx: LogContext): string {
  return ctx.view.kind === "site" ? `${securityLogUrl(ctx.view.site.slug)}/help` : `${globalSecurityLogUrl()}/help`;
}
