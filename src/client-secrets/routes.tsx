import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import {
  ClientSecretsSection,
  type ClientSecretsSectionProps,
  RevokeSecretConfirmation,
  revokeConsequence,
} from "../../views/client-secrets/section";
import { When } from "../../views/components/when";
import { RegistrationAuditTrail } from "../../views/registrations/page";
import { SecretOncePage } from "../../views/registrations/secret";
import { siteCrumbs } from "../../views/shell/pages";
import { listAuditTrail } from "../audit/admin-audit";
import { actorOf, csrfOf } from "../auth/guards";
import { type ClientKeySummary, listClientKeys } from "../client-keys/repository";
import { createDb } from "../db/client";
import type { AppEnv } from "../env";
import { validated, validForm } from "../lib/forms";
import { wantsFragment } from "../lib/htmx";
import { clientSecretsUrl, registrationsGridUrl, registrationUrl } from "../paths";
import { findRegistration } from "../registrations/service";
import { hintLabel, isLiveSecret, OLD_SECRET_STOPS, secretState } from "./policy";
import {
  type ClientSecretSummary,
  findClientSecret,
  issueClientSecret,
  listClientSecrets,
  revokeClientSecret,
} from "./repository";

const NOT_FOUND = "There is no such App registration in this Site.";
const NO_SUCH_SECRET = "This registration has no such Client secret.";

const ids = z.object({
  id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  secretId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
});
const validIds = validated("param", ids, () => {
  throw new HTTPException(404, { message: NOT_FOUND });
});

const newSecretForm = z.object({
  basis: z.string().regex(/^(0|[1-9][0-9]{0,14})$/, "The form is damaged: reload the registration's page."),
  oldSecretStops: z.enum(OLD_SECRET_STOPS, {
    error: "Choose when the old secret stops working: in 7 days, in 1 day, in 30 days, now, or never.",
  }),
});

type Owner = { id: number; name: string; clientId: string };

/** The registration named by `:id`, only within the current Site: any other id is 404 (§10 Site ownership). */
async function loadOwner(c: Context<AppEnv>, id: number): Promise<Owner> {
  const registration = await findRegistration(createDb(c.env.DB), c.var.siteContext.site.id, id);
  if (!registration) throw new HTTPException(404, { message: NOT_FOUND });
  return registration;
}

/** Everything the section shows: the secrets still listed and whether a public key can stand in for them. */
export async function secretsSectionProps(
  c: Context<AppEnv>,
  owner: { id: number; name: string },
  extra: Pick<ClientSecretsSectionProps, "notice" | "error"> = {},
  /** The registration's keys when the caller reads them anyway (the registration page): one read, not two. */
  knownKeys?: Promise<ClientKeySummary[]>,
): Promise<ClientSecretsSectionProps> {
  const { site } = c.var.siteContext;
  const db = createDb(c.env.DB);
  const now = c.var.now;
  const [secrets, keys] = await Promise.all([
    listClientSecrets(db, site.id, owner.id, now),
    knownKeys ?? listClientKeys(db, site.id, owner.id),
  ]);
  return {
    site,
    registration: { id: owner.id, name: owner.name },
    secrets,
    hasLiveKey: keys.some((k) => k.expiresAt === null || k.expiresAt > now),
    csrfToken: csrfOf(c),
    now,
    ...extra,
  };
}

function crumbs(c: Context<AppEnv>, owner: Owner, leaf: string) {
  const { site } = c.var.siteContext;
  return [
    ...siteCrumbs(site, "iam", { label: "App registrations", href: registrationsGridUrl(site.slug) }),
    { label: owner.name, href: registrationUrl(site.slug, owner.id) },
    { label: leaf },
  ];
}

/** The section alone (htmx) or on its own page (a refusal without JavaScript, or a bookmark). */
async function respond(c: Context<AppEnv>, owner: Owner, props: ClientSecretsSectionProps, status: 200 | 409 | 422) {
  if (wantsFragment(c)) return c.html(<ClientSecretsSection {...props} />, status);
  c.status(status);
  return c.render(
    <article class="catalog">
      <h1>Client secrets · {owner.name}</h1>
      <p>
        <a href={registrationUrl(c.var.siteContext.site.slug, owner.id)}>Back to the registration</a>
      </p>
      <ClientSecretsSection {...props} />
    </article>,
    { title: `Client secrets · ${owner.name}`, breadcrumbs: crumbs(c, owner, "Client secrets") },
  );
}

/** What the new-secret page says happened to the secret that was live before. */
function PreviousSecret(props: { previous: ClientSecretSummary | null; timeZone: string; now: number }) {
  const { previous, timeZone, now } = props;
  if (!previous) return <p>There was no live secret before: this is now the registration's only secret.</p>;
  const hint = <code>{hintLabel(previous.hint)}</code>;
  if (previous.expiresAt === null) {
    return <p>The previous secret {hint} keeps working too, without expiry, until it is revoked.</p>;
  }
  if (secretState(previous, now) !== "Live") {
    return <p>The previous secret {hint} stopped working now.</p>;
  }
  return (
    <p>
      The previous secret {hint} keeps working until <When at={previous.expiresAt} timeZone={timeZone} />: switch every
      consumer to the new secret before then.
    </p>
  );
}

const REFUSALS = {
  too_many_live: "Two secrets are live already. Revoke one of them before issuing another.",
  stale:
    "This form was already used or is out of date: the registration's secrets changed since it was shown (see the list below). Nothing was changed.",
} as const;

/**
 * Client secrets of one App registration (§2 rotation), mounted at
 * `/sites/:site/settings/iam/app-registrations/:id/secrets`. Site Administrators and Global Administrators only (the
 * IAM guard in app.ts; Site Users get 403); every query is scoped by the Site and the registration id.
 */
export const clientSecretRoutes = new Hono<AppEnv>()
  .get("/", validIds, async (c) => {
    const owner = await loadOwner(c, c.req.valid("param").id);
    return respond(c, owner, await secretsSectionProps(c, owner), 200);
  })
  .post(
    "/",
    validIds,
    validForm(newSecretForm, async (c, _sent, errors) => {
      const owner = await loadOwner(c, Number(c.req.param("id")));
      const error = errors.oldSecretStops ?? errors.basis ?? "The form is damaged: reload the registration's page.";
      return respond(c, owner, await secretsSectionProps(c, owner, { error }), 422);
    }),
    async (c) => {
      const { site } = c.var.siteContext;
      const owner = await loadOwner(c, c.req.valid("param").id);
      const form = c.req.valid("form");
      const now = c.var.now;
      const result = await issueClientSecret(
        createDb(c.env.DB),
        c.env.SECRET_PEPPER,
        {
          siteId: site.id,
          siteTimeZone: site.timeZone,
          registrationId: owner.id,
          basis: Number(form.basis) || null,
          oldSecretStops: form.oldSecretStops,
          actor: actorOf(c),
        },
        now,
      );
      if (!result.ok) {
        if (result.reason === "registration_not_found") throw new HTTPException(404, { message: NOT_FOUND });
        return respond(c, owner, await secretsSectionProps(c, owner, { error: REFUSALS[result.reason] }), 409);
      }
      // Like creation (§4): the secret page answers this POST itself; no redirect carries the secret.
      c.header("Pragma", "no-cache");
      c.status(201);
      return c.render(
        <SecretOncePage
          registration={owner}
          clientSecret={result.clientSecret}
          registrationHref={`${registrationUrl(site.slug, owner.id)}#client-secrets`}
          gridHref={registrationsGridUrl(site.slug)}
          heading="New client secret issued"
          lead={
            <>
              <p>
                Give this secret to the consumers of “{owner.name}”. The Client ID, Expiration date, scopes and keys are
                unchanged.
              </p>
              <PreviousSecret previous={result.previous} timeZone={site.timeZone} now={now} />
            </>
          }
        />,
        { title: `New client secret · ${owner.name}`, breadcrumbs: crumbs(c, owner, "New client secret") },
      );
    },
  )
  .get("/:secretId/revoke", validIds, async (c) => {
    const { site } = c.var.siteContext;
    const { id, secretId } = c.req.valid("param");
    const owner = await loadOwner(c, id);
    const props = await secretsSectionProps(c, owner);
    const secret = props.secrets.find((s) => s.id === secretId);
    if (!secret) throw new HTTPException(404, { message: NO_SUCH_SECRET });
    if (!isLiveSecret(secret, c.var.now)) {
      return respond(c, owner, { ...props, error: `The secret ${hintLabel(secret.hint)} is not live any more.` }, 409);
    }
    const live = props.secrets.filter((s) => isLiveSecret(s, c.var.now));
    return c.render(
      <RevokeSecretConfirmation
        registration={owner}
        secret={secret}
        action={`${clientSecretsUrl(site.slug, owner.id)}/${secret.id}/revoke`}
        cancelHref={`${registrationUrl(site.slug, owner.id)}#client-secrets`}
        csrfToken={csrfOf(c)}
        consequence={revokeConsequence(live.length === 1, props.hasLiveKey)}
      />,
      { title: `Revoke secret · ${owner.name}`, breadcrumbs: crumbs(c, owner, "Revoke secret") },
    );
  })
  .post("/:secretId/revoke", validIds, async (c) => {
    const { site } = c.var.siteContext;
    const { id, secretId } = c.req.valid("param");
    const owner = await loadOwner(c, id);
    const db = createDb(c.env.DB);
    const result = await revokeClientSecret(
      db,
      { siteId: site.id, registrationId: owner.id, secretId: secretId ?? 0, actor: actorOf(c) },
      c.var.now,
    );
    if (!result.ok && result.reason === "not_found") throw new HTTPException(404, { message: NO_SUCH_SECRET });
    if (!result.ok) {
      const secret = await findClientSecret(db, site.id, owner.id, secretId ?? 0, c.var.now);
      const error = `The secret ${hintLabel(secret?.hint ?? null)} is not live any more: nothing was changed.`;
      return respond(c, owner, await secretsSectionProps(c, owner, { error }), 409);
    }
    if (!wantsFragment(c)) {
      return c.redirect(`${registrationUrl(site.slug, owner.id)}?notice=secret-revoked#client-secrets`, 303);
    }
    // htmx: the section in place, and the audit trail (out of band) with the new entry.
    const notice = `The secret ${hintLabel(result.secret.hint)} was revoked.`;
    const audit = await listAuditTrail(db, { type: "registration", siteId: site.id, registrationId: owner.id });
    return c.html(
      <>
        <ClientSecretsSection {...(await secretsSectionProps(c, owner, { notice }))} />
        <RegistrationAuditTrail rows={audit} timeZone={site.timeZone} oob />
      </>,
    );
  });
