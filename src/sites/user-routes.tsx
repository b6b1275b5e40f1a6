import { Hono } from "hono";
import type { AppEnv } from "../env";

/** Users: create, disable, Global Administrator flag, memberships and roles (Global Administrator, §4). */
export const userAdminRoutes = new Hono<AppEnv>().get("/", (c) => c.render(<h1>Users</h1>, { title: "Users" }));
