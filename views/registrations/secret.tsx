import type { Child } from "hono/jsx";
import type { AppRegistration } from "../../src/db/schema";

/**
 * §4: after saving, the Client ID and the Client secret, shown this once; the same page after a rotation shows the new
 * secret. This page is the answer to the POST itself (never a redirect carrying the secret) and is sent with
 * `Cache-Control: no-store`.
 */
export function SecretOncePage({
  registration,
  clientSecret,
  registrationHref,
  gridHref,
  heading = "App registration created",
  lead,
}: {
  registration: Pick<AppRegistration, "name" | "clientId">;
  clientSecret: string;
  registrationHref: string;
  gridHref: string;
  heading?: string;
  /** What happened, above the secret; by default the creation's text. */
  lead?: Child;
}) {
  return (
    <section class="catalog secret-once">
      <h1>{heading}</h1>
      {lead ?? (
        <p>
          “{registration.name}” is saved. Give these credentials to the consumer; it exchanges them for access tokens
          with the OAuth 2.0 client credentials grant.
        </p>
      )}
      <div class="secret-box">
        <p class="secret-warning" role="alert">
          <strong>Copy the Client secret now. It is shown only once and cannot be shown again.</strong> If it is lost,
          open the registration, click New client secret and revoke the lost one: the Client ID does not change.
        </p>
        <label for="client-id">Client ID</label>
        <div class="copy-row">
          <input id="client-id" class="mono" readonly value={registration.clientId} autocomplete="off" />
          <button type="button" class="secondary" data-copy-target="client-id" data-label="Copy Client ID">
            Copy Client ID
          </button>
        </div>
        <label for="client-secret">Client secret</label>
        <div class="copy-row">
          <input id="client-secret" class="mono" readonly value={clientSecret} autocomplete="off" spellcheck={false} />
          <button type="button" class="secondary" data-copy-target="client-secret" data-label="Copy Client secret">
            Copy Client secret
          </button>
        </div>
      </div>
      <p class="secret-next">
        <a href={registrationHref}>Open the registration</a> · <a href={gridHref}>Back to App registrations</a>
      </p>
    </section>
  );
}

/**
 * A create form sent again (a reload or Back of the secret page): nothing new was created, and the secret is not
 * shown again.
 */
export function AlreadyCreatedPage(props: { name: string | null; registrationHref: string | null; gridHref: string }) {
  return (
    <section class="catalog card narrow">
      <h1>This registration was already created</h1>
      <p>
        {props.name ? <>“{props.name}” exists. </> : null}This form was sent before, so nothing new was created. Its
        Client secret was shown once, on the page that answered the first send, and cannot be shown again.
      </p>
      <p>
        If the secret was not copied, open the registration and click <strong>New client secret</strong>, then revoke
        the old one: the Client ID does not change.
      </p>
      <p class="form-actions">
        {props.registrationHref ? (
          <a class="button primary" href={props.registrationHref}>
            Open the registration
          </a>
        ) : null}
        <a href={props.gridHref}>Back to App registrations</a>
      </p>
    </section>
  );
}
