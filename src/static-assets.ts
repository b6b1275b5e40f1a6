import { Hono } from "hono";
import htmxSource from "htmx.org/dist/htmx.min.js";
import pkg from "htmx.org/package.json";
import appCss from "../static/app.css";
import appJs from "../static/app.js";

/** A short content hash, so each file's URL changes with its content and can be cached for a year. */
function fingerprint(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

interface Asset {
  path: string;
  body: string;
  type: string;
}

const asset = (name: string, ext: string, body: string, type: string): Asset => ({
  path: `/static/${name}-${fingerprint(body)}.${ext}`,
  body,
  type,
});

/** The favicon: a key on the brand colour, as SVG (browsers that ask for /favicon.ico get it too). */
const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1d4e89"/><circle cx="12" cy="16" r="6" fill="none" stroke="#fff" stroke-width="3"/><path d="M17 16h11M24 16v5M28 16v4" stroke="#fff" stroke-width="3" stroke-linecap="round"/></svg>`;

/** htmx is served by the Worker itself (never a CDN, §10), next to the page script and stylesheet. */
export const STATIC = {
  icon: asset("icon", "svg", FAVICON, "image/svg+xml"),
  htmx: { ...asset(`htmx-${pkg.version}`, "min.js", htmxSource, "text/javascript; charset=utf-8") },
  js: asset("app", "js", appJs, "text/javascript; charset=utf-8"),
  css: asset("app", "css", appCss, "text/css; charset=utf-8"),
} as const;

const byPath = new Map(Object.values(STATIC).map((a) => [a.path, a]));

export const staticRoutes = new Hono()
  .get("/favicon.ico", (c) => c.redirect(STATIC.icon.path, 301))
  .get("/static/:file", (c) => {
    const found = byPath.get(new URL(c.req.url).pathname);
    if (!found) return c.notFound();
    c.header("Content-Type", found.type);
    c.header("Cache-Control", "public, max-age=31536000, immutable");
    return c.body(found.body);
  });
