import { Hono } from "hono";
import { siteCrumbs } from "../../views/shell/pages";
import type { AppEnv } from "../env";

/** App registrations catalog (Admin Center › Site Settings › IAM › App registrations). */
export const registrationRoutes = new Hono<AppEnv>().get("/", (c) => {
  const { site } = c.var.siteContext;
  return c.render(
    <section>
      <h1>App registrations</h1>
      <p class="muted">The catalog of {site.name} appears here.</p>
    </section>,
    { title: `App registrations · ${site.name}`, breadcrumbs: siteCrumbs(site, "iam", { label: "App registrations" }) },
  );
});
