import { Hono } from "hono";
import type { AppEnv } from "../env";

/** Sites: create, rename, time zone, REST API enabled (Global Administrator, §4). */
export const siteAdminRoutes = new Hono<AppEnv>().get("/", (c) => c.render(<h1>Sites</h1>, { title: "Sites" }));
