import { Hono } from "hono";
import { siteCrumbs } from "../../views/shell/pages";
import type { AppEnv } from "../env";

/** The Administrative notification log of a Site (§4, §5). */
export const notificationLogRoutes = new Hono<AppEnv>().get("/", (c) => {
  const { site } = c.var.siteContext;
  return c.render(<h1>Administrative notification log</h1>, {
    title: `Notification log · ${site.name}`,
    breadcrumbs: siteCrumbs(site, "settings", { label: "Administrative notification log" }),
  });
});
