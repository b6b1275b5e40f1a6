import { z } from "zod";
import type { FieldErrors } from "../lib/forms";
import { displayText } from "../lib/text";
import { calendarDaysBetween, parseCalendarDate } from "../lib/time";
import { SCOPES, type Scope } from "../oauth/config";

/** The scopes a registration may be granted (§7): the devices resource and the management API. */
export const REGISTRATION_SCOPES = SCOPES;
export type RegistrationScope = Scope;
export const DEFAULT_SCOPES: RegistrationScope[] = ["devices:read"];

export const NAME_MAX = 100;
export const DESCRIPTION_MAX = 500;
/** §4: access token lifetime from 5 minutes to 2 hours, 1 hour by default (entered in minutes). */
export const LIFETIME_MIN_MINUTES = 5;
export const LIFETIME_MAX_MINUTES = 120;
export const DEFAULT_LIFETIME_MINUTES = 60;

const single = (message: string) => z.string({ error: message });
const optionalText = z.preprocess((v) => (v === undefined ? "" : v), single("Send this field once."));

const TRUE_VALUES = new Set(["on", "true", "1", "yes"]);
const FALSE_VALUES = new Set(["", "off", "false", "0", "no"]);

/** An HTML checkbox: absent means off. */
const checkbox = z
  .preprocess((v) => (v === undefined ? "" : v), single("Send this field once."))
  .refine((v) => TRUE_VALUES.has(v) || FALSE_VALUES.has(v), "Choose on or off.")
  .transform((v) => TRUE_VALUES.has(v));

/**
 * The create and edit form of §4 (format and range rules). Unknown fields (site, Client ID, creator…) are dropped,
 * never assigned. Rules that depend on the Site and the clock are in `checkExpirationDate`.
 */
export const registrationForm = z.object({
  name: displayText(
    single("Enter a name.").trim().min(1, "Enter a name.").max(NAME_MAX, `Use at most ${NAME_MAX} characters.`),
  ),
  description: optionalText.pipe(
    displayText(z.string().trim().max(DESCRIPTION_MAX, `Use at most ${DESCRIPTION_MAX} characters.`), {
      multiline: true,
    }),
  ),
  expirationDate: single("Enter an expiration date.")
    .trim()
    .min(1, "Enter an expiration date.")
    .refine((v) => parseCalendarDate(v) !== null, "Enter a real date as YYYY-MM-DD."),
  enabled: checkbox,
  scopes: z
    .preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(z.string()))
    .refine((list) => list.every((s) => (REGISTRATION_SCOPES as readonly string[]).includes(s)), {
      message: `Choose from ${REGISTRATION_SCOPES.join(", ")}.`,
    })
    .refine((list) => list.length > 0, "Choose at least one scope.")
    .transform((list) => REGISTRATION_SCOPES.filter((s) => list.includes(s))),
  lifetimeMinutes: single("Enter the access token lifetime in minutes.")
    .trim()
    .regex(/^\d{1,4}$/, "Enter a whole number of minutes.")
    .transform(Number)
    .refine(
      (n) => n >= LIFETIME_MIN_MINUTES && n <= LIFETIME_MAX_MINUTES,
      `Choose between ${LIFETIME_MIN_MINUTES} and ${LIFETIME_MAX_MINUTES} minutes (2 hours).`,
    ),
});

export type RegistrationFormInput = z.output<typeof registrationForm>;

/** The create form also carries a one-time token (a resubmission creates nothing: see the create route). */
export const registrationCreateForm = registrationForm.extend({
  formToken: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,64}$/, "Reload the page and try again.")
    .optional(),
});

/** The edit form also carries the version of the values it was opened with (optimistic concurrency). */
export const registrationEditForm = registrationForm.extend({
  version: single("Reload the page and try again.").regex(/^[0-9a-f]{16}$/, "Reload the page and try again."),
});

/** What the person typed, as strings, to show the form again after an error. */
export interface RegistrationFormValues {
  name: string;
  description: string;
  expirationDate: string;
  enabled: boolean;
  scopes: string[];
  lifetimeMinutes: string;
}

/** Errors of the registration form by field; `form` is the form's own (a conflict), shown in its summary. */
export type RegistrationFormErrors = FieldErrors<keyof RegistrationFormValues | "form">;

const text = (v: unknown) => (typeof v === "string" ? v : Array.isArray(v) ? String(v[0] ?? "") : "");

/** Raw form data back into displayable values (never trusted: only shown, escaped, in the form). */
export function formValuesFromRaw(raw: Record<string, unknown>): RegistrationFormValues {
  const scopes = raw.scopes === undefined ? [] : Array.isArray(raw.scopes) ? raw.scopes : [raw.scopes];
  return {
    name: text(raw.name).slice(0, NAME_MAX * 4),
    description: text(raw.description).slice(0, DESCRIPTION_MAX * 4),
    expirationDate: text(raw.expirationDate).slice(0, 32),
    enabled: TRUE_VALUES.has(text(raw.enabled)),
    scopes: scopes.filter((s): s is string => typeof s === "string"),
    lifetimeMinutes: text(raw.lifetimeMinutes).slice(0, 16),
  };
}

export interface ExpirationRules {
  /** Today's date in the Site's time zone. */
  today: string;
  /** The Site's cap: how many days ahead an Expiration date may be (§3, default 730). */
  maxDays: number;
  /** On edit: the stored date, which may stay as it is even when it has passed. */
  unchangedDate?: string;
}

/** §3: an Expiration date set now must be in the future (in the Site's zone) and within the Site's cap. */
export function checkExpirationDate(date: string, rules: ExpirationRules): string | null {
  if (!parseCalendarDate(date)) return null;
  if (rules.unchangedDate !== undefined && date === rules.unchangedDate) return null;
  const days = calendarDaysBetween(rules.today, date);
  if (days < 1) return `Choose a date after today (${rules.today} in the Site's time zone).`;
  if (days > rules.maxDays) return `Choose a date at most ${rules.maxDays} days ahead.`;
  return null;
}
