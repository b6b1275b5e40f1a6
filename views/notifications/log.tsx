import type { NotificationTemplate, Site } from "../../src/db/schema";
import { formatInstant } from "../../src/lib/time";
import { TEMPLATE_TITLES } from "../../src/notifications/cadence";
import type { DeliveryRow, NotificationLogPage, NotificationRow } from "../../src/notifications/log-query";

export const RESULTS_ID = "notification-log-results";

/** The filter as typed (strings from the query string), put back into the form and into every link. */
export interface LogFilterValues {
  template?: string;
  registration?: string;
}

export type LogFilterErrors = Partial<Record<"template" | "registration" | "page", string>>;

const basePath = (site: Site) => `/sites/${encodeURIComponent(site.slug)}/settings/notifications`;
const registrationPath = (site: Site, id: number) =>
  `/sites/${encodeURIComponent(site.slug)}/settings/iam/app-registrations/${id}`;

export function logHref(site: Site, values: LogFilterValues, page?: number): string {
  const params = new URLSearchParams();
  if (values.template) params.set("template", values.template);
  if (values.registration) params.set("registration", values.registration);
  if (page && page > 1) params.set("page", String(page));
  const query = params.toString();
  return query ? `${basePath(site)}?${query}` : basePath(site);
}

function DeliveryState({ delivery, timeZone }: { delivery: DeliveryRow; timeZone: string }) {
  const attempts = delivery.attempts === 1 ? "1 attempt" : `${delivery.attempts} attempts`;
  switch (delivery.state) {
    case "sent":
      return (
        <span class="delivery-state delivery-sent">
          Sent {delivery.sentAt ? formatInstant(delivery.sentAt, timeZone) : ""}
        </span>
      );
    case "retrying":
      return (
        <span class="delivery-state delivery-retrying">
          Retrying after {attempts}
          {delivery.lastError ? `: ${delivery.lastError}` : ""}
        </span>
      );
    case "failed":
      return (
        <span class="delivery-state delivery-failed">
          Failed after {attempts}
          {delivery.lastError ? `: ${delivery.lastError}` : ""}
        </span>
      );
    default:
      return <span class="delivery-state delivery-queued">Queued</span>;
  }
}

function TemplateCell({ row }: { row: NotificationRow }) {
  return (
    <td>
      {TEMPLATE_TITLES[row.template]}
      {row.key ? <div class="muted">Public key {row.key.kid ?? "(deleted)"}</div> : null}
    </td>
  );
}

function RegistrationCell({ row, site }: { row: NotificationRow; site: Site }) {
  return (
    <td class="notification-registration">
      {row.registrationId === null ? (
        <span>
          {row.registrationName} <span class="muted">(deleted)</span>
        </span>
      ) : (
        <a href={registrationPath(site, row.registrationId)}>{row.registrationName}</a>
      )}
      <div class="mono">{row.clientId}</div>
    </td>
  );
}

function LogRow({ row, site }: { row: NotificationRow; site: Site }) {
  return (
    <tr>
      <td class="notification-time">{formatInstant(row.firedAt, site.timeZone)}</td>
      <TemplateCell row={row} />
      <RegistrationCell row={row} site={site} />
      <td class="notification-time">{row.expirationDate}</td>
      <td>
        {row.deliveries.length === 0 ? (
          <span class="muted">No Site Administrator to notify</span>
        ) : (
          <ul class="notification-recipients">
            {row.deliveries.map((d) => (
              <li>
                <span class="recipient">{d.recipientEmail}</span>{" "}
                <DeliveryState delivery={d} timeZone={site.timeZone} />
              </li>
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}

function Pagination({ site, values, result }: { site: Site; values: LogFilterValues; result: NotificationLogPage }) {
  if (result.pages <= 1 && result.page === 1) return null;
  const link = (page: number, label: string, rel: string) => {
    const href = logHref(site, values, page);
    return (
      <a href={href} rel={rel} hx-get={href} hx-target={`#${RESULTS_ID}`} hx-swap="outerHTML" hx-push-url="true">
        {label}
      </a>
    );
  };
  return (
    <nav class="pagination" aria-label="Pages">
      {result.page > 1 ? link(Math.min(result.page - 1, result.pages), "Previous", "prev") : null}
      <span>
        Page {result.page} of {result.pages}
      </span>
      {result.page < result.pages ? link(result.page + 1, "Next", "next") : null}
    </nav>
  );
}

/** The results region: the count, the table and the pages. The same component is the htmx fragment. */
export function NotificationLogResults({
  site,
  values,
  errors,
  result,
}: {
  site: Site;
  values: LogFilterValues;
  errors: LogFilterErrors;
  result: NotificationLogPage | null;
}) {
  const messages = Object.values(errors);
  if (!result || messages.length > 0) {
    return (
      <section id={RESULTS_ID} class="notification-log-results" aria-label="Notifications">
        <div class="form-error" role="alert">
          <p>The filter has errors; no notifications are shown until they are fixed:</p>
          <ul>
            {messages.map((m) => (
              <li>{m}</li>
            ))}
          </ul>
        </div>
      </section>
    );
  }
  return (
    <section id={RESULTS_ID} class="notification-log-results" aria-label="Notifications">
      <p class="notification-log-total" role="status">
        {result.total === 1 ? "1 notification" : `${result.total} notifications`}
      </p>
      {result.rows.length === 0 ? (
        <p class="empty">
          {result.total === 0 ? "No notification matches the filter." : "There are no notifications on this page."}
        </p>
      ) : (
        <table class="grid notification-log-table">
          <thead>
            <tr>
              <th scope="col">Fired at ({site.timeZone})</th>
              <th scope="col">Template</th>
              <th scope="col">Registration</th>
              <th scope="col">Expiration date</th>
              <th scope="col">Recipients and delivery</th>
            </tr>
          </thead>
          <tbody>
            {result.rows.map((row) => (
              <LogRow row={row} site={site} />
            ))}
          </tbody>
        </table>
      )}
      <Pagination site={site} values={values} result={result} />
    </section>
  );
}

function Select({
  name,
  label,
  value,
  error,
  options,
}: {
  name: string;
  label: string;
  value: string | undefined;
  error: string | undefined;
  options: [string, string][];
}) {
  const id = `notification-log-${name}`;
  return (
    <div class="notification-log-field">
      <label for={id}>{label}</label>
      <select
        id={id}
        name={name}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      >
        {options.map(([optionValue, text]) => (
          <option value={optionValue} selected={(value ?? "") === optionValue}>
            {text}
          </option>
        ))}
      </select>
      {error ? (
        <p id={`${id}-error`} class="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** The Administrative notification log of a Site (§4, §5): filters (a plain GET form, enhanced by htmx) and results. */
export function NotificationLogPageView({
  site,
  values,
  errors,
  result,
  registrations,
}: {
  site: Site;
  values: LogFilterValues;
  errors: LogFilterErrors;
  result: NotificationLogPage | null;
  registrations: { id: number; name: string }[];
}) {
  const base = basePath(site);
  const templates = Object.entries(TEMPLATE_TITLES) as [NotificationTemplate, string][];
  return (
    <section>
      <h1>Administrative notification log</h1>
      <p class="muted">
        Every expiration notice of {site.name}: 30 days before, 7 days before and on the day an App registration (or one
        of its public keys) expires, and its delivery to each Site Administrator. Times are in {site.timeZone}.
      </p>
      <form
        class="notification-log-filters card"
        method="get"
        action={base}
        aria-label="Filter the notification log"
        hx-get={base}
        hx-target={`#${RESULTS_ID}`}
        hx-swap="outerHTML"
        hx-push-url="true"
        hx-trigger="change, submit"
      >
        <Select
          name="template"
          label="Template"
          value={values.template}
          error={errors.template}
          options={[["", "All templates"], ...templates]}
        />
        <Select
          name="registration"
          label="Registration"
          value={values.registration}
          error={errors.registration}
          options={[["", "All registrations"], ...registrations.map((r): [string, string] => [String(r.id), r.name])]}
        />
        <div class="notification-log-actions">
          <button type="submit" class="secondary">
            Filter
          </button>
          <a href={base}>Clear</a>
        </div>
      </form>
      <NotificationLogResults site={site} values={values} errors={errors} result={result} />
    </section>
  );
}
