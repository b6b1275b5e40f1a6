import { createApp, requestTime } from "./app";
import type { Bindings, NotificationMessage } from "./env";
import { pathOf } from "./lib/url";
import { handleQueue } from "./notifications/consumer";
import { handleScheduled } from "./notifications/scheduled";
import { TOKEN_ENDPOINT_PATH } from "./oauth/config";
import { serveTokenRequest } from "./oauth/routes";

const app = createApp();

/**
 * The token endpoint is the hot path (§7): its requests skip the router and the admin middleware and go straight to
 * the token pipeline, with the same security headers as every other answer. Everything else is the Hono app.
 */
// Not async: the answer's promise goes to the runtime as it is, without another promise wrapped around it.
function fetch(request: Request, env: Bindings, ctx: ExecutionContext): Response | Promise<Response> {
  if (pathOf(request.url) !== TOKEN_ENDPOINT_PATH) return app.fetch(request, env, ctx);
  // Its answers carry the security headers already (token-endpoint.ts, ANSWER_HEADERS).
  return serveTokenRequest(request, env, ctx, requestTime(request, env));
}

export default {
  fetch,
  scheduled: handleScheduled,
  queue: handleQueue,
} satisfies ExportedHandler<Bindings, NotificationMessage>;
