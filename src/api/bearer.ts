import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { callerIp } from "../audit/security-events";
import type { AppEnv, Variables } from "../env";
import { afterResponse } from "../oauth/after-response";
import { issuerFor, type Scope } from "../oauth/config";
import { type AccessTokenClaims, loadSigningKeys, unverifiedClientId, verifyAccessTokenCached } from "../oauth/jose";
import { type ApiDenialCode, recordApiDenial } from "./denials";
import { problemBody } from "./problem";

/** The realm of the REST API's Bearer challenges (RFC 6750 §3). */
export const API_REALM = "AlloyScan API";

/** What a request's access token allows: its claims, for the Site named in the path (the token's own Site). */
export interface ApiAccess {
  claims: AccessTokenClaims;
  siteSlug: string;
}

export type ApiEnv = { Bindings: AppEnv["Bindings"]; Variables: Variables & { access: ApiAccess } };

// RFC 6750 §2.1: `Bearer` then a b64token.
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

type BearerError = "invalid_token" | "insufficient_scope";

function challenge(error?: BearerError, description?: string, scope?: string): string {
  const parts = [`realm="${API_REALM}"`];
  if (error) parts.push(`error="${error}"`);
  if (description) parts.push(`error_description="${description}"`);
  if (scope) parts.push(`scope="${scope}"`);
  return `Bearer ${parts.join(", ")}`;
}

export interface Denial {
  status: 401 | 403;
  /** RFC 6750 error, or `access_denied` for a refusal that is not about the token (REST API disabled). */
  error: BearerError | "access_denied";
  description: string;
  code: ApiDenialCode;
  /** The token's client_id claim (unverified when the token itself was refused). */
  clientId: string | null;
  scope?: string;
}

/** How refusals are written: the devices API's OAuth-style JSON, or the management API's RFC 9457 problem+json. */
export type DenialFormat = "oauth" | "problem";

function denialBody(format: DenialFormat, denial: Pick<Denial, "status" | "error" | "description" | "code">) {
  if (format === "oauth") return { error: denial.error, error_description: denial.description };
  return { ...problemBody(denial.status, denial.error, denial.description), reason: denial.code };
}

/** Answers a refused API call with its RFC 6750 challenge and records it (§8) after the answer. */
export function deny(c: Context<ApiEnv>, denial: Denial, format: DenialFormat = "oauth"): Response {
  const { code, clientId } = denial;
  const record = {
    code,
    clientId,
    pathSiteSlug: c.req.param("site") ?? "",
    ip: callerIp(c.req),
    userAgent: c.req.header("User-Agent") ?? "",
    endpoint: `${c.req.method} ${new URL(c.req.url).pathname}`,
  };
  const now = c.var.now;
  afterResponse(
    (p) => c.executionCtx.waitUntil(p),
    "recording API denial",
    () => recordApiDenial(c.env.DB, record, now),
  );
  const wwwAuthenticate =
    denial.error === "access_denied" ? challenge() : challenge(denial.error, denial.description, denial.scope);
  return c.json(denialBody(format, denial), denial.status, {
    "Cache-Control": "no-store",
    "WWW-Authenticate": wwwAuthenticate,
    ...(format === "problem" ? { "Content-Type": "application/problem+json" } : {}),
  });
}

/**
 * Requires a valid access token with `scope` for the Site in the path (§7, RFC 6750). Everything here is local: the
 * signature is checked with the published keys, then the token's Site and scopes. The handler's own D1 statement
 * reads the Site and passes it to `refuseSite`, so an API call costs one D1 round trip.
 */
export function requireAccess(scope: Scope, format: DenialFormat = "oauth") {
  const refuse = (c: Context<ApiEnv>, denial: Denial) => deny(c, denial, format);
  return createMiddleware<ApiEnv>(async (c, next) => {
    const slug = c.req.param("site") ?? "";
    const header = c.req.header("Authorization");
    const match = header ? BEARER.exec(header.trim()) : null;
    if (!match) {
      // RFC 6750 §3.1: a request without authentication gets a challenge and no error code.
      const description = "This API requires an access token: Authorization: Bearer <token>.";
      const body =
        format === "oauth" ? { error_description: description } : problemBody(401, "missing_token", description);
      return c.json(body, 401, {
        "Cache-Control": "no-store",
        "WWW-Authenticate": challenge(),
        ...(format === "problem" ? { "Content-Type": "application/problem+json" } : {}),
      });
    }
    const token = match[1] ?? "";
    const keys = await loadSigningKeys(c.env.SIGNING_KEYS);
    const verified = await verifyAccessTokenCached(keys, token, {
      issuer: issuerFor(c.env, c.req.url),
      audience: c.env.AUDIENCE,
      now: c.var.now,
    });
    if (!verified.ok) {
      return refuse(c, {
        status: 401,
        error: "invalid_token",
        description: verified.description,
        code: verified.reason,
        clientId: unverifiedClientId(token),
      });
    }
    const { claims } = verified;
    const clientId = claims.client_id;
    // The Site check comes before anything is read, so no answer tells whether another Site's slug exists.
    if (claims.site !== slug) {
      const description = "The access token belongs to another Site.";
      return refuse(c, { status: 403, error: "insufficient_scope", description, code: "SiteMismatch", clientId });
    }
    const scopes = (claims.scope ?? "").split(" ").filter(Boolean);
    if (scopes.length === 0) {
      const description = "The access token has no scope.";
      return refuse(c, {
        status: 403,
        error: "insufficient_scope",
        description,
        code: "InvalidScope",
        clientId,
        scope,
      });
    }
    if (!scopes.includes(scope)) {
      const description = `This request needs the ${scope} scope.`;
      return refuse(c, {
        status: 403,
        error: "insufficient_scope",
        description,
        code: "ScopeMismatched",
        clientId,
        scope,
      });
    }
    c.set("access", { claims, siteSlug: slug });
    await next();
  });
}

/**
 * The Site-level part of authorisation, from the row the handler read: a Site that no longer exists is 404; a Site
 * whose REST API is turned off refuses even tokens issued before (FeatureDisabled). Null when the call may proceed.
 */
export function refuseSite(
  c: Context<ApiEnv>,
  site: { restApiEnabled: boolean } | null,
  format: DenialFormat = "oauth",
): Response | null {
  if (!site) {
    return c.json({ error: "not_found", error_description: "There is no such Site." }, 404, {
      "Cache-Control": "no-store",
    });
  }
  if (!site.restApiEnabled) {
    return deny(
      c,
      {
        status: 403,
        error: "access_denied",
        description: "The REST API is disabled for this Site.",
        code: "FeatureDisabled",
        clientId: c.var.access.claims.client_id,
      },
      format,
    );
  }
  return null;
}
