import { formatInstant } from "../../src/lib/time";
import type { AuditRow } from "../../src/sites/audit";
import { ROLE_LABELS } from "./labels";

const ACTIONS: Record<string, string> = {
  create: "Created",
  update: "Changed",
  disable: "Disabled",
  enable: "Enabled",
  grant_global_admin: "Made Global Administrator",
  revoke_global_admin: "Global Administrator removed",
  add_membership: "Added to a Site",
  change_role: "Role changed",
  remove_membership: "Removed from a Site",
  // Password changes record no fields: never a password or its hash.
  change_password: "Password changed",
  reset_password: "Password reset",
  // The account is gone; its trail stays under its email and shows on the page of a later user with that email.
  delete: "Deleted",
};

const FIELDS: Record<string, string> = {
  slug: "Slug",
  name: "Name",
  email: "Email",
  time_zone: "Time zone",
  rest_api_enabled: "REST API enabled",
  max_registration_days: "Maximum registration lifetime (days)",
  disabled: "Disabled",
  is_global_admin: "Global Administrator",
  site: "Site",
  role: "Role",
};

function show(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (value === "site_admin" || value === "site_user") return ROLE_LABELS[value];
  return String(value);
}

/** Who changed what, when: the admin audit rows of one Site or user, newest first. */
export function AuditTrail({ rows, timeZone, heading }: { rows: AuditRow[]; timeZone: string; heading: string }) {
  return (
    <section class="audit-trail" aria-labelledby="audit-trail-heading">
      <h2 id="audit-trail-heading">{heading}</h2>
      {rows.length === 0 ? (
        <p class="muted">No changes recorded yet.</p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Changes</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr>
                <td>{formatInstant(row.at, timeZone)}</td>
                <td>{row.actorEmail}</td>
                <td>{ACTIONS[row.action] ?? row.action}</td>
                <td>
                  <ul class="changes">
                    {Object.entries(row.changes).map(([field, pair]) => (
                      <li>
                        {FIELDS[field] ?? field}: {show(Array.isArray(pair) ? pair[0] : undefined)} →{" "}
                        {show(Array.isArray(pair) ? pair[1] : undefined)}
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
