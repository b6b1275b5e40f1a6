import type { Child } from "hono/jsx";
import type { AuditTrailEntry, AuditValue } from "../../src/audit/admin-audit";
import type { AppRegistration, Site } from "../../src/db/schema";
import { expiresLabel, registrationState } from "../../src/registrations/lifecycle";
import { CsrfField, Notice } from "../components/form";
import { formatLifetime, StateBadge, When } from "./format";

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
    </section>
  );
}

const FIELD_LABELS: Record<string, string> = {
  name: "Name",
  description: "Description",
  expirationDate: "Expiration date",
  enabled: "Enabled",
  scopes: "Scopes",
  accessTokenLifetime: "Access token lifetime",
  clientId: "Client ID",
  kid: "Key ID (kid)",
  alg: "Algorithm",
  fingerprint: "Fingerprint",
  expires: "Key expiry",
};

const ACTION_LABELS: Record<string, string> = {
  created: "Created",
  updated: "Updated",
  enabled: "Enabled",
  disabled: "Disabled",
  deleted: "Deleted",
  add: "Public key added",
  remove: "Public key removed",
};

function show(field: string, value: AuditValue): string {
  if (value === null) return "—";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (Array.isArray(value)) return value.join(", ");
  if (field === "accessTokenLifetime" && typeof value === "number") return formatLifetime(value);
  if (field === "description" && value === "") return "(none)";
  return String(value);
}

/** Who changed what, when (§4); values are shown as text, never as markup. */
export function AuditTrail({
  entries,
  timeZone,
  oob,
}: {
  entries: AuditTrailEntry[];
  timeZone: string;
  oob?: boolean;
}) {
  return (
    <section id={AUDIT_ID} class="audit-trail" aria-labelledby="audit-heading" hx-swap-oob={oob ? "true" : undefined}>
      <h2 id="audit-heading">Audit trail</h2>
      {entries.length === 0 ? (
        <p class="muted">No changes recorded.</p>
      ) : (
        <table class="grid audit">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr>
                <td>
                  <When at={e.at} timeZone={timeZone} />
                </td>
                <td>{e.actorEmail}</td>
                <td>
                  <strong>{ACTION_LABELS[e.action] ?? e.action}</strong>
                  <ul class="changes">
                    {Object.entries(e.changes).map(([field, [before, after]]) => (
                      <li>
                        {FIELD_LABELS[field] ?? field}:{" "}
                        {e.action === "created" || e.action === "add" ? (
                          show(field, after)
                        ) : e.action === "deleted" || e.action === "remove" ? (
                          show(field, before)
                        ) : (
                          <>
                            <span class="before">{show(field, before)}</span> →{" "}
                            <span class="after">{show(field, after)}</span>
                          </>
                        )}
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** §4 registration page: every field, the state, edit/renew, enable/disable, delete and the audit trail. */
export function RegistrationPage(
  props: Props & { audit: AuditTrailEntry[]; notice?: string; health?: Child; publicKeys?: Child },
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
          <dd>
            <code>{reg.clientId}</code>
          </dd>
          <dt>Client secret</dt>
          <dd class="muted">Shown once at creation; it cannot be revealed again.</dd>
          <dt>Registration date</dt>
          <dd>
            <When at={reg.createdAt} timeZone={site.timeZone} />
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
              <When at={reg.lastUsedAt} timeZone={site.timeZone} />
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
      {props.publicKeys}
      <section class="card danger-zone" aria-labelledby="delete-heading">
        <h2 id="delete-heading">Delete</h2>
        <p>
          Deleting removes the registration and its Client secret: token requests with its Client ID fail at once.
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
      <AuditTrail entries={props.audit} timeZone={site.timeZone} />
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
