import { isManagementScope } from "../../src/oauth/config";
import {
  DESCRIPTION_MAX,
  LIFETIME_MAX_MINUTES,
  LIFETIME_MIN_MINUTES,
  NAME_MAX,
  REGISTRATION_SCOPES,
  type RegistrationFormErrors,
  type RegistrationFormValues,
} from "../../src/registrations/validation";
import { CsrfField } from "../components/form";

export interface RegistrationFormProps {
  mode: "create" | "edit";
  action: string;
  cancelHref: string;
  csrfToken: string;
  values: RegistrationFormValues;
  errors: RegistrationFormErrors;
  /** Edit: the version of the values the form was opened with. */
  version?: string;
  /** Create: a one-time token, so a resubmission (reload, Back) creates nothing and reveals nothing. */
  formToken?: string;
  timeZone: string;
  /** First and last allowed Expiration dates (browser hints; the server checks again). */
  minDate: string;
  maxDate: string;
}

const FIELD_ORDER = ["name", "description", "expirationDate", "enabled", "scopes", "lifetimeMinutes"] as const;
const FIELD_LABELS: Record<(typeof FIELD_ORDER)[number], string> = {
  name: "Name",
  description: "Description",
  expirationDate: "Expiration date",
  enabled: "Enabled",
  scopes: "Scopes",
  lifetimeMinutes: "Access token lifetime",
};
const FIELD_IDS: Record<(typeof FIELD_ORDER)[number], string> = {
  name: "name",
  description: "description",
  expirationDate: "expiration-date",
  enabled: "enabled",
  scopes: "scope-devices-read",
  lifetimeMinutes: "lifetime-minutes",
};

function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p class="field-error" id={`${id}-error`}>
      {message}
    </p>
  );
}

/** Error attributes for an input: marked invalid and described by its message. */
function invalid(id: string, message: string | undefined) {
  return message ? { "aria-invalid": "true", "aria-describedby": `${id}-error` } : {};
}

/**
 * The create and edit form of §4. After an error it shows what was typed, each message next to its field, and a
 * summary at the top linking to the fields.
 */
export function RegistrationForm(props: RegistrationFormProps) {
  const { values, errors } = props;
  const problems = FIELD_ORDER.filter((f) => errors[f]);
  return (
    <form method="post" action={props.action} class="stacked registration-form">
      {errors.form || problems.length > 0 ? (
        <div class="form-error" role="alert">
          {errors.form ? <p>{errors.form}</p> : null}
          {problems.length > 0 ? (
            <>
              <p>Check these fields:</p>
              <ul>
                {problems.map((f) => (
                  <li>
                    <a href={`#${FIELD_IDS[f]}`}>
                      {FIELD_LABELS[f]}: {errors[f]}
                    </a>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </div>
      ) : null}
      <CsrfField token={props.csrfToken} />
      {props.version ? <input type="hidden" name="version" value={props.version} /> : null}
      {props.formToken ? <input type="hidden" name="formToken" value={props.formToken} /> : null}

      <label for="name">Name</label>
      <input
        id="name"
        name="name"
        required
        maxlength={NAME_MAX}
        autocomplete="off"
        value={values.name}
        {...invalid("name", errors.name)}
      />
      <FieldError id="name" message={errors.name} />
      <p class="hint">Identifies the consumer in the grid and in audit logs, e.g. “Backup script — nightly”.</p>

      <label for="description">
        Description <span class="muted">(optional)</span>
      </label>
      <textarea
        id="description"
        name="description"
        rows={3}
        maxlength={DESCRIPTION_MAX}
        {...invalid("description", errors.description)}
      >
        {values.description}
      </textarea>
      <FieldError id="description" message={errors.description} />

      <label for="expiration-date">Expiration date</label>
      <input
        id="expiration-date"
        name="expirationDate"
        type="date"
        required
        min={props.mode === "create" ? props.minDate : undefined}
        max={props.maxDate}
        value={values.expirationDate}
        {...invalid("expiration-date", errors.expirationDate)}
      />
      <FieldError id="expiration-date" message={errors.expirationDate} />
      <p class="hint">
        Token requests stop at 00:00 of this date ({props.timeZone}). Notifications go out 30 and 7 days before.
      </p>

      <label class="check" for="enabled">
        <input
          id="enabled"
          name="enabled"
          type="checkbox"
          value="on"
          checked={values.enabled}
          {...invalid("enabled", errors.enabled)}
        />{" "}
        Enabled
      </label>
      <FieldError id="enabled" message={errors.enabled} />
      <p class="hint">When off, the Client secret cannot be exchanged for a token.</p>

      <fieldset {...invalid("scopes", errors.scopes)}>
        <legend>Scopes</legend>
        {REGISTRATION_SCOPES.filter((s) => !isManagementScope(s)).map((scope) => (
          <ScopeCheckbox scope={scope} checked={values.scopes.includes(scope)} />
        ))}
        <fieldset class="management-scopes" aria-describedby="management-scopes-warning">
          <legend>Management</legend>
          <p class="hint warning" id="management-scopes-warning">
            These let the consumer manage this Site's App registrations, their secrets and keys, or read its security
            log through the management API. Grant them only to automation you trust like an administrator.
          </p>
          {REGISTRATION_SCOPES.filter(isManagementScope).map((scope) => (
            <ScopeCheckbox scope={scope} checked={values.scopes.includes(scope)} />
          ))}
        </fieldset>
      </fieldset>
      <FieldError id="scopes" message={errors.scopes} />

      <label for="lifetime-minutes">Access token lifetime (minutes)</label>
      <input
        id="lifetime-minutes"
        name="lifetimeMinutes"
        type="number"
        required
        min={LIFETIME_MIN_MINUTES}
        max={LIFETIME_MAX_MINUTES}
        step={1}
        value={values.lifetimeMinutes}
        {...invalid("lifetime-minutes", errors.lifetimeMinutes)}
      />
      <FieldError id="lifetime-minutes" message={errors.lifetimeMinutes} />
      <p class="hint">
        From {LIFETIME_MIN_MINUTES} minutes to 2 hours. A token never outlives the registration's expiration.
      </p>

      <div class="form-actions">
        <button type="submit" class="primary">
          {props.mode === "create" ? "Save" : "Save changes"}
        </button>
        <a href={props.cancelHref}>Cancel</a>
      </div>
    </form>
  );
}

/** §4 the create page: its heading and intro around the form. */
export function NewRegistrationPage(props: { siteName: string } & Omit<RegistrationFormProps, "mode">) {
  const { siteName, ...form } = props;
  return (
    <section class="catalog registration-create">
      <h1>New App registration</h1>
      <p class="muted">
        {siteName}: the Client ID and Client secret are shown once after saving. Have a place to store the secret.
      </p>
      <RegistrationForm mode="create" {...form} />
    </section>
  );
}

/** §4 the edit page (also renewal): its heading and what keeps working around the form. */
export function EditRegistrationPage(
  props: { registrationName: string; clientId: string } & Omit<RegistrationFormProps, "mode">,
) {
  const { registrationName, clientId, ...form } = props;
  return (
    <section class="catalog registration-edit">
      <h1>Edit “{registrationName}”</h1>
      <p class="muted">
        Client ID <code>{clientId}</code>. Moving the Expiration date forward renews the registration: the Client ID and
        the Client secret stay the same.
      </p>
      <RegistrationForm mode="edit" {...form} />
    </section>
  );
}

function ScopeCheckbox({ scope, checked }: { scope: string; checked: boolean }) {
  const id = `scope-${scope.replace(":", "-")}`;
  return (
    <label class="check" for={id}>
      <input id={id} name="scopes" type="checkbox" value={scope} checked={checked} /> <code>{scope}</code>
    </label>
  );
}
