import type { Child } from "hono/jsx";

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

export function TextField(props: {
  form: string;
  name: string;
  label: string;
  value?: string;
  error?: string;
  hint?: Child;
  type?: "text" | "email" | "password" | "number";
  required?: boolean;
  maxLength?: number;
  autocomplete?: string;
  inputMode?: "numeric";
  min?: number;
  max?: number;
}) {
  const id = fieldId(props.form, props.name);
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
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
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={describedBy(id, props.hint, props.error)}
      />
      <FieldMessages id={id} hint={props.hint} error={props.error} />
    </div>
  );
}

export function SelectField(props: {
  form: string;
  name: string;
  label: string;
  value?: string;
  error?: string;
  hint?: Child;
  options: readonly { value: string; label: string }[];
  required?: boolean;
}) {
  const id = fieldId(props.form, props.name);
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        required={props.required}
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={describedBy(id, props.hint, props.error)}
      >
        {props.options.map((o) => (
          <option value={o.value} selected={o.value === props.value}>
            {o.label}
          </option>
        ))}
      </select>
      <FieldMessages id={id} hint={props.hint} error={props.error} />
    </div>
  );
}

export function CheckboxField(props: {
  form: string;
  name: string;
  label: string;
  checked: boolean;
  error?: string;
  hint?: Child;
}) {
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

/** An error a page or fragment answers with (guard rails, conflicts), carrying its stable code. */
export function ActionError({ code, message }: { code: string; message: string }) {
  return (
    <p class="form-error" role="alert" data-error-code={code}>
      {message}
    </p>
  );
}
