import { Hono } from "hono";
import { globalSecurityLogRoutes } from "../audit/global-routes";
import type { AppEnv } from "../env";
import { allSitesRegistrationRoutes } from "../registrations/all-sites-routes";
import { siteAdminRoutes } from "./sites-routes";
import { userAdminRoutes } from "./users-routes";

/** Global Administrator pages (behind requireGlobalAdmin): all-Sites registrations, Sites, users. */
export const globalAdminRoutes = new Hono<AppEnv>()
  .route("/registrations", allSitesRegistrationRoutes)
  .route("/sites", siteAdminRoutes)
  .route("/users", userAdminRoutes)
  .route("/security-log", globalSecurityLogRoutes);
