import type { Role } from "../../src/db/schema";

export const ROLE_LABELS: Record<Role, string> = {
  site_admin: "Site Administrator",
  site_user: "Site User",
};

export const yesNo = (value: boolean) => (value ? "Yes" : "No");
