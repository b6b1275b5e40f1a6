import { CLIENT_ASSERTION_ALGORITHMS, TOKEN_ENDPOINT_AUTH_METHODS } from "./client-auth/index";
import { JWKS_PATH, SCOPES, TOKEN_ENDPOINT_PATH } from "./config";

/** RFC 8414 §2 authorization server metadata (§7). */
export function authorizationServerMetadata(issuer: string) {
  return {
    issuer,
    token_endpoint: `${issuer}${TOKEN_ENDPOINT_PATH}`,
    jwks_uri: `${issuer}${JWKS_PATH}`,
    grant_types_supported: ["client_credentials"],
    token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
    scopes_supported: [...SCOPES],
    // No authorization endpoint: client_credentials only.
    response_types_supported: [],
  };
}
