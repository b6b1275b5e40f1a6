import type { Context } from "hono";
import type { AppEnv } from "../env";

/**
 * A validator hook's context, typed as the app's: @hono/zod-validator cannot infer the app's Env for its hook, but
 * every route here runs inside the app, behind its middleware.
 */
export function appContext(c: Context): Context<AppEnv> {
  return c as unknown as Context<AppEnv>;
}
