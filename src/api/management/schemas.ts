import { z } from "zod";
import { OLD_SECRET_STOPS } from "../../client-secrets/policy";
import { KEY_ALGORITHMS, SECURITY_EVENTS } from "../../db/schema";
import { parseCalendarDate } from "../../lib/time";
import { SCOPES } from "../../oauth/config";

/**
 * The management API's schemas (zod): the requests are validated with them and the OpenAPI document is generated from
 * them (src/api/openapi.ts), so the two cannot drift. Request bodies are strict: an unknown field is refused, never
 * assigned. The registration rules themselves (name, description, dates, lifetime) are the admin form's
 * (src/registrations/validation.ts), applied after these type checks.
 */

export const REGISTRATION_STATES = ["active", "expiring", "expired", "disabled"] as const;

export const MAX_LIST_LIMIT = 200;
export const DEFAULT_LIST_LIMIT = 50;
export const MAX_EVENTS_LIMIT = 500;
export const DEFAULT_EVENTS_LIMIT = 100;

const calendarDate = (field: string) =>
  z
    .string({ error: `${field} must be a date as YYYY-MM-DD.` })
    .refine((v) => parseCalendarDate(v) !== null, `${field} must be a real date as YYYY-MM-DD.`)
    .meta({ format: "date", example: "2031-12-31" });

const instant = z.iso.datetime({ offset: true }).meta({ description: "ISO 8601, UTC." });
const nullableInstant = instant.nullable();

const scopeList = z
  .array(z.enum(SCOPES, { error: `Each scope must be one of ${SCOPES.join(", ")}.` }), {
    error: "scopes must be an array of scope names.",
  })
  .min(1, "Grant at least one scope.")
  .max(SCOPES.length);

/** Seconds, 5 to 120 whole minutes (the admin form's rule, there in minutes). */
const lifetimeSeconds = z
  .number({ error: "access_token_lifetime must be a number of seconds." })
  .int("access_token_lifetime must be a whole number of seconds.")
  .refine((n) => n % 60 === 0, "access_token_lifetime must be whole minutes (a multiple of 60 seconds).")
  .meta({ minimum: 300, maximum: 7200, example: 3600 });

const text = (field: string, max: number) =>
  z.string({ error: `${field} must be a string.` }).max(max * 4, `${field} is too long.`);

// ---- Path and query parameters ----

export const siteParam = z.object({ site: z.string().meta({ description: "The Site's slug.", example: "main" }) });
export const clientIdParam = siteParam.extend({
  client_id: z.uuid("client_id must be a Client ID (a UUID).").meta({ description: "The registration's Client ID." }),
});
export const secretIdParam = clientIdParam.extend({
  secret_id: z.coerce.number("secret_id must be a number.").int().positive().max(Number.MAX_SAFE_INTEGER),
});
export const keyIdParam = clientIdParam.extend({
  key_id: z.coerce.number("key_id must be a number.").int().positive().max(Number.MAX_SAFE_INTEGER),
});

export const registrationListQuery = z.strictObject({
  state: z.enum(REGISTRATION_STATES, { error: `state must be one of ${REGISTRATION_STATES.join(", ")}.` }).optional(),
  expires_before: calendarDate("expires_before")
    .optional()
    .meta({ description: "Only registrations whose Expiration date is before this date (the Site's zone)." }),
  name: z.string().trim().min(1).max(100, "name is at most 100 characters.").optional().meta({
    description: "Only registrations whose name contains this text (case-insensitive).",
  }),
  limit: z.coerce
    .number("limit must be a number.")
    .int("limit must be a whole number.")
    .min(1, "limit is at least 1.")
    .max(MAX_LIST_LIMIT, `limit is at most ${MAX_LIST_LIMIT}.`)
    .default(DEFAULT_LIST_LIMIT),
  cursor: z.string().max(200).optional().meta({ description: "next_cursor of the previous page." }),
});

export const securityEventsQuery = z.strictObject({
  from: instant.optional().meta({ description: "Rows last seen at or after this instant." }),
  to: instant.optional().meta({ description: "Rows first seen before this instant." }),
  event: z.enum(SECURITY_EVENTS, { error: `event must be one of ${SECURITY_EVENTS.join(", ")}.` }).optional(),
  code: z.string().max(64).optional().meta({ description: "A detail code, such as InvalidSecret." }),
  client_id: z.string().max(256).optional(),
  ip: z.string().max(45).optional(),
  since_id: z.coerce
    .number("since_id must be a number.")
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .meta({ description: "Only rows after this id: next_since_id of the previous answer (polling)." }),
  limit: z.coerce
    .number("limit must be a number.")
    .int()
    .min(1, "limit is at least 1.")
    .max(MAX_EVENTS_LIMIT, `limit is at most ${MAX_EVENTS_LIMIT}.`)
    .default(DEFAULT_EVENTS_LIMIT),
});

// ---- Request bodies ----

export const newRegistrationBody = z.strictObject({
  name: text("name", 100),
  description: text("description", 500).optional(),
  expiration_date: calendarDate("expiration_date"),
  enabled: z.boolean("enabled must be true or false.").optional(),
  scopes: scopeList.optional().meta({ description: "Default: devices:read." }),
  access_token_lifetime: lifetimeSeconds.optional().meta({ description: "Seconds; default 3600." }),
});

export const registrationPatchBody = newRegistrationBody
  .partial()
  .refine((body) => Object.keys(body).length > 0, "Send at least one field to change.");

export const newSecretBody = z.strictObject({
  old_secret_expires_in: z
    .enum(OLD_SECRET_STOPS, { error: `old_secret_expires_in must be one of ${OLD_SECRET_STOPS.join(", ")}.` })
    .default("7d")
    .meta({ description: "When the secret live before stops working. Default: 7d." }),
});

export const newKeyBody = z.strictObject({
  key: z.string("key must be a PEM certificate or a public JWK as text.").max(16 * 1024),
  kid: z.string().max(128).optional(),
  alg: z.enum(KEY_ALGORITHMS).optional(),
  expires: calendarDate("expires").optional().meta({ description: "The key stops working at 00:00 of this date." }),
});

// ---- Resources (answers) ----

export const registrationResource = z.object({
  client_id: z.uuid(),
  name: z.string(),
  description: z.string(),
  enabled: z.boolean(),
  state: z.enum(REGISTRATION_STATES),
  expiration_date: z.string().meta({ format: "date" }),
  expires_at: instant,
  scopes: z.array(z.enum(SCOPES)),
  access_token_lifetime: z.number().int(),
  created_at: instant,
  updated_at: instant,
  last_used_at: nullableInstant,
  site: z.string(),
});

export const createdRegistrationResource = registrationResource.extend({
  client_secret: z.string().meta({ description: "Shown this once; only a hint of it is ever shown again." }),
});

export const registrationListResource = z.object({
  items: z.array(registrationResource),
  next_cursor: z.string().nullable(),
});

export const secretResource = z.object({
  id: z.number().int(),
  hint: z.string().nullable().meta({ description: "asc_ and the secret's first 4 characters." }),
  state: z.enum(["live", "expired", "revoked"]),
  created_at: instant,
  created_by: z.string().nullable(),
  expires_at: nullableInstant,
  revoked_at: nullableInstant,
  last_used_at: nullableInstant,
});

export const createdSecretResource = secretResource.extend({
  client_secret: z.string().meta({ description: "Shown this once." }),
  previous: secretResource.nullable().meta({ description: "The secret live before, with its new expiry." }),
});

export const secretListResource = z.object({ items: z.array(secretResource) });

export const keyResource = z.object({
  id: z.number().int(),
  kid: z.string(),
  alg: z.enum(KEY_ALGORITHMS),
  fingerprint: z.string(),
  expires_at: nullableInstant,
  created_at: instant,
  last_used_at: nullableInstant,
});

export const keyListResource = z.object({ items: z.array(keyResource) });

export const securityEventResource = z.object({
  id: z.number().int(),
  event: z.enum(SECURITY_EVENTS),
  detail_code: z.string(),
  client_id: z.string().nullable(),
  registration_name: z.string().nullable(),
  ip: z.string(),
  user_agent: z.string(),
  endpoint: z.string(),
  count: z.number().int(),
  first_at: instant,
  last_at: instant,
});

export const securityEventListResource = z.object({
  items: z.array(securityEventResource),
  next_since_id: z.number().int().meta({ description: "Pass as since_id to get the rows after these." }),
});

export const problemResource = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  errors: z.record(z.string(), z.string()).optional(),
});
