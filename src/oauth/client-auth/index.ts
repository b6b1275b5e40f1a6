import { invalidClient, invalidRequest } from "../errors";
import { clientSecretBasic } from "./client-secret-basic";
import { clientSecretPost } from "./client-secret-post";
import { privateKeyJwt } from "./private-key-jwt";
import type { ClientAuthMethod, ClientAuthMethodName, ClientAuthRequest } from "./types";

export type { ClientAuthContext, ClientAuthMethod, ClientAuthOutcome, ClientAuthRequest } from "./types";

/**
 * The client authentication methods the token endpoint accepts, in the order they are advertised. A new method is
 * one module implementing `ClientAuthMethod`, added here; discovery metadata follows this list.
 */
// biome-ignore lint/suspicious/noExplicitAny: each method has its own credentials type.
export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod<any>[] = [
  clientSecretBasic,
  clientSecretPost,
  privateKeyJwt,
];

export const TOKEN_ENDPOINT_AUTH_METHODS: readonly ClientAuthMethodName[] = CLIENT_AUTH_METHODS.map((m) => m.name);

/** Signing algorithms accepted for client assertions (RFC 8414 `token_endpoint_auth_signing_alg_values_supported`). */
export const CLIENT_ASSERTION_ALGORITHMS: readonly string[] = [
  ...new Set(CLIENT_AUTH_METHODS.flatMap((m) => m.signingAlgorithms ?? [])),
];

export interface SelectedClientAuthentication {
  method: ClientAuthMethod<unknown>;
  clientId: string;
  credentials: unknown;
}

/**
 * Picks the one client authentication method the request uses (§7: exactly one per request, RFC 6749 §2.3).
 * Throws the token error for malformed credentials, several methods at once, or none.
 */
export function selectClientAuthentication(request: ClientAuthRequest): SelectedClientAuthentication {
  const found: SelectedClientAuthentication[] = [];
  for (const method of CLIENT_AUTH_METHODS) {
    const presentation = method.present(request);
    if (presentation.kind === "malformed") throw invalidRequest(presentation.description);
    if (presentation.kind === "present") {
      found.push({ method, clientId: presentation.clientId, credentials: presentation.credentials });
    }
  }
  if (found.length > 1) {
    throw invalidRequest(
      `Use exactly one client authentication method, not ${found.map((f) => f.method.name).join(" and ")}.`,
    );
  }
  const [selected] = found;
  if (!selected) {
    // RFC 6749 §5.2: no client authentication is invalid_client; an unsupported scheme in the Authorization
    // header is answered with the scheme the endpoint does support.
    throw invalidClient("MalformedRequest", request.authorization.kind === "not-basic");
  }
  return selected;
}
