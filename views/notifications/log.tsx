import { hintLabel } from "../../src/client-secrets/policy";
import type { NotificationTemplate, Site } from "../../src/db/schema";
import { formatWallClock } from "../../src/lib/time";
import { SECRET_TEMPLATE_TITLES, TEMPLATE_TITLES } from "../../src/notifications/cadence";
import type { DeliveryRow, NotificationLogPage, NotificationRow } from "../../src/notifications/log-query";
import { notificationLogUrl, registrationUrl } from "../../src/paths";
import { CopyButton } from "../components/copy-button";
import { FilterSelect, type FilterSelectProps } from "../components/filter-field";
import { gridNavigation } from "../components/format";
import { FilterProblems, Pager, ResultsTable } from "../components/paged-results";

export const RESULTS_ID = "notification-log-results";

/** The filter as typed (strings from the query string), put back into the form and into every link. */
export interface LogFilterValues {
  template?: string;
  registration?: string;
}

export type LogFilterErrors = Partial<Record<"template" | "registration" | "page", string>>;

const basePath = (site: Site) => notificationLogUrl(site.slug);
const registrationPath = (site: Site, id: number) => registrationUrl(site.slug, id);

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
          Sent {delivery.sentAt ? formatWallClock(delivery.sentAt, timeZone) : ""}
        </span>
      );
    case "retrying":
    case "failed":
      return (
        <span class={`delivery-state delivery-${delivery.state}`}>
          {delivery.state === "retrying" ? "Retrying" : "Failed"} after {attempts}
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
      {row.secret ? SECRET_TEMPLATE_TITLES[row.template] : TEMPLATE_TITLES[row.template]}
      {row.key ? <div class="muted">Public key {row.key.kid ?? "(deleted)"}</div> : null}
      {row.secret ? <div class="muted">Client secret {hintLabel(row.secret.hint)}</div> : null}
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
      <div>
        <span class="mono" id={`notification-client-${row.id}`}>
          {row.clientId}
        </span>{" "}
        <CopyButton target={`notification-client-${row.id}`} what={`the Client ID ${row.clientId}`} />
      </div>
    </td>
  );
}

function LogRow({ row, site }: { row: NotificationRow; site: Site }) {
  return (
    <tr>
      <td class="notification-time">{formatWallClock(row.firedAt, site.timeZone)}</td>
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
  return (
    <section id={RESULTS_ID} class="notification-log-results" aria-label="Notifications">
      {!result || messages.length > 0 ? (
        <FilterProblems
          lead="The filter has errors; no notifications are shown until they are fixed:"
          messages={messages}
        />
      ) : (
        <>
          <p class="notification-log-total" role="status">
            {result.total === 1 ? "1 notification" : `${result.total} notifications`}
          </p>
          <ResultsTable
            result={result}
            class="grid notification-log-table"
            label="Notification log"
            noMatch="No notification matches the filter."
            noneOnPage="There are no notifications on this page."
            head={
              <>
                <th scope="col">Fired at ({site.timeZone})</th>
                <th scope="col">Template</th>
                <th scope="col">Registration</th>
                <th scope="col">Expiration date</th>
                <th scope="col">Recipients and delivery</th>
              </>
            }
          >
            {result.rows.map((row) => (
              <LogRow row={row} site={site} />
            ))}
          </ResultsTable>
          <Pager result={result} hrefOf={(page) => logHref(site, values, page)} target={`#${RESULTS_ID}`} />
        </>
      )}
    </section>
  );
}

const Select = (props: Omit<FilterSelectProps, "form">) => <FilterSelect form="notification-log" {...props} />;

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
        class="log-filters card"
        method="get"
        action={base}
        aria-label="Filter the notification log"
        {...gridNavigation(base, `#${RESULTS_ID}`)}
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
        <div class="log-filter-actions">
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
