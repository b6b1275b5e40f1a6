import type { Context } from "hono";
import type { AppEnv } from "../env";

/**
 * Whether to answer with just the fragment an htmx request targets. History restores (back/forward) and requests
 * aimed at the whole body get the full page, as does every request without JavaScript.
 */
export function wantsFragment(c: Context): boolean {
  return (
    c.req.header("HX-Request") === "true" &&
    c.req.header("HX-History-Restore-Request") !== "true" &&
    c.req.header("HX-Request-Type") !== "full"
  );
}

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
