import { Hono } from "hono";
import type { AppEnv } from "../env";

/** The REST API: /api/v1/sites/{site}/devices (§7). */
export const apiRoutes = new Hono<AppEnv>();
