import type { Bindings } from "../env";
import { originOf } from "../lib/url";

/**
 * Every scope the REST API knows (§7), in the order they are listed and granted: the devices resource, then the
 * management API's (registrations, their secrets and keys, the security log).
 */
export const SCOPES = [
  "devices:read",
  "devices:write",
  "registrations:read",
  "registrations:write",
  "security-log:read",
] as const;
export type Scope = (typeof SCOPES)[number];

/** Scopes that manage credentials: granted only on the admin pages, never by a registration to another one. */
export const MANAGEMENT_SCOPES: readonly Scope[] = ["registrations:read", "registrations:write", "security-log:read"];
export const isManagementScope = (scope: string) => (MANAGEMENT_SCOPES as readonly string[]).includes(scope);

export const TOKEN_ENDPOINT_PATH = "/oauth/token";
export const JWKS_PATH = "/.well-known/jwks.json";
export const METADATA_PATH = "/.well-known/oauth-authorization-server";

/** The issuer identifier (§7): the `ISSUER` variable, or the request's origin when it is empty. No trailing slash. */
export function issuerFor(env: Pick<Bindings, "ISSUER">, requestUrl: string): string {
  const configured = env.ISSUER?.trim();
  if (configured) return configured.replace(/\/+$/, "");
  return originOf(requestUrl);
}
