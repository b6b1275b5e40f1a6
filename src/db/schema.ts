import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Every instant is epoch milliseconds (UTC); calendar dates entered by people are `YYYY-MM-DD` text. */
const instant = (name: string) => integer(name);
const flag = (name: string) => integer(name, { mode: "boolean" });

export const sites = sqliteTable("sites", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  timeZone: text("time_zone").notNull().default("UTC"),
  restApiEnabled: flag("rest_api_enabled").notNull().default(true),
  /** Furthest an Expiration date may be set ahead, in days (§3: default 2 years). */
  maxRegistrationDays: integer("max_registration_days").notNull().default(730),
  createdAt: instant("created_at").notNull(),
});

export const users = sqliteTable("users", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  /** Stored lower-cased. */
  email: text("email").notNull().unique(),
  name: text("name").notNull(),
  passwordHash: text("password_hash").notNull(),
  isGlobalAdmin: flag("is_global_admin").notNull().default(false),
  disabled: flag("disabled").notNull().default(false),
  createdAt: instant("created_at").notNull(),
});

export const ROLES = ["site_admin", "site_user"] as const;
export type Role = (typeof ROLES)[number];

export const memberships = sqliteTable(
  "memberships",
  {
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    role: text("role", { enum: ROLES }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.siteId] }), index("memberships_site_idx").on(t.siteId, t.role)],
);

export const sessions = sqliteTable(
  "sessions",
  {
    /** SHA-256 (hex) of the cookie token; the token itself is never stored. */
    id: text("id").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    csrfToken: text("csrf_token").notNull(),
    createdAt: instant("created_at").notNull(),
    lastSeenAt: instant("last_seen_at").notNull(),
    /** Absolute expiry (created + 7 days). */
    expiresAt: instant("expires_at").notNull(),
  },
  (t) => [index("sessions_user_idx").on(t.userId), index("sessions_expires_idx").on(t.expiresAt)],
);

/** Fixed-window failure counters (admin sign-in throttling and friends): one row per key and window. */
export const throttleCounters = sqliteTable(
  "throttle_counters",
  {
    key: text("key").notNull(),
    windowStart: instant("window_start").notNull(),
    count: integer("count").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] }), index("throttle_counters_window_idx").on(t.windowStart)],
);

export const appRegistrations = sqliteTable(
  "app_registrations",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    clientId: text("client_id").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    enabled: flag("enabled").notNull().default(true),
    /** Space-separated allowed scopes. */
    scopes: text("scopes").notNull().default("devices:read"),
    accessTokenLifetime: integer("access_token_lifetime").notNull().default(3600),
    /** The Expiration date as entered, in the Site's time zone. */
    expirationDate: text("expiration_date").notNull(),
    /** 00:00 of the Expiration date in the Site's time zone. */
    expiresAt: instant("expires_at").notNull(),
    createdAt: instant("created_at").notNull(),
    updatedAt: instant("updated_at").notNull(),
    lastUsedAt: instant("last_used_at"),
    lastUsedIp: text("last_used_ip"),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
  },
  (t) => [
    uniqueIndex("app_registrations_client_id_idx").on(t.clientId),
    uniqueIndex("app_registrations_site_name_idx").on(t.siteId, sql`lower(${t.name})`),
    index("app_registrations_site_expires_idx").on(t.siteId, t.expiresAt),
    index("app_registrations_expires_idx").on(t.expiresAt),
    // The grid's Registration date order stays an index read at 10,000 rows; the all-Sites grid's name order too.
    index("app_registrations_site_created_idx").on(t.siteId, t.createdAt),
    index("app_registrations_name_idx").on(sql`lower(${t.name})`),
    // The overview counts registrations by state (§3) as index-only range counts, per Site and across Sites.
    index("app_registrations_site_state_idx").on(t.siteId, t.enabled, t.expiresAt),
    index("app_registrations_state_idx").on(t.enabled, t.expiresAt),
  ],
);

export const clientSecrets = sqliteTable(
  "client_secrets",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    registrationId: integer("registration_id")
      .notNull()
      .references(() => appRegistrations.id, { onDelete: "cascade" }),
    /** HMAC-SHA256(pepper, secret), hex. */
    secretHash: text("secret_hash").notNull(),
    /** `asc_` + the secret's first 4 random characters: the only part ever shown again (null for secrets issued before hints). */
    hint: text("hint"),
    createdAt: instant("created_at").notNull(),
    /** Who issued it, as text that outlives the account: a user's email, or a registration for the management API. */
    createdBy: text("created_by"),
    /** Null: no expiry. A rotation sets the expiry of the secret that was live before. */
    expiresAt: instant("expires_at"),
    /** When `expires_at` was last set: a notice is only due for an expiry set ahead of time (§5). */
    expirySetAt: instant("expiry_set_at"),
    revokedAt: instant("revoked_at"),
    /** Minute-accurate, like the registration's Last used. */
    lastUsedAt: instant("last_used_at"),
  },
  (t) => [
    index("client_secrets_registration_idx").on(t.registrationId),
    index("client_secrets_expires_idx").on(t.expiresAt),
    index("client_secrets_revoked_idx").on(t.revokedAt),
  ],
);

export const KEY_ALGORITHMS = ["ES256", "RS256", "EdDSA"] as const;
/** The one list of client key algorithms (§9): schema, upload parsing, the token read and assertion checks use it. */
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** Public keys for private_key_jwt client authentication (§9). */
export const clientKeys = sqliteTable(
  "client_keys",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    registrationId: integer("registration_id")
      .notNull()
      .references(() => appRegistrations.id, { onDelete: "cascade" }),
    kid: text("kid").notNull(),
    alg: text("alg", { enum: KEY_ALGORITHMS }).notNull(),
    /** Public JWK (JSON). */
    publicJwk: text("public_jwk").notNull(),
    /** RFC 7638 thumbprint. */
    fingerprint: text("fingerprint").notNull(),
    expiresAt: instant("expires_at"),
    createdAt: instant("created_at").notNull(),
    lastUsedAt: instant("last_used_at"),
  },
  (t) => [
    uniqueIndex("client_keys_registration_kid_idx").on(t.registrationId, t.kid),
    index("client_keys_expires_idx").on(t.expiresAt),
  ],
);

/** Seen assertion `jti`s, kept until the assertion's own `exp` (§9 replay protection). */
export const usedAssertions = sqliteTable(
  "used_assertions",
  {
    /** `${client_id}:${jti}` */
    key: text("key").primaryKey(),
    expiresAt: instant("expires_at").notNull(),
  },
  (t) => [index("used_assertions_expires_idx").on(t.expiresAt)],
);

export const NOTIFICATION_TEMPLATES = ["expires_in_30_days", "expires_in_7_days", "expired"] as const;
export type NotificationTemplate = (typeof NOTIFICATION_TEMPLATES)[number];

/** The Administrative notification log (§5). */
export const notifications = sqliteTable(
  "notifications",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    registrationId: integer("registration_id").references(() => appRegistrations.id, { onDelete: "set null" }),
    /** Set when the notification is about a public key of the registration rather than the registration. */
    keyId: integer("key_id").references(() => clientKeys.id, { onDelete: "set null" }),
    /** Set when the notification is about a Client secret of the registration: its hint, which outlives the secret. */
    secretHint: text("secret_hint"),
    registrationName: text("registration_name").notNull(),
    clientId: text("client_id").notNull(),
    template: text("template", { enum: NOTIFICATION_TEMPLATES }).notNull(),
    /** The expiry instant the notification was about. */
    expiresAt: instant("expires_at").notNull(),
    expirationDate: text("expiration_date").notNull(),
    firedAt: instant("fired_at").notNull(),
    /** `reg:<id>|<template>|<expires_at>`, `key:<id>|…` or `secret:<id>|…`: at most once per subject, milestone and expiry. */
    dedupeKey: text("dedupe_key").notNull(),
  },
  (t) => [
    uniqueIndex("notifications_dedupe_idx").on(t.dedupeKey),
    index("notifications_site_fired_idx").on(t.siteId, t.firedAt),
    index("notifications_registration_idx").on(t.registrationId),
  ],
);

export const DELIVERY_STATES = ["queued", "sent", "retrying", "failed"] as const;

export const notificationDeliveries = sqliteTable(
  "notification_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    notificationId: integer("notification_id")
      .notNull()
      .references(() => notifications.id, { onDelete: "cascade" }),
    recipientEmail: text("recipient_email").notNull(),
    state: text("state", { enum: DELIVERY_STATES }).notNull().default("queued"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    sentAt: instant("sent_at"),
    updatedAt: instant("updated_at").notNull(),
  },
  (t) => [uniqueIndex("notification_deliveries_recipient_idx").on(t.notificationId, t.recipientEmail)],
);

export const SECURITY_EVENTS = ["service_auth_failed", "api_access_denied", "admin_sign_in_failed"] as const;
export type SecurityEventType = (typeof SECURITY_EVENTS)[number];

/** The security log (§8). Identical failures within a minute coalesce into one row with a count. */
export const securityEvents = sqliteTable(
  "security_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** Null when the caller could not be tied to a Site (an unknown Client ID). */
    siteId: integer("site_id").references(() => sites.id, { onDelete: "cascade" }),
    event: text("event", { enum: SECURITY_EVENTS }).notNull(),
    detailCode: text("detail_code").notNull(),
    /** The Client ID as sent (or the email, for admin sign-in). */
    clientId: text("client_id"),
    registrationName: text("registration_name"),
    ip: text("ip").notNull().default(""),
    userAgent: text("user_agent").notNull().default(""),
    endpoint: text("endpoint").notNull(),
    count: integer("count").notNull().default(1),
    firstAt: instant("first_at").notNull(),
    lastAt: instant("last_at").notNull(),
    /** `site|client|code|ip|minute`: the coalescing key. */
    coalesceKey: text("coalesce_key").notNull(),
  },
  (t) => [
    uniqueIndex("security_events_coalesce_idx").on(t.coalesceKey),
    index("security_events_site_time_idx").on(t.siteId, t.lastAt),
    index("security_events_client_time_idx").on(t.clientId, t.lastAt),
    index("security_events_time_idx").on(t.lastAt),
  ],
);

/** The admin audit trail: who changed what, when (never a secret). */
export const adminAuditEvents = sqliteTable(
  "admin_audit_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    siteId: integer("site_id").references(() => sites.id, { onDelete: "cascade" }),
    registrationId: integer("registration_id"),
    targetType: text("target_type").notNull(),
    targetLabel: text("target_label").notNull(),
    action: text("action").notNull(),
    /** JSON: `{ field: [before, after] }`. */
    changes: text("changes").notNull().default("{}"),
    actorUserId: integer("actor_user_id"),
    actorEmail: text("actor_email").notNull(),
    at: instant("at").notNull(),
  },
  (t) => [
    index("admin_audit_registration_idx").on(t.registrationId, t.at),
    index("admin_audit_site_time_idx").on(t.siteId, t.at),
    index("admin_audit_target_idx").on(t.targetType, t.targetLabel, t.at),
  ],
);

/** The REST API's small real resource (§7). */
export const devices = sqliteTable(
  "devices",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    ipAddress: text("ip_address").notNull(),
    lastSeenAt: instant("last_seen_at"),
    createdAt: instant("created_at").notNull(),
    createdByClientId: text("created_by_client_id"),
  },
  (t) => [index("devices_site_idx").on(t.siteId, t.name)],
);

/**
 * Successful token issuances per registration per UTC day (epoch day number: floor(ms / 86,400,000)). Written by the
 * token endpoint's after-response batch, at most once a minute per registration and isolate (src/oauth/usage.ts).
 */
export const usageDaily = sqliteTable(
  "usage_daily",
  {
    registrationId: integer("registration_id")
      .notNull()
      .references(() => appRegistrations.id, { onDelete: "cascade" }),
    day: integer("day").notNull(),
    tokens: integer("tokens").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.registrationId, t.day] }), index("usage_daily_day_idx").on(t.day)],
);

/** The same per UTC hour (epoch hour number), kept two days: "tokens in the last 24 hours". */
export const usageHourly = sqliteTable(
  "usage_hourly",
  {
    registrationId: integer("registration_id")
      .notNull()
      .references(() => appRegistrations.id, { onDelete: "cascade" }),
    hour: integer("hour").notNull(),
    tokens: integer("tokens").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.registrationId, t.hour] }), index("usage_hourly_hour_idx").on(t.hour)],
);

/** Per Site and UTC hour, kept two days. */
export const siteUsageHourly = sqliteTable(
  "site_usage_hourly",
  {
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    hour: integer("hour").notNull(),
    tokens: integer("tokens").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.hour] }), index("site_usage_hourly_hour_idx").on(t.hour)],
);

/** The same counts per Site and UTC day, so a Site's overview reads 30 rows whatever its size. */
export const siteUsageDaily = sqliteTable(
  "site_usage_daily",
  {
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    day: integer("day").notNull(),
    tokens: integer("tokens").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.day] }), index("site_usage_daily_day_idx").on(t.day)],
);

/**
 * Idempotency-Key of the management API's create (24 hours): a repeated key from the same caller with the same body
 * answers the registration it created; with another body it is refused.
 */
export const apiIdempotencyKeys = sqliteTable(
  "api_idempotency_keys",
  {
    /** The caller: a registration's Client ID (management API), or `user:<id>` (the create form's one-time token). */
    callerClientId: text("caller_client_id").notNull(),
    key: text("key").notNull(),
    /** SHA-256 (hex) of the request body as sent. */
    requestHash: text("request_hash").notNull(),
    /** The Client ID of the registration the request created. */
    clientId: text("client_id").notNull(),
    createdAt: instant("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.callerClientId, t.key] }),
    index("api_idempotency_keys_created_idx").on(t.createdAt),
  ],
);

/** Grid views a user saved (filter, sort and columns as a query string). */
export const savedViews = sqliteTable(
  "saved_views",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    siteId: integer("site_id").references(() => sites.id, { onDelete: "cascade" }),
    grid: text("grid").notNull(),
    name: text("name").notNull(),
    query: text("query").notNull(),
    createdAt: instant("created_at").notNull(),
  },
  (t) => [uniqueIndex("saved_views_user_grid_name_idx").on(t.userId, t.grid, t.name)],
);

/** Per-user settings such as a grid's visible columns and page size (JSON value). */
export const userPreferences = sqliteTable(
  "user_preferences",
  {
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] })],
);

/** Where scheduled jobs left off (e.g. the expiry cron's cursor), one integer per name. */
export const jobState = sqliteTable("job_state", {
  name: text("name").primaryKey(),
  value: integer("value").notNull(),
});

export type Site = typeof sites.$inferSelect;
export type User = typeof users.$inferSelect;
export type Membership = typeof memberships.$inferSelect;
export type AppRegistration = typeof appRegistrations.$inferSelect;
