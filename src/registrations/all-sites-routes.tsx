import type { Context } from "hono";
import type { AppEnv } from "../env";
import { gridRoutes } from "./grid-routes";

/**
 * The all-Sites registrations grid with a Site column (Global Administrator, §4), mounted behind
 * requireGlobalAdmin. Each row links to the registration's page in its own Site; times show in each Site's zone.
 */
export const allSitesRegistrationRoutes = gridRoutes("all", (c: Context<AppEnv>) => ({
  source: { scope: "all" },
  base: "/admin/registrations",
  title: "All registrations",
  heading: "All App registrations",
  breadcrumbs: [{ label: "All registrations" }],
  intro: "Every Site's App registrations. Dates and times show in each Site's time zone.",
  sites: c.var.reachableSites.map((s) => ({ slug: s.slug, name: s.name })),
}));
