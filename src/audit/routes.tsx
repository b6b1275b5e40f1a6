import { siteCrumbs } from "../../views/shell/pages";
import { createSecurityLogRoutes } from "./log-routes";

/**
 * The security log (Login Audit Trail) of a Site (§8), for its administrators: only rows whose site_id is this Site.
 * Rows no Site can be tied to are in the Global Administrator's log (global-routes.tsx).
 */
export const securityLogRoutes = createSecurityLogRoutes((c) => {
  const { site } = c.var.siteContext;
  return {
    view: { kind: "site", site },
    scope: { kind: "site", siteId: site.id },
    timeZone: site.timeZone,
    title: `Security log · ${site.name}`,
    crumbs: (leaf) => siteCrumbs(site, "settings", leaf),
    fileLabel: site.slug,
  };
});
