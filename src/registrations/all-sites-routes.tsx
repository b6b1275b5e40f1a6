import { Hono } from "hono";
import type { AppEnv } from "../env";

/** The all-Sites registrations grid with a Site column (Global Administrator, §4). */
export const allSitesRegistrationRoutes = new Hono<AppEnv>().get("/", (c) =>
  c.render(<h1>All registrations</h1>, { title: "All registrations" }),
);
