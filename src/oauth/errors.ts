/**
 * §8 detail codes recorded for token endpoint failures. The caller never sees them: it gets the RFC 6749 §5.2 error
 * the code maps to.
 */
export type TokenFailureCode =
  | "InvalidIntegration"
  | "InvalidSecret"
  | "SecretRevoked"
  | "SecretExpired"
  | "IntegrationBlocked"
  | "IntegrationExpired"
  | "FeatureDisabled"
  | "ScopeMismatched"
  | "UnsupportedGrantType"
  | "MalformedRequest"
  | "TooManyFailures"
  | AssertionOnlyFailureCode;

/** The codes only a private_key_jwt assertion can produce (§9), in the §8 catalog's order. */
export const ASSERTION_FAILURE_CODES = [
  "MissingKeyId",
  "MissingKey",
  "UnsupportedAlgo",
  "InvalidSignature",
  "InvalidIssuer",
  "ClientIdMismatch",
  "TokenNotAcceptable",
  "TokenExpired",
  "TokenValidityTooBroad",
  "TokenReplayed",
  "InvalidTokenType",
] as const;
export type AssertionOnlyFailureCode = (typeof ASSERTION_FAILURE_CODES)[number];

/** RFC 6749 §5.2 error codes (plus `server_error` for faults). */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "server_error";

export type TokenErrorStatus = 400 | 401 | 405 | 413 | 415 | 429 | 500;

/** Headers every token endpoint answer carries (RFC 6749 §5.1, §5.2). */
export const NO_STORE_HEADERS: Readonly<Record<string, string>> = {
  "Cache-Control": "no-store",
  Pragma: "no-cache",
};

/** The realm of every challenge on the token endpoint. */
export const TOKEN_REALM = "AlloyScan token endpoint";

/**
 * A token request that failed for a reason the caller may learn (`error`, `status`, `description`) and the
 * administrator may learn in full (`detail`, the §8 code; null when the failure is not recorded).
 */
export class TokenError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly status: TokenErrorStatus,
    readonly detail: TokenFailureCode | null,
    readonly description?: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(description ?? error);
    this.name = "TokenError";
  }

  /** The JSON body of RFC 6749 §5.2. */
  body(): { error: OAuthErrorCode; error_description?: string } {
    return this.description ? { error: this.error, error_description: this.description } : { error: this.error };
  }
}

export function invalidRequest(description: string, status: 400 | 405 | 413 | 415 = 400, headers = {}) {
  return new TokenError("invalid_request", status, "MalformedRequest", description, headers);
}

/**
 * §7: every client authentication failure answers the same `401 {"error":"invalid_client"}`; only the recorded
 * detail differs. RFC 6749 §5.2: when the client tried the Authorization header, the 401 names that scheme.
 */
export function invalidClient(detail: TokenFailureCode, usedAuthorizationHeader: boolean) {
  const headers: Record<string, string> = usedAuthorizationHeader
    ? { "WWW-Authenticate": `Basic realm="${TOKEN_REALM}", charset="UTF-8"` }
    : {};
  return new TokenError("invalid_client", 401, detail, undefined, headers);
}

export function tooManyFailures(retryAfterSeconds: number) {
  return new TokenError(
    "invalid_request",
    429,
    "TooManyFailures",
    "Too many failed token requests. Retry after the number of seconds in Retry-After.",
    { "Retry-After": String(retryAfterSeconds) },
  );
}

export function serverError() {
  return new TokenError("server_error", 500, null, "The server could not complete the token request.");
}
