import { zValidator } from "@hono/zod-validator";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { base64url, fromBase64url } from "../lib/crypto";
import { originOf } from "../lib/url";
import { issuerFor } from "../oauth/config";
import { type ApiEnv, refuseSite, requireAccess } from "./bearer";
import { createSiteDevice, type DeviceCursor, listSiteDevices, toResource } from "./devices";
import { managementRoutes } from "./management/routes";
import { openApiDocument } from "./openapi";
import { DEFAULT_PAGE_SIZE, deviceListQuery, MAX_PAGE_SIZE, newDeviceBody } from "./schemas";

/** A device is a few hundred bytes of JSON. */
export const API_BODY_LIMIT = 16 * 1024;
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE };

const NO_STORE = { "Cache-Control": "no-store" };

function apiError(status: 400 | 404 | 413 | 415 | 500, error: string, description: string, extra: object = {}) {
  return Response.json({ error, error_description: description, ...extra }, { status, headers: NO_STORE });
}

function encodeCursor(cursor: DeviceCursor): string {
  return base64url(new TextEncoder().encode(JSON.stringify([cursor.name, cursor.id])));
}

const cursorValue = z.tuple([z.string(), z.number().int().positive()]);

function decodeCursor(value: string): DeviceCursor | null {
  try {
    const parsed = cursorValue.safeParse(JSON.parse(new TextDecoder().decode(fromBase64url(value))));
    return parsed.success ? { name: parsed.data[0], id: parsed.data[1] } : null;
  } catch {
    return null;
  }
}

function validationError(issues: readonly z.core.$ZodIssue[]) {
  const fields: Record<string, string> = {};
  for (const issue of issues) {
    const field = String(issue.path[0] ?? "body");
    fields[field] ??= issue.message;
  }
  return apiError(400, "invalid_request", "The request has invalid fields.", { fields });
}

const jsonOnly = createMiddleware<ApiEnv>(async (c, next) => {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") return apiError(415, "invalid_request", "Send the device as application/json.");
  await next();
});

/** The REST API: /api/v1/sites/{site}/devices (§7). */
export const apiRoutes = new Hono<ApiEnv>()
  .use("*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  })
  // The OpenAPI document of the token endpoint, the devices API and the management API (public, like the discovery metadata).
  .get("/openapi.json", (c) => c.json(openApiDocument(originOf(issuerFor(c.env, c.req.url)))))
  .get(
    "/sites/:site/devices",
    requireAccess("devices:read"),
    zValidator("query", deviceListQuery, (result) => {
      if (!result.success) return validationError(result.error.issues);
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const after = cursor === undefined ? null : decodeCursor(cursor);
      if (cursor !== undefined && !after)
        return apiError(400, "invalid_request", "The cursor is not one this API gave out.");
      const page = await listSiteDevices(c.env.DB, c.var.access.siteSlug, limit, after);
      const refused = refuseSite(c, page.site);
      if (refused) return refused;
      return c.json({ devices: page.devices.map(toResource), next_cursor: page.next ? encodeCursor(page.next) : null });
    },
  )
  .post(
    "/sites/:site/devices",
    requireAccess("devices:write"),
    jsonOnly,
    bodyLimit({
      maxSize: API_BODY_LIMIT,
      onError: () => apiError(413, "invalid_request", `The body is larger than ${API_BODY_LIMIT} bytes.`),
    }),
    zValidator("json", newDeviceBody, (result) => {
      if (!result.success) return validationError(result.error.issues);
    }),
    async (c) => {
      const input = c.req.valid("json");
      const created = await createSiteDevice(
        c.env.DB,
        c.var.access.siteSlug,
        {
          name: input.name,
          ipAddress: input.ip_address,
          lastSeenAt: input.last_seen === undefined ? null : Date.parse(input.last_seen),
        },
        c.var.access.claims.client_id,
        c.var.now,
      );
      if (!created.device)
        return refuseSite(c, created.site) ?? apiError(500, "server_error", "The device was not stored.");
      return c.json(toResource(created.device), 201);
    },
  )
  .route("/sites/:site", managementRoutes)
  .all("*", () => apiError(404, "not_found", "There is no API resource at this address."));

apiRoutes.onError((error) => {
  if (error instanceof HTTPException && error.status === 400) {
    return apiError(400, "invalid_request", "The body is not valid JSON.");
  }
  // §10: a D1 fault answers 5xx and changes nothing.
  console.error("api", error);
  return apiError(500, "server_error", "The server could not complete the request.");
});
