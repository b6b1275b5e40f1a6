import type { ApiDenialCode } from "../api/denials";
import {
  SIGN_IN_MAX_FAILURES_PER_ACCOUNT,
  SIGN_IN_MAX_FAILURES_PER_ACCOUNT_AND_IP,
  SIGN_IN_MAX_FAILURES_PER_IP,
  SIGN_IN_WINDOW,
} from "../auth/throttle";
import { SECURITY_EVENTS, type SecurityEventType } from "../db/schema";
import { MINUTE } from "../lib/time";
import type { TokenFailureCode } from "../oauth/errors";

/** What a security-log row means and what the administrator does about it (§8; the vocabulary of seed 004). */
export interface DetailCodeInfo {
  code: string;
  event: SecurityEventType;
  /** What the caller got back (never the detail code itself: §8 "the caller never sees the detail"). */
  answer: string;
  /** What went wrong, in the administrator's words. */
  explanation: string;
  /** How to make the next request succeed. */
  fix: string;
}

/** The names people see for the three events (§8). */
export const EVENT_LABELS: Record<SecurityEventType, string> = {
  service_auth_failed: "Service authentication failed",
  api_access_denied: "API access denied",
  admin_sign_in_failed: "Admin sign-in failed",
};

/** Where each event is recorded. */
export const EVENT_SOURCES: Record<SecurityEventType, string> = {
  service_auth_failed: "token endpoint (POST /oauth/token)",
  api_access_denied: "REST API (/api/v1)",
  admin_sign_in_failed: "admin sign-in (POST /sign-in)",
};

const INVALID_CLIENT = "401 invalid_client";
const assertion = (text: string) => `The client assertion (private_key_jwt) ${text}`;

type Entry = Omit<DetailCodeInfo, "event" | "code">;

const SERVICE_AUTH: Record<TokenFailureCode, Entry> = {
  InvalidIntegration: {
    answer: INVALID_CLIENT,
    explanation:
      "The Client ID is not registered in any Site: mistyped, from another environment, or its registration was deleted. Such rows cannot be tied to a Site, so only Global Administrators see them.",
    fix: "Compare the Client ID the consumer sends with the one in the App registrations grid. If the registration was deleted, create a new one and give the consumer its Client ID and Client secret.",
  },
  InvalidSecret: {
    answer: INVALID_CLIENT,
    explanation: "The Client ID is right but the Client secret matches no live secret of the registration.",
    fix: "Make the consumer send the secret exactly as shown when it was issued (asc_ prefix included, no spaces; form-url-encoded inside a Basic header). A secret cannot be shown again: if it is lost, open the registration, click New client secret, give the consumer the new secret, then Revoke the lost one. The Client ID does not change.",
  },
  SecretRevoked: {
    answer: INVALID_CLIENT,
    explanation:
      "The consumer still uses an old Client secret: the one it sent was revoked on the registration's page (Client secrets shows it as Revoked, with its hint).",
    fix: "Give the consumer the registration's current secret. If nobody has it any more, click New client secret on the registration and distribute the new one; the Client ID does not change.",
  },
  SecretExpired: {
    answer: INVALID_CLIENT,
    explanation:
      "The consumer still uses an old Client secret: the one it sent expired, at the time chosen when a newer secret was issued (Client secrets shows it as Expired, with its hint).",
    fix: "Give the consumer the newer secret issued by the rotation. If nobody has it any more, click New client secret on the registration and distribute the new one; the Client ID does not change.",
  },
  IntegrationBlocked: {
    answer: INVALID_CLIENT,
    explanation: "The registration is disabled (Enabled = No).",
    fix: "Open the registration and turn Enabled back on. The next token request succeeds at once.",
  },
  IntegrationExpired: {
    answer: INVALID_CLIENT,
    explanation: "The registration's Expiration date has passed (Expires shows Expired).",
    fix: "Open the registration and push the Expiration date forward. The same Client ID and Client secret keep working and the next token request succeeds.",
  },
  FeatureDisabled: {
    answer: INVALID_CLIENT,
    explanation: "REST API enabled is turned off for the Site, so no registration of the Site can get tokens.",
    fix: "A Global Administrator turns REST API enabled back on in the Site's settings (Sites).",
  },
  ScopeMismatched: {
    answer: "400 invalid_scope",
    explanation: "The token request asked for a scope the registration is not allowed.",
    fix: "Request only scopes ticked on the registration (or leave scope out to get all of them), or tick the missing scope on the registration.",
  },
  UnsupportedGrantType: {
    answer: "400 unsupported_grant_type",
    explanation: "The grant_type is not client_credentials.",
    fix: "Send grant_type=client_credentials. App registrations issue no authorization codes and no refresh tokens.",
  },
  MalformedRequest: {
    answer: "400 invalid_request (or 401 invalid_client)",
    explanation:
      "The token request could not be read: not a form-encoded POST, a malformed Basic header, a missing or repeated parameter, or more than one client authentication method.",
    fix: "POST with Content-Type application/x-www-form-urlencoded, grant_type=client_credentials and exactly one of: a Basic header, client_id and client_secret in the body, or a client_assertion.",
  },
  TooManyFailures: {
    answer: "429 with Retry-After",
    explanation:
      "Too many failed token requests from this IP, or for this Client ID, in a short time. A blocked IP is refused without its credentials being checked; for a blocked Client ID only attempts that fail anyway are refused, so the right secret still gets tokens.",
    fix: "Filter by the Client ID or the IP to find the failures just before this row and fix their cause, then wait for Retry-After. The real client with the right secret calling from another IP keeps getting tokens.",
  },
  MissingKeyId: {
    answer: INVALID_CLIENT,
    explanation: assertion("has no kid in its header."),
    fix: "Put the kid of one of the registration's public keys in the assertion header.",
  },
  MissingKey: {
    answer: INVALID_CLIENT,
    explanation: assertion(
      "names a kid that matches no usable public key of the registration (unknown, removed or expired).",
    ),
    fix: "Add the public key with that kid to the registration, or sign with a key the registration holds; check the key's expiry.",
  },
  UnsupportedAlgo: {
    answer: INVALID_CLIENT,
    explanation: assertion("is signed with another algorithm than the one pinned to its key (ES256, RS256 or EdDSA)."),
    fix: "Sign with the algorithm recorded for that key on the registration.",
  },
  InvalidSignature: {
    answer: INVALID_CLIENT,
    explanation: assertion("has a signature that does not verify with the registered public key of its kid."),
    fix: "Sign with the private key that belongs to the uploaded public key; after rotating the key pair, upload the new public key.",
  },
  InvalidIssuer: {
    answer: INVALID_CLIENT,
    explanation: assertion(
      "has the wrong iss, sub or aud: iss and sub must be the Client ID, aud the issuer (or the token endpoint URL).",
    ),
    fix: "Set iss and sub to the Client ID and aud to the issuer shown in /.well-known/oauth-authorization-server.",
  },
  ClientIdMismatch: {
    answer: INVALID_CLIENT,
    explanation: assertion("is for another Client ID than the client_id sent with the request."),
    fix: "Send the same Client ID in client_id and in the assertion's iss and sub, or leave client_id out.",
  },
  TokenNotAcceptable: {
    answer: INVALID_CLIENT,
    explanation: assertion("is issued in the future: iat or nbf is more than 60 seconds ahead of AlloyScan's clock."),
    fix: "Synchronise the consumer's clock (NTP) and create the assertion at the current time.",
  },
  TokenExpired: {
    answer: INVALID_CLIENT,
    explanation: assertion("has expired (its exp has passed) or has no exp."),
    fix: "Create a fresh assertion for each token request, with exp a few minutes ahead.",
  },
  TokenValidityTooBroad: {
    answer: INVALID_CLIENT,
    explanation: assertion("is valid for more than 2 hours (exp more than 2 hours after iat)."),
    fix: "Keep exp at most 2 hours after iat; a few minutes is usual.",
  },
  TokenReplayed: {
    answer: INVALID_CLIENT,
    explanation: assertion("was already used: its jti was seen before (each assertion is single-use until its exp)."),
    fix: "Generate a new random jti and a new assertion for every token request. Repeated rows from an unknown IP can mean a stolen assertion.",
  },
  InvalidTokenType: {
    answer: INVALID_CLIENT,
    explanation:
      "What was sent as a client assertion is another kind of token: its typ names one (such as at+jwt), or it is an access token issued by AlloyScan.",
    fix: "Send a client assertion signed with the registration's private key; access tokens only go to the REST API.",
  },
};

const API_ACCESS: Record<ApiDenialCode, Entry> = {
  AccessTokenExpired: {
    answer: "401 invalid_token",
    explanation: "The bearer access token has expired.",
    fix: "Request a new access token from POST /oauth/token (client_credentials has no refresh token), ideally shortly before the old one expires.",
  },
  InvalidSignature: {
    answer: "401 invalid_token",
    explanation:
      "The bearer token's signature does not verify with AlloyScan's signing keys: altered, forged, or signed with a key that is no longer published. Repeated rows can mean someone is forging tokens.",
    fix: "Send the access token exactly as issued, or get a fresh one from this deployment's token endpoint.",
  },
  InvalidIssuer: {
    answer: "401 invalid_token",
    explanation:
      "The bearer token was issued by another issuer or for another audience (for example another environment).",
    fix: "Get the access token from this deployment's token endpoint.",
  },
  InvalidTokenType: {
    answer: "401 invalid_token",
    explanation: "The bearer token is not an access token (typ at+jwt), for example a client assertion.",
    fix: "Send the access_token from the token response.",
  },
  InvalidScope: {
    answer: "403 insufficient_scope",
    explanation: "The access token carries no scope.",
    fix: "Request the token with a scope the registration allows, or leave scope out to get all of them.",
  },
  ScopeMismatched: {
    answer: "403 insufficient_scope",
    explanation: "The access token lacks the scope the endpoint needs (for example devices:write to create a device).",
    fix: "Tick the scope on the registration, then request a new token that includes it.",
  },
  FeatureDisabled: {
    answer: "403 access_denied",
    explanation:
      "REST API enabled is turned off for the Site, so its API refuses every access token, even one issued before.",
    fix: "A Global Administrator turns REST API enabled back on in the Site's settings (Sites).",
  },
  IntegrationBlocked: {
    answer: "401 invalid_token",
    explanation:
      "A management API call (registrations, secrets, keys, security events) came with an access token whose App registration has since been disabled, has expired or was deleted. The management API checks the calling registration on every call; the devices API does not.",
    fix: "Enable or renew the registration that runs the automation, then get a new access token; a deleted one must be created again by an administrator.",
  },
  SiteMismatch: {
    answer: "403",
    explanation: "The access token belongs to another Site than the one in the URL.",
    fix: "Call the API under the registration's own Site (/api/v1/sites/<its slug>/…), or create a registration in the Site you need to act in.",
  },
};

const windowMinutes = SIGN_IN_WINDOW / MINUTE;

const ADMIN_SIGN_IN: Record<string, Entry> = {
  InvalidCredentials: {
    answer: "401, generic error",
    explanation:
      "The email is unknown or the password is wrong (at sign-in, or as the current password when changing it: the row's endpoint says which).",
    fix: "The person checks the email and password. Many rows from one IP across different accounts mean password spraying.",
  },
  UserDisabled: {
    answer: "401, generic error",
    explanation: "The password was right but the account is disabled.",
    fix: "A Global Administrator re-enables the account in Users if the person should still have access.",
  },
  TooManyFailures: {
    answer: "429 with Retry-After",
    explanation: `Too many failed sign-ins within ${windowMinutes} minutes: ${SIGN_IN_MAX_FAILURES_PER_IP} from the IP, or ${SIGN_IN_MAX_FAILURES_PER_ACCOUNT_AND_IP} for the account from the IP (both refused without checking the password), or ${SIGN_IN_MAX_FAILURES_PER_ACCOUNT} for the account from any IP (a wrong password is answered 429 instead of 401; the right password from an IP that is not blocked still signs in).`,
    fix: "Wait for the window to pass. Look at the failures before this row: if they were not the person's own, treat it as an attack on the account.",
  },
};

function entries(event: SecurityEventType, table: Record<string, Entry>): DetailCodeInfo[] {
  return Object.entries(table).map(([code, entry]) => ({ code, event, ...entry }));
}

/** Every §8 detail code with its event, ordered as in the specification. */
export const DETAIL_CODES: readonly DetailCodeInfo[] = [
  ...entries("service_auth_failed", SERVICE_AUTH),
  ...entries("api_access_denied", API_ACCESS),
  ...entries("admin_sign_in_failed", ADMIN_SIGN_IN),
];

/** The distinct code names (some codes, such as InvalidSignature, occur under two events). */
export const DETAIL_CODE_NAMES: readonly string[] = [...new Set(DETAIL_CODES.map((d) => d.code))].sort();

const byKey = new Map(DETAIL_CODES.map((d) => [`${d.event}|${d.code}`, d]));

/** The explanation and fix of a code as recorded under an event; null for a code the catalog does not know. */
export function describeDetailCode(event: SecurityEventType, code: string): DetailCodeInfo | null {
  return byKey.get(`${event}|${code}`) ?? null;
}

export function isDetailCode(code: string): boolean {
  return DETAIL_CODE_NAMES.includes(code);
}

export function eventLabel(event: string): string {
  return (SECURITY_EVENTS as readonly string[]).includes(event) ? EVENT_LABELS[event as SecurityEventType] : event;
}
