import { adminSitesUrl } from "../paths";
import { createSecurityLogRoutes } from "./log-routes";

/**
 * The Global Administrator's security log (behind requireGlobalAdmin): every Site's rows with a Site column, and the
 * rows no Site can be tied to (unknown Client IDs, admin sign-in failures). Filter dates are read in UTC.
 */
export const globalSecurityLogRoutes = createSecurityLogRoutes((c) => ({
  view: { kind: "global", sites: c.var.reachableSites },
  scope: { kind: "global" },
  timeZone: "UTC",
  title: "Security log · all Sites",
  crumbs: (leaf) => [{ label: "Global administration", href: adminSitesUrl() }, leaf],
  fileLabel: "all-sites",
}));
