import { z } from "zod";
import { passwordPolicy } from "../sites/validation";

/** A new password obeys the one password policy; an absent field is checked as an empty one. */
const newPassword = passwordPolicy("Enter a new password.").prefault("");

/** A password typed to be compared, not stored: only its size is limited. Never trimmed. */
const typedPassword = z.string().max(1024, "Use at most 1024 characters.").prefault("");

/** The new password, typed twice. */
function confirmMatches(value: { newPassword: string; confirmPassword: string }, ctx: z.RefinementCtx) {
  if (value.newPassword === value.confirmPassword) return;
  ctx.addIssue({
    code: "custom",
    path: ["confirmPassword"],
    message: value.confirmPassword ? "The two new passwords do not match." : "Enter the new password again.",
  });
}

/** A Global Administrator sets a new password for a user. */
export const setPasswordForm = z.object({ newPassword, confirmPassword: typedPassword }).superRefine(confirmMatches);

/** A signed-in user changes their own password, proving they know the current one. */
export const changePasswordForm = z
  .object({
    currentPassword: typedPassword.pipe(z.string().min(1, "Enter your current password.")),
    newPassword,
    confirmPassword: typedPassword,
  })
  .superRefine(confirmMatches);
