import type { Bindings } from "../../env";
import type { StoredClient, StoredClientSecret } from "../client-store";
import type { TokenFailureCode } from "../errors";
import type { TokenParams } from "../form";
import type { BasicAuthorization } from "./basic-header";

/** RFC 7591 §2 names of the client authentication methods (§7). */
export type ClientAuthMethodName = "client_secret_basic" | "client_secret_post" | "private_key_jwt";

/** What a method reads from the request: headers and form, parsed once, no I/O. */
export interface ClientAuthRequest {
  params: TokenParams;
  authorization: BasicAuthorization;
}

/** Whether a request uses a method, and with which Client ID and credentials. */
export type Presentation<Credentials> =
  | { kind: "absent" }
  | { kind: "malformed"; description: string }
  | { kind: "present"; clientId: string; credentials: Credentials };

/**
 * What `verify` may use besides the client of the one read. The token endpoint passes its exchange as it is (no
 * object per request); its URL is the issuer's followed by TOKEN_ENDPOINT_PATH.
 */
export interface ClientAuthContext {
  readonly env: Bindings;
  readonly now: number;
  readonly issuer: string;
  /** For work that must outlive the response (never to delay it). */
  waitUntil(promise: Promise<unknown>): void;
}

/** A success names the Client secret that matched (for its Last used); other methods record their own use. */
export type ClientAuthOutcome = { ok: true; secret?: StoredClientSecret } | { ok: false; detail: TokenFailureCode };

/**
 * One client authentication method (§7: exactly one per request). `present` recognises the method's credentials;
 * `verify` checks them against the registration loaded by the token endpoint's one read (null for an unknown
 * Client ID). `verify` must cost the same whichever way it ends, so timing tells nothing about which check failed.
 */
export interface ClientAuthMethod<Credentials = unknown> {
  readonly name: ClientAuthMethodName;
  /** A failed attempt with this method answers with a Basic challenge (RFC 6749 §5.2). */
  readonly usesAuthorizationHeader: boolean;
  /** For signed client assertions: the algorithms accepted (RFC 8414 token_endpoint_auth_signing_alg_values_supported). */
  readonly signingAlgorithms?: readonly string[];
  /**
   * Verifying spends the credentials (a private_key_jwt `jti`): when a refusal is confirmed on the primary, a success
   * of the first pass stands. Other methods verify again against the fresh read.
   */
  readonly singleUse?: boolean;
  present(request: ClientAuthRequest): Presentation<Credentials>;
  verify(credentials: Credentials, client: StoredClient | null, context: ClientAuthContext): Promise<ClientAuthOutcome>;
}
