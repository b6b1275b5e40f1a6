import { and, asc, eq, inArray } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { BULK_VERBS, BulkConfirmPage, type BulkRow } from "../../views/registrations/bulk";
import { siteCrumbs } from "../../views/shell/pages";
import { actorOf, csrfOf } from "../auth/guards";
import { createDb } from "../db/client";
import { appRegistrations } from "../db/schema";
import type { AppEnv } from "../env";
import { validForm } from "../lib/forms";
import { calendarDateInZone } from "../lib/time";
import { registrationsGridUrl } from "../paths";
import { DEFAULT_QUERY, gridHref, parseQueryString } from "./grid-query";
import { extendedDate } from "./lifecycle";
import {
  applyBulkAction,
  BULK_ACTIONS,
  BULK_LIMIT,
  type BulkAction,
  expirationRules,
  MAX_EXTEND_DAYS,
} from "./service";
import { checkExpirationDate } from "./validation";

const bulkForm = z
  .object({
    ids: z
      .preprocess(
        (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]),
        z.array(
          z
            .string()
            .regex(/^[1-9][0-9]{0,15}$/, "Select registrations by their ids.")
            .transform(Number),
        ),
      )
      .pipe(
        z
          .array(z.number())
          .min(1, "Select at least one App registration.")
          .max(BULK_LIMIT, `Select at most ${BULK_LIMIT} App registrations at a time.`),
      ),
    action: z.enum(BULK_ACTIONS, { error: "Choose Disable, Enable, Extend or Delete." }),
    days: z.string().optional(),
    returnTo: z.string().max(2000).default(""),
    confirmed: z.literal("yes").optional(),
  })
  .transform((form, ctx) => {
    if (form.action !== "extend") return { ...form, days: undefined };
    const days = Number((form.days ?? "").trim());
    if (!Number.isInteger(days) || days < 1 || days > MAX_EXTEND_DAYS) {
      ctx.addIssue({
        code: "custom",
        path: ["days"],
        message: `Extend by a whole number of days, 1 to ${MAX_EXTEND_DAYS}.`,
      });
      return z.NEVER;
    }
    return { ...form, days };
  });

const NOTICE_VERBS: Record<BulkAction, string> = {
  disable: "disabled",
  enable: "enabled",
  extend: "extended",
  delete: "deleted",
};

/** The grid's notice after a bulk action, from the two query parameters it redirects with. */
export function bulkNotice(notice: string | undefined, count: string | undefined): string | undefined {
  const action = /^bulk-(\w+)$/.exec(notice ?? "")?.[1] as BulkAction | undefined;
  const n = Number(count);
  if (!action || !(action in NOTICE_VERBS) || !Number.isInteger(n) || n < 0) return undefined;
  return `${n === 1 ? "1 App registration" : `${n} App registrations`} ${NOTICE_VERBS[action]}.`;
}

/** Where a bulk action returns to: the grid with the filter, sort and page it was started from. */
function gridReturn(c: Context<AppEnv>, returnTo: string, extra?: Record<string, string>): string {
  const base = registrationsGridUrl(c.var.siteContext.site.slug);
  const parsed = parseQueryString("site", returnTo);
  const href = gridHref(base, parsed.ok ? parsed.query : DEFAULT_QUERY);
  if (!extra) return href;
  return `${href}${href.includes("?") ? "&" : "?"}${new URLSearchParams(extra)}`;
}

/**
 * Bulk actions on the selected rows of a Site's grid (disable, enable, extend by N days, delete). The first post
 * answers a confirmation page naming every registration; the confirmed post changes them all in one D1 batch, each
 * audited, and returns to the grid. Ids of another Site are refused like unknown ones: nothing changes.
 */
export const bulkRoutes = new Hono<AppEnv>().post(
  "/",
  validForm(bulkForm, (_c, _sent, errors) => {
    throw new HTTPException(400, { message: Object.values(errors)[0] ?? "This bulk action cannot be read." });
  }),
  async (c) => {
    const { site } = c.var.siteContext;
    const form = c.req.valid("form");
    const ids = [...new Set(form.ids)];
    const db = createDb(c.env.DB);
    const rows = await db
      .select()
      .from(appRegistrations)
      .where(and(eq(appRegistrations.siteId, site.id), inArray(appRegistrations.id, ids)))
      .orderBy(asc(appRegistrations.name))
      .all();
    if (rows.length !== ids.length) {
      throw new HTTPException(404, {
        message: "Some of the selected App registrations are not in this Site (deleted meanwhile?). Nothing changed.",
      });
    }
    const today = calendarDateInZone(c.var.now, site.timeZone);
    const problems: string[] = [];
    const bulkRows: BulkRow[] = rows.map((registration) => {
      if (form.action === "extend") {
        const newDate = extendedDate(registration.expirationDate, today, form.days ?? 0);
        const problem = checkExpirationDate(newDate, expirationRules(site, c.var.now));
        if (problem) problems.push(`${registration.name}: ${newDate} is too late. ${problem}`);
        return { registration, newDate };
      }
      if (form.action === "disable" && !registration.enabled) return { registration, note: "already disabled" };
      if (form.action === "enable" && registration.enabled) return { registration, note: "already enabled" };
      return { registration };
    });
    if (form.confirmed === "yes" && problems.length === 0) {
      const changed = await applyBulkAction(
        db,
        { site, actor: actorOf(c), rows, action: form.action, days: form.days },
        c.var.now,
      );
      return c.redirect(
        gridReturn(c, form.returnTo, { notice: `bulk-${form.action}`, count: String(changed.length) }),
        303,
      );
    }
    const cancelHref = gridReturn(c, form.returnTo);
    c.status(problems.length > 0 ? 422 : 200);
    return c.render(
      <BulkConfirmPage
        action={form.action}
        days={form.days}
        rows={bulkRows}
        problems={problems}
        formAction={`${registrationsGridUrl(site.slug)}/bulk`}
        cancelHref={cancelHref}
        returnTo={form.returnTo}
        csrfToken={csrfOf(c)}
      />,
      {
        title: `${BULK_VERBS[form.action]} App registrations · ${site.name}`,
        breadcrumbs: siteCrumbs(site, "iam", { label: "App registrations", href: cancelHref }).concat({
          label: BULK_VERBS[form.action],
        }),
      },
    );
  },
);
