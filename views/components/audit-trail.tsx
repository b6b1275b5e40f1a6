import type { AuditAction, AuditRow, AuditValue } from "../../src/audit/admin-audit";
import { DataTable } from "./data-table";
import { formatLifetime } from "./format";
import { ROLE_LABELS } from "./labels";
import { When } from "./when";

/** Every action in words. Rows recorded before the vocabulary was one were migrated (migrations/0003). */
const ACTIONS: Record<AuditAction, string> = {
  create: "Created",
  update: "Changed",
  delete: "Deleted",
  enable: "Enabled",
  disable: "Disabled",
  grant_global_admin: "Made Global Administrator",
  revoke_global_admin: "Global Administrator removed",
  add_membership: "Added to a Site",
  change_role: "Role changed",
  remove_membership: "Removed from a Site",
  // Password changes record no fields: never a password or its hash.
  change_password: "Password changed",
  reset_password: "Password reset",
  add_key: "Public key added",
  remove_key: "Public key removed",
  // Secret rows name the secret by its hint only: never the secret or its hash.
  add_secret: "Client secret added",
  revoke_secret: "Client secret revoked",
  set_secret_expiry: "Client secret expiry set",
};

/** Every field key in words: Sites, users, memberships, registrations and their keys. */
const FIELDS: Record<string, string> = {
  slug: "Slug",
  name: "Name",
  email: "Email",
  timeZone: "Time zone",
  restApiEnabled: "REST API enabled",
  maxRegistrationDays: "Maximum registration lifetime (days)",
  disabled: "Disabled",
  isGlobalAdmin: "Global Administrator",
  site: "Site",
  role: "Role",
  description: "Description",
  expirationDate: "Expiration date",
  enabled: "Enabled",
  scopes: "Scopes",
  accessTokenLifetime: "Access token lifetime",
  clientId: "Client ID",
  kid: "Key ID (kid)",
  alg: "Algorithm",
  fingerprint: "Fingerprint",
  expires: "Key expiry",
  secret: "Client secret",
  secretExpires: "Expires",
};

/** Rows that bring something into being show its values; rows that remove something show what it was. */
const SHOWS_AFTER = new Set<string>(["create", "add_key", "add_secret"]);
const SHOWS_BEFORE = new Set<string>(["delete", "remove_key", "revoke_secret"]);

function show(field: string, value: AuditValue): string {
  if (value === null) return "—";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (Array.isArray(value)) return value.join(", ");
  if (field === "accessTokenLifetime" && typeof value === "number") return formatLifetime(value);
  if (field === "description" && value === "") return "(none)";
  if (field === "role" && (value === "site_admin" || value === "site_user")) return ROLE_LABELS[value];
  return String(value);
}

/**
 * Who changed what, when (§4), newest first: the one audit trail of registration, Site and user pages. Values are
 * shown as text, never as markup. `id` and `oob` let htmx swap it out of band after a change on the same page.
 */
export function AuditTrail(props: {
  rows: AuditRow[];
  timeZone: string;
  heading: string;
  id?: string;
  headingId?: string;
  oob?: boolean;
}) {
  const headingId = props.headingId ?? "audit-trail-heading";
  return (
    <section id={props.id} class="audit-trail" aria-labelledby={headingId} hx-swap-oob={props.oob ? "true" : undefined}>
      <h2 id={headingId}>{props.heading}</h2>
      <DataTable
        rowCount={props.rows.length}
        empty="No changes recorded yet."
        columns={["When", "Who", "What"]}
        class="grid audit"
        label={`${props.heading} entries`}
      >
        {props.rows.map((row) => (
          <tr>
            <td>
              <When at={row.at} timeZone={props.timeZone} />
            </td>
            <td>{row.actorEmail}</td>
            <td>
              <strong>{ACTIONS[row.action as AuditAction] ?? row.action}</strong>
              <ul class="changes">
                {Object.entries(row.changes).map(([field, [before, after]]) => (
                  <li>
                    {FIELDS[field] ?? field}:{" "}
                    {SHOWS_AFTER.has(row.action) || JSON.stringify(before) === JSON.stringify(after) ? (
                      show(field, after)
                    ) : SHOWS_BEFORE.has(row.action) ? (
                      show(field, before)
                    ) : (
                      <>
                        <span class="before">{show(field, before)}</span> →{" "}
                        <span class="after">{show(field, after)}</span>
                      </>
                    )}
                  </li>
                ))}
              </ul>
            </td>
          </tr>
        ))}
      </DataTable>
    </section>
  );
}
