import { Hono } from "hono";
import { AdminCenterPage, IamPage, NoSitesPage, SiteSettingsPage, siteCrumbs } from "../../views/shell/pages";
import { OverviewSection } from "../../views/usage/overview";
import type { AppEnv } from "../env";
import { ALL_SITES_HOME, sitePath } from "../paths";
import { loadOverview } from "../usage/overview";

/** The admin shell: home, Admin Center, Site Settings and IAM for each Site (§4 navigation). */
export const shellRoutes = new Hono<AppEnv>()
  .get("/", (c) => {
    // A Global Administrator lands on the overview across every Site; anyone else on their first Site.
    if (c.var.session?.user.isGlobalAdmin) return c.redirect(ALL_SITES_HOME, 303);
    const [first] = c.var.reachableSites;
    if (first) return c.redirect(sitePath(first.slug), 303);
    return c.render(<NoSitesPage />, { title: "No Sites" });
  })
  .get("/sites/:site", async (c) => {
    const { site, isAdmin, membership } = c.var.siteContext;
    const role =
      membership?.role === "site_admin" ? "Site Administrator" : membership ? "Site User" : "Global Administrator";
    // The overview is for those who manage the Site's registrations.
    const overview = isAdmin ? await loadOverview(c.env.DB, { kind: "site", siteId: site.id }, c.var.now) : null;
    return c.render(
      <AdminCenterPage
        site={site}
        isAdmin={isAdmin}
        role={role}
        overview={overview ? <OverviewSection overview={overview} site={site} /> : null}
      />,
      {
        title: `Admin Center · ${site.name}`,
        breadcrumbs: siteCrumbs(site, "center"),
      },
    );
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
