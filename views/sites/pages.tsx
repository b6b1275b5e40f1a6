import type { AuditRow } from "../../src/audit/admin-audit";
import type { Site } from "../../src/db/schema";
import { adminSitesUrl, adminUsersUrl, sitePath } from "../../src/paths";
import type { SiteMember, SiteSummary } from "../../src/sites/site-service";
import { timeZoneOptions } from "../../src/sites/time-zones";
import { DEFAULT_MAX_REGISTRATION_DAYS, MAX_REGISTRATION_DAYS_LIMIT } from "../../src/sites/validation";
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
  Notice,
  PostForm,
  SelectField,
  TextField,
  ToggleForm,
  type Values,
} from "../components/form";
import { ROLE_LABELS, yesNo } from "../components/labels";
import { crumbsUnder } from "../layout";

export const sitesCrumbs = (leaf?: string) => crumbsUnder("Sites", adminSitesUrl(), leaf);

/** One row of the Sites list; also the fragment the REST API toggle answers with. */
export function SiteRow({ summary, csrf, error }: { summary: SiteSummary; csrf: string; error?: ActionErrorProps }) {
  const { site } = summary;
  const turn = site.restApiEnabled ? "Turn off" : "Turn on";
  return (
    <tr id={`site-${site.slug}`}>
      <td>
        <a href={`${adminSitesUrl(site.slug)}`}>{site.name}</a>
      </td>
      <td>
        <code>{site.slug}</code>
      </td>
      <td>{site.timeZone}</td>
      <td class="rest-api">
        <span class="rest-api-state">{yesNo(site.restApiEnabled)}</span>{" "}
        <ToggleForm
          action={`${adminSitesUrl(site.slug)}/rest-api`}
          value={!site.restApiEnabled}
          target="closest tr"
          csrf={csrf}
          label={turn}
          ariaLabel={`${turn} the REST API of ${site.name}`}
          confirm={site.restApiEnabled ? restApiOffConsequence(site, summary.registrations) : undefined}
          danger={site.restApiEnabled}
        />
        {error ? <ActionError {...error} /> : null}
      </td>
      <td class="number">{summary.registrations}</td>
      <td class="number">{summary.members}</td>
    </tr>
  );
}

export type { ActionErrorProps };

export function SitesPage({ sites, csrf, notice }: { sites: SiteSummary[]; csrf: string; notice?: string }) {
  return (
    <section class="admin-area admin-sites">
      <h1>Sites</h1>
      <Notice text={notice} />
      <div class="toolbar">
        <a class="primary button-link" href={`${adminSitesUrl()}/new`}>
          + New Site
        </a>
      </div>
      <DataTable columns={["Name", "Slug", "Time zone", "REST API enabled", "Registrations", "Members"]} label="Sites">
        {sites.map((summary) => (
          <SiteRow summary={summary} csrf={csrf} />
        ))}
      </DataTable>
      {sites.length === 0 ? <p class="muted">No Sites yet.</p> : null}
    </section>
  );
}

const zoneOptions = (current?: string) => timeZoneOptions(current).map((zone) => ({ value: zone, label: zone }));

function SiteSettingsFields({
  values,
  errors,
  checkedDefault,
}: {
  values: Values;
  errors: Errors;
  checkedDefault: boolean;
}) {
  const field = fieldsOf("site", values, errors);
  return (
    <>
      <TextField {...field("name")} label="Display name" required maxLength={100} />
      <SelectField
        form="site"
        name="timeZone"
        label="Time zone"
        value={values.timeZone ?? "UTC"}
        error={errors.timeZone}
        options={zoneOptions(values.timeZone)}
        hint="Expiration dates of the Site's App registrations are calendar dates in this zone."
      />
      <CheckboxField
        form="site"
        name="restApiEnabled"
        label="REST API enabled"
        checked={values.restApiEnabled === undefined ? checkedDefault : values.restApiEnabled === "on"}
        error={errors.restApiEnabled}
        hint="When off, every token request of the Site's App registrations fails (FeatureDisabled)."
      />
      <TextField
        {...field("maxRegistrationDays")}
        label="Maximum registration lifetime (days)"
        type="number"
        inputMode="numeric"
        min={1}
        max={MAX_REGISTRATION_DAYS_LIMIT}
        required
        hint={`How far ahead an Expiration date may be set: 1 to ${MAX_REGISTRATION_DAYS_LIMIT} days (default ${DEFAULT_MAX_REGISTRATION_DAYS}).`}
      />
    </>
  );
}

export function NewSitePage({ values, errors, csrf }: { values: Values; errors: Errors; csrf: string }) {
  const field = fieldsOf("site", values, errors);
  return (
    <NewItemPage title="New Site" collection={adminSitesUrl()} csrf={csrf} errors={errors} submit="Create Site">
      <TextField
        {...field("slug")}
        label="Slug"
        required
        maxLength={40}
        autocomplete="off"
        hint="2 to 40 lowercase letters, digits and hyphens. It appears in REST API URLs and in access tokens, so it cannot be changed later."
      />
      <SiteSettingsFields values={values} errors={errors} checkedDefault={true} />
    </NewItemPage>
  );
}

/** A Site's form values as stored, for the edit form. */
export function siteValues(site: Site): Values {
  return {
    name: site.name,
    timeZone: site.timeZone,
    restApiEnabled: site.restApiEnabled ? "on" : "off",
    maxRegistrationDays: String(site.maxRegistrationDays),
  };
}

export function SitePage(props: {
  summary: SiteSummary;
  members: SiteMember[];
  trail: AuditRow[];
  values: Values;
  errors: Errors;
  csrf: string;
  notice?: string;
  error?: ActionErrorProps;
}) {
  const { site } = props.summary;
  return (
    <section class="admin-area admin-site">
      <h1>{site.name}</h1>
      <Notice text={props.notice} />
      {props.error ? <ActionError {...props.error} /> : null}
      <dl class="details">
        <dt>Slug</dt>
        <dd>
          <code>{site.slug}</code>{" "}
          <span class="muted">
            (fixed: it is part of the REST API URLs <code>/api/v1/sites/{site.slug}/…</code> and the <code>site</code>{" "}
            claim of every access token issued for this Site)
          </span>
        </dd>
        <dt>App registrations</dt>
        <dd>{props.summary.registrations}</dd>
        <dt>Admin Center</dt>
        <dd>
          <a href={sitePath(site.slug)}>Open {site.name}</a>
        </dd>
      </dl>

      <section class="card" aria-labelledby="site-settings-heading">
        <h2 id="site-settings-heading">Settings</h2>
        <PostForm action={`${adminSitesUrl(site.slug)}`} csrf={props.csrf} errors={props.errors} submit="Save">
          <SiteSettingsFields values={props.values} errors={props.errors} checkedDefault={site.restApiEnabled} />
          <p class="hint">
            Changing the time zone keeps every App registration's Expiration date and moves its expiry to 00:00 of that
            date in the new zone.
          </p>
        </PostForm>
      </section>

      <section aria-labelledby="site-members-heading">
        <h2 id="site-members-heading">Members</h2>
        <DataTable
          rowCount={props.members.length}
          empty="Nobody is a member of this Site yet. Add members from the Users page."
          columns={["Email", "Name", "Role", "Status"]}
          label="Members"
        >
          {props.members.map((m) => (
            <tr>
              <td>
                <a href={`${adminUsersUrl(m.userId)}`}>{m.email}</a>
              </td>
              <td>{m.name}</td>
              <td>{ROLE_LABELS[m.role]}</td>
              <td>{m.disabled ? "Disabled" : "Active"}</td>
            </tr>
          ))}
        </DataTable>
      </section>

      <AuditTrail rows={props.trail} timeZone={site.timeZone} heading="Changes to this Site" />
    </section>
  );
}

/** What turning a Site's REST API off stops, in words (the toggle's dialog and the confirmation page). */
export function restApiOffConsequence(site: { name: string }, registrations: number): string {
  const what = registrations === 1 ? "its 1 App registration" : `its ${registrations} App registrations`;
  return `Turn off the REST API of ${site.name}? Token requests of ${what} fail at once (within 5 seconds at most), and its REST API calls are refused, until it is turned back on.`;
}

/**
 * The confirmation before a Site's REST API is turned off, without JavaScript: the same post again, confirmed. With
 * JavaScript the toggle asks in a dialog instead.
 */
export function RestApiOffConfirmation(props: {
  summary: SiteSummary;
  action: string;
  fields: Record<string, string>;
  csrf: string;
  cancelHref: string;
}) {
  const { site, registrations } = props.summary;
  return (
    <section class="admin-area card narrow">
      <h1>Turn off the REST API of {site.name}?</h1>
      <p>{restApiOffConsequence(site, registrations)}</p>
      <form method="post" action={props.action} class="form-actions">
        <CsrfField token={props.csrf} />
        {Object.entries(props.fields).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <input type="hidden" name="confirmed" value="yes" />
        <button type="submit" class="danger">
          Turn off the REST API
        </button>
        <a href={props.cancelHref}>Cancel</a>
      </form>
    </section>
  );
}
