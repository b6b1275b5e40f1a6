import { z } from "zod";
import { ROLES } from "../db/schema";
import { checkbox, displayName } from "../lib/forms";
import { passwordPolicy } from "./passwords";

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
