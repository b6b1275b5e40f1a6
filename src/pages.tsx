import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ErrorPage } from "../views/shell/pages";
import type { AppEnv } from "./env";
import { isHtmx } from "./lib/htmx";

/** Errors answer in the client's language: JSON for machine endpoints, a page (or a fragment for htmx) otherwise. */
export function renderErrorPage(c: Context<AppEnv>, status: number, message: string) {
  const code = status as ContentfulStatusCode;
  const path = new URL(c.req.url).pathname;
  if (path.startsWith("/api/") || path.startsWith("/oauth/") || path.startsWith("/.well-known/")) {
    c.header("Cache-Control", "no-store");
    return c.json({ error: status >= 500 ? "server_error" : "invalid_request", error_description: message }, code);
  }
  if (isHtmx(c)) {
    return c.html(
      <p class="form-error" role="alert">
        {message}
      </p>,
      code,
    );
  }
  c.status(code);
  if (!c.var.session && !path.startsWith("/sign-in")) {
    return c.html(
      <html lang="en">
        <head>
          <title>Error</title>
        </head>
        <body>
          <ErrorPage status={status} message={message} />
        </body>
      </html>,
      code,
    );
  }
  return c.render(<ErrorPage status={status} message={message} />, { title: "Error" });
}
