import type { Context } from "hono";
import type { AppEnv } from "../env";

/**
 * The same URL answers a page or a fragment depending on these headers, so caches must key on them; and catalog
 * pages are administrators' data, never stored by a browser or proxy.
 */
export function adminPageHeaders(c: Context): void {
  c.header("Vary", "HX-Request, HX-Request-Type, HX-History-Restore-Request");
  c.header("Cache-Control", "no-store");
}

/**
 * A validator hook's context, typed as the app's: @hono/zod-validator cannot infer the app's Env for its hook, but
 * every route here runs inside the app, behind its middleware.
 */
export function appContext(c: Context): Context<AppEnv> {
  return c as unknown as Context<AppEnv>;
}
