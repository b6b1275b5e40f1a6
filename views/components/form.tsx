import type { Child } from "hono/jsx";
import { MIN_PASSWORD_LENGTH } from "../../src/users/passwords";

export type Errors = Record<string, string | undefined>;
export type Values = Record<string, string | undefined>;

/** The session's CSRF token as the form field the CSRF check reads (§10). */
export function CsrfField({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

const fieldId = (form: string, name: string) => `${form}-${name}`;

function describedBy(id: string, hint: unknown, error: unknown): string | undefined {
  return [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
}

function FieldMessages({ id, hint, error }: { id: string; hint?: Child; error?: string }) {
  return (
    <>
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </>
  );
}

interface FieldProps {
  form: string;
  name: string;
  label: string;
  error?: string;
  hint?: Child;
}

/** The label, then the control, then its hint and error. */
function Field({
  id,
  label,
  hint,
  error,
  children,
}: Omit<FieldProps, "form" | "name"> & { id: string; children: Child }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      <FieldMessages id={id} hint={hint} error={error} />
    </div>
  );
}

/** The attributes that tie a control to its error state and to the messages below it. */
const validity = (id: string, { hint, error }: FieldProps) => ({
  "aria-invalid": error ? "true" : undefined,
  "aria-describedby": describedBy(id, hint, error),
});

/**
 * The props that tie a field to its form, its name, what was typed and its error: `field("email")` spreads into a
 * TextField or SelectField, so each field names itself once.
 */
export function fieldsOf(form: string, values: Values, errors: Errors) {
  return (name: string) => ({ form, name, value: values[name], error: errors[name] });
}

export function TextField(
  props: FieldProps & {
    value?: string;
    type?: "text" | "email" | "password" | "number";
    required?: boolean;
    maxLength?: number;
    autocomplete?: string;
    inputMode?: "numeric";
    min?: number;
    max?: number;
  },
) {
  const id = fieldId(props.form, props.name);
  return (
    <Field id={id} label={props.label} hint={props.hint} error={props.error}>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.type === "password" ? undefined : (props.value ?? "")}
        required={props.required}
        maxlength={props.maxLength}
        autocomplete={props.autocomplete}
        inputmode={props.inputMode}
        min={props.min}
        max={props.max}
        {...validity(id, props)}
      />
    </Field>
  );
}

/**
 * A new password typed twice (`newPassword`, `confirmPassword`), for every form that sets one. The hint says the
 * policy and what the change does to sessions.
 */
export function NewPasswordFields(props: { form: string; errors: Errors; consequence: string }) {
  const fields = [
    {
      name: "newPassword",
      label: "New password",
      hint: `At least ${MIN_PASSWORD_LENGTH} characters. ${props.consequence}`,
    },
    { name: "confirmPassword", label: "Confirm new password", hint: undefined },
  ];
  return (
    <>
      {fields.map((field) => (
        <TextField
          form={props.form}
          name={field.name}
          label={field.label}
          type="password"
          error={props.errors[field.name]}
          required
          autocomplete="new-password"
          hint={field.hint}
        />
      ))}
    </>
  );
}

export function SelectField(
  props: FieldProps & { value?: string; options: readonly { value: string; label: string }[]; required?: boolean },
) {
  const id = fieldId(props.form, props.name);
  return (
    <Field id={id} label={props.label} hint={props.hint} error={props.error}>
      <select id={id} name={props.name} required={props.required} {...validity(id, props)}>
        {props.options.map((o) => (
          <option value={o.value} selected={o.value === props.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Field>
  );
}

export function CheckboxField(props: FieldProps & { checked: boolean }) {
  const id = fieldId(props.form, props.name);
  return (
    <div class="field field-checkbox">
      <input
        id={id}
        name={props.name}
        type="checkbox"
        checked={props.checked}
        aria-describedby={describedBy(id, props.hint, props.error)}
      />
      <label for={id}>{props.label}</label>
      <FieldMessages id={id} hint={props.hint} error={props.error} />
    </div>
  );
}

/**
 * A form that posts with the session's CSRF token: the error summary above it, the primary button (and a way out)
 * below it.
 */
export function PostForm(props: {
  action: string;
  csrf: string;
  errors: Errors;
  submit: string;
  /** A destructive action: the button says so. */
  danger?: boolean;
  cancelHref?: string;
  children: Child;
}) {
  return (
    <>
      <FormErrorSummary errors={props.errors} />
      <form method="post" action={props.action} class="stacked" novalidate>
        <CsrfField token={props.csrf} />
        {props.children}
        <div class="actions">
          <button type="submit" class={props.danger ? "danger" : "primary"}>
            {props.submit}
          </button>
          {props.cancelHref ? <a href={props.cancelHref}>Cancel</a> : null}
        </div>
      </form>
    </>
  );
}

/**
 * The page that creates one item of a collection: its heading, then a form that posts to the collection and whose
 * Cancel goes back to it.
 */
export function NewItemPage(
  props: { title: string; collection: string } & Omit<Parameters<typeof PostForm>[0], "action" | "cancelHref">,
) {
  const { title, collection, ...form } = props;
  return (
    <section class="admin-area card form-page">
      <h1>{title}</h1>
      <PostForm action={collection} cancelHref={collection} {...form} />
    </section>
  );
}

/**
 * An on/off switch posted as a plain form (JavaScript off: the server redirects back) and through htmx (the server
 * answers with the fragment it changed, which replaces `target`).
 */
export function ToggleForm(props: {
  action: string;
  value: boolean;
  target: string;
  csrf: string;
  label: string;
  ariaLabel: string;
  /** Which fragment to answer with, where the same switch stands in more than one. */
  view?: string;
  confirm?: string;
  danger?: boolean;
}) {
  return (
    <form
      method="post"
      action={props.action}
      class="inline"
      hx-post={props.action}
      hx-target={props.target}
      hx-swap="outerHTML"
      hx-confirm={props.confirm}
      // The dialog was the confirmation: an htmx request says so; a plain post (no JavaScript) does not.
      hx-vals={props.confirm ? '{"confirmed":"yes"}' : undefined}
    >
      <CsrfField token={props.csrf} />
      <input type="hidden" name="value" value={String(props.value)} />
      {props.view ? <input type="hidden" name="view" value={props.view} /> : null}
      <button type="submit" class={props.danger ? "danger small" : "secondary small"} aria-label={props.ariaLabel}>
        {props.label}
      </button>
    </form>
  );
}

/** The summary above a form that came back with errors. */
export function FormErrorSummary({ errors }: { errors: Errors }) {
  const messages = Object.entries(errors).filter(([, m]) => m);
  if (messages.length === 0) return null;
  const formLevel = errors._form;
  return (
    <p class="form-error" role="alert">
      {formLevel ?? "Nothing was saved. Correct the fields marked below."}
    </p>
  );
}

/** A one-line confirmation after a change (fixed texts chosen by the server, never echoed input). */
export function Notice({ text }: { text?: string }) {
  if (!text) return null;
  return (
    <p class="notice" role="status">
      {text}
    </p>
  );
}

export interface ActionErrorProps {
  code: string;
  message: string;
}

/** An error a page or fragment answers with (guard rails, conflicts), carrying its stable code. */
export function ActionError({ code, message }: ActionErrorProps) {
  return (
    <p class="form-error" role="alert" data-error-code={code}>
      {message}
    </p>
  );
}
