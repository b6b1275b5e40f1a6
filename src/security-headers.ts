import { createMiddleware } from "hono/factory";

/** §10: a CSP with no inline script (htmx and the page script are served by this Worker), HSTS and friends. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The headers every answer carries (pages, fragments, the token endpoint, the REST API). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
  "X-Content-Type-Options": "nosniff",
  // `same-origin`, not `no-referrer`: with no-referrer browsers send `Origin: null` on form posts, defeating the CSRF check.
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
};

/**
 * The security headers of a JSON API answer (the token endpoint): HSTS and nosniff. The page-only ones (CSP, frames,
 * opener, referrer, permissions) govern documents a browser renders, which these answers never are.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Strict-Transport-Security": SECURITY_HEADERS["Strict-Transport-Security"] ?? "",
  "X-Content-Type-Options": "nosniff",
};

export const securityHeaders = createMiddleware(async (c, next) => {
  await next();
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
});

/** Request headers that decide whether an admin URL answers a page or an htmx fragment. */
const FRAGMENT_HEADERS = ["HX-Request", "HX-Request-Type", "HX-History-Restore-Request"];

/**
 * Every admin page and fragment: administrators' data that no browser or proxy cache may keep (a page viewed before
 * sign-out must not come back from the cache), and the same URL answers a page or a fragment depending on htmx's
 * headers, so a cache must key on them.
 */
export const adminPageHeaders = createMiddleware(async (c, next) => {
  await next();
  const h = c.res.headers;
  h.set("Cache-Control", "private, no-store");
  const vary = new Set(
    (h.get("Vary") ?? "")
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean),
  );
  for (const name of FRAGMENT_HEADERS) vary.add(name);
  h.set("Vary", [...vary].join(", "));
});
