import type { Context } from "hono";

/** A request htmx sent (it always says `HX-Request: true`). */
export function isHtmx(c: Context): boolean {
  return c.req.header("HX-Request") === "true";
}

/**
 * Whether to answer with just the fragment an htmx request targets. History restores (back/forward) and requests
 * aimed at the whole body get the full page, as does every request without JavaScript.
 */
export function wantsFragment(c: Context): boolean {
  return (
    isHtmx(c) && c.req.header("HX-History-Restore-Request") !== "true" && c.req.header("HX-Request-Type") !== "full"
  );
}
