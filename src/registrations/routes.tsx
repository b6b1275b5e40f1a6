import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { RegistrationHealth } from "../../views/audit/health";
import { ClientKeysSection } from "../../views/client-keys/section";
import { ClientSecretsSection } from "../../views/client-secrets/section";
import type { Crumb } from "../../views/layout";
import { EditRegistrationPage, NewRegistrationPage } from "../../views/registrations/form";
import {
  DeleteConfirmPage,
  RegistrationAuditTrail,
  RegistrationPage,
  StatusSection,
} from "../../views/registrations/page";
import { AlreadyCreatedPage, SecretOncePage } from "../../views/registrations/secret";
import { siteCrumbs } from "../../views/shell/pages";
import { UsageSection } from "../../views/usage/chart";
import { listAuditTrail } from "../audit/admin-audit";
import { csvLine } from "../audit/csv";
import { loadRegistrationHealth } from "../audit/health";
import { actorOf, csrfOf } from "../auth/guards";
import { listClientKeys } from "../client-keys/repository";
import { secretsSectionProps } from "../client-secrets/routes";
import { createDb } from "../db/client";
import type { AppRegistration, Site } from "../db/schema";
import { apiIdempotencyKeys } from "../db/schema";
import type { AppEnv } from "../env";
import { randomToken } from "../lib/crypto";
import { type FieldErrors, validated, validForm } from "../lib/forms";
import { isHtmx, wantsFragment } from "../lib/htmx";
import { addCalendarDays, calendarDateInZone, calendarDaysBetween, parseCalendarDate } from "../lib/time";
import { registrationsGridUrl } from "../paths";
import { loadDailyUsage, loadUsage } from "../usage/queries";
import { bulkRoutes } from "./bulk-routes";
import { gridRoutes } from "./grid-routes";
import { findIdempotencyKey } from "./idempotency";
import { renewedDate } from "./lifecycle";
import {
  createRegistration,
  deleteRegistration,
  editableFields,
  expirationRules,
  findByClientId,
  findRegistration,
  registrationVersion,
  setRegistrationEnabled,
  updateRegistration,
} from "./service";
import {
  checkExpirationDate,
  DEFAULT_LIFETIME_MINUTES,
  DEFAULT_SCOPES,
  formValuesFromRaw,
  type RegistrationFormErrors,
  type RegistrationFormInput,
  type RegistrationFormValues,
  registrationCreateForm,
  registrationEditForm,
} from "./validation";

/** `/sites/:site/settings/iam/app-registrations` of the request's Site. */
export const catalogPath = (site: Pick<Site, "slug">) => registrationsGridUrl(site.slug);

function catalogCrumbs(site: Site, leaf?: Crumb): Crumb[] {
  const crumbs = siteCrumbs(site, "iam", { label: "App registrations", href: catalogPath(site) });
  return leaf ? [...crumbs, leaf] : crumbs;
}

const NOT_FOUND = "There is no such App registration in this Site.";

/** A registration id in the path: digits, within range. Anything else (or another Site's id) is a 404 (§10). */
const idParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
const validId = validated("param", idParam, () => {
  throw new HTTPException(404, { message: NOT_FOUND });
});

async function loadOwned(c: Context<AppEnv>, id: number): Promise<AppRegistration> {
  const { site } = c.var.siteContext;
  const registration = await findRegistration(createDb(c.env.DB), site.id, id);
  if (!registration) throw new HTTPException(404, { message: NOT_FOUND });
  return registration;
}

function dateLimits(site: Site, now: number) {
  const today = calendarDateInZone(now, site.timeZone);
  return { minDate: addCalendarDays(today, 1), maxDate: addCalendarDays(today, site.maxRegistrationDays) };
}

/** On edit, a stored date beyond today's cap (the Site lowered it since) may stay: the browser must not block it. */
function editDateLimits(site: Site, registration: AppRegistration, now: number) {
  const limits = dateLimits(site, now);
  const stored = registration.expirationDate;
  return { ...limits, maxDate: calendarDaysBetween(limits.maxDate, stored) > 0 ? stored : limits.maxDate };
}

function valuesOf(input: RegistrationFormInput): RegistrationFormValues {
  return { ...input, lifetimeMinutes: String(input.lifetimeMinutes) };
}

function valuesOfRow(reg: AppRegistration): RegistrationFormValues {
  const fields = editableFields(reg);
  return {
    name: fields.name,
    description: fields.description,
    expirationDate: fields.expirationDate,
    enabled: fields.enabled,
    scopes: fields.scopes,
    lifetimeMinutes: String(Math.round(fields.accessTokenLifetime / 60)),
  };
}

/** Every problem of a refused form: format and range (zod) plus the Site-and-clock rule for the date. */
function allErrors(
  fieldErrors: FieldErrors,
  raw: Record<string, unknown>,
  site: Site,
  now: number,
  unchangedDate?: string,
): RegistrationFormErrors {
  const errors: RegistrationFormErrors = { ...fieldErrors };
  if (!errors.expirationDate && typeof raw.expirationDate === "string") {
    const dateError = checkExpirationDate(raw.expirationDate.trim(), expirationRules(site, now, unchangedDate));
    if (dateError) errors.expirationDate = dateError;
  }
  return errors;
}

function renderCreateForm(
  c: Context<AppEnv>,
  values: RegistrationFormValues,
  errors: RegistrationFormErrors,
  status: 200 | 422,
  formToken: string = randomToken(16),
) {
  const { site } = c.var.siteContext;
  c.status(status);
  return c.render(
    <NewRegistrationPage
      siteName={site.name}
      action={`${catalogPath(site)}/new`}
      cancelHref={catalogPath(site)}
      csrfToken={csrfOf(c)}
      values={values}
      errors={errors}
      formToken={formToken}
      timeZone={site.timeZone}
      {...dateLimits(site, c.var.now)}
    />,
    { title: `New App registration · ${site.name}`, breadcrumbs: catalogCrumbs(site, { label: "New registration" }) },
  );
}

function renderEditForm(
  c: Context<AppEnv>,
  registration: AppRegistration,
  values: RegistrationFormValues,
  errors: RegistrationFormErrors,
  version: string,
  status: 200 | 409 | 422,
) {
  const { site } = c.var.siteContext;
  const page = `${catalogPath(site)}/${registration.id}`;
  c.status(status);
  return c.render(
    <EditRegistrationPage
      registrationName={registration.name}
      clientId={registration.clientId}
      action={`${page}/edit`}
      cancelHref={page}
      csrfToken={csrfOf(c)}
      values={values}
      errors={errors}
      version={version}
      timeZone={site.timeZone}
      {...editDateLimits(site, registration, c.var.now)}
    />,
    {
      title: `Edit ${registration.name} · ${site.name}`,
      breadcrumbs: catalogCrumbs(site, { label: registration.name, href: page }).concat({ label: "Edit" }),
    },
  );
}

const PAGE_NOTICES: Record<string, string> = {
  saved: "Changes saved.",
  unchanged: "Nothing to save: the values were already these.",
  enabled: "Enabled: the registration accepts token requests again.",
  disabled: "Disabled: token requests with this Client ID fail until it is enabled again.",
  "secret-revoked": "The Client secret was revoked: token requests sending it fail.",
  renewed: "Renewed: the new Expiration date is below. The Client ID and Client secret stay the same.",
};

const renewForm = z.object({
  extend: z.enum(["30d", "90d", "1y", "date"], { error: "Choose +30 days, +90 days, +1 year or a date." }),
  date: z.string().optional(),
});

const enabledForm = z.object({ enabled: z.enum(["true", "false"], { error: "Send enabled=true or enabled=false." }) });

const placeSiteGrid = (c: Context<AppEnv>) => {
  const { site } = c.var.siteContext;
  return {
    source: { scope: "site" as const, site },
    base: catalogPath(site),
    title: `App registrations · ${site.name}`,
    heading: "App registrations",
    breadcrumbs: catalogCrumbs(site),
    intro: `${site.name} · dates and times in ${site.timeZone}`,
    newHref: `${catalogPath(site)}/new`,
    timeZone: site.timeZone,
  };
};

/**
 * App registrations catalog (Admin Center › Site Settings › IAM › App registrations, §4). Mounted behind
 * requireSite("admin"): Site Users never get here (403); every lookup below also filters by the Site's id, so an id
 * of another Site is a 404 (§10).
 */
export const registrationRoutes = new Hono<AppEnv>()
  .route("/", gridRoutes("site", placeSiteGrid))
  .route("/bulk", bulkRoutes)
  .get("/new", (c) =>
    renderCreateForm(
      c,
      {
        name: "",
        description: "",
        expirationDate: "",
        enabled: true,
        scopes: [...DEFAULT_SCOPES],
        lifetimeMinutes: String(DEFAULT_LIFETIME_MINUTES),
      },
      {},
      200,
    ),
  )
  .post(
    "/new",
    validForm(registrationCreateForm, (c, sent, fieldErrors) => {
      const { site } = c.var.siteContext;
      const errors = allErrors(fieldErrors, sent, site, c.var.now);
      // The same token again: an invalid form created nothing, so it may still be used.
      const token =
        typeof sent.formToken === "string" && /^[A-Za-z0-9_-]{16,64}$/.test(sent.formToken)
          ? sent.formToken
          : undefined;
      return renderCreateForm(c, formValuesFromRaw(sent), errors, 422, token);
    }),
    async (c) => {
      const { site } = c.var.siteContext;
      const { formToken, ...input } = c.req.valid("form");
      const db = createDb(c.env.DB);
      const actor = actorOf(c);
      const owner = `user:${actor.id}`;
      const alreadyCreated = async () => {
        if (!formToken) return null;
        const seen = await findIdempotencyKey(db, owner, formToken, c.var.now);
        if (!seen) return null;
        const existing = await findByClientId(db, site.id, seen.clientId);
        return c.render(
          <AlreadyCreatedPage
            name={existing?.name ?? null}
            registrationHref={existing ? `${catalogPath(site)}/${existing.id}` : null}
            gridHref={catalogPath(site)}
          />,
          { title: `Already created · ${site.name}`, breadcrumbs: catalogCrumbs(site, { label: "Already created" }) },
        );
      };
      const again = await alreadyCreated();
      if (again) return again;
      let created: Awaited<ReturnType<typeof createRegistration>>;
      try {
        created = await createRegistration(
          db,
          c.env.SECRET_PEPPER,
          {
            site,
            actor,
            input,
            // The token is spent in the same batch: a second send of this form finds it and creates nothing.
            alongside: (clientId) =>
              formToken
                ? [
                    db.insert(apiIdempotencyKeys).values({
                      callerClientId: owner,
                      key: formToken,
                      requestHash: "",
                      clientId,
                      createdAt: c.var.now,
                    }),
                  ]
                : [],
          },
          c.var.now,
        );
      } catch (error) {
        // Two sends at once: the second batch failed as a whole on the spent token.
        const raced = await alreadyCreated();
        if (raced) return raced;
        throw error;
      }
      if (!created.ok) return renderCreateForm(c, valuesOf(input), created.errors, 422, formToken);
      // §4: the secret page answers this POST itself: no redirect carries the secret, and nothing stores it.
      c.header("Pragma", "no-cache");
      c.status(201);
      const page = `${catalogPath(site)}/${created.registration.id}`;
      return c.render(
        <SecretOncePage
          registration={created.registration}
          clientSecret={created.clientSecret}
          registrationHref={page}
          gridHref={catalogPath(site)}
        />,
        { title: `Registration created · ${site.name}`, breadcrumbs: catalogCrumbs(site, { label: "Created" }) },
      );
    },
  )
  .get("/:id{[0-9]+}", validId, async (c) => {
    const { site } = c.var.siteContext;
    const registration = await loadOwned(c, c.req.valid("param").id);
    const db = createDb(c.env.DB);
    const keysRead = listClientKeys(db, site.id, registration.id);
    const [audit, health, keys, secrets, usage] = await Promise.all([
      listAuditTrail(db, { type: "registration", siteId: site.id, registrationId: registration.id }),
      loadRegistrationHealth(db, site.id, registration.clientId, c.var.now),
      keysRead,
      secretsSectionProps(c, registration, {}, keysRead),
      loadUsage(
        c.env.DB,
        { kind: "registration", siteId: site.id, registrationId: registration.id, clientId: registration.clientId },
        c.var.now,
      ),
    ]);
    return c.render(
      <RegistrationPage
        site={site}
        registration={registration}
        base={catalogPath(site)}
        csrfToken={csrfOf(c)}
        now={c.var.now}
        audit={audit}
        health={health ? <RegistrationHealth health={health} site={site} /> : undefined}
        clientSecrets={<ClientSecretsSection {...secrets} />}
        usage={
          <UsageSection
            summary={usage}
            name={registration.name}
            csvHref={`${catalogPath(site)}/${registration.id}/usage.csv`}
          />
        }
        publicKeys={
          <ClientKeysSection
            site={site}
            registration={registration}
            keys={keys}
            csrfToken={csrfOf(c)}
            now={c.var.now}
          />
        }
        notice={PAGE_NOTICES[c.req.query("notice") ?? ""]}
      />,
      { title: `${registration.name} · ${site.name}`, breadcrumbs: catalogCrumbs(site, { label: registration.name }) },
    );
  })
  .get("/:id{[0-9]+}/usage.csv", validId, async (c) => {
    const { site } = c.var.siteContext;
    const registration = await loadOwned(c, c.req.valid("param").id);
    const days = await loadDailyUsage(c.env.DB, registration, c.var.now);
    // The security log's CSV rules: a UTF-8 byte order mark, and no cell a spreadsheet would run as a formula.
    const lines = [
      csvLine(["Day (UTC)", "Registration", "Client ID", "Tokens", "Failures"]),
      ...days.map((d) => csvLine([d.date, registration.name, registration.clientId, d.tokens, d.failures])),
    ];
    const file = `usage-${site.slug}-${registration.clientId}-${calendarDateInZone(c.var.now, "UTC")}.csv`;
    return c.body(`\uFEFF${lines.join("")}`, 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${file}"`,
    });
  })
  .get("/:id{[0-9]+}/edit", validId, async (c) => {
    const registration = await loadOwned(c, c.req.valid("param").id);
    return renderEditForm(c, registration, valuesOfRow(registration), {}, await registrationVersion(registration), 200);
  })
  .post(
    "/:id{[0-9]+}/edit",
    validId,
    validForm(registrationEditForm, async (c, sent, fieldErrors) => {
      const { site } = c.var.siteContext;
      const registration = await loadOwned(c, Number(c.req.param("id")));
      const errors = allErrors(fieldErrors, sent, site, c.var.now, registration.expirationDate);
      const sentVersion = typeof sent.version === "string" ? sent.version : "";
      const version = /^[0-9a-f]{16}$/.test(sentVersion) ? sentVersion : await registrationVersion(registration);
      return renderEditForm(c, registration, formValuesFromRaw(sent), errors, version, 422);
    }),
    async (c) => {
      const { site } = c.var.siteContext;
      const { id } = c.req.valid("param");
      const { version, ...input } = c.req.valid("form");
      const db = createDb(c.env.DB);
      const result = await updateRegistration(db, { site, actor: actorOf(c), id, version, input }, c.var.now);
      const page = `${catalogPath(site)}/${id}`;
      switch (result.kind) {
        case "not_found":
          throw new HTTPException(404, { message: NOT_FOUND });
        case "invalid": {
          const registration = await loadOwned(c, id);
          return renderEditForm(c, registration, valuesOf(input), result.errors, version, 422);
        }
        case "conflict":
          return renderEditForm(
            c,
            result.current,
            valuesOf(input),
            {
              form: "Someone changed this registration after you opened this form (see its audit trail). Check the values below and save again.",
            },
            await registrationVersion(result.current),
            409,
          );
        case "unchanged":
          return c.redirect(`${page}?notice=unchanged`, 303);
        case "updated":
          return c.redirect(`${page}?notice=saved`, 303);
      }
    },
  )
  .post(
    "/:id{[0-9]+}/enabled",
    validId,
    validForm(enabledForm, () => {
      throw new HTTPException(400, { message: "Send enabled=true or enabled=false." });
    }),
    async (c) => {
      const { site } = c.var.siteContext;
      const { id } = c.req.valid("param");
      const enabled = c.req.valid("form").enabled === "true";
      const db = createDb(c.env.DB);
      const result = await setRegistrationEnabled(db, { site, actor: actorOf(c), id, enabled }, c.var.now);
      if (result.kind === "not_found") throw new HTTPException(404, { message: NOT_FOUND });
      if (!wantsFragment(c)) {
        const notice = result.kind === "changed" ? (enabled ? "enabled" : "disabled") : "unchanged";
        return c.redirect(`${catalogPath(site)}/${id}?notice=${notice}`, 303);
      }
      // htmx: the status section in place, and the audit trail (out of band) with the new entry.
      const audit = await listAuditTrail(db, { type: "registration", siteId: site.id, registrationId: id });
      return c.html(
        <>
          <StatusSection
            site={site}
            registration={result.registration}
            base={catalogPath(site)}
            csrfToken={csrfOf(c)}
            now={c.var.now}
          />
          <RegistrationAuditTrail rows={audit} timeZone={site.timeZone} oob />
        </>,
      );
    },
  )
  .post(
    "/:id{[0-9]+}/renew",
    validId,
    validForm(renewForm, () => {
      throw new HTTPException(400, { message: "Choose +30 days, +90 days, +1 year or a date." });
    }),
    async (c) => {
      const { site } = c.var.siteContext;
      const { id } = c.req.valid("param");
      const form = c.req.valid("form");
      const current = await loadOwned(c, id);
      const today = calendarDateInZone(c.var.now, site.timeZone);
      const date =
        form.extend === "date" ? (form.date ?? "").trim() : renewedDate(current.expirationDate, today, form.extend);
      const fields = valuesOfRow(current);
      const version = await registrationVersion(current);
      const input = {
        ...fields,
        scopes: fields.scopes as RegistrationFormInput["scopes"],
        expirationDate: date,
        lifetimeMinutes: Number(fields.lifetimeMinutes),
      };
      const refused = (errors: RegistrationFormErrors) =>
        renderEditForm(c, current, { ...fields, expirationDate: date }, errors, version, 422);
      if (!date) return refused({ expirationDate: "Enter the date to renew until." });
      if (!parseCalendarDate(date)) return refused({ expirationDate: "Enter a real date as YYYY-MM-DD." });
      const errors = allErrors({}, { expirationDate: date }, site, c.var.now, current.expirationDate);
      if (errors.expirationDate) return refused(errors);
      const db = createDb(c.env.DB);
      const result = await updateRegistration(db, { site, actor: actorOf(c), id, version, input }, c.var.now);
      switch (result.kind) {
        case "not_found":
          throw new HTTPException(404, { message: NOT_FOUND });
        case "invalid":
          return refused(result.errors);
        case "conflict":
          return refused({ form: "Someone changed this registration meanwhile. Check the values and save again." });
        default:
          return c.redirect(
            `${catalogPath(site)}/${id}?notice=${result.kind === "updated" ? "renewed" : "unchanged"}`,
            303,
          );
      }
    },
  )
  .get("/:id{[0-9]+}/delete", validId, async (c) => {
    const { site } = c.var.siteContext;
    const registration = await loadOwned(c, c.req.valid("param").id);
    const page = `${catalogPath(site)}/${registration.id}`;
    return c.render(
      <DeleteConfirmPage
        registration={registration}
        action={`${page}/delete`}
        cancelHref={page}
        csrfToken={csrfOf(c)}
      />,
      {
        title: `Delete ${registration.name} · ${site.name}`,
        breadcrumbs: catalogCrumbs(site, { label: registration.name, href: page }).concat({ label: "Delete" }),
      },
    );
  })
  .post("/:id{[0-9]+}/delete", validId, async (c) => {
    const { site } = c.var.siteContext;
    const db = createDb(c.env.DB);
    const result = await deleteRegistration(db, { site, actor: actorOf(c), id: c.req.valid("param").id }, c.var.now);
    if (result.kind === "not_found") throw new HTTPException(404, { message: NOT_FOUND });
    const target = `${catalogPath(site)}?notice=deleted`;
    if (isHtmx(c)) {
      // fetch() would follow a 303 and swap the grid into the page; htmx navigates on HX-Redirect instead.
      c.header("HX-Redirect", target);
      return c.body(null, 204);
    }
    return c.redirect(target, 303);
  });
