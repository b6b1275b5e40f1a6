import { createMiddleware } from "hono/factory";
import { callerIp } from "../audit/security-events";
import type { AppEnv, Variables } from "../env";
import { issuerFor, type Scope } from "../oauth/config";
import {
  type AccessTokenClaims,
  loadSigningKeys,
  type TokenRejection,
  unverifiedClientId,
  verifyAccessToken,
} from "../oauth/jose";
import { type ApiDenialCode, recordApiDenial } from "./denials";
import { findApiSite } from "./devices";

/** The realm of the REST API's Bearer challenges (RFC 6750 §3). */
export const API_REALM = "AlloyScan API";

/** What a request authorised by its access token may act on. */
export interface ApiAccess {
  claims: AccessTokenClaims;
  site: { id: number; slug: string };
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

/**
 * Requires a valid access token for the Site in the path with `scope` (§7, RFC 6750). Verification is local with the
 * published keys; only the Site's own row is read (its id, and whether its REST API is enabled). Every refusal with
 * a §8 detail code is recorded after the response.
 */
export function requireAccess(scope: Scope) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const slug = c.req.param("site") ?? "";
    const now = c.var.now;
    const url = new URL(c.req.url);
    const deny = (
      status: 401 | 403,
      error: BearerError | "access_denied",
      description: string,
      code: ApiDenialCode | null,
      clientId: string | null,
      challengeScope?: string,
    ) => {
      if (code) {
        c.executionCtx.waitUntil(
          recordApiDenial(
            c.env.DB,
            {
              code,
              clientId,
              pathSiteSlug: slug,
              ip: callerIp(c.req),
              userAgent: c.req.header("User-Agent") ?? "",
              endpoint: `${c.req.method} ${url.pathname}`,
            },
            now,
          ).catch((e: unknown) => console.error("recording API denial", e)),
        );
      }
      const headers: Record<string, string> = { "Cache-Control": "no-store" };
      // A refusal that is not about the token itself (REST API disabled) carries no token error in its challenge.
      headers["WWW-Authenticate"] =
        error === "access_denied" ? challenge() : challenge(error, description, challengeScope);
      return c.json({ error, error_description: description }, status, headers);
    };

    const header = c.req.header("Authorization");
    const match = header ? BEARER.exec(header.trim()) : null;
    if (!match) {
      // RFC 6750 §3.1: a request without authentication gets a challenge and no error code.
      return c.json({ error_description: "This API requires an access token: Authorization: Bearer <token>." }, 401, {
        "Cache-Control": "no-store",
        "WWW-Authenticate": challenge(),
      });
    }
    const token = match[1] ?? "";
    const keys = await loadSigningKeys(c.env.SIGNING_KEYS);
    const verified = await verifyAccessToken(keys, token, {
      issuer: issuerFor(c.env, c.req.url),
      audience: c.env.AUDIENCE,
      now,
    });
    if (!verified.ok) {
      return deny(
        401,
        "invalid_token",
        verified.description,
        verified.reason satisfies TokenRejection,
        unverifiedClientId(token),
      );
    }
    const { claims } = verified;
    if (claims.site !== slug) {
      return deny(
        403,
        "insufficient_scope",
        "The access token belongs to another Site.",
        "SiteMismatch",
        claims.client_id,
      );
    }
    const scopes = (claims.scope ?? "").split(" ").filter(Boolean);
    if (scopes.length === 0) {
      return deny(403, "insufficient_scope", "The access token has no scope.", "InvalidScope", claims.client_id, scope);
    }
    if (!scopes.includes(scope)) {
      return deny(
        403,
        "insufficient_scope",
        `This request needs the ${scope} scope.`,
        "ScopeMismatched",
        claims.client_id,
        scope,
      );
    }
    const site = await findApiSite(c.env.DB, slug);
    if (!site)
      return c.json({ error: "not_found", error_description: "There is no such Site." }, 404, {
        "Cache-Control": "no-store",
      });
    if (!site.restApiEnabled) {
      return deny(403, "access_denied", "The REST API is disabled for this Site.", "FeatureDisabled", claims.client_id);
    }
    c.set("access", { claims, site: { id: site.id, slug } });
    await next();
  });
}
