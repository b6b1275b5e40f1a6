import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { layout } from "../views/layout";
import { globalAdminRoutes } from "./admin/routes";
import { apiReferenceRoutes } from "./api/reference-routes";
import { apiRoutes } from "./api/routes";
import { securityLogRoutes } from "./audit/routes";
import { csrfProtection, loadSession, requireGlobalAdmin, requireSignIn, requireSite } from "./auth/guards";
import { authRoutes } from "./auth/routes";
import { clientKeyRoutes } from "./client-keys/routes";
import { clientSecretRoutes } from "./client-secrets/routes";
import type { AppEnv, Bindings } from "./env";
import { notificationLogRoutes } from "./notifications/routes";
import { oauthRoutes } from "./oauth/routes";
import { renderErrorPage } from "./pages";
import { registrationRoutes } from "./registrations/routes";
import { adminPageHeaders, securityHeaders } from "./security-headers";
import { shellRoutes } from "./shell/routes";
import { staticRoutes } from "./static-assets";

/** Admin pages accept form posts of at most this size. */
const ADMIN_BODY_LIMIT = 64 * 1024;
const ADMIN_SECTIONS = /^\/sites\/[^/]+\/settings\/(iam|notifications|security-log)(\/|$)/;

/** The request's "now": tests may pin it (§ STYLE: time is a parameter); never honoured outside the test environment. */
export function requestTime(request: Request, env: Pick<Bindings, "ENVIRONMENT">): number {
  const pinned = env.ENVIRONMENT === "test" ? Number(request.headers.get("X-Test-Now")) : Number.NaN;
  return Number.isFinite(pinned) && pinned > 0 ? pinned : Date.now();
}

export function createApp() {
  const app = new Hono<AppEnv>();

  app.use(securityHeaders);
  app.use(async (c, next) => {
    c.set("now", requestTime(c.req.raw, c.env));
    await next();
  });

  app.route("/", staticRoutes);
  // Machine endpoints: OAuth (token, JWKS, metadata) and the REST API. No cookies, no CSRF.
  app.route("/", oauthRoutes);
  app.route("/api/v1", apiRoutes);

  // Admin pages.
  const pages = new Hono<AppEnv>();
  pages.use(adminPageHeaders);
  pages.use(
    bodyLimit({
      maxSize: ADMIN_BODY_LIMIT,
      onError: (c) => c.text("The form is too large.", 413),
    }),
  );
  pages.use(loadSession, csrfProtection, layout);
  pages.route("/", authRoutes);
  pages.route("/help", apiReferenceRoutes);
  pages.use("/*", requireSignIn);
  // IAM, the notification log and the security log are for administrators; the rest of a Site for its members.
  const siteAccess = requireSite((path) => (ADMIN_SECTIONS.test(path) ? "admin" : "member"));
  pages.use("/sites/:site", siteAccess);
  pages.use("/sites/:site/*", siteAccess);
  pages.use("/admin/*", requireGlobalAdmin);
  pages.route("/", shellRoutes);
  pages.route("/sites/:site/settings/iam/app-registrations/:id/keys", clientKeyRoutes);
  pages.route("/sites/:site/settings/iam/app-registrations/:id/secrets", clientSecretRoutes);
  pages.route("/sites/:site/settings/iam/app-registrations", registrationRoutes);
  pages.route("/sites/:site/settings/notifications", notificationLogRoutes);
  pages.route("/sites/:site/settings/security-log", securityLogRoutes);
  pages.route("/admin", globalAdminRoutes);
  app.route("/", pages);

  app.notFound((c) => renderErrorPage(c, 404, "There is no page at this address."));
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      if (err.res) return err.res;
      return renderErrorPage(c, err.status, err.message || "Request refused.");
    }
    console.error(err);
    return renderErrorPage(c, 500, "The server could not complete the request. Nothing was changed.");
  });
  return app;
}
