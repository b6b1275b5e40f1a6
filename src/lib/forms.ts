import { zValidator } from "@hono/zod-validator";
import type { Context } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../env";

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
