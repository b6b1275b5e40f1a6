import { Hono } from "hono";
import type { AppEnv } from "../env";

/** POST /oauth/token, GET /.well-known/jwks.json, GET /.well-known/oauth-authorization-server (§7). */
export const oauthRoutes = new Hono<AppEnv>();
