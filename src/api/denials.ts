import { securityEventStatement } from "../audit/security-events";
import { createDb } from "../db/client";

/** §8 detail codes of the "API access denied" event. */
export type ApiDenialCode =
  | "AccessTokenExpired"
  | "InvalidSignature"
  | "InvalidIssuer"
  | "InvalidTokenType"
  | "InvalidScope"
  | "ScopeMismatched"
  | "SiteMismatch"
  | "FeatureDisabled"
  | "IntegrationBlocked";

export interface ApiDenial {
  code: ApiDenialCode;
  /** The token's client_id claim (unverified when the token was refused for its signature or claims). */
  clientId: string | null;
  pathSiteSlug: string;
  ip: string;
  userAgent: string;
  endpoint: string;
}

const OWNER_SQL = `
SELECT r.site_id AS registration_site_id, r.name, (SELECT id FROM sites WHERE slug = ?2) AS path_site_id
FROM (SELECT 1) AS anchor LEFT JOIN app_registrations r ON r.client_id = ?1`;

/**
 * Records a refused API call (§8) under the Site of the registration the token names, so that registration's
 * administrators see it; a token naming no registration is recorded under the Site in the path.
 */
export async function recordApiDenial(d1: D1Database, denial: ApiDenial, now: number): Promise<void> {
  const owner = await d1
    .prepare(OWNER_SQL)
    .bind(denial.clientId ?? "", denial.pathSiteSlug)
    .first<{ registration_site_id: number | null; name: string | null; path_site_id: number | null }>();
  await securityEventStatement(
    createDb(d1),
    {
      siteId: owner?.registration_site_id ?? owner?.path_site_id ?? null,
      event: "api_access_denied",
      detailCode: denial.code,
      clientId: denial.clientId,
      registrationName: owner?.name ?? null,
      ip: denial.ip,
      userAgent: denial.userAgent,
      endpoint: denial.endpoint,
    },
    now,
  );
}
