import {
  type ClientSecretSummary,
  hintLabel,
  isLiveSecret,
  MAX_LIVE_SECRETS,
  OLD_SECRET_STOPS,
  OLD_SECRET_STOPS_LABELS,
  type OldSecretStops,
  secretState,
} from "../../src/client-secrets/policy";
import type { Site } from "../../src/db/schema";
import { calendarDateInZone, calendarDaysBetween } from "../../src/lib/time";
import { clientSecretsUrl } from "../../src/paths";
import { DataTable } from "../components/data-table";
import { CsrfField, Notice } from "../components/form";
import { When } from "../components/when";

/** The element id the section's htmx requests replace. */
export const CLIENT_SECRETS_SECTION_ID = "client-secrets";

export interface ClientSecretsSectionProps {
  site: Site;
  registration: { id: number; name: string };
  secrets: ClientSecretSummary[];
  /** Whether a public key that has not expired lets a consumer authenticate without a secret (private_key_jwt). */
  hasLiveKey: boolean;
  csrfToken: string;
  now: number;
  notice?: string;
  /** A refusal of the last action, shown at the top of the section. */
  error?: string;
}

/** The Expires cell: never, `In N days` (calendar days in the Site's zone) or `Expired`. */
export function secretExpiresLabel(expiresAt: number | null, timeZone: string, now: number): string {
  if (expiresAt === null) return "Never";
  if (now >= expiresAt) return "Expired";
  const days = Math.max(
    0,
    calendarDaysBetween(calendarDateInZone(now, timeZone), calendarDateInZone(expiresAt, timeZone)),
  );
  return days === 0 ? "Today" : days === 1 ? "In 1 day" : `In ${days} days`;
}

const STATE_CLASS = { Live: "state-active", Expired: "state-expired", Revoked: "state-disabled" } as const;

/**
 * Client secrets of a registration (§2 rotation): one row per secret (its hint, never more), Revoke on each live one,
 * and New client secret with the choice of when the old one stops working. Works without JavaScript: the new secret
 * is shown on its own page, and Revoke opens a confirmation page.
 */
export function ClientSecretsSection(props: ClientSecretsSectionProps) {
  const { site, registration, secrets, now } = props;
  const base = clientSecretsUrl(site.slug, registration.id);
  const live = secrets.filter((s) => isLiveSecret(s, now));
  return (
    <section
      id={CLIENT_SECRETS_SECTION_ID}
      class="card client-secrets"
      aria-labelledby="client-secrets-heading"
      tabindex={-1}
    >
      <h2 id="client-secrets-heading">Client secrets</h2>
      <p class="muted">
        A registration holds at most {MAX_LIVE_SECRETS} live secrets, so a consumer can switch to a new one while the
        old one still works. Only a hint of each secret is kept in the clear; a secret is shown once, when it is issued.
      </p>
      <Notice text={props.notice} />
      {props.error ? (
        <p class="form-error" role="alert">
          {props.error}
        </p>
      ) : null}
      {live.length === 0 && !props.hasLiveKey ? (
        <p class="credential-warning" role="alert">
          <strong>No consumer can get a token:</strong> this registration has no live Client secret and no public key.
          Issue a new client secret below, or add a public key for private_key_jwt.
        </p>
      ) : null}

      <DataTable
        columns={["Secret (hint)", "State", "Created", "Last used", "Expires"]}
        actions
        label={`Client secrets of ${registration.name}`}
        class="grid client-secrets-table"
        rowCount={secrets.length}
        empty="No secrets."
      >
        {secrets.map((secret) => (
          <SecretRow
            secret={secret}
            site={site}
            base={base}
            now={now}
            lastLive={live.length === 1 && isLiveSecret(secret, now)}
            hasLiveKey={props.hasLiveKey}
          />
        ))}
      </DataTable>

      <NewSecretForm base={base} csrfToken={props.csrfToken} live={live} />
    </section>
  );
}

/** What the confirmation of a revoke says: revoking the last live secret stops every consumer that uses one. */
export function revokeConsequence(lastLive: boolean, hasLiveKey: boolean): string {
  if (!lastLive) return "Consumers still sending it get 401 invalid_client (recorded as SecretRevoked).";
  return hasLiveKey
    ? "It is the last live secret: consumers will fail unless they use private_key_jwt with one of the registration's public keys."
    : "It is the last live secret and the registration has no public key: every consumer will fail until a new client secret is issued.";
}

function SecretRow(props: {
  secret: ClientSecretSummary;
  site: Site;
  base: string;
  now: number;
  lastLive: boolean;
  hasLiveKey: boolean;
}) {
  const { secret, site, base, now } = props;
  const state = secretState(secret, now);
  const hint = hintLabel(secret.hint);
  const revokeUrl = `${base}/${secret.id}/revoke`;
  return (
    <tr data-secret-id={String(secret.id)} class={state === "Live" ? undefined : "retired"}>
      <td>
        <code>{hint}</code>
      </td>
      <td>
        <span class={`state ${STATE_CLASS[state]}`}>{state}</span>
      </td>
      <td>
        <When at={secret.createdAt} timeZone={site.timeZone} />
        {secret.createdBy ? <div class="muted">by {secret.createdBy}</div> : null}
      </td>
      <td>
        {secret.lastUsedAt === null ? (
          <span class="muted">Not used yet</span>
        ) : (
          <When at={secret.lastUsedAt} timeZone={site.timeZone} relativeTo={now} />
        )}
      </td>
      <td>
        {secret.revokedAt !== null ? (
          <>
            —
            <div class="muted">
              revoked <When at={secret.revokedAt} timeZone={site.timeZone} />
            </div>
          </>
        ) : (
          secretExpiresLabel(secret.expiresAt, site.timeZone, now)
        )}
        {secret.expiresAt !== null && secret.revokedAt === null ? (
          <div class="muted">
            <When at={secret.expiresAt} timeZone={site.timeZone} />
          </div>
        ) : null}
      </td>
      <td>
        {state === "Live" ? (
          // Without JavaScript the button opens a confirmation page; with htmx it confirms in a dialog and posts.
          <form
            method="get"
            action={revokeUrl}
            hx-post={revokeUrl}
            hx-confirm={`Revoke the Client secret ${hint}? It stops working at once. ${revokeConsequence(props.lastLive, props.hasLiveKey)}`}
            hx-target={`#${CLIENT_SECRETS_SECTION_ID}`}
            hx-swap="outerHTML"
          >
            <button type="submit" class="secondary" aria-label={`Revoke ${hint}`}>
              Revoke
            </button>
          </form>
        ) : null}
      </td>
    </tr>
  );
}

function NewSecretForm(props: { base: string; csrfToken: string; live: ClientSecretSummary[] }) {
  const full = props.live.length >= MAX_LIVE_SECRETS;
  const basis = props.live.reduce((max, s) => Math.max(max, s.id), 0);
  return (
    <form method="post" action={props.base} class="new-secret-form">
      <CsrfField token={props.csrfToken} />
      <input type="hidden" name="basis" value={String(basis)} />
      {full ? null : props.live.length > 0 ? (
        <fieldset>
          <legend>Old secret stops working</legend>
          {OLD_SECRET_STOPS.map((choice: OldSecretStops, i) => (
            <label class="radio">
              <input type="radio" name="oldSecretStops" value={choice} checked={i === 0} />{" "}
              {OLD_SECRET_STOPS_LABELS[choice]}
            </label>
          ))}
        </fieldset>
      ) : (
        <input type="hidden" name="oldSecretStops" value="never" />
      )}
      <p>
        <button
          type="submit"
          class="primary"
          disabled={full}
          aria-describedby={full ? "new-secret-full" : "new-secret-hint"}
        >
          New client secret
        </button>
      </p>
      {full ? (
        <p class="hint" id="new-secret-full">
          Two secrets are live. Revoke one of them before issuing another.
        </p>
      ) : (
        <p class="hint" id="new-secret-hint">
          The new secret is shown once, on the next page. The Client ID, Expiration date, scopes and keys do not change.
        </p>
      )}
    </form>
  );
}

/** The no-JavaScript confirmation before a secret is revoked. */
export function RevokeSecretConfirmation(props: {
  registration: { name: string };
  secret: ClientSecretSummary;
  action: string;
  cancelHref: string;
  csrfToken: string;
  consequence: string;
}) {
  const hint = hintLabel(props.secret.hint);
  return (
    <section class="catalog card narrow">
      <h1>Revoke the Client secret {hint}?</h1>
      <p>
        The secret of {props.registration.name} stops working at once. {props.consequence} This cannot be undone.
      </p>
      <form method="post" action={props.action} class="form-actions">
        <CsrfField token={props.csrfToken} />
        <button type="submit" class="danger">
          Revoke
        </button>
        <a href={props.cancelHref}>Cancel</a>
      </form>
    </section>
  );
}
