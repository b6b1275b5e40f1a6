import type { ClientKeySummary } from "../../src/client-keys/repository";
import type { Site } from "../../src/db/schema";
import { KEY_ALGORITHMS } from "../../src/db/schema";
import { formatInstant } from "../../src/lib/time";
import { clientKeysUrl } from "../../src/paths";
import { DataTable } from "../components/data-table";
import { CsrfField } from "../components/form";

/** The element id the section's htmx requests replace (the same on the registration page and the keys page). */
export const CLIENT_KEYS_SECTION_ID = "client-keys";

export type KeyFormField = "key" | "kid" | "alg" | "expires";

/** What was typed into the add form and the errors next to each field, after a refused upload. */
export interface KeyFormState {
  values: Partial<Record<KeyFormField, string>>;
  errors: Partial<Record<KeyFormField | "form", string>>;
}

export interface ClientKeysSectionProps {
  site: Site;
  registration: { id: number; name: string };
  keys: ClientKeySummary[];
  csrfToken: string;
  now: number;
  form?: KeyFormState;
  /** A confirmation of what just happened ("Key … added."). */
  notice?: string;
}

/**
 * Public keys for private_key_jwt (§9): the list, a remove button per key (confirmed) and the add form. The same
 * component renders on the registration page, on the standalone keys page and as the htmx fragment.
 */
export function ClientKeysSection(props: ClientKeysSectionProps) {
  const { site, registration, keys, now } = props;
  const base = clientKeysUrl(site.slug, registration.id);
  return (
    <section id={CLIENT_KEYS_SECTION_ID} class="client-keys" aria-labelledby="client-keys-heading">
      <h2 id="client-keys-heading">Public keys (private_key_jwt)</h2>
      <p class="muted">
        Clients holding the matching private key authenticate at the token endpoint with a signed JWT assertion instead
        of the Client secret. The assertion's header names the key by its kid.
      </p>
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      <DataTable
        columns={["kid", "Algorithm", "Fingerprint (SHA-256 thumbprint)", "Expires", "Added", "Last used"]}
        actions
        label={`Public keys of ${registration.name}`}
        class="grid client-keys-table"
        rowCount={keys.length}
        empty="No public keys yet."
      >
        {keys.map((key) => (
          <KeyRow siteTimeZone={site.timeZone} base={base} keyRow={key} now={now} csrfToken={props.csrfToken} />
        ))}
      </DataTable>
      <AddKeyForm base={base} site={site} csrfToken={props.csrfToken} form={props.form} />
    </section>
  );
}

function KeyRow(props: {
  keyRow: ClientKeySummary;
  siteTimeZone: string;
  base: string;
  now: number;
  csrfToken: string;
}) {
  const { keyRow: key, siteTimeZone, base, now } = props;
  const expired = key.expiresAt !== null && now >= key.expiresAt;
  const removeUrl = `${base}/${key.id}/delete`;
  return (
    <tr data-kid={key.kid}>
      <td>
        <code>{key.kid}</code>
      </td>
      <td>{key.alg}</td>
      <td>
        <code class="fingerprint">{key.fingerprint}</code>
      </td>
      <td>
        {key.expiresAt === null ? (
          "Never"
        ) : (
          <>
            {formatInstant(key.expiresAt, siteTimeZone)}
            {expired ? <span class="state state-expired">Expired</span> : null}
          </>
        )}
      </td>
      <td>{formatInstant(key.createdAt, siteTimeZone)}</td>
      <td>{key.lastUsedAt === null ? "Never" : formatInstant(key.lastUsedAt, siteTimeZone)}</td>
      <td>
        {/* Without JavaScript the button opens a confirmation page; with htmx it confirms in a dialog and posts. */}
        <form
          method="get"
          action={removeUrl}
          hx-post={removeUrl}
          hx-confirm={`Remove the key "${key.kid}"? Clients signing with it can no longer get tokens.`}
          hx-target={`#${CLIENT_KEYS_SECTION_ID}`}
          hx-swap="outerHTML"
        >
          <button type="submit" class="secondary" aria-label={`Remove key ${key.kid}`}>
            Remove
          </button>
        </form>
      </td>
    </tr>
  );
}

const fieldId = (name: KeyFormField) => `client-key-${name}`;

function describedBy(name: KeyFormField, error: string | undefined) {
  return [`${fieldId(name)}-hint`, error ? `${fieldId(name)}-error` : ""].filter(Boolean).join(" ");
}

function FieldError({ name, error }: { name: KeyFormField; error: string | undefined }) {
  return error ? (
    <p class="field-error" id={`${fieldId(name)}-error`}>
      {error}
    </p>
  ) : null;
}

function AddKeyForm(props: { base: string; site: Site; csrfToken: string; form?: KeyFormState }) {
  const values = props.form?.values ?? {};
  const errors = props.form?.errors ?? {};
  return (
    <form
      method="post"
      action={props.base}
      hx-post={props.base}
      hx-target={`#${CLIENT_KEYS_SECTION_ID}`}
      hx-swap="outerHTML"
      class="stacked client-key-form"
      aria-labelledby="client-key-form-heading"
    >
      <h3 id="client-key-form-heading">Add a public key</h3>
      <CsrfField token={props.csrfToken} />
      {errors.form ? (
        <p class="form-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <label for={fieldId("key")}>Public key (PEM certificate or JWK)</label>
      <textarea
        id={fieldId("key")}
        name="key"
        rows={8}
        required
        spellcheck={false}
        aria-invalid={errors.key ? "true" : undefined}
        aria-describedby={describedBy("key", errors.key)}
      >
        {values.key ?? ""}
      </textarea>
      <p class="hint" id={`${fieldId("key")}-hint`}>
        Paste a certificate (-----BEGIN CERTIFICATE-----) or a public key as a JWK. ES256 (EC P-256), RS256 (RSA, at
        least 2048 bits) or EdDSA (Ed25519). Never paste a private key.
      </p>
      <FieldError name="key" error={errors.key} />

      <label for={fieldId("kid")}>kid</label>
      <input
        id={fieldId("kid")}
        name="kid"
        type="text"
        maxlength={128}
        autocomplete="off"
        value={values.kid ?? ""}
        aria-invalid={errors.kid ? "true" : undefined}
        aria-describedby={describedBy("kid", errors.kid)}
      />
      <p class="hint" id={`${fieldId("kid")}-hint`}>
        The key id the client puts in the assertion header. Required for a certificate; taken from the JWK when left
        empty. Unique within this registration.
      </p>
      <FieldError name="kid" error={errors.kid} />

      <label for={fieldId("alg")}>Algorithm</label>
      <select
        id={fieldId("alg")}
        name="alg"
        aria-invalid={errors.alg ? "true" : undefined}
        aria-describedby={describedBy("alg", errors.alg)}
      >
        <option value="" selected={!values.alg}>
          From the key
        </option>
        {KEY_ALGORITHMS.map((alg) => (
          <option value={alg} selected={values.alg === alg}>
            {alg}
          </option>
        ))}
      </select>
      <p class="hint" id={`${fieldId("alg")}-hint`}>
        Assertions must be signed with this algorithm; any other is refused.
      </p>
      <FieldError name="alg" error={errors.alg} />

      <label for={fieldId("expires")}>Expires on (optional)</label>
      <input
        id={fieldId("expires")}
        name="expires"
        type="date"
        value={values.expires ?? ""}
        aria-invalid={errors.expires ? "true" : undefined}
        aria-describedby={describedBy("expires", errors.expires)}
      />
      <p class="hint" id={`${fieldId("expires")}-hint`}>
        The key stops working at 00:00 of this date ({props.site.timeZone}). Administrators are notified before.
      </p>
      <FieldError name="expires" error={errors.expires} />

      <div>
        <button type="submit" class="primary">
          Add key
        </button>
      </div>
    </form>
  );
}

/** The no-JavaScript confirmation before a key is removed. */
export function RemoveKeyConfirmation(props: {
  site: Site;
  registration: { id: number; name: string };
  keyRow: ClientKeySummary;
  csrfToken: string;
}) {
  const base = clientKeysUrl(props.site.slug, props.registration.id);
  return (
    <section class="card narrow">
      <h1>Remove key {props.keyRow.kid}?</h1>
      <p>
        Clients of {props.registration.name} that sign their assertions with this key can no longer get tokens. This
        cannot be undone; the key can be added again later.
      </p>
      <p>
        Fingerprint: <code>{props.keyRow.fingerprint}</code>
      </p>
      <form method="post" action={`${base}/${props.keyRow.id}/delete`} class="inline">
        <CsrfField token={props.csrfToken} />
        <button type="submit" class="danger">
          Remove key
        </button>
      </form>{" "}
      <a href={base}>Cancel</a>
    </section>
  );
}

/** The standalone page: the section under a heading naming the registration. */
export function ClientKeysPage(props: ClientKeysSectionProps & { registrationHref: string }) {
  return (
    <>
      <h1>Public keys · {props.registration.name}</h1>
      <p>
        <a href={props.registrationHref}>Back to the registration</a>
      </p>
      <ClientKeysSection {...props} />
    </>
  );
}
