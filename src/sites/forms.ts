import { zValidator } from "@hono/zod-validator";
import type { Context } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../env";
import { fieldErrors } from "./validation";

export type AdminContext = Context<AppEnv>;

/**
 * `zValidator("form", schema)` whose failure re-renders the page: `onInvalid` gets what was typed and one message per
 * field. Unknown fields are dropped by the schema (z.object strips them), so nothing is mass-assigned.
 */
export function validForm<T extends z.ZodType>(
  schema: T,
  onInvalid: (c: AdminContext, typed: unknown, errors: Record<string, string>) => Response | Promise<Response>,
) {
  return zValidator("form", schema, (result, c) => {
    // The hook runs inside this app's routes, so its context carries AppEnv's bindings and variables.
    if (!result.success) return onInvalid(c as unknown as AdminContext, result.data, fieldErrors(result.error));
  });
}
