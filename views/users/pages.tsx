import type { AuditRow } from "../../src/audit/admin-audit";
import type { Site } from "../../src/db/schema";
import { formatInstant } from "../../src/lib/time";
import { adminSitesUrl, adminUsersUrl } from "../../src/paths";
import type { UserMembership, UserSummary, UserWithMemberships } from "../../src/users/accounts";
import { MIN_PASSWORD_LENGTH } from "../../src/users/passwords";
import { CHANGE_PASSWORD_PATH } from "../auth/change-password";
import { AuditTrail } from "../components/audit-trail";
import { DataTable } from "../components/data-table";
import {
  ActionError,
  type ActionErrorProps,
  CheckboxField,
  CsrfField,
  type Errors,
  fieldsOf,
  NewItemPage,
  NewPasswordFields,
  Notice,
  PostForm,
  SelectField,
  TextField,
  ToggleForm,
  type Values,
} from "../components/form";
import { ROLE_LABELS, yesNo } from "../components/labels";
import { crumbsUnder } from "../layout";

export const usersCrumbs = (leaf?: string) => crumbsUnder("Users", adminUsersUrl(), leaf);

const ROLE_OPTIONS = [
  { value: "site_user", label: ROLE_LABELS.site_user },
  { value: "site_admin", label: ROLE_LABELS.site_admin },
];

type View = "row" | "page";

/** A user's switches; the server answers with the list row or the account section they stand in. */
function UserToggles({ user, view, csrf, isSelf }: { user: UserSummary; view: View; csrf: string; isSelf: boolean }) {
  const toggle = { view, csrf, target: view === "row" ? "closest tr" : "#account" };
  const disabled = `${adminUsersUrl(user.id)}/disabled`;
  const globalAdmin = `${adminUsersUrl(user.id)}/global-admin`;
  return (
    <div class="toggles">
      {user.disabled ? (
        <ToggleForm {...toggle} action={disabled} value={false} label="Enable" ariaLabel={`Enable ${user.email}`} />
      ) : isSelf ? null : (
        <ToggleForm
          {...toggle}
          action={disabled}
          value={true}
          label="Disable"
          ariaLabel={`Disable ${user.email}`}
          confirm={`Disable ${user.email}? Their sessions end at once and they can no longer sign in.`}
        />
      )}
      {user.isGlobalAdmin ? (
        <ToggleForm
          {...toggle}
          action={globalAdmin}
          value={false}
          label="Remove Global Administrator"
          ariaLabel={`Remove Global Administrator from ${user.email}`}
          confirm={
            isSelf
              ? "Remove your own Global Administrator flag? You lose access to the global pages at once."
              : undefined
          }
        />
      ) : (
        <ToggleForm
          {...toggle}
          action={globalAdmin}
          value={true}
          label="Make Global Administrator"
          ariaLabel={`Make Global Administrator: ${user.email}`}
        />
      )}
    </div>
  );
}

function MembershipList({ memberships }: { memberships: UserMembership[] }) {
  if (memberships.length === 0) return <span class="muted">None</span>;
  return (
    <ul class="memberships">
      {memberships.map((m) => (
        <li>
          {m.siteName} — {ROLE_LABELS[m.role]}
        </li>
      ))}
    </ul>
  );
}

/** One row of the users list; also the fragment the list's toggles answer with. */
export function UserRow(props: { entry: UserWithMemberships; csrf: string; selfId: number; error?: ActionErrorProps }) {
  const { user, memberships } = props.entry;
  return (
    <tr id={`user-${user.id}`}>
      <td>
        <a href={`${adminUsersUrl(user.id)}`}>{user.email}</a>
      </td>
      <td>{user.name}</td>
      <td class="global-admin">{yesNo(user.isGlobalAdmin)}</td>
      <td class="status">{user.disabled ? "Disabled" : "Active"}</td>
      <td>
        <MembershipList memberships={memberships} />
      </td>
      <td>
        <UserToggles user={user} view="row" csrf={props.csrf} isSelf={user.id === props.selfId} />
        {props.error ? <ActionError {...props.error} /> : null}
      </td>
    </tr>
  );
}

export function UsersPage(props: {
  rows: UserWithMemberships[];
  total: number;
  page: number;
  pageSize: number;
  q: string;
  csrf: string;
  selfId: number;
  notice?: string;
}) {
  const pages = Math.max(1, Math.ceil(props.total / props.pageSize));
  const link = (page: number) => {
    const params = new URLSearchParams();
    if (props.q) params.set("q", props.q);
    if (page > 1) params.set("page", String(page));
    const query = params.toString();
    return query ? `${adminUsersUrl()}?${query}` : adminUsersUrl();
  };
  return (
    <section class="admin-area admin-users">
      <h1>Users</h1>
      <Notice text={props.notice} />
      <div class="toolbar">
        <form method="get" action={adminUsersUrl()} class="search">
          <label for="users-q">Search users</label>
          <input id="users-q" name="q" type="search" value={props.q} maxlength={254} />
          <button type="submit" class="secondary">
            Search
          </button>
        </form>
        <a class="primary button-link" href={`${adminUsersUrl()}/new`}>
          + New user
        </a>
      </div>
      <DataTable columns={["Email", "Name", "Global Administrator", "Status", "Memberships", "Actions"]} label="Users">
        {props.rows.map((entry) => (
          <UserRow entry={entry} csrf={props.csrf} selfId={props.selfId} />
        ))}
      </DataTable>
      {props.rows.length === 0 ? <p class="muted">No users match.</p> : null}
      <nav class="pagination" aria-label="Pages">
        <span>
          {props.total} {props.total === 1 ? "user" : "users"} · page {props.page} of {pages}
        </span>
        {props.page > 1 ? <a href={link(props.page - 1)}>Previous</a> : null}
        {props.page < pages ? <a href={link(props.page + 1)}>Next</a> : null}
      </nav>
    </section>
  );
}

/** Which Site and which role: the first membership of a new user, or one more for an existing one. */
function MembershipFields(props: {
  form: string;
  sites: Site[];
  noSite: string;
  siteId?: string;
  role?: string;
  errors: Errors;
}) {
  const options = [
    { value: "", label: props.noSite },
    ...props.sites.map((s) => ({ value: String(s.id), label: `${s.name} (${s.slug})` })),
  ];
  return (
    <>
      <SelectField
        form={props.form}
        name="siteId"
        label="Site"
        value={props.siteId}
        error={props.errors.siteId}
        options={options}
      />
      <SelectField
        form={props.form}
        name="role"
        label="Role"
        value={props.role ?? "site_user"}
        error={props.errors.role}
        options={ROLE_OPTIONS}
      />
    </>
  );
}

export function NewUserPage({
  values,
  errors,
  csrf,
  sites,
}: {
  values: Values;
  errors: Errors;
  csrf: string;
  sites: Site[];
}) {
  const field = fieldsOf("user", values, errors);
  return (
    <NewItemPage title="New user" collection={adminUsersUrl()} csrf={csrf} errors={errors} submit="Create user">
      <TextField
        {...field("email")}
        label="Email"
        type="email"
        required
        maxLength={254}
        autocomplete="off"
        hint="The sign-in name. Stored in lower case; two accounts cannot share an address in any letter case."
      />
      <TextField {...field("name")} label="Name" required maxLength={100} />
      <TextField
        form="user"
        name="password"
        label="Initial password"
        type="password"
        error={errors.password}
        required
        autocomplete="new-password"
        hint={`At least ${MIN_PASSWORD_LENGTH} characters. Give it to the person yourself: it is stored only as a PBKDF2 hash, no email is sent, and it is never shown again.`}
      />
      <CheckboxField
        form="user"
        name="isGlobalAdmin"
        label="Global Administrator"
        checked={values.isGlobalAdmin === "on"}
        hint="Manages Sites and users and every Site's App registrations."
      />
      <fieldset>
        <legend>First membership (optional)</legend>
        <MembershipFields
          form="user"
          sites={sites}
          noSite="— No Site —"
          siteId={values.siteId ?? ""}
          role={values.role}
          errors={errors}
        />
      </fieldset>
    </NewItemPage>
  );
}

/** The account section of a user's page; also the fragment its toggles answer with. */
export function AccountSection(props: { user: UserSummary; csrf: string; isSelf: boolean; error?: ActionErrorProps }) {
  const { user } = props;
  return (
    <section id="account" class="card" aria-labelledby="account-heading">
      <h2 id="account-heading">Account</h2>
      {props.error ? <ActionError {...props.error} /> : null}
      <dl class="details">
        <dt>Email</dt>
        <dd>{user.email}</dd>
        <dt>Name</dt>
        <dd>{user.name}</dd>
        <dt>Status</dt>
        <dd class="status">{user.disabled ? "Disabled" : "Active"}</dd>
        <dt>Global Administrator</dt>
        <dd class="global-admin">{yesNo(user.isGlobalAdmin)}</dd>
        <dt>Created</dt>
        <dd>{formatInstant(user.createdAt, "UTC")}</dd>
      </dl>
      <UserToggles user={user} view="page" csrf={props.csrf} isSelf={props.isSelf} />
      {props.isSelf && !user.disabled ? (
        <p class="hint">This is your own account: another Global Administrator can disable it, you cannot.</p>
      ) : null}
    </section>
  );
}

/**
 * A Global Administrator sets a new password for the user (the person forgot theirs, or it may be known to someone
 * else). Their own password they change on their account page, which asks for the current one.
 */
export function PasswordSection(props: {
  user: UserSummary;
  csrf: string;
  isSelf: boolean;
  errors?: Errors;
  error?: ActionErrorProps;
}) {
  const errors = props.errors ?? {};
  return (
    <section id="password" class="card" aria-labelledby="password-heading">
      <h2 id="password-heading">Password</h2>
      {props.error ? <ActionError {...props.error} /> : null}
      {props.isSelf ? (
        <p>
          This is your own account: change your password on <a href={CHANGE_PASSWORD_PATH}>your account page</a>, which
          asks for your current one.
        </p>
      ) : (
        <PostForm
          action={`${adminUsersUrl(props.user.id)}/password`}
          csrf={props.csrf}
          errors={errors}
          submit="Set password"
        >
          <NewPasswordFields
            form="password"
            errors={errors}
            consequence="Every session of theirs ends at once. Give it to the person yourself: it is not shown or sent anywhere."
          />
        </PostForm>
      )}
    </section>
  );
}

/** The id of the delete section, which a disable/enable from the user's page also replaces (out of band). */
export const DELETE_USER_ID = "delete-user";

/**
 * Deleting a user takes two steps: disable (every session ends at once), then delete here, confirmed by typing the
 * user's email. While the user is enabled the section only says so.
 */
export function DeleteUserSection(props: {
  user: UserSummary;
  csrf: string;
  isSelf: boolean;
  errors?: Errors;
  error?: ActionErrorProps;
  oob?: boolean;
}) {
  const { user } = props;
  return (
    <section
      id={DELETE_USER_ID}
      class="card danger-zone"
      aria-labelledby="delete-user-heading"
      hx-swap-oob={props.oob ? "true" : undefined}
    >
      <h2 id="delete-user-heading">Delete user</h2>
      {props.error ? <ActionError {...props.error} /> : null}
      {props.isSelf ? (
        <p>This is your own account: you cannot delete it. Another Global Administrator can, once it is disabled.</p>
      ) : !user.disabled ? (
        <p>
          Only a disabled user can be deleted. Disable them first (under Account): their sessions end at once and they
          can no longer sign in. Then delete them here.
        </p>
      ) : (
        <>
          <p>
            Deleting removes the account with its memberships, sessions, saved views and settings. App registrations
            they created stay and keep working. The audit trail and the security log keep their email. This cannot be
            undone; the email can be given to a new user afterwards.
          </p>
          <PostForm
            action={`${adminUsersUrl(user.id)}/delete`}
            csrf={props.csrf}
            errors={props.errors ?? {}}
            submit="Delete user"
            danger
          >
            <TextField
              form="delete"
              name="confirmEmail"
              label="Email of the user to delete"
              hint={
                <>
                  Type <strong>{user.email}</strong> to confirm.
                </>
              }
              error={props.errors?.confirmEmail}
              required
              maxLength={254}
              autocomplete="off"
            />
          </PostForm>
        </>
      )}
    </section>
  );
}

/** The memberships section of a user's page; also the fragment its forms answer with. */
export function MembershipsSection(props: {
  user: UserSummary;
  memberships: UserMembership[];
  sites: Site[];
  csrf: string;
  values?: Values;
  errors?: Errors;
  error?: ActionErrorProps;
  notice?: string;
}) {
  const { user } = props;
  const errors = props.errors ?? {};
  const memberOf = new Set(props.memberships.map((m) => m.siteId));
  const available = props.sites.filter((s) => !memberOf.has(s.id));
  const base = `${adminUsersUrl(user.id)}/memberships`;
  const htmx = { "hx-target": "#memberships", "hx-swap": "outerHTML" };
  return (
    <section id="memberships" class="card" aria-labelledby="memberships-heading">
      <h2 id="memberships-heading">Memberships</h2>
      <Notice text={props.notice} />
      {props.error ? <ActionError {...props.error} /> : null}
      <DataTable
        rowCount={props.memberships.length}
        empty="Not a member of any Site."
        columns={["Site", "Role", "Remove"]}
        label="Memberships"
      >
        {props.memberships.map((m) => (
          <tr>
            <td>
              <a href={`${adminSitesUrl(m.slug)}`}>{m.siteName}</a>
            </td>
            <td>
              <form method="post" action={base} class="inline" hx-post={base} {...htmx}>
                <CsrfField token={props.csrf} />
                <input type="hidden" name="siteId" value={String(m.siteId)} />
                <label class="visually-hidden" for={`role-${m.siteId}`}>
                  Role in {m.siteName}
                </label>
                <select id={`role-${m.siteId}`} name="role">
                  {ROLE_OPTIONS.map((o) => (
                    <option value={o.value} selected={o.value === m.role}>
                      {o.label}
                    </option>
                  ))}
                </select>{" "}
                <button type="submit" class="secondary small" aria-label={`Save the role in ${m.siteName}`}>
                  Save role
                </button>
              </form>
            </td>
            <td>
              <form
                method="post"
                action={`${base}/${m.siteId}/remove`}
                class="inline"
                hx-post={`${base}/${m.siteId}/remove`}
                hx-confirm={`Remove ${user.email} from ${m.siteName}?`}
                {...htmx}
              >
                <CsrfField token={props.csrf} />
                <button type="submit" class="danger small" aria-label={`Remove from ${m.siteName}`}>
                  Remove
                </button>
              </form>
            </td>
          </tr>
        ))}
      </DataTable>
      {available.length > 0 || errors.siteId || errors.role ? (
        <form method="post" action={base} class="add-membership" hx-post={base} {...htmx} novalidate>
          <h3>Add to a Site</h3>
          <CsrfField token={props.csrf} />
          <MembershipFields
            form="membership"
            sites={available}
            noSite="— Choose a Site —"
            siteId={props.values?.siteId}
            role={props.values?.role}
            errors={errors}
          />
          <button type="submit" class="primary">
            Add membership
          </button>
        </form>
      ) : null}
    </section>
  );
}

/** What one section of a user's page shows after a refused change: what was typed, the field errors, an error. */
export interface SectionFeedback {
  values?: Values;
  errors?: Errors;
  error?: ActionErrorProps;
}

/** A user's page after a refused change: the feedback of the section it happened in. */
export interface UserPageFeedback {
  account?: SectionFeedback;
  password?: SectionFeedback;
  membership?: SectionFeedback;
  delete?: SectionFeedback;
}

export interface UserPageProps extends UserPageFeedback {
  entry: UserWithMemberships;
  sites: Site[];
  trail: AuditRow[];
  csrf: string;
  isSelf: boolean;
  notice?: string;
}

export function UserPage(props: UserPageProps) {
  const { user, memberships } = props.entry;
  const common = { user, csrf: props.csrf, isSelf: props.isSelf };
  return (
    <section class="admin-area admin-user">
      <h1>{user.name}</h1>
      <Notice text={props.notice} />
      <AccountSection {...common} error={props.account?.error} />
      <PasswordSection {...common} {...props.password} />
      <MembershipsSection {...common} memberships={memberships} sites={props.sites} {...props.membership} />
      <DeleteUserSection {...common} {...props.delete} />
      <AuditTrail rows={props.trail} timeZone="UTC" heading="Changes to this user" />
    </section>
  );
}
