import type { Bindings } from "../env";
import { randomToken } from "../lib/crypto";
import { isExpired } from "../registrations/lifecycle";
import { API_SECURITY_HEADERS } from "../security-headers";
import { afterResponse } from "./after-response";
import { type BasicAuthorization, parseBasicAuthorization } from "./client-auth/basic-header";
import {
  type ClientAuthOutcome,
  type SelectedClientAuthentication,
  selectClientAuthentication,
} from "./client-auth/index";
import { cachedLookup, claimRefresh, rememberLookup } from "./client-cache";
import { lookupTokenClient, type StoredClient, type StoredClientSecret, type TokenClientLookup } from "./client-store";
import { SCOPES, type Scope } from "./config";
import {
  invalidClient,
  invalidRequest,
  NO_STORE_HEADERS,
  serverError,
  TokenError,
  type TokenFailureCode,
  tooManyFailures,
} from "./errors";
import { queueTokenFailure } from "./failure-queue";
import { parseTokenForm, type TokenParams } from "./form";
import { loadedSigningKeys, loadSigningKeys, signAccessToken } from "./jose";
import { claimLastUsedWrite, recordUse } from "./last-used";
import {
  blockMarkerKey,
  countTokenFailure,
  isBlockedInIsolate,
  isIpBlockedInIsolate,
  retryAfterSeconds,
  type ThrottleKeys,
  throttleKeys,
  throttleWindowStart,
} from "./throttle";
import { claimUsageFlush, countIssuance, takeUsage } from "./usage";

/** One token request as it passes through the pipeline; each step reads what earlier steps established. */
export interface TokenExchange {
  readonly request: Request;
  readonly env: Bindings;
  readonly now: number;
  /** The caller's IP (CF-Connecting-IP) and user agent, for the security log and throttling. */
  readonly ip: string;
  readonly userAgent: string;
  readonly issuer: string;
  readonly waitUntil: (promise: Promise<unknown>) => void;
  params?: TokenParams;
  authorization?: BasicAuthorization;
  /** The Client ID as sent, as soon as the request names one. */
  clientIdAsSent: string | null;
  authentication?: SelectedClientAuthentication;
  lookup?: TokenClientLookup;
  /**
   * Where the lookup came from: this isolate's cache (whose entries a background refresh may have read from a
   * replica) or the primary. A refusal is answered only from the primary; one from the cache is confirmed first
   * (handleTokenRequest).
   */
  readFrom?: "cache" | "primary";
  /** The confirmation pass of a refusal: the lookup is read again, from the primary. */
  confirming?: boolean;
  /** A success of a single-use method (a private_key_jwt `jti` is spent then): never checked twice. */
  credentialsVerified?: boolean;
  /** The Client secret that authenticated the request, for its Last used. */
  secretUsed?: StoredClientSecret;
  client?: StoredClient;
  scopes?: Scope[];
  response?: TokenResponse;
}

/** RFC 6749 §5.1 successful response. */
export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope: string;
}

type TokenStep = (exchange: TokenExchange) => void | Promise<void>;

const need = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new Error(`token pipeline: ${what} not established`);
  return value;
};

/**
 * RFC 6749 §5.1/§5.2: no answer of the token endpoint is ever cached. Its answers also carry an API answer's security
 * headers (HSTS, nosniff), so each is built with all its headers in one go.
 */
const ANSWER_HEADERS: Readonly<Record<string, string>> = { ...API_SECURITY_HEADERS, ...NO_STORE_HEADERS };
/**
 * A success's headers as one Headers object, which the runtime copies into each answer: cheaper than reading an
 * object's properties for every token (docs/performance.md). A Response never shares the Headers it was given.
 */
const SUCCESS_HEADERS = new Headers({ ...ANSWER_HEADERS, "Content-Type": "application/json" });

/** §7: form-encoded POST only, within the size limit; RFC 6749 §3.2: each parameter at most once. */
export const parseForm: TokenStep = async (x) => {
  const authorization = parseBasicAuthorization(x.request.headers.get("Authorization"));
  x.authorization = authorization;
  if (authorization.kind === "credentials") x.clientIdAsSent = authorization.clientId;
  if (x.request.method !== "POST")
    throw invalidRequest("The token endpoint accepts POST only.", 405, { Allow: "POST" });
  const { params, repeated } = await parseTokenForm(x.request);
  x.clientIdAsSent ??= params.get("client_id") ?? null;
  if (repeated !== null) throw invalidRequest(`The parameter ${repeated.slice(0, 64)} is repeated.`);
  x.params = params;
};

/**
 * Exactly one client authentication method (§7), checked against the registration found by the endpoint's one D1
 * read. Unknown Client ID, wrong secret, Site REST API off, disabled and expired registrations all end in the same
 * 401 invalid_client; only the recorded detail code differs (§8).
 */
export const authenticateClient: TokenStep = async (x) => {
  const selected = selectClientAuthentication({
    params: need(x.params, "params"),
    authorization: need(x.authorization, "authorization"),
  });
  x.authentication = selected;
  x.clientIdAsSent = selected.clientId;

  const windowStart = throttleWindowStart(x.now);
  const cached = x.confirming ? undefined : cachedLookup(selected.clientId, x.ip, x.now, windowStart);
  if (cached) {
    x.lookup = cached;
    x.readFrom = "cache";
    if (claimRefresh(selected.clientId, x.ip, x.now)) {
      afterResponse(x.waitUntil, "refreshing the client cache", () =>
        readLookup(x, selected.clientId, windowStart, "first-unconstrained"),
      );
    }
  } else {
    x.readFrom = "primary";
    x.lookup = await readLookup(x, selected.clientId, windowStart, "first-primary");
  }
  // A blocked IP is refused before its credentials are looked at (§8 throttling).
  if (x.lookup.ipBlocked || isIpBlockedInIsolate(x.ip, x.now)) {
    throw tooManyFailures(retryAfterSeconds(x.now));
  }

  const { method } = selected;
  const outcome: ClientAuthOutcome = x.credentialsVerified
    ? { ok: true }
    : await method.verify(selected.credentials, x.lookup.client, x);
  if (outcome.ok && x.lookup.client && method.singleUse) x.credentialsVerified = true;
  x.secretUsed = outcome.ok ? outcome.secret : undefined;
  const client = x.lookup.client;
  let refusal: TokenFailureCode | null = null;
  if (!outcome.ok || !client) refusal = outcome.ok ? "InvalidIntegration" : outcome.detail;
  else if (!client.siteRestApiEnabled) refusal = "FeatureDisabled";
  else if (!client.enabled) refusal = "IntegrationBlocked";
  else if (isExpired(client, x.now)) refusal = "IntegrationExpired";
  if (refusal || !client) {
    // Only the answered refusal pays the issuance's cost; one that is confirmed first pays it in the confirmation.
    if (x.readFrom === "primary") await matchIssuanceCost(x);
    throw invalidClient(refusal ?? "InvalidIntegration", method.usesAuthorizationHeader);
  }
  x.client = client;
};

/**
 * The lookup of a token request, read from D1 and remembered in the isolate's cache (D1 Sessions API). A request
 * that waits for its read reads the primary: so a refusal never trusts a lagging replica, and every refusal costs the
 * same one primary read whether the cache knew the Client ID or not (the answer time tells nothing the status does
 * not). Only the refresh ahead, which no request waits for, may be served by the nearest replica; what it brings is
 * trusted for grants only.
 */
async function readLookup(
  x: TokenExchange,
  clientId: string,
  windowStart: number,
  constraint: "first-primary" | "first-unconstrained",
): Promise<TokenClientLookup> {
  const keys = throttleKeys(x.ip, clientId);
  const lookup = await lookupTokenClient(x.env.DB.withSession(constraint), {
    clientId,
    ipBlockKey: blockMarkerKey(keys.ip),
    clientBlockKey: blockMarkerKey(keys.client),
    windowStart,
    now: x.now,
  });
  rememberLookup(lookup, clientId, x.ip, x.now, windowStart);
  return lookup;
}

/**
 * A refused client authentication signs and discards a token of the same shape, so a refusal costs what an
 * issuance costs: like the HMAC computed for unknown Client IDs, it keeps the answer time from telling anything
 * the status does not. Measured locally, without it a wrong secret was answered in about 0.8× the time of a right one.
 */
async function matchIssuanceCost(x: TokenExchange): Promise<void> {
  try {
    const keys = await loadSigningKeys(x.env.SIGNING_KEYS);
    const iat = Math.floor(x.now / 1000);
    const id = x.authentication?.clientId ?? "";
    await signAccessToken(keys, {
      iss: x.issuer,
      sub: id,
      aud: x.env.AUDIENCE,
      client_id: id,
      iat,
      exp: iat,
      jti: randomToken(16),
      scope: SCOPES.join(" "),
      site: "",
    });
  } catch {
    // A key set that cannot sign fails the successes loudly; refusals stay refusals.
  }
}

/** RFC 6749 §4.4.2: grant_type is required and must be client_credentials. */
export const checkGrantType: TokenStep = (x) => {
  const grantType = need(x.params, "params").get("grant_type");
  if (grantType === undefined) throw invalidRequest("grant_type is missing.");
  if (grantType !== "client_credentials") {
    throw new TokenError(
      "unsupported_grant_type",
      400,
      "UnsupportedGrantType",
      "The token endpoint supports grant_type client_credentials only.",
    );
  }
};

/**
 * RFC 6749 §3.3: the requested scope must be a subset of the registration's scopes; no scope means all of them.
 * A registration without any scope can get no token (seed: "the integration application has empty scope").
 */
export const checkScope: TokenStep = (x) => {
  const client = need(x.client, "client");
  const requested = x.params?.get("scope");
  const names = requested === undefined ? null : requested.split(" ");
  const allowed = (name: string) => client.scopes.includes(name as Scope) && SCOPES.includes(name as Scope);
  const outside = names?.some((name) => name !== "" && !allowed(name)) ?? false;
  // In the order of SCOPES, each once.
  const granted = SCOPES.filter((s) => client.scopes.includes(s) && (names === null || names.includes(s)));
  if (outside || granted.length === 0) {
    throw new TokenError(
      "invalid_scope",
      400,
      "ScopeMismatched",
      outside ? "The requested scope is not allowed for this client." : "The registration has no scope to grant.",
    );
  }
  x.scopes = granted;
};

/**
 * RFC 9068 access token. §3: it never outlives its registration, `exp = min(iat + lifetime, expires_at)`. Last used
 * of the registration and of the secret that matched is recorded after the response (§7), in one D1 batch.
 */
export const issue: TokenStep = async (x) => {
  const client = need(x.client, "client");
  const scope = need(x.scopes, "scopes").join(" ");
  const keys = loadedSigningKeys(x.env.SIGNING_KEYS) ?? (await loadSigningKeys(x.env.SIGNING_KEYS));
  const iat = Math.floor(x.now / 1000);
  const exp = Math.min(iat + client.accessTokenLifetime, Math.floor(client.expiresAt / 1000));
  if (exp <= iat) throw invalidClient("IntegrationExpired", x.authentication?.method.usesAuthorizationHeader ?? false);
  const accessToken = await signAccessToken(keys, {
    iss: x.issuer,
    sub: client.clientId,
    aud: x.env.AUDIENCE,
    client_id: client.clientId,
    iat,
    exp,
    jti: randomToken(16),
    scope,
    site: client.siteSlug,
  });
  countIssuance(client.registrationId, client.siteId, x.now);
  const secret = x.secretUsed;
  const use = {
    registrationId: claimLastUsedWrite("app_registration", client.registrationId, client.lastUsedAt, x.now)
      ? client.registrationId
      : null,
    secretId: secret && claimLastUsedWrite("client_secret", secret.id, secret.lastUsedAt, x.now) ? secret.id : null,
  };
  // The token counts travel in the same batch, at most once a minute per registration and isolate (usage.ts).
  const usage = claimUsageFlush(client.registrationId, x.now) ? takeUsage(client.registrationId) : null;
  if (use.registrationId !== null || use.secretId !== null || usage !== null) {
    afterResponse(x.waitUntil, "recording last used", () => recordUse(x.env.DB, { ...use, ip: x.ip, usage }, x.now));
  }
  x.response = { access_token: accessToken, token_type: "Bearer", expires_in: exp - iat, scope };
};

/** The token endpoint as an ordered list of small named steps (each may throw a TokenError). */
export const TOKEN_PIPELINE: readonly TokenStep[] = [parseForm, authenticateClient, checkGrantType, checkScope, issue];

/** The steps a refusal runs again when it is confirmed: from the lookup on, with the request as parsed. */
const CONFIRMATION: readonly TokenStep[] = [authenticateClient, checkGrantType, checkScope, issue];

/** Refusals that do not depend on the registration's data: answered as they are, never confirmed. */
const REFUSALS_WITHOUT_DATA = new Set<string>(["UnsupportedGrantType", "MalformedRequest", "TooManyFailures"]);

/**
 * A refusal found on the isolate's cache (whose entries a refresh ahead may have read from a replica) is confirmed
 * on the primary before it is answered: a grant (re-enabled, renewed, a new secret or key, a wider scope) works on the very next
 * request, while every refusal still costs the caller a round trip to the primary, the throttled rare path.
 */
function needsConfirmation(x: TokenExchange, error: unknown): boolean {
  return (
    error instanceof TokenError &&
    error.status < 500 &&
    x.lookup !== undefined &&
    x.readFrom === "cache" &&
    !REFUSALS_WITHOUT_DATA.has(error.detail ?? "")
  );
}

async function runSteps(x: TokenExchange, steps: readonly TokenStep[]): Promise<Response> {
  for (const step of steps) {
    // A step that finishes at once is not awaited: no promise and no turn of the microtask queue for it.
    const pending = step(x);
    if (pending) await pending;
  }
  return Response.json(need(x.response, "response"), { status: 200, headers: SUCCESS_HEADERS });
}

/** Runs the pipeline and answers: the token, or an RFC 6749 §5.2 error (anything unexpected is server_error). */
export async function handleTokenRequest(x: TokenExchange): Promise<Response> {
  try {
    return await runSteps(x, TOKEN_PIPELINE);
  } catch (error) {
    if (!needsConfirmation(x, error)) return await answerFailure(x, error);
  }
  x.confirming = true;
  x.client = undefined;
  x.scopes = undefined;
  try {
    return await runSteps(x, CONFIRMATION);
  } catch (error) {
    return await answerFailure(x, error);
  }
}

async function answerFailure(x: TokenExchange, error: unknown): Promise<Response> {
  let failure: TokenError;
  if (error instanceof TokenError) {
    failure = error;
  } else {
    // §10: a D1 (or any) fault answers 5xx, never 401 and never a token.
    console.error("token endpoint", error);
    failure = serverError();
  }
  if (failure.status < 500 && failure.detail !== "TooManyFailures") failure = await throttleFailure(x, failure);
  const detail = failure.detail;
  if (detail) {
    const client = x.lookup ? x.lookup.client : undefined;
    const record = { detail, clientId: x.clientIdAsSent, client, ip: x.ip, userAgent: x.userAgent };
    queueTokenFailure(x.env, x.waitUntil, { failure: record, now: x.now });
  }
  return Response.json(failure.body(), {
    status: failure.status,
    headers: { ...ANSWER_HEADERS, ...failure.headers },
  });
}

/**
 * Counts a failure before it is answered (throttle.ts): one already over budget, or the one that takes a key over,
 * is answered 429. A fault of the count leaves the failure as it was: it is refused either way.
 */
async function throttleFailure(x: TokenExchange, failure: TokenError): Promise<TokenError> {
  const keys = throttleKeys(x.ip, x.authentication?.clientId ?? null);
  if (isThrottled(x, keys)) return tooManyFailures(retryAfterSeconds(x.now));
  try {
    const over = await countTokenFailure(x.env.DB, [keys.ip, keys.client], x.now);
    return over.length > 0 ? tooManyFailures(retryAfterSeconds(x.now)) : failure;
  } catch (countError) {
    console.error("token failure count", countError);
    return failure;
  }
}

/**
 * §8 throttling of failures. A blocked IP gets 429 whatever it sends. A blocked Client ID gets 429 only for
 * attempts that fail anyway: a request with the right secret never reaches here, so the real client keeps working
 * from another IP while someone floods its Client ID. Other failures are counted (throttle.ts).
 */
function isThrottled(x: TokenExchange, keys: ThrottleKeys): boolean {
  return Boolean(
    x.lookup?.ipBlocked ||
      isBlockedInIsolate(keys.ip, x.now) ||
      x.lookup?.clientBlocked ||
      isBlockedInIsolate(keys.client, x.now),
  );
}
