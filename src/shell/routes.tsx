import { Hono } from "hono";
import { AdminCenterPage, IamPage, NoSitesPage, SiteSettingsPage, siteCrumbs } from "../../views/shell/pages";
import type { AppEnv } from "../env";
import { adminSitesUrl, sitePath } from "../paths";

/** The admin shell: home, Admin Center, Site Settings and IAM for each Site (§4 navigation). */
export const shellRoutes = new Hono<AppEnv>()
  .get("/", (c) => {
    const [first] = c.var.reachableSites;
    if (first) return c.redirect(sitePath(first.slug), 303);
    if (c.var.session?.user.isGlobalAdmin) return c.redirect(adminSitesUrl(), 303);
    return c.render(<NoSitesPage />, { title: "No Sites" });
  })
  .get("/sites/:site", (c) => {
    const { site, isAdmin, membership } = c.var.siteContext;
    const role =
      membership?.role === "site_admin" ? "Site Administrator" : membership ? "Site User" : "Global Administrator";
    return c.render(<AdminCenterPage site={site} isAdmin={isAdmin} role={role} />, {
      title: `Admin Center · ${site.name}`,
      breadcrumbs: siteCrumbs(site, "center"),
    });
  })
  .get("/sites/:site/settings", (c) => {
    const { site, isAdmin } = c.var.siteContext;
    return c.render(<SiteSettingsPage site={site} isAdmin={isAdmin} />, {
      title: `Site Settings · ${site.name}`,
      breadcrumbs: siteCrumbs(site, "settings"),
    });
  })
  .get("/sites/:site/settings/iam", (c) => {
    const { site } = c.var.siteContext;
    return c.render(<IamPage site={site} />, { title: `IAM · ${site.name}`, breadcrumbs: siteCrumbs(site, "iam") });
  });
