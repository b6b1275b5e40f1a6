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
 * Records failed token requests in the security log (§8) under their registration's Site, so its administrators
 * see them: one coalescing upsert each, all in one D1 batch. A request that failed before the token endpoint looked
 * its Client ID up has its Site looked up here; a Client ID no registration has is recorded without a Site.
 */
export async function recordTokenFailures(
  d1: D1Database,
  entries: { failure: TokenFailure; now: number }[],
): Promise<void> {
  const db = createDb(d1);
  const statements = [];
  for (const { failure, now } of entries) {
    let owner = failure.client ? { siteId: failure.client.siteId, name: failure.client.name } : null;
    if (failure.client === undefined && failure.clientId && UUID.test(failure.clientId)) {
      owner = await findRegistrationForLog(d1, failure.clientId);
    }
    statements.push(
      securityEventStatement(
        db,
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
      ),
    );
  }
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}
