import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ActionErrorProps, Errors, Values } from "../../views/components/form";
import {
  NewSitePage,
  RestApiOffConfirmation,
  SitePage,
  SiteRow,
  SitesPage,
  sitesCrumbs,
  siteValues,
} from "../../views/sites/pages";
import { listAuditTrail } from "../audit/admin-audit";
import { actorOf, csrfOf } from "../auth/guards";
import { createDb, type Db } from "../db/client";
import type { AppEnv } from "../env";
import { type AdminContext, typedValues, validForm, validToggle } from "../lib/forms";
import { isHtmx } from "../lib/htmx";
import { adminSitesUrl } from "../paths";
import {
  createSite,
  findSiteBySlug,
  listSiteMembers,
  listSites,
  type SiteSummary,
  setRestApiEnabled,
  updateSite,
} from "../sites/site-service";
import { DEFAULT_MAX_REGISTRATION_DAYS, newSiteForm, siteSettingsForm } from "../sites/validation";

type Ctx = AdminContext;

const SLUG_TAKEN = "This slug is already used by another Site.";
const CONFLICT: ActionErrorProps = {
  code: "Conflict",
  message:
    "Someone else changed this Site at the same time. Nothing was saved: review the current settings and try again.",
};

function notice(c: Ctx): string | undefined {
  switch (c.req.query("notice")) {
    case "created":
      return "Site created.";
    case "saved": {
      const recomputed = Number(c.req.query("recomputed") ?? "0");
      return Number.isSafeInteger(recomputed) && recomputed > 0
        ? `Site saved. The time zone changed, so the expiry of ${recomputed} App ${recomputed === 1 ? "registration was" : "registrations were"} recomputed: 00:00 of the same Expiration date in the new zone.`
        : "Site saved.";
    }
    case "unchanged":
      return "Nothing to save: the settings were already like that.";
    default:
      return undefined;
  }
}

/** A checkbox left unticked is absent from the form; a re-rendered form must show it unticked. */
function typedSiteValues(data: unknown): Values {
  const values = typedValues(data);
  return { ...values, restApiEnabled: values.restApiEnabled === "on" ? "on" : "off" };
}

async function loadSite(db: Db, slug: string): Promise<SiteSummary> {
  const summary = await findSiteBySlug(db, slug);
  if (!summary) throw new HTTPException(404, { message: "There is no Site with this slug." });
  return summary;
}

function renderNewSite(c: Ctx, values: Values, errors: Errors, status: 200 | 422) {
  c.status(status);
  return c.render(<NewSitePage values={values} errors={errors} csrf={csrfOf(c)} />, {
    title: "New Site",
    breadcrumbs: sitesCrumbs("New Site"),
  });
}

/**
 * Turning a Site's REST API off stops every registration of it: a post that is not confirmed (no `confirmed=yes`,
 * which the dialog of the htmx toggle or the confirmation page adds) answers the confirmation page instead, naming
 * how many registrations it stops. Null when the post is confirmed.
 */
async function confirmRestApiOff(c: Ctx, summary: SiteSummary, action: string): Promise<Response | null> {
  const body = await c.req.parseBody();
  if (body.confirmed === "yes") return null;
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === "string" && name !== "_csrf" && name !== "confirmed") fields[name] = value;
  }
  c.status(200);
  return c.render(
    <RestApiOffConfirmation
      summary={summary}
      action={action}
      fields={fields}
      csrf={csrfOf(c)}
      cancelHref={adminSitesUrl(summary.site.slug)}
    />,
    { title: `Turn off the REST API · ${summary.site.name}`, breadcrumbs: sitesCrumbs(summary.site.name) },
  );
}

async function renderSitePage(
  c: Ctx,
  slug: string,
  options: { values?: Values; errors?: Errors; status?: 200 | 409 | 422; error?: ActionErrorProps } = {},
) {
  const db = createDb(c.env.DB);
  const summary = await loadSite(db, slug);
  const [members, trail] = await Promise.all([
    listSiteMembers(db, summary.site.id),
    listAuditTrail(db, { type: "site", siteId: summary.site.id }),
  ]);
  c.status(options.status ?? 200);
  return c.render(
    <SitePage
      summary={summary}
      members={members}
      trail={trail}
      values={options.values ?? siteValues(summary.site)}
      errors={options.errors ?? {}}
      csrf={csrfOf(c)}
      notice={options.status ? undefined : notice(c)}
      error={options.error}
    />,
    { title: `${summary.site.name} · Sites`, breadcrumbs: sitesCrumbs(summary.site.name) },
  );
}

/** Sites: list, create, rename, time zone, REST API enabled, maximum registration lifetime (§4, Global Administrator). */
export const siteAdminRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const sites = await listSites(createDb(c.env.DB));
    return c.render(<SitesPage sites={sites} csrf={csrfOf(c)} notice={notice(c)} />, {
      title: "Sites",
      breadcrumbs: sitesCrumbs(),
    });
  })
  .get("/new", (c) =>
    renderNewSite(
      c,
      { timeZone: "UTC", restApiEnabled: "on", maxRegistrationDays: String(DEFAULT_MAX_REGISTRATION_DAYS) },
      {},
      200,
    ),
  )
  .post(
    "/",
    validForm(newSiteForm, async (c, typed, errors) => {
      const values = typedSiteValues(typed);
      // Report a taken slug together with the other errors, not only once they are fixed.
      const slug = values.slug?.trim().toLowerCase() ?? "";
      if (!errors.slug && slug && (await findSiteBySlug(createDb(c.env.DB), slug))) errors.slug = SLUG_TAKEN;
      return renderNewSite(c, values, errors, 422);
    }),
    async (c) => {
      const input = c.req.valid("form");
      const result = await createSite(createDb(c.env.DB), input, actorOf(c), c.var.now);
      if (!result.ok) {
        return renderNewSite(c, typedSiteValues(await c.req.parseBody()), { slug: SLUG_TAKEN }, 422);
      }
      return c.redirect(`${adminSitesUrl(result.site.slug)}?notice=created`, 303);
    },
  )
  .get("/:slug", (c) => renderSitePage(c, c.req.param("slug")))
  .post(
    "/:slug",
    validForm(siteSettingsForm, (c, typed, errors) =>
      renderSitePage(c, c.req.param("slug") ?? "", { values: typedSiteValues(typed), errors, status: 422 }),
    ),
    async (c) => {
      const slug = c.req.param("slug");
      const db = createDb(c.env.DB);
      const before = await loadSite(db, slug);
      const input = c.req.valid("form");
      if (before.site.restApiEnabled && !input.restApiEnabled) {
        const unconfirmed = await confirmRestApiOff(c, before, `${adminSitesUrl(slug)}`);
        if (unconfirmed) return unconfirmed;
      }
      const result = await updateSite(db, before.site, input, actorOf(c), c.var.now);
      if (!result.ok) return renderSitePage(c, slug, { status: 409, error: CONFLICT });
      if (!result.changed) return c.redirect(`${adminSitesUrl(slug)}?notice=unchanged`, 303);
      const recomputed = result.recomputed ? `&recomputed=${result.recomputed}` : "";
      return c.redirect(`${adminSitesUrl(slug)}?notice=saved${recomputed}`, 303);
    },
  )
  .post("/:slug/rest-api", validToggle, async (c) => {
    const slug = c.req.param("slug");
    const db = createDb(c.env.DB);
    const before = await loadSite(db, slug);
    const value = c.req.valid("form").value;
    if (before.site.restApiEnabled && !value) {
      const unconfirmed = await confirmRestApiOff(c, before, `${adminSitesUrl(slug)}/rest-api`);
      if (unconfirmed) return unconfirmed;
    }
    const result = await setRestApiEnabled(db, before.site, value, actorOf(c), c.var.now);
    if (!isHtmx(c)) {
      if (!result.ok) return renderSitePage(c, slug, { status: 409, error: CONFLICT });
      return c.redirect(`${adminSitesUrl()}?notice=saved`, 303);
    }
    const after = (await findSiteBySlug(db, slug)) ?? before;
    return c.html(
      <SiteRow summary={after} csrf={csrfOf(c)} error={result.ok ? undefined : CONFLICT} />,
      result.ok ? 200 : 409,
    );
  });
