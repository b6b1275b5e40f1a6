import { securityEventStatement } from "../audit/security-events";
import { createDb } from "../db/client";
import { findRegistrationForLog, type StoredClient } from "./client-store";
import type { TokenFailureCode } from "./errors";

export const TOKEN_ENDPOINT_LABEL = "POST /oauth/token";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TokenFailure {
  detail: TokenFailureCode;
  /** The Client ID as sent, when the request named one. */
  clientId: string | null;
  /** The registration of the one read; null when the Client ID is unknown; undefined when the read did not happen. */
  client: StoredClient | null | undefined;
  ip: string;
  userAgent: string;
}

/**
 * Records a failed token request in the security log (§8) under the registration's Site, so its administrators see
 * it. When the request failed before the token endpoint looked the Client ID up, the Site is looked up here (after
 * the response); a Client ID no registration has is recorded without a Site.
 */
export async function recordTokenFailure(d1: D1Database, failure: TokenFailure, now: number): Promise<void> {
  let owner = failure.client ? { siteId: failure.client.siteId, name: failure.client.name } : null;
  if (failure.client === undefined && failure.clientId && UUID.test(failure.clientId)) {
    owner = await findRegistrationForLog(d1, failure.clientId);
  }
  await securityEventStatement(
    createDb(d1),
    {
      siteId: owner?.siteId ?? null,
      event: "service_auth_failed",
      detailCode: failure.detail,
      clientId: failure.clientId,
      registrationName: owner?.name ?? null,
      ip: failure.ip,
      userAgent: failure.userAgent,
      endpoint: TOKEN_ENDPOINT_LABEL,
    },
    now,
  );
}
