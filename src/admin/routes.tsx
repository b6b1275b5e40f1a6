import { Hono } from "hono";
import { OverviewSection } from "../../views/usage/overview";
import { globalSecurityLogRoutes } from "../audit/global-routes";
import type { AppEnv } from "../env";
import { allSitesRegistrationRoutes } from "../registrations/all-sites-routes";
import { loadOverview } from "../usage/overview";
import { siteAdminRoutes } from "./sites-routes";
import { userAdminRoutes } from "./users-routes";

/** Global Administrator pages (behind requireGlobalAdmin): the overview, all-Sites registrations, Sites, users. */
export const globalAdminRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const overview = await loadOverview(c.env.DB, { kind: "all" }, c.var.now);
    return c.render(
      <section>
        <h1>Overview of every Site</h1>
        <OverviewSection overview={overview} />
      </section>,
      { title: "Overview" },
    );
  })
  .route("/registrations", allSitesRegistrationRoutes)
  .route("/sites", siteAdminRoutes)
  .route("/users", userAdminRoutes)
  .route("/security-log", globalSecurityLogRoutes);
