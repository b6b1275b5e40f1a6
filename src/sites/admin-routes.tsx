import { Hono } from "hono";
import type { AppEnv } from "../env";

/** Global Administrator pages: all-Sites registrations, Sites, users. */
export const globalAdminRoutes = new Hono<AppEnv>()
  .get("/registrations", (c) => c.render(<h1>All registrations</h1>, { title: "All registrations" }))
  .get("/sites", (c) => c.render(<h1>Sites</h1>, { title: "Sites" }))
  .get("/users", (c) => c.render(<h1>Users</h1>, { title: "Users" }));
