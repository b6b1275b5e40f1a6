import { Hono } from "hono";
import { siteCrumbs } from "../../views/shell/pages";
import type { AppEnv } from "../env";

/** The security log (Login Audit Trail) of a Site (§8). */
export const securityLogRoutes = new Hono<AppEnv>().get("/", (c) => {
  const { site } = c.var.siteContext;
  return c.render(<h1>Security log</h1>, {
    title: `Security log · ${site.name}`,
    breadcrumbs: siteCrumbs(site, "settings", { label: "Security log" }),
  });
});
