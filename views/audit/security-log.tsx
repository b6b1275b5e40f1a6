import { DETAIL_CODE_NAMES, DETAIL_CODES, describeDetailCode, EVENT_LABELS } from "../../src/audit/detail-codes";
import { formatLogTime, isoInstant } from "../../src/audit/format";
import {
  DEFAULT_PAGE_SIZE,
  DEFAULT_RANGE,
  NO_SITE,
  PAGE_SIZES,
  RANGE_PRESETS,
  SECURITY_LOG_FIELDS,
  type SecurityLogField,
  type SecurityLogPage,
  type SecurityLogRow,
} from "../../src/audit/query";
import { SECURITY_EVENTS, type SecurityEventType, type Site } from "../../src/db/schema";
import { registrationUrl, securityLogUrl } from "../../src/paths";
import { CopyButton } from "../components/copy-button";
import { FilterInput, type FilterInputProps, FilterSelect, type FilterSelectProps } from "../components/filter-field";
import { gridNavigation } from "../components/format";
import { FilterProblems, Pager, ResultsTable } from "../components/paged-results";

/** Which log is shown: one Site's (its administrators) or every Site's (Global Administrator). */
export type LogView = { kind: "site"; site: Site } | { kind: "global"; sites: Site[] };

export type FilterValues = Partial<Record<SecurityLogField, string>>;
export type FilterErrors = Partial<Record<SecurityLogField, string>>;

const RESULTS_ID = "security-log-results";

/** Site Administrators only ever see rows of their Site, so admin sign-in events and codes are not offered. */
function eventsFor(view: LogView): SecurityEventType[] {
  return view.kind === "site" ? SECURITY_EVENTS.filter((e) => e !== "admin_sign_in_failed") : [...SECURITY_EVENTS];
}

function codesFor(view: LogView): string[] {
  const events = eventsFor(view);
  return DETAIL_CODE_NAMES.filter((code) => DETAIL_CODES.some((d) => d.code === code && events.includes(d.event)));
}

export function basePath(view: LogView): string {
  return view.kind === "site" ? securityLogUrl(view.site.slug) : "/admin/security-log";
}

/** `?…` with the given filter values (blank ones dropped) and overrides; empty when nothing is left. */
function queryOf(values: FilterValues, overrides: FilterValues): string {
  const merged: FilterValues = { ...values, ...overrides };
  const search = new URLSearchParams();
  for (const key of SECURITY_LOG_FIELDS) {
    const value = merged[key];
    if (value !== undefined && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** The page URL with the given filter values and overrides. */
export function pageHref(view: LogView, values: FilterValues, overrides: FilterValues = {}) {
  return `${basePath(view)}${queryOf(values, overrides)}`;
}

/** The CSV export of the same filter (every matching row, not one page). */
export function exportHref(view: LogView, values: FilterValues) {
  return `${basePath(view)}/export.csv${queryOf(values, { page: undefined, size: undefined })}`;
}

/** This form's fields, named only by its own query parameters. */
type Field<P> = Omit<P, "form"> & { name: SecurityLogField };
const Select = (props: Field<FilterSelectProps>) => <FilterSelect form="log-filter" {...props} />;
const Input = (props: Field<FilterInputProps>) => <FilterInput form="log-filter" {...props} />;

/** The filter form: a plain GET form (JavaScript off), enhanced by htmx to swap only the results. */
export function SecurityLogFilters({
  view,
  values,
  errors,
}: {
  view: LogView;
  values: FilterValues;
  errors: FilterErrors;
}) {
  const base = basePath(view);
  const dateZone = view.kind === "site" ? view.site.timeZone : "UTC";
  return (
    <form
      class="log-filters card"
      method="get"
      action={base}
      aria-label="Filter the security log"
      {...gridNavigation(base, `#${RESULTS_ID}`)}
    >
      {view.kind === "global" ? (
        <Select
          name="site"
          label="Site"
          value={values.site}
          error={errors.site}
          options={[
            ["", "All Sites"],
            ...view.sites.map((s): [string, string] => [s.slug, s.name]),
            [NO_SITE, "No Site (unknown Client ID, admin sign-in)"],
          ]}
        />
      ) : null}
      <Select
        name="range"
        label="Time range"
        value={values.range || DEFAULT_RANGE}
        error={errors.range}
        options={Object.entries(RANGE_PRESETS).map(([key, preset]): [string, string] => [key, preset.label])}
      />
      <Input name="from" label={`From (${dateZone})`} type="date" value={values.from} error={errors.from} />
      <Input name="to" label={`To (${dateZone})`} type="date" value={values.to} error={errors.to} />
      <Select
        name="event"
        label="Event"
        value={values.event}
        error={errors.event}
        options={[["", "All events"], ...eventsFor(view).map((e): [string, string] => [e, EVENT_LABELS[e]])]}
      />
      <Select
        name="code"
        label="Detail code"
        value={values.code}
        error={errors.code}
        options={[["", "All detail codes"], ...codesFor(view).map((c): [string, string] => [c, c])]}
      />
      <Input
        name="client"
        label={view.kind === "global" ? "Client ID or email" : "Client ID"}
        type="text"
        value={values.client}
        error={errors.client}
        maxLength={256}
      />
      <Input name="ip" label="IP address" type="text" value={values.ip} error={errors.ip} maxLength={45} />
      <Select
        name="size"
        label="Rows per page"
        value={values.size || String(DEFAULT_PAGE_SIZE)}
        error={errors.size}
        options={PAGE_SIZES.map((n): [string, string] => [String(n), String(n)])}
      />
      <div class="log-filter-actions">
        <button type="submit" class="primary">
          Apply filters
        </button>
        <a href={base}>Clear filters</a>
      </div>
      <p class="muted log-filter-note">
        Dates are whole days in {dateZone}; either date replaces the time range. Client ID and IP match exactly, as
        sent.
      </p>
    </form>
  );
}

/** A detail code with its explanation and fix, readable without JavaScript (a native disclosure). */
export function DetailCode({ event, code }: { event: SecurityEventType; code: string }) {
  const info = describeDetailCode(event, code);
  if (!info) return <code>{code}</code>;
  return (
    <details class="detail-code">
      <summary title={info.explanation}>
        <code>{code}</code>
      </summary>
      <p class="detail-explanation">{info.explanation}</p>
      <p class="detail-fix">
        <strong>Fix:</strong> {info.fix}
      </p>
      <p class="muted">Caller got: {info.answer}</p>
    </details>
  );
}

/** The current filter narrowed to one Client ID or IP, back on the first page. */
function filterLink(view: LogView, values: FilterValues, narrow: Pick<FilterValues, "client" | "ip">) {
  return pageHref(view, values, { ...narrow, page: undefined });
}

/** When a row happened; the zone is named in the cell only where the header cannot name it (the all-Sites log). */
function TimeCell({ row, showZone }: { row: SecurityLogRow; showZone: boolean }) {
  const zone = row.siteTimeZone ?? "UTC";
  const named = showZone ? <span class="zone">{zone}</span> : null;
  if (row.count <= 1) {
    return (
      <td class="log-time">
        <time datetime={isoInstant(row.lastAt)}>{formatLogTime(row.lastAt, zone)}</time> {named}
      </td>
    );
  }
  return (
    <td class="log-time">
      <span class="muted">first seen</span>{" "}
      <time datetime={isoInstant(row.firstAt)}>{formatLogTime(row.firstAt, zone)}</time>
      <br />
      <span class="muted">last seen</span>{" "}
      <time datetime={isoInstant(row.lastAt)}>{formatLogTime(row.lastAt, zone)}</time> {named}
    </td>
  );
}

function RegistrationCell({ row, view, values }: { row: SecurityLogRow; view: LogView; values: FilterValues }) {
  if (row.event === "admin_sign_in_failed") {
    return (
      <td>
        <span class="muted">Account</span> {row.clientId ?? "(no email)"}
      </td>
    );
  }
  return (
    <td class="log-registration">
      {row.registrationName ? (
        row.registrationId !== null && row.siteSlug ? (
          <a href={registrationUrl(row.siteSlug, row.registrationId)}>{row.registrationName}</a>
        ) : (
          <span>{row.registrationName}</span>
        )
      ) : (
        <span class="muted">Unknown Client ID</span>
      )}
      {row.clientId ? (
        <div>
          <a
            class="mono"
            id={`log-client-${row.id}`}
            href={filterLink(view, values, { client: row.clientId })}
            title="Show only this Client ID"
          >
            {row.clientId}
          </a>{" "}
          <CopyButton target={`log-client-${row.id}`} what={`the Client ID ${row.clientId}`} />
        </div>
      ) : null}
    </td>
  );
}

function LogRow({ row, view, values }: { row: SecurityLogRow; view: LogView; values: FilterValues }) {
  return (
    <tr data-event-id={String(row.id)}>
      <TimeCell row={row} showZone={view.kind === "global"} />
      {view.kind === "global" ? (
        <td>
          {row.siteSlug ? (
            <a href={securityLogUrl(row.siteSlug)}>{row.siteName}</a>
          ) : (
            <span class="muted">No Site</span>
          )}
        </td>
      ) : null}
      <td>{EVENT_LABELS[row.event] ?? row.event}</td>
      <RegistrationCell row={row} view={view} values={values} />
      <td>
        <DetailCode event={row.event} code={row.detailCode} />
      </td>
      <td>
        {row.ip ? (
          <a class="mono" href={filterLink(view, values, { ip: row.ip })} title="Show only this IP address">
            {row.ip}
          </a>
        ) : (
          <span class="muted">unknown</span>
        )}
      </td>
      <td class="log-user-agent">{row.userAgent}</td>
      <td>
        <code>{row.endpoint}</code>
      </td>
      <td class="numeric">{row.count}</td>
    </tr>
  );
}

/** The results region: totals, the table and the pages. The same component is the htmx fragment. */
export function SecurityLogResults({
  view,
  values,
  result,
  errors,
}: {
  view: LogView;
  values: FilterValues;
  result: SecurityLogPage | null;
  errors: FilterErrors;
}) {
  const messages = Object.values(errors);
  return (
    <section id={RESULTS_ID} class="log-results" aria-label="Security log rows">
      {!result || messages.length ? (
        <FilterProblems lead="The filter has errors; no rows are shown until they are fixed:" messages={messages} />
      ) : (
        <>
          <div class="toolbar">
            <p class="log-totals" role="status">
              {result.total === 1 ? "1 row" : `${result.total} rows`} ·{" "}
              {result.failures === 1 ? "1 failure" : `${result.failures} failures`}
            </p>
            <a class="secondary" href={exportHref(view, values)} download>
              Export CSV
            </a>
          </div>
          <ResultsTable
            result={result}
            class="grid log-table"
            label="Security log"
            noMatch="No failures match the filter."
            noneOnPage="There are no rows on this page."
            head={
              <>
                <th scope="col">{view.kind === "site" ? `Time (${view.site.timeZone})` : "Time"}</th>
                {view.kind === "global" ? <th scope="col">Site</th> : null}
                <th scope="col">Event</th>
                <th scope="col">Registration</th>
                <th scope="col">Detail</th>
                <th scope="col">IP</th>
                <th scope="col">User agent</th>
                <th scope="col">Endpoint</th>
                <th scope="col" class="numeric">
                  Count
                </th>
              </>
            }
          >
            {result.rows.map((row) => (
              <LogRow row={row} view={view} values={values} />
            ))}
          </ResultsTable>
          <Pager
            result={result}
            hrefOf={(page) => pageHref(view, values, { page: page === 1 ? undefined : String(page) })}
            target={`#${RESULTS_ID}`}
          />
        </>
      )}
    </section>
  );
}

export function SecurityLogPageView({
  view,
  values,
  errors,
  result,
  helpHref,
}: {
  view: LogView;
  values: FilterValues;
  errors: FilterErrors;
  result: SecurityLogPage | null;
  helpHref: string;
}) {
  return (
    <section class="security-log">
      <h1>{view.kind === "site" ? "Security log" : "Security log · all Sites"}</h1>
      <p class="muted">
        {view.kind === "site"
          ? `Failed token requests and REST API calls of ${view.site.name}, newest first. Identical failures (same Client ID, detail code and IP) within a minute are one row with a count. Times in ${view.site.timeZone}.`
          : "Failures of every Site, and those no Site can be tied to: unknown Client IDs and admin sign-in. Identical failures within a minute are one row with a count. Times in each Site's zone (UTC for rows without a Site)."}{" "}
        Rows are kept for 90 days. <a href={helpHref}>Troubleshooting help and every detail code</a>
      </p>
      <SecurityLogFilters view={view} values={values} errors={errors} />
      <SecurityLogResults view={view} values={values} result={result} errors={errors} />
    </section>
  );
}
