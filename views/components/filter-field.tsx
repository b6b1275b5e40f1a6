import type { Child } from "hono/jsx";

/**
 * The fields of a log's filter form (styled by `.log-filters` in static/app.css). `form` names the form: the
 * control's id is `<form>-<name>`, so each page keeps its own ids.
 */
interface FilterFieldProps {
  form: string;
  name: string;
  label: string;
  value: string | undefined;
  error?: string;
}

/** The control's attributes that tie it to its error message, last on the control. */
function errorAttributes(id: string, error: string | undefined) {
  return { "aria-invalid": error ? "true" : undefined, "aria-describedby": error ? `${id}-error` : undefined };
}

function Field({ id, label, error, children }: { id: string; label: string; error?: string; children: Child }) {
  return (
    <div class="log-filter-field">
      <label for={id}>{label}</label>
      {children}
      {error ? (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

export type FilterSelectProps = FilterFieldProps & { options: [string, string][] };
export type FilterInputProps = FilterFieldProps & { type: "text" | "date"; maxLength?: number };

/** A choice among `[value, label]` options; no value selects the option whose value is "". */
export function FilterSelect(props: FilterSelectProps) {
  const id = `${props.form}-${props.name}`;
  return (
    <Field id={id} label={props.label} error={props.error}>
      <select id={id} name={props.name} {...errorAttributes(id, props.error)}>
        {props.options.map(([optionValue, optionLabel]) => (
          <option value={optionValue} selected={(props.value ?? "") === optionValue}>
            {optionLabel}
          </option>
        ))}
      </select>
    </Field>
  );
}

export function FilterInput(props: FilterInputProps) {
  const id = `${props.form}-${props.name}`;
  return (
    <Field id={id} label={props.label} error={props.error}>
      <input
        id={id}
        name={props.name}
        type={props.type}
        value={props.value ?? ""}
        maxlength={props.maxLength}
        {...errorAttributes(id, props.error)}
      />
    </Field>
  );
}
