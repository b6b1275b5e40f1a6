/** A case of a refused form: what it is, the fields that differ from a valid form, the field named, its message. */
export type RefusedForm = [what: string, overrides: Record<string, string>, field: string, message: string];

/** The one password policy's refusals of a new password typed twice (src/users/passwords.ts), for every form that sets one. */
export const NEW_PASSWORD_REFUSALS: RefusedForm[] = [
  [
    "an 11-character new password",
    { newPassword: "elevenchars", confirmPassword: "elevenchars" },
    "newPassword",
    "Use at least 12 characters.",
  ],
  ["no new password", { newPassword: "", confirmPassword: "" }, "newPassword", "Use at least 12 characters."],
  [
    "a 1025-character new password",
    { newPassword: "p".repeat(1025), confirmPassword: "p".repeat(1025) },
    "newPassword",
    "Use at most 1024 characters.",
  ],
  [
    "a confirmation that differs",
    { confirmPassword: "not the new password typed again" },
    "confirmPassword",
    "The two new passwords do not match.",
  ],
  ["no confirmation", { confirmPassword: "" }, "confirmPassword", "Enter the new password again."],
];
