import type { Child } from "hono/jsx";
import type { AuditRow } from "../../src/audit/admin-audit";
import type { AppRegistration, Site } from "../../src/db/schema";
import { expiresLabel, registrationState } from "../../src/registrations/lifecycle";
import { AuditTrail } from "../components/audit-trail";
import { CopyButton } from "../components/copy-button";
import { CsrfField, Notice } from "../components/form";
import { formatLifetime } from "../components/format";
import { When } from "../components/when";
import { StateBadge } from "./format";

export const STATUS_ID = "registration-status";
export const AUDIT_ID = "audit-trail";

interface Props {
  site: Site;
  registration: AppRegistration;
  base: string;
  csrfToken: string;
  now: number;
}

/** State, Enabled and Expires, with the enable/disable control; htmx replaces just this section (§4). */
export function StatusSection({ site, registration, base, csrfToken, now }: Props) {
  const state = registrationState(registration, now);
  const action = `${base}/${registration.id}/enabled`;
  return (
    <section id={STATUS_ID} class="card status-section" aria-labelledby="status-heading">
      <h2 id="status-heading">Status</h2>
      <dl class="details">
        <dt>State</dt>
        <dd>
          <StateBadge state={state} />
        </dd>
        <dt>Enabled</dt>
        <dd>{registration.enabled ? "Yes" : "No"}</dd>
        <dt>Expires</dt>
        <dd>{expiresLabel(registration, site.timeZone, now)}</dd>
      </dl>
      {state === "Expired" ? (
        <p class="hint">
          Token requests with this Client ID fail. Renew it by moving the Expiration date forward: the Client ID and the
          Client secret stay the same.
        </p>
      ) : state === "Disabled" ? (
        <p class="hint">Token requests with this Client ID fail until it is enabled again.</p>
      ) : null}
      <form method="post" action={action} hx-post={action} hx-target={`#${STATUS_ID}`} hx-swap="outerHTML">
        <CsrfField token={csrfToken} />
        <input type="hidden" name="enabled" value={registration.enabled ? "false" : "true"} />
        <button type="submit" class={registration.enabled ? "secondary" : "primary"}>
          {registration.enabled ? "Disable" : "Enable"}
        </button>
      </form>
      <RenewForm action={`${base}/${registration.id}/renew`} csrfToken={csrfToken} urgent={state === "Expired"} />
    </section>
  );
}

/**
 * Renew in one post (works without JavaScript): +30 days, +90 days or +1 year from the later of today and the current
 * Expiration date, or until a chosen date. The Client ID and secrets stay the same (§3).
 */
function RenewForm({ action, csrfToken, urgent }: { action: string; csrfToken: string; urgent: boolean }) {
  const kind = urgent ? "primary" : "secondary";
  return (
    <form method="post" action={action} class="renew-form">
      <CsrfField token={csrfToken} />
      <fieldset>
        <legend>Renew</legend>
        <button type="submit" name="extend" value="30d" class={kind}>
          +30 days
        </button>{" "}
        <button type="submit" name="extend" value="90d" class={kind}>
          +90 days
        </button>{" "}
        <button type="submit" name="extend" value="1y" class={kind}>
          +1 year
        </button>
        <span class="renew-date">
          <label for="renew-date">or until</label> <input id="renew-date" name="date" type="date" />{" "}
          <button type="submit" name="extend" value="date" class="secondary">
            Renew until this date
          </button>
        </span>
      </fieldset>
    </form>
  );
}

/** §4 registration page: every field, the state, edit/renew, enable/disable, delete and the audit trail. */
export function RegistrationPage(
  props: Props & {
    audit: AuditRow[];
    notice?: string;
    health?: Child;
    usage?: Child;
    clientSecrets?: Child;
    publicKeys?: Child;
  },
) {
  const { site, registration: reg, base } = props;
  const page = `${base}/${reg.id}`;
  const scopes = reg.scopes.split(" ").filter(Boolean);
  return (
    <article class="catalog registration">
      <h1>{reg.name}</h1>
      <Notice text={props.notice} />
      <StatusSection {...props} />
      <section class="card" aria-labelledby="details-heading">
        <h2 id="details-heading">Details</h2>
        <dl class="details">
          <dt>Name</dt>
          <dd>{reg.name}</dd>
          <dt>Description</dt>
          <dd>{reg.description || <span class="muted">None</span>}</dd>
          <dt>Client ID</dt>
          <dd class="client-id">
            <code id="registration-client-id">{reg.clientId}</code>{" "}
            <CopyButton target="registration-client-id" what="the Client ID" />
          </dd>
          <dt>Client secret</dt>
          <dd class="muted">
            Shown once when issued; only its hint is kept. <a href="#client-secrets">Client secrets</a>
          </dd>
          <dt>Registration date</dt>
          <dd>
            <When at={reg.createdAt} timeZone={site.timeZone} relativeTo={props.now} />
          </dd>
          <dt>Expiration date</dt>
          <dd>
            {reg.expirationDate}{" "}
            <span class="muted">
              (token requests stop at <When at={reg.expiresAt} timeZone={site.timeZone} />)
            </span>
          </dd>
          <dt>Scopes</dt>
          <dd>
            {scopes.map((s, i) => (
              <>
                {i > 0 ? ", " : ""}
                <code>{s}</code>
              </>
            ))}
          </dd>
          <dt>Access token lifetime</dt>
          <dd>{formatLifetime(reg.accessTokenLifetime)}</dd>
          <dt>Last used</dt>
          <dd>
            {reg.lastUsedAt === null ? (
              <span class="muted">Not used yet</span>
            ) : (
              <When at={reg.lastUsedAt} timeZone={site.timeZone} relativeTo={props.now} />
            )}
          </dd>
        </dl>
        <p class="form-actions">
          <a class="button primary" href={`${page}/edit`}>
            Edit
          </a>
          <a class="button secondary" href={`${page}/edit#expiration-date`}>
            Renew (change the Expiration date)
          </a>
          <a href={`${page}/keys`}>Public keys (private_key_jwt)</a>
        </p>
      </section>
      {props.health}
      {props.usage}
      {props.clientSecrets}
      {props.publicKeys}
      <section class="card danger-zone" aria-labelledby="delete-heading">
        <h2 id="delete-heading">Delete</h2>
        <p>
          Deleting removes the registration and its Client secrets: token requests with its Client ID fail at once.
          Security-log rows about it stay.
        </p>
        {/* Without JavaScript this opens the confirmation page; with htmx it asks, then posts. */}
        <form
          method="get"
          action={`${page}/delete`}
          hx-post={`${page}/delete`}
          hx-confirm={`Delete the App registration “${reg.name}”? Its Client ID stops working at once. This cannot be undone.`}
        >
          <button type="submit" class="danger">
            Delete registration…
          </button>
        </form>
      </section>
      <RegistrationAuditTrail rows={props.audit} timeZone={site.timeZone} />
    </article>
  );
}

/** The confirmation step of delete when JavaScript is off (and a shareable "are you sure?" page). */
export function DeleteConfirmPage({
  registration,
  action,
  cancelHref,
  csrfToken,
}: {
  registration: AppRegistration;
  action: string;
  cancelHref: string;
  csrfToken: string;
}) {
  return (
    <section class="catalog card narrow">
      <h1>Delete “{registration.name}”?</h1>
      <p>
        Client ID <code>{registration.clientId}</code> stops working at once, and its Client secret is destroyed. This
        cannot be undone. Security-log rows about it stay.
      </p>
      <form method="post" action={action} class="form-actions">
        <CsrfField token={csrfToken} />
        <button type="submit" class="danger">
          Delete
        </button>
        <a href={cancelHref}>Cancel</a>
      </form>
    </section>
  );
}

/** The registration's audit trail, which htmx swaps out of band after a change on its page. */
export function RegistrationAuditTrail(props: { rows: AuditRow[]; timeZone: string; oob?: boolean }) {
  return <AuditTrail {...props} id={AUDIT_ID} headingId="audit-heading" heading="Audit trail" />;
}
