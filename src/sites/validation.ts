import { z } from "zod";
import { checkbox, displayName } from "../lib/forms";
import { canonicalTimeZone } from "./time-zones";

/** §2 Site slug: lowercase letters, digits and hyphens, 2–40 characters, starting and ending with a letter or digit. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$/;
/** Path segments of the Sites pages that cannot also be slugs (`/admin/sites/new` is the create form). */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set(["new"]);
export const DEFAULT_MAX_REGISTRATION_DAYS = 730;
export const MAX_REGISTRATION_DAYS_LIMIT = 3650;

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
