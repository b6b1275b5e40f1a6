import { and, eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import {
  type LogFilterErrors,
  type LogFilterValues,
  NotificationLogPageView,
  NotificationLogResults,
} from "../../views/notifications/log";
import { siteCrumbs } from "../../views/shell/pages";
import { createDb } from "../db/client";
import { appRegistrations, type NotificationTemplate } from "../db/schema";
import type { AppEnv } from "../env";
import { pickFields, validated } from "../lib/forms";
import { wantsFragment } from "../lib/htmx";
import {
  isSiteRegistration,
  loggedRegistrations,
  type NotificationLogPage,
  notificationLogQuerySchema,
  searchNotificationLog,
} from "./log-query";

const FIELDS = ["template", "registration", "page"] as const;

/** The filter as typed, to put back into the form and the links (first value of each known field). */
function rawValues(c: Context<AppEnv>): LogFilterValues {
  const values: LogFilterValues = {};
  for (const field of ["template", "registration"] as const) {
    const value = c.req.query(field);
    if (value) values[field] = value;
  }
  return values;
}

async function render(
  c: Context<AppEnv>,
  values: LogFilterValues,
  errors: LogFilterErrors,
  result: NotificationLogPage | null,
) {
  const { site } = c.var.siteContext;
  if (Object.keys(errors).length > 0) c.status(400);
  if (wantsFragment(c)) {
    return c.html(<NotificationLogResults site={site} values={values} errors={errors} result={result} />);
  }
  const db = createDb(c.env.DB);
  const registrations = await loggedRegistrations(db, site.id);
  // A registration with no notice yet (a link from its page) is still offered, so the form shows what is filtered.
  const requested = Number(values.registration);
  if (!errors.registration && requested && !registrations.some((r) => r.id === requested)) {
    const row = await db
      .select({ id: appRegistrations.id, name: appRegistrations.name })
      .from(appRegistrations)
      .where(and(eq(appRegistrations.id, requested), eq(appRegistrations.siteId, site.id)))
      .get();
    if (row) registrations.push(row);
  }
  return c.render(
    <NotificationLogPageView
      site={site}
      values={values}
      errors={errors}
      result={result}
      registrations={registrations}
    />,
    {
      title: `Notification log · ${site.name}`,
      breadcrumbs: siteCrumbs(site, "settings", { label: "Administrative notification log" }),
    },
  );
}

/**
 * The Administrative notification log of a Site (§4, §5). Mounted behind requireSite: only the Site's
 * administrators and Global Administrators reach it, and every query is scoped to this Site's id.
 */
export const notificationLogRoutes = new Hono<AppEnv>().get(
  "/",
  validated("query", notificationLogQuerySchema, (c, _sent, errors) =>
    render(c, rawValues(c), pickFields(errors, FIELDS), null),
  ),
  async (c) => {
    const { site } = c.var.siteContext;
    const query = c.req.valid("query");
    const values = rawValues(c);
    const db = createDb(c.env.DB);
    const registrationId = query.registration ? Number(query.registration) : undefined;
    // An id of another Site's (or no) registration is refused like any other value not on the list.
    if (registrationId !== undefined && !(await isSiteRegistration(db, site.id, registrationId))) {
      return render(c, values, { registration: "Choose one of the listed registrations." }, null);
    }
    const result = await searchNotificationLog(
      db,
      site.id,
      { template: (query.template || undefined) as NotificationTemplate | undefined, registrationId },
      Number(query.page ?? 1),
    );
    return render(c, values, {}, result);
  },
);
