import { and, eq, lte } from "drizzle-orm";
import { type Context, Hono } from "hono";
import type { z } from "zod";
import type { AuditActor } from "../../audit/admin-audit";
import { parseClientKeyUpload } from "../../client-keys/parse";
import {
  addClientKey,
  findClientKey,
  listClientKeys,
  MAX_KEYS_PER_REGISTRATION,
  removeClientKey,
} from "../../client-keys/repository";
import { isLiveSecret } from "../../client-secrets/policy";
import { issueClientSecret, listClientSecrets, revokeClientSecret } from "../../client-secrets/repository";
import { createDb, type Db } from "../../db/client";
import { type AppRegistration, apiIdempotencyKeys, type Site } from "../../db/schema";
import { sha256Hex } from "../../lib/crypto";
import { parseCalendarDate, startOfDayInZone } from "../../lib/time";
import { isManagementScope, type Scope } from "../../oauth/config";
import { findIdempotencyKey, IDEMPOTENCY_WINDOW } from "../../registrations/idempotency";
import {
  createRegistration,
  deleteRegistration,
  findByClientId,
  registrationVersion,
  updateRegistration,
} from "../../registrations/service";
import { type RegistrationFormInput, registrationForm } from "../../registrations/validation";
import { type ApiEnv, deny, refuseSite, requireAccess } from "../bearer";
import { problem, validationProblem } from "../problem";
import {
  decodeCursor,
  listRegistrationsPage,
  loadSiteAndCaller,
  securityEventsFeed,
  toKeyResource,
  toRegistrationResource,
  toSecretResource,
} from "./queries";
import {
  clientIdParam,
  keyIdParam,
  newKeyBody,
  newRegistrationBody,
  newSecretBody,
  registrationListQuery,
  registrationPatchBody,
  secretIdParam,
  securityEventsQuery,
} from "./schemas";

/** A registration, a secret or a key request is a few hundred bytes; a PEM certificate a few kilobytes. */
export const MANAGEMENT_BODY_LIMIT = 32 * 1024;

/** What every management call has once its token, Site and caller are checked. */
interface Call {
  db: Db;
  site: Site;
  caller: AppRegistration;
  /** The registration itself in the audit trail: its name and Client ID. */
  actor: AuditActor;
  now: number;
}

type Handler = (c: Context<ApiEnv>, call: Call) => Promise<Response>;

/**
 * The Site and the calling registration, checked on every call: a Site whose REST API is off refuses (as the devices
 * API does), and so does a token whose registration was deleted, disabled or has expired since it was issued
 * (IntegrationBlocked): credentials are managed only by a registration that could get a token now.
 */
function withCall(handler: Handler) {
  return async (c: Context<ApiEnv>) => {
    const db = createDb(c.env.DB);
    const callerId = c.var.access.claims.client_id;
    const { site, caller } = await loadSiteAndCaller(db, c.var.access.siteSlug, callerId);
    if (!site) return problem(404, "not_found", "There is no such Site.");
    const refused = refuseSite(c, site, "problem");
    if (refused) return refused;
    const now = c.var.now;
    if (!caller?.enabled || now >= caller.expiresAt) {
      return deny(
        c,
        {
          status: 401,
          error: "invalid_token",
          description: "The App registration of this access token is disabled, expired or deleted.",
          code: "IntegrationBlocked",
          clientId: callerId,
        },
        "problem",
      );
    }
    const actor = { id: null, email: `${caller.name} (${caller.clientId})` };
    return handler(c, { db, site, caller, actor, now });
  };
}

type Parsed<T> = { ok: true; data: T } | { ok: false; response: Response };

function parseWith<S extends z.ZodType>(schema: S, value: unknown): Parsed<z.output<S>> {
  const result = schema.safeParse(value);
  return result.success
    ? { ok: true, data: result.data }
    : { ok: false, response: validationProblem(result.error.issues) };
}

/** The JSON body: `application/json` (else 415), at most MANAGEMENT_BODY_LIMIT bytes (else 413), valid JSON (else 400). */
async function readJson<S extends z.ZodType>(
  c: Context<ApiEnv>,
  schema: S,
): Promise<Parsed<z.output<S>> & { raw?: string }> {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    return { ok: false, response: problem(415, "unsupported_media_type", "Send the body as application/json.") };
  }
  const declared = Number(c.req.header("Content-Length") ?? "0");
  const tooLarge = () => problem(413, "body_too_large", `The body is larger than ${MANAGEMENT_BODY_LIMIT} bytes.`);
  if (declared > MANAGEMENT_BODY_LIMIT) return { ok: false, response: tooLarge() };
  const raw = await c.req.text();
  if (new TextEncoder().encode(raw).length > MANAGEMENT_BODY_LIMIT) return { ok: false, response: tooLarge() };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, response: problem(400, "malformed_json", "The body is not valid JSON.") };
  }
  return { ...parseWith(schema, value), raw };
}

const param = <S extends z.ZodType>(c: Context<ApiEnv>, schema: S) => parseWith(schema, c.req.param());
const queryOf = <S extends z.ZodType>(c: Context<ApiEnv>, schema: S) => parseWith(schema, c.req.query());

const NO_REGISTRATION = () => problem(404, "not_found", "This Site has no App registration with this Client ID.");

async function loadTarget(c: Context<ApiEnv>, call: Call): Promise<Parsed<AppRegistration>> {
  const params = param(c, clientIdParam);
  if (!params.ok) return { ok: false, response: NO_REGISTRATION() };
  const target = await findByClientId(call.db, call.site.id, params.data.client_id);
  return target ? { ok: true, data: target } : { ok: false, response: NO_REGISTRATION() };
}

/** The admin form's field names and the API's. */
const API_FIELD = {
  name: "name",
  description: "description",
  expirationDate: "expiration_date",
  enabled: "enabled",
  scopes: "scopes",
  lifetimeMinutes: "access_token_lifetime",
} as const;

type ApiRegistrationFields = z.output<typeof newRegistrationBody>;

/**
 * The same rules as the admin form (src/registrations/validation.ts): the API's values are put in the form's shape
 * and parsed by the form's own schema, so both refuse exactly the same input.
 */
function asFormInput(fields: Required<Omit<ApiRegistrationFields, "description">> & { description: string }) {
  const result = registrationForm.safeParse({
    name: fields.name,
    description: fields.description,
    expirationDate: fields.expiration_date,
    enabled: fields.enabled ? "on" : "",
    scopes: fields.scopes,
    lifetimeMinutes: String(fields.access_token_lifetime / 60),
  });
  if (result.success) return { ok: true as const, input: result.data };
  const errors: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const field = API_FIELD[String(issue.path[0]) as keyof typeof API_FIELD] ?? "body";
    errors[field] ??= issue.message;
  }
  return {
    ok: false as const,
    response: problem(400, "validation_failed", "The request has invalid fields: see errors.", { errors }),
  };
}

function formErrorsProblem(errors: Record<string, string | undefined>) {
  const mapped: Record<string, string> = {};
  for (const [field, message] of Object.entries(errors)) {
    if (message) mapped[API_FIELD[field as keyof typeof API_FIELD] ?? field] = message;
  }
  return problem(400, "validation_failed", "The request has invalid fields: see errors.", { errors: mapped });
}

const etagOf = async (reg: AppRegistration) => `"${await registrationVersion(reg)}"`;

/** RFC 9110 If-Match: `*` or a list of entity tags (weak ones never match). */
function ifMatchAllows(header: string, etag: string): boolean {
  return header
    .split(",")
    .map((tag) => tag.trim())
    .some((tag) => tag === "*" || tag === etag);
}

const registrationUrl = (site: Site, clientId: string) => `/api/v1/sites/${site.slug}/app-registrations/${clientId}`;

async function registrationAnswer(c: Context<ApiEnv>, call: Call, reg: AppRegistration, status: 200 | 201 = 200) {
  return c.json(toRegistrationResource(reg, call.site, call.now), status, { ETag: await etagOf(reg) });
}

/** A registration may not grant management scopes to another one, nor widen its own scopes (issue: self-service). */
function refuseScopes(call: Call, target: AppRegistration | null, wanted: readonly Scope[]): Response | null {
  const current = target ? target.scopes.split(" ").filter(Boolean) : [];
  const added = wanted.filter((s) => !current.includes(s));
  if (target && target.clientId === call.caller.clientId) {
    if (added.length > 0) {
      return problem(
        403,
        "scope_widening_refused",
        `A registration may not widen its own scopes (tried to add ${added.join(", ")}). An administrator can, on the registration's page.`,
      );
    }
    return null;
  }
  const management = added.filter(isManagementScope);
  if (management.length > 0) {
    return problem(
      403,
      "management_scope_refused",
      `Management scopes (${management.join(", ")}) are granted only by a Site Administrator or Global Administrator on the registration's page.`,
    );
  }
  return null;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The management API (under /api/v1/sites/:site): App registrations, their Client secrets and public keys, and the
 * Site's security log, for a registration's own access token with the management scopes. Every change goes through
 * the services the admin pages use (same validation, one D1 batch, same audit trail, with the registration as actor).
 * Errors are RFC 9457 problem+json. The OpenAPI document (src/api/openapi.ts) describes these routes from the same
 * schemas.
 */
export const managementRoutes = new Hono<ApiEnv>()
  .get(
    "/app-registrations",
    requireAccess("registrations:read", "problem"),
    withCall(async (c, call) => {
      const query = queryOf(c, registrationListQuery);
      if (!query.ok) return query.response;
      const after = query.data.cursor === undefined ? 0 : decodeCursor(query.data.cursor);
      if (after === null) return problem(400, "invalid_cursor", "The cursor is not one this API gave out.");
      const page = await listRegistrationsPage(call.db, call.site, query.data, after, call.now);
      return c.json({
        items: page.rows.map((r) => toRegistrationResource(r, call.site, call.now)),
        next_cursor: page.nextCursor,
      });
    }),
  )
  .post(
    "/app-registrations",
    requireAccess("registrations:write", "problem"),
    withCall(async (c, call) => {
      const key = c.req.header("Idempotency-Key");
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
        return problem(400, "invalid_idempotency_key", "Idempotency-Key is 1 to 255 visible ASCII characters.");
      }
      const body = await readJson(c, newRegistrationBody);
      if (!body.ok) return body.response;
      const requestHash = await sha256Hex(body.raw ?? "");
      const callerClientId = call.caller.clientId;
      const replay = async () => {
        if (key === undefined) return null;
        const seen = await findIdempotencyKey(call.db, callerClientId, key, call.now);
        if (!seen) return null;
        if (seen.requestHash !== requestHash) {
          return problem(409, "idempotency_key_reused", "This Idempotency-Key was used with another body.");
        }
        const created = await findByClientId(call.db, call.site.id, seen.clientId);
        if (!created) return problem(409, "idempotency_key_reused", "The registration this key created was deleted.");
        // The same registration, never its secret again.
        c.header("Idempotent-Replayed", "true");
        c.header("Location", registrationUrl(call.site, created.clientId));
        return registrationAnswer(c, call, created);
      };
      const replayed = await replay();
      if (replayed) return replayed;

      const scopes = body.data.scopes ?? ["devices:read"];
      const refusedScopes = refuseScopes(call, null, scopes);
      if (refusedScopes) return refusedScopes;
      const form = asFormInput({
        name: body.data.name,
        description: body.data.description ?? "",
        expiration_date: body.data.expiration_date,
        enabled: body.data.enabled ?? true,
        scopes,
        access_token_lifetime: body.data.access_token_lifetime ?? 3600,
      });
      if (!form.ok) return form.response;
      let created: Awaited<ReturnType<typeof createRegistration>>;
      try {
        created = await createRegistration(
          call.db,
          c.env.SECRET_PEPPER,
          {
            site: call.site,
            actor: call.actor,
            input: form.input,
            alongside: (clientId) =>
              key === undefined
                ? []
                : [
                    // A key past its 24 hours is free again; a fresh one makes this batch fail (primary key).
                    call.db
                      .delete(apiIdempotencyKeys)
                      .where(
                        and(
                          eq(apiIdempotencyKeys.callerClientId, callerClientId),
                          eq(apiIdempotencyKeys.key, key),
                          lte(apiIdempotencyKeys.createdAt, call.now - IDEMPOTENCY_WINDOW),
                        ),
                      ),
                    call.db
                      .insert(apiIdempotencyKeys)
                      .values({ callerClientId, key, requestHash, clientId, createdAt: call.now }),
                  ],
          },
          call.now,
        );
      } catch (error) {
        // Two requests with one key at once: the batch of the second failed as a whole; answer as a replay.
        const again = key === undefined ? null : await replay();
        if (again) return again;
        throw error;
      }
      if (!created.ok) {
        if (created.errors.name && !created.errors.expirationDate) {
          return problem(409, "name_taken", created.errors.name, { errors: { name: created.errors.name } });
        }
        return formErrorsProblem(created.errors);
      }
      c.header("Location", registrationUrl(call.site, created.registration.clientId));
      return c.json(
        {
          ...toRegistrationResource(created.registration, call.site, call.now),
          client_secret: created.clientSecret,
        },
        201,
        { ETag: await etagOf(created.registration) },
      );
    }),
  )
  .get(
    "/app-registrations/:client_id",
    requireAccess("registrations:read", "problem"),
    withCall(async (c, call) => {
      const target = await loadTarget(c, call);
      if (!target.ok) return target.response;
      const etag = await etagOf(target.data);
      const ifNoneMatch = c.req.header("If-None-Match");
      if (ifNoneMatch && ifMatchAllows(ifNoneMatch, etag)) return c.body(null, 304, { ETag: etag });
      return registrationAnswer(c, call, target.data);
    }),
  )
  .patch(
    "/app-registrations/:client_id",
    requireAccess("registrations:write", "problem"),
    withCall(async (c, call) => {
      const target = await loadTarget(c, call);
      if (!target.ok) return target.response;
      const ifMatch = c.req.header("If-Match");
      if (!ifMatch) {
        return problem(428, "if_match_required", "Send If-Match with the registration's ETag (from GET).");
      }
      const body = await readJson(c, registrationPatchBody);
      if (!body.ok) return body.response;
      const current = target.data;
      if (!ifMatchAllows(ifMatch, await etagOf(current))) {
        return problem(412, "stale_etag", "The registration changed since this ETag was read. GET it again.");
      }
      const patch = body.data;
      const scopes = patch.scopes ?? (current.scopes.split(" ").filter(Boolean) as Scope[]);
      const refusedScopes = refuseScopes(call, current, scopes);
      if (refusedScopes) return refusedScopes;
      const form = asFormInput({
        name: patch.name ?? current.name,
        description: patch.description ?? current.description,
        expiration_date: patch.expiration_date ?? current.expirationDate,
        enabled: patch.enabled ?? current.enabled,
        scopes,
        access_token_lifetime: patch.access_token_lifetime ?? current.accessTokenLifetime,
      });
      if (!form.ok) return form.response;
      const result = await updateRegistration(
        call.db,
        {
          site: call.site,
          actor: call.actor,
          id: current.id,
          version: await registrationVersion(current),
          input: form.input as RegistrationFormInput,
        },
        call.now,
      );
      switch (result.kind) {
        case "not_found":
          return NO_REGISTRATION();
        case "conflict":
          return problem(412, "stale_etag", "The registration changed since this ETag was read. GET it again.");
        case "invalid":
          return formErrorsProblem(result.errors);
        case "unchanged":
        case "updated":
          return registrationAnswer(c, call, result.registration);
      }
    }),
  )
  .delete(
    "/app-registrations/:client_id",
    requireAccess("registrations:write", "problem"),
    withCall(async (c, call) => {
      const target = await loadTarget(c, call);
      if (!target.ok) return target.response;
      const result = await deleteRegistration(
        call.db,
        { site: call.site, actor: call.actor, id: target.data.id },
        call.now,
      );
      if (result.kind === "not_found") return NO_REGISTRATION();
      return c.body(null, 204);
    }),
  )
  .get(
    "/app-registrations/:client_id/secrets",
    requireAccess("registrations:read", "problem"),
    withCall(async (c, call) => {
      const target = await loadTarget(c, call);
      if (!target.ok) return target.response;
      const secrets = await listClientSecrets(call.db, call.site.id, target.data.id, call.now);
      return c.json({ items: secrets.map((s) => toSecretResource(s, call.now)) });
    }),
  )
  .post(
    "/app-registrations/:client_id/secrets",
    requireAccess("registrations:write", "problem"),
    withCall(async (c, call) => {
      const target = await loadTarget(c, call);
      if (!target.ok) return target.response;
      const body = await readJson(c, newSecretBody);
      if (!body.ok) return body.response;
      const secrets = await listClientSecrets(call.db, call.site.id, target.data.id, call.now);
      const basis = secrets.filter((s) => isLiveSecret(s, call.now)).reduce((max, s) => Math.max(max, s.id), 0);
      const result = await issueClientSecret(
        call.db,
        c.env.SECRET_PEPPER,
        {
          siteId: call.site.id,
          siteTimeZone: call.site.timeZone,
          registrationId: target.data.id,
          basis: basis || null,
          oldSecretStops: body.data.old_secret_expires_in,
          actor: call.actor,
        },
        call.now,
      );
      if (!result.ok) {
        if (result.reason === "registration_not_found") return NO_REGISTRATION();
        if (result.reason === "too_many_live") {
          return problem(409, "too_many_live_secrets", "Two secrets are live. Revoke one before issuing another.");
        }
        return problem(409, "secrets_changed", "The registration's secrets changed during this request. Try again.");
      }
      return c.json(
        {
          ...toSecretResource(result.secret, call.now),
          client_secret: result.clientSecret,
          previous: result.previous ? toSecretResource(result.previous, call.now) : null,
        },
        201,
      );
    }),
  )
  .delete(
    "/app-registrations/:client_id/secrets/:secret_id",
    requireAccess("registrations:write", "problem"),
    withCall(async (c, call) => {
      const target = await loadTarget(c, call);
      if (!target.ok) return target.response;
      const params = param(c, secretIdParam);
      const noSecret = () => problem(404, "not_found", "This registration has no such Client secret.");
      if (!params.ok) return noSecret();
      const result = await revokeClientSecret(
        call.db,
        { siteId: call.site.id, registrationId: target.data.id, secretId: params.data.secret_id, actor: call.actor },
        call.now,
      );
      if (!result.ok) {
        return result.reason === "not_found"
          ? noSecret()
          : problem(409, "secret_not_live", "This secret is already revoked or expired.");
      }
      return c.body(null, 204);
    }),
  )
  .get(
    "/app-registrations/:client_id/keys",
    requireAccess("registrations:read", "problem"),
    withCall(async (c, call) => {
      const target = await loadTarget(c, call);
      if (!target.ok) return target.response;
      const keys = await listClientKeys(call.db, call.site.id, target.data.id);
      return c.json({ items: keys.map(toKeyResource) });
    }),
  )
  .post(
    "/app-registrations/:client_id/keys",
    requireAccess("registrations:write", "problem"),
    withCall(async (c, call) => {
      const target = await loadTarget(c, call);
      if (!target.ok) return target.response;
      const body = await readJson(c, newKeyBody);
      if (!body.ok) return body.response;
      const { key, kid, alg, expires } = body.data;
      const parsed = await parseClientKeyUpload({ key, kid: kid ?? "", alg: alg ?? "" });
      if (!parsed.ok) {
        return problem(400, "validation_failed", "The key was refused: see errors.", {
          errors: { [parsed.error.field]: parsed.error.message },
        });
      }
      let expiresAt: number | null = null;
      if (expires !== undefined && parseCalendarDate(expires)) {
        expiresAt = startOfDayInZone(expires, call.site.timeZone);
        if (expiresAt <= call.now) {
          return problem(400, "validation_failed", "The key was refused: see errors.", {
            errors: { expires: "The expiry date must be in the future." },
          });
        }
      }
      const result = await addClientKey(
        call.db,
        {
          siteId: call.site.id,
          registrationId: target.data.id,
          key: parsed.key,
          expiresAt,
          expiryDate: expires ?? null,
          actor: call.actor,
        },
        call.now,
      );
      if (!result.ok) {
        if (result.reason === "registration_not_found") return NO_REGISTRATION();
        return result.reason === "duplicate_kid"
          ? problem(409, "duplicate_kid", `This registration already has a key with the kid "${parsed.key.kid}".`)
          : problem(409, "too_many_keys", `A registration holds at most ${MAX_KEYS_PER_REGISTRATION} public keys.`);
      }
      return c.json(toKeyResource(result.key), 201);
    }),
  )
  .delete(
    "/app-registrations/:client_id/keys/:key_id",
    requireAccess("registrations:write", "problem"),
    withCall(async (c, call) => {
      const target = await loadTarget(c, call);
      if (!target.ok) return target.response;
      const params = param(c, keyIdParam);
      const noKey = () => problem(404, "not_found", "This registration has no such public key.");
      if (!params.ok) return noKey();
      const existing = await findClientKey(call.db, call.site.id, target.data.id, params.data.key_id);
      if (!existing) return noKey();
      const removed = await removeClientKey(
        call.db,
        { siteId: call.site.id, registrationId: target.data.id, keyId: params.data.key_id, actor: call.actor },
        call.now,
      );
      return removed ? c.body(null, 204) : noKey();
    }),
  )
  .get(
    "/security-events",
    requireAccess("security-log:read", "problem"),
    withCall(async (c, call) => {
      const query = queryOf(c, securityEventsQuery);
      if (!query.ok) return query.response;
      const feed = await securityEventsFeed(call.db, call.site.id, query.data, call.now);
      return c.json({ items: feed.items, next_since_id: feed.nextSinceId });
    }),
  );

managementRoutes.onError((error) => {
  // §10: a D1 fault answers 5xx and changes nothing (every change is one batch).
  console.error("management api", error);
  return problem(500, "server_error", "The server could not complete the request.");
});
