import { Hono } from "hono";
import { callerIp } from "../audit/security-events";
import type { AppEnv, Bindings } from "../env";
import { issuerFor, JWKS_PATH, METADATA_PATH } from "./config";
import { loadSigningKeys } from "./jose";
import { authorizationServerMetadata } from "./metadata";
import { handleTokenRequest } from "./token-endpoint";

/** Discovery documents change only with a deployment or a key rotation; caches may keep them this long. */
const PUBLIC_CACHE = "public, max-age=300";

/** One token request (§7), from the raw request: the Worker's entry serves it without routing (src/index.ts). */
export function serveTokenRequest(
  request: Request,
  env: Bindings,
  ctx: Pick<ExecutionContext, "waitUntil">,
  now: number,
): Promise<Response> {
  const header = (name: string) => request.headers.get(name) ?? undefined;
  return handleTokenRequest({
    request,
    env,
    now,
    ip: callerIp({ header }),
    userAgent: header("User-Agent") ?? "",
    issuer: issuerFor(env, request.url),
    waitUntil: (promise) => ctx.waitUntil(promise),
    clientIdAsSent: null,
  });
}

/**
 * GET /.well-known/jwks.json and GET /.well-known/oauth-authorization-server (§7). POST /oauth/token never reaches the
 * router: the Worker's entry hands it to serveTokenRequest (src/index.ts).
 */
export const oauthRoutes = new Hono<AppEnv>()
  .get(JWKS_PATH, async (c) => {
    const keys = await loadSigningKeys(c.env.SIGNING_KEYS);
    return c.json(keys.publicJwks, 200, { "Cache-Control": PUBLIC_CACHE });
  })
  .get(METADATA_PATH, (c) =>
    c.json(authorizationServerMetadata(issuerFor(c.env, c.req.url)), 200, { "Cache-Control": PUBLIC_CACHE }),
  );

oauthRoutes.onError((error, c) => {
  console.error("oauth", error);
  return c.json({ error: "server_error" }, 500, { "Cache-Control": "no-store" });
});
