import { zValidator } from "@hono/zod-validator";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import type { AppEnv } from "../env";
import { displayText } from "./text";

export type AdminContext = Context<AppEnv>;

/** Field → message, for re-rendering a form or a filter with each error next to its field. */
export type FieldErrors<K extends string = string> = Partial<Record<K, string>>;

/**
 * The first message per field of a failed parse. An issue that names no field is the form's own (`_form`, which the
 * error summary shows). With `fields`, issues of other fields are dropped.
 */
export function fieldErrors<K extends string = string>(
  error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] },
  fields?: readonly K[],
): FieldErrors<K> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = String(issue.path[0] ?? "_form");
    if (fields && !fields.includes(key as K)) continue;
    out[key] ??= issue.message;
  }
  return out as FieldErrors<K>;
}

/** Only the errors of `fields` (a filter shows errors next to the fields it has). */
export function pickFields<K extends string>(errors: FieldErrors, fields: readonly K[]): FieldErrors<K> {
  const out: FieldErrors<K> = {};
  for (const field of fields) if (errors[field]) out[field] = errors[field];
  return out;
}

/** The raw input as sent (first value of each field), to put back into a re-rendered form. */
export function typedValues(data: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (data && typeof data === "object") {
    for (const [key, value] of Object.entries(data)) {
      const first = Array.isArray(value) ? value[0] : value;
      if (typeof first === "string") out[key] = first;
    }
  }
  return out;
}

type Target = "form" | "query" | "param";

/** What a route answers to input that failed its schema; `error` has every issue, where one per field is not enough. */
type OnInvalid = (
  c: AdminContext,
  sent: Record<string, unknown>,
  errors: FieldErrors,
  error: z.core.$ZodError,
) => Response | Promise<Response>;

/**
 * The one way an admin route validates what was sent: `zValidator(target, schema)` whose failure calls `onInvalid`
 * with the app's own context (the validator's hook is typed with the default Env; at run time it is this app's),
 * what was sent and the first message per field. `onInvalid` answers (a re-rendered form, an error page) or throws
 * an HTTPException. Unknown fields are dropped by the schema (z.object strips them), so nothing is mass-assigned.
 */
export function validated<T extends z.ZodType, Tg extends Target>(target: Tg, schema: T, onInvalid: OnInvalid) {
  return zValidator(target, schema, (result, c) => {
    if (!result.success) {
      const sent = (result.data ?? {}) as Record<string, unknown>;
      return onInvalid(c as unknown as AdminContext, sent, fieldErrors(result.error), result.error);
    }
  });
}

/** `validated("form", …)`: a posted form. */
export function validForm<T extends z.ZodType>(schema: T, onInvalid: OnInvalid) {
  return validated("form", schema, onInvalid);
}

/** A checkbox: sent as "on" when ticked, absent otherwise. */
export const checkbox = z
  .unknown()
  .optional()
  .transform((value) => value === "on");

/** A display name people type: trimmed, 1–100 characters, no spoofing characters (src/lib/text.ts). */
export const displayName = (what: string) =>
  displayText(
    z
      .string({ error: `Enter ${what}.` })
      .trim()
      .min(1, `Enter ${what}.`)
      .max(100, "Use at most 100 characters."),
  );

/** Which fragment an htmx toggle answers with: the list row or the section of the user's page. */
export const VIEWS = ["row", "page"] as const;

/** The on/off switches (REST API enabled, disabled, Global Administrator): the new value, explicitly. */
export const toggleForm = z.object({
  value: z.enum(["true", "false"], { error: "Send value=true or value=false." }).transform((v) => v === "true"),
  view: z
    .enum(VIEWS)
    .optional()
    .transform((v) => v ?? "page")
    .catch("page"),
});

/** An on/off switch's form (`value=true|false`); the buttons always send one of the two, so anything else is a 422. */
export const validToggle = validForm(toggleForm, () => {
  throw new HTTPException(422, { message: "Send value=true or value=false." });
});
