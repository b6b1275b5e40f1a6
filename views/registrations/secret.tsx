import type { AppRegistration } from "../../src/db/schema";

/**
 * §4: after saving, the Client ID and the Client secret, shown this once. This page is the answer to the create POST
 * itself (never a redirect carrying the secret) and is sent with `Cache-Control: no-store`.
 */
export function SecretOncePage({
  registration,
  clientSecret,
  registrationHref,
  gridHref,
}: {
  registration: AppRegistration;
  clientSecret: string;
  registrationHref: string;
  gridHref: string;
}) {
  return (
    <section class="catalog secret-once">
      <h1>App registration created</h1>
      <p>
        “{registration.name}” is saved. Give these credentials to the consumer; it exchanges them for access tokens with
        the OAuth 2.0 client credentials grant.
      </p>
      <div class="secret-box">
        <p class="secret-warning" role="alert">
          <strong>Copy the Client secret now. It is shown only once and cannot be shown again.</strong> If it is lost,
          delete this registration and create a new one.
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
