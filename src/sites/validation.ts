import { z } from "zod";
import { ROLES } from "../db/schema";
import { displayText } from "../lib/text";
import { canonicalTimeZone } from "./time-zones";

/** §2 Site slug: lowercase letters, digits and hyphens, 2–40 characters, starting and ending with a letter or digit. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$/;
/** Path segments of the Sites pages that cannot also be slugs (`/admin/sites/new` is the create form). */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set(["new"]);
export const DEFAULT_MAX_REGISTRATION_DAYS = 730;
export const MAX_REGISTRATION_DAYS_LIMIT = 3650;
export const MIN_PASSWORD_LENGTH = 12;

/** A checkbox is "on" when ticked and absent otherwise. */
const checkbox = z
  .unknown()
  .optional()
  .transform((value) => value === "on");

const displayName = (what: string) =>
  displayText(
    z
      .string({ error: `Enter ${what}.` })
      .trim()
      .min(1, `Enter ${what}.`)
      .max(100, "Use at most 100 characters."),
  );

const timeZone = z
  .string({ error: "Choose a time zone." })
  .trim()
  .transform((value, ctx) => {
    const zone = canonicalTimeZone(value);
    if (!zone) {
      ctx.addIssue({ code: "custom", message: "Choose an IANA time zone, such as UTC or Europe/Berlin." });
      return z.NEVER;
    }
    return zone;
  });

const maxRegistrationDays = z
  .string({ error: "Enter a number of days." })
  .trim()
  .regex(/^\d{1,6}$/, `Enter a whole number of days from 1 to ${MAX_REGISTRATION_DAYS_LIMIT}.`)
  .transform(Number)
  .pipe(
    z
      .number()
      .min(1, `Enter a whole number of days from 1 to ${MAX_REGISTRATION_DAYS_LIMIT}.`)
      .max(MAX_REGISTRATION_DAYS_LIMIT, `Enter a whole number of days from 1 to ${MAX_REGISTRATION_DAYS_LIMIT}.`),
  );

/** The editable settings of a Site. The slug is not among them: it is fixed at creation. */
export const siteSettingsForm = z.object({
  name: displayName("a display name"),
  timeZone,
  restApiEnabled: checkbox,
  maxRegistrationDays,
});
export type SiteSettingsInput = z.output<typeof siteSettingsForm>;

export const newSiteForm = siteSettingsForm.extend({
  slug: z
    .string({ error: "Enter a slug." })
    .trim()
    .toLowerCase()
    .min(2, "Use 2 to 40 characters.")
    .max(40, "Use 2 to 40 characters.")
    .regex(SLUG_PATTERN, "Use lowercase letters, digits and hyphens, starting and ending with a letter or digit.")
    .refine((slug) => !RESERVED_SLUGS.has(slug), "This word is reserved; choose another slug."),
});
export type NewSiteInput = z.output<typeof newSiteForm>;

const email = z
  .string({ error: "Enter an email address." })
  .trim()
  .toLowerCase()
  .min(1, "Enter an email address.")
  .max(254, "Use at most 254 characters.")
  .pipe(z.email("Enter a valid email address, such as name@example.com."));

/** An optional `<select>` of Sites: empty means none. */
const optionalSiteId = z
  .string()
  .optional()
  .transform((value) => value?.trim() ?? "")
  .pipe(z.string().regex(/^(\d{1,12})?$/, "Choose a Site from the list."))
  .transform((value) => (value === "" ? null : Number(value)));

const role = z.enum(ROLES, { error: "Choose Site Administrator or Site User." });

/**
 * Every password an account can get, initial or changed: at least MIN_PASSWORD_LENGTH characters, at most 1,024.
 * Never trimmed: spaces are part of a password.
 */
export const passwordPolicy = (missing: string) =>
  z
    .string({ error: missing })
    .min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`)
    .max(1024, "Use at most 1024 characters.");

export const newUserForm = z.object({
  email,
  name: displayName("a name"),
  password: passwordPolicy("Enter an initial password."),
  isGlobalAdmin: checkbox,
  siteId: optionalSiteId,
  role: z
    .string()
    .optional()
    .transform((value) => value || "site_user")
    .pipe(role),
});
export type NewUserInput = z.output<typeof newUserForm>;

export const membershipForm = z.object({
  siteId: z
    .string({ error: "Choose a Site." })
    .trim()
    .regex(/^\d{1,12}$/, "Choose a Site from the list.")
    .transform(Number),
  role,
});

/** Which fragment an htmx toggle answers with: the list row or the section of the user's page. */
export const VIEWS = ["row", "page"] as const;

/** The on/off switches (REST API enabled, disabled, Global Administrator): the new value, explicitly. */
export const toggleForm = z.object({
  value: z.enum(["true", "false"], { error: "Send value=true or value=false." }).transform((v) => v === "true"),
  view: z
    .enum(VIEWS)
    .optional()
    .transform((v) => v ?? "page")
    .catch("page"),
});
