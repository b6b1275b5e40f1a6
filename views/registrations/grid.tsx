import type { Child } from "hono/jsx";
import { registrationUrl } from "../../src/paths";
import type { GridPage, GridRow } from "../../src/registrations/grid";
import {
  activeFilterCount,
  COLUMN_LABELS,
  type GridColumn,
  type GridQuery,
  type GridScope,
  type GridSettings,
  type GridView,
  gridHref,
  PAGE_SIZES,
  STATE_FILTER_LABELS,
  STATE_FILTERS,
  serializeGridQuery,
} from "../../src/registrations/grid-query";
import { expiresLabel, isExpired, registrationState } from "../../src/registrations/lifecycle";
import { MAX_EXTEND_DAYS } from "../../src/registrations/service";
import { CopyButton } from "../components/copy-button";
import { CsrfField, Notice } from "../components/form";
import { gridNavigation } from "../components/format";
import { FilterProblems } from "../components/paged-results";
import { ScrollBox } from "../components/scroll-box";
import { When } from "../components/when";
import { Sparkline } from "../usage/chart";
import { StateBadge } from "./format";

export const GRID_ID = "registrations-grid";

export interface GridModel {
  scope: GridScope;
  /** Path of the grid (no query string). */
  base: string;
  query: GridQuery;
  page: GridPage;
  /** The columns shown (Name always among them). */
  columns: GridColumn[];
  settings: GridSettings;
  builtInViews: GridView[];
  savedViews: GridView[];
  currentView: GridView | undefined;
  csrfToken: string;
  now: number;
  /** All-Sites grid: the Sites for the Site filter. */
  sites?: { slug: string; name: string }[];
  /** Per-Site grid: where "+ New registration" leads. */
  newHref?: string;
  /** Per-Site grid: the Site's zone, named next to "Last used before". */
  timeZone?: string;
  /** Rows can be selected for a bulk action (the per-Site grid). */
  bulk?: boolean;
}

const BULK_FORM_ID = "bulk-form";

export function registrationHref(row: Pick<GridRow, "id" | "siteSlug">): string {
  return registrationUrl(row.siteSlug, row.id);
}

function viewLabel(model: GridModel): string {
  if (model.currentView) return model.currentView.name;
  return serializeGridQuery(model.query, { page: false }) === "" ? "Default View" : "Custom view";
}

function ViewsMenu({ model }: { model: GridModel }) {
  const { base } = model;
  // A saved view keeps the filter, the sort and the columns on screen.
  const current = serializeGridQuery({ ...model.query, cols: model.columns }, { page: false });
  const link = (view: GridView) => {
    const href = view.query ? `${base}?${view.query}` : base;
    return (
      <a href={href} {...gridNavigation(href)} aria-current={model.currentView?.key === view.key ? "true" : undefined}>
        {view.name}
      </a>
    );
  };
  return (
    <details class="menu views-menu">
      <summary>{viewLabel(model)} ▼</summary>
      <div class="menu-panel">
        <ul class="menu-list" aria-label="Built-in views">
          {model.builtInViews.map((view) => (
            <li>{link(view)}</li>
          ))}
        </ul>
        {model.savedViews.length > 0 ? (
          <ul class="menu-list" aria-label="Your views">
            {model.savedViews.map((view) => (
              <li class="saved-view">
                {link(view)}
                <form method="post" action={`${base}/views/${view.savedId}/delete`} class="inline">
                  <CsrfField token={model.csrfToken} />
                  <input type="hidden" name="returnTo" value={serializeGridQuery(model.query)} />
                  <button type="submit" class="link-button" aria-label={`Delete view ${view.name}`}>
                    Delete
                  </button>
                </form>
              </li>
            ))}
          </ul>
        ) : null}
        <form method="post" action={`${base}/views`} class="save-view">
          <CsrfField token={model.csrfToken} />
          <input type="hidden" name="query" value={current} />
          <label for="save-view-name">Save current view as</label>
          <input id="save-view-name" name="name" maxlength={60} required autocomplete="off" />
          <button type="submit" class="secondary">
            Save view
          </button>
        </form>
      </div>
    </details>
  );
}

function FilterMenu({ model }: { model: GridModel }) {
  const { base, query } = model;
  // The search has its own box in the toolbar; clearing the filter keeps it.
  const active = activeFilterCount({ ...query, q: undefined });
  const cleared = gridHref(base, { q: query.q, sort: query.sort, dir: query.dir, cols: query.cols });
  return (
    <details class="menu filter-menu">
      <summary>{active > 0 ? `Filter (${active})` : "Filter"}</summary>
      <form method="get" action={base} class="menu-panel filter-form" {...gridNavigation(base)}>
        {/* Filtering keeps the search. */}
        {query.q ? <input type="hidden" name="q" value={query.q} /> : null}
        <label for="filter-state">State</label>
        <select id="filter-state" name="state">
          <option value="">Any state</option>
          {STATE_FILTERS.map((s) => (
            <option value={s} selected={query.state === s}>
              {STATE_FILTER_LABELS[s]}
            </option>
          ))}
        </select>
        <label for="filter-enabled">Enabled</label>
        <select id="filter-enabled" name="enabled">
          <option value="">Yes or No</option>
          <option value="yes" selected={query.enabled === "yes"}>
            Yes
          </option>
          <option value="no" selected={query.enabled === "no"}>
            No
          </option>
        </select>
        <label for="filter-used-before">
          Last used before <span class="muted">({model.scope === "site" ? (model.timeZone ?? "UTC") : "UTC"})</span>
        </label>
        <input id="filter-used-before" name="used_before" type="date" value={query.usedBefore ?? ""} />
        <label class="check">
          <input type="checkbox" name="never_used" value="1" checked={Boolean(query.neverUsed)} /> Never used
        </label>
        {model.sites ? (
          <>
            <label for="filter-site">Site</label>
            <select id="filter-site" name="site">
              <option value="">Every Site</option>
              {model.sites.map((s) => (
                <option value={s.slug} selected={query.site === s.slug}>
                  {s.name}
                </option>
              ))}
            </select>
          </>
        ) : null}
        {/* Filtering keeps the sort and any columns the URL chose. */}
        <input type="hidden" name="sort" value={query.sort} />
        <input type="hidden" name="dir" value={query.dir} />
        {query.cols ? <input type="hidden" name="cols" value={query.cols.join(",")} /> : null}
        <div class="menu-actions">
          <button type="submit" class="primary">
            Apply filter
          </button>
          <a href={cleared} {...gridNavigation(cleared)}>
            Clear filter
          </a>
        </div>
      </form>
    </details>
  );
}

function SettingsMenu({ model }: { model: GridModel }) {
  const { base } = model;
  const available = (Object.keys(COLUMN_LABELS) as GridColumn[]).filter((c) => model.scope === "all" || c !== "site");
  // Saving settings returns to the same filter and sort, with the columns of the settings (not of a view).
  const returnTo = serializeGridQuery({ ...model.query, cols: undefined });
  return (
    <details class="menu settings-menu">
      <summary title="Grid settings" aria-label="Grid settings">
        ⚙️
      </summary>
      <form
        method="post"
        action={`${base}/settings`}
        class="menu-panel settings-form"
        hx-post={`${base}/settings`}
        hx-target={`#${GRID_ID}`}
        hx-swap="outerHTML"
      >
        <CsrfField token={model.csrfToken} />
        <input type="hidden" name="returnTo" value={returnTo} />
        <fieldset>
          <legend>Visible columns</legend>
          {available.map((col) =>
            col === "name" ? (
              <label class="check">
                <input type="checkbox" checked disabled /> {COLUMN_LABELS[col]} (always shown)
              </label>
            ) : (
              <label class="check">
                <input type="checkbox" name="columns" value={col} checked={model.columns.includes(col)} />{" "}
                {COLUMN_LABELS[col]}
              </label>
            ),
          )}
        </fieldset>
        <label for="settings-page-size">Rows per page</label>
        <select id="settings-page-size" name="pageSize">
          {PAGE_SIZES.map((n) => (
            <option value={String(n)} selected={model.settings.pageSize === n}>
              {n}
            </option>
          ))}
        </select>
        <div class="menu-actions">
          <button type="submit" class="primary">
            Save settings
          </button>
        </div>
      </form>
    </details>
  );
}

function sortHref(model: GridModel, column: GridColumn): string {
  const { query } = model;
  const dir = query.sort === column && query.dir === "asc" ? "desc" : "asc";
  return gridHref(model.base, { ...query, sort: column, dir, page: 1 });
}

function HeaderCell({ model, column }: { model: GridModel; column: GridColumn }) {
  const sorted = model.query.sort === column;
  const href = sortHref(model, column);
  return (
    <th scope="col" aria-sort={sorted ? (model.query.dir === "asc" ? "ascending" : "descending") : undefined}>
      <a href={href} {...gridNavigation(href)}>
        {COLUMN_LABELS[column]}
        {sorted ? <span aria-hidden="true">{model.query.dir === "asc" ? " ▲" : " ▼"}</span> : null}
      </a>
    </th>
  );
}

function Cell({ model, row, column }: { model: GridModel; row: GridRow; column: GridColumn }) {
  switch (column) {
    case "site":
      return <td>{row.siteName}</td>;
    case "name":
      return (
        <td>
          <a href={registrationHref(row)}>{row.name}</a>
        </td>
      );
    case "state":
      return (
        <td>
          <StateBadge state={registrationState(row, model.now)} />
        </td>
      );
    case "client_id":
      return (
        <td class="client-id">
          <code id={`client-id-${row.id}`}>{row.clientId}</code>{" "}
          <CopyButton target={`client-id-${row.id}`} what={`the Client ID of ${row.name}`} />
        </td>
      );
    case "created":
      return (
        <td>
          <When at={row.createdAt} timeZone={row.siteTimeZone} relativeTo={model.now} />
        </td>
      );
    case "enabled":
      return <td>{row.enabled ? "Yes" : "No"}</td>;
    case "last_used":
      return (
        <td>
          {row.lastUsedAt === null ? (
            ""
          ) : (
            <When at={row.lastUsedAt} timeZone={row.siteTimeZone} relativeTo={model.now} />
          )}
          {row.tokens30d > 0 ? (
            <Sparkline series={row.usage} label={`${row.tokens30d} tokens in the last 30 days, per UTC day`} />
          ) : null}
        </td>
      );
    case "tokens_30d":
      return <td class="number">{row.tokens30d.toLocaleString("en-US")}</td>;
    case "expires":
      return (
        <td
          class={isExpired(row, model.now) ? "expires expired" : "expires"}
          title={`Expiration date ${row.expirationDate} (${row.siteTimeZone})`}
        >
          {expiresLabel(row, row.siteTimeZone, model.now)}
        </td>
      );
  }
}

function Pagination({ model }: { model: GridModel }) {
  const { page, pageCount } = model.page;
  // One page needs no pager ("Page 1 of 1" says nothing).
  if (pageCount <= 1 && page <= 1) return null;
  const at = (p: number) => gridHref(model.base, { ...model.query, page: p });
  const link = (p: number, label: string, rel?: string) => {
    const href = at(p);
    return (
      <a href={href} rel={rel} {...gridNavigation(href)}>
        {label}
      </a>
    );
  };
  return (
    <nav class="pagination" aria-label="Pagination">
      {page > 1 ? link(1, "« First", "first") : <span class="muted">« First</span>}
      {page > 1 ? link(page - 1, "‹ Previous", "prev") : <span class="muted">‹ Previous</span>}
      <span>
        Page {page} of {pageCount}
      </span>
      {page < pageCount ? link(page + 1, "Next ›", "next") : <span class="muted">Next ›</span>}
      {page < pageCount ? link(pageCount, "Last »", "last") : <span class="muted">Last »</span>}
    </nav>
  );
}

function Summary({ model }: { model: GridModel }) {
  const { total, page, pageSize, rows } = model.page;
  const noun = total === 1 ? "registration" : "registrations";
  if (total === 0) return <p class="grid-summary muted">No {noun}</p>;
  const first = (page - 1) * pageSize + 1;
  return (
    <p class="grid-summary muted">
      {first}–{first + rows.length - 1} of {total} {noun}
    </p>
  );
}

/** The toolbar's search: name or Client ID, as you type (debounced), or on Enter without JavaScript. */
function SearchBox({ model }: { model: GridModel }) {
  const { base, query } = model;
  // Searching keeps the rest of the address: filter, sort, columns.
  const keep = [...new URLSearchParams(serializeGridQuery({ ...query, q: undefined }, { page: false }))];
  return (
    <search class="grid-search">
      <form method="get" action={base} {...gridNavigation(base)}>
        <label for="grid-search-q" class="visually-hidden">
          Search by name or Client ID
        </label>
        <input
          id="grid-search-q"
          name="q"
          type="search"
          maxlength={100}
          value={query.q ?? ""}
          placeholder="Search name or Client ID"
          autocomplete="off"
          hx-get={base}
          hx-trigger="input changed delay:300ms"
          hx-include="closest form"
          hx-target={`#${GRID_ID}`}
          hx-swap="outerHTML"
          hx-push-url="true"
        />
        {keep.map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <button type="submit" class="secondary">
          Search
        </button>
      </form>
    </search>
  );
}

/** Bulk actions on the rows ticked in the grid: the first post shows a confirmation naming each registration. */
function BulkBar({ model }: { model: GridModel }) {
  return (
    <form method="post" action={`${model.base}/bulk`} id={BULK_FORM_ID} class="bulk-bar">
      <CsrfField token={model.csrfToken} />
      <input type="hidden" name="returnTo" value={serializeGridQuery(model.query)} />
      <label for="bulk-action">With the selected rows</label>
      <select id="bulk-action" name="action">
        <option value="disable">Disable</option>
        <option value="enable">Enable</option>
        <option value="extend">Extend by days</option>
        <option value="delete">Delete</option>
      </select>
      <label for="bulk-days">Days to extend</label>
      <input id="bulk-days" name="days" type="number" min={1} max={MAX_EXTEND_DAYS} value="90" inputmode="numeric" />
      <button type="submit" class="secondary">
        Review…
      </button>
      <span class="bulk-message form-error-text" aria-live="polite" />
    </form>
  );
}

function EmptyState({ model }: { model: GridModel }) {
  if (activeFilterCount(model.query) > 0) {
    return (
      <>
        No App registrations match this filter.{" "}
        <a href={model.base} {...gridNavigation(model.base)}>
          Show all App registrations
        </a>
      </>
    );
  }
  return (
    <>
      <strong>No App registrations yet.</strong> An App registration gives a service its own Client ID and secret to
      call the REST API.{" "}
      {model.newHref ? (
        <a class="button primary" href={model.newHref}>
          Create the first one
        </a>
      ) : null}
    </>
  );
}

/**
 * The App registrations grid (§4): toolbar (views, + New registration, search, filter, ⚙️), bulk actions, table and
 * pagination. The same component is the full page's grid and the htmx fragment that replaces it.
 */
export function RegistrationGrid({ model }: { model: GridModel }) {
  const bulk = Boolean(model.bulk) && model.page.rows.length > 0;
  return (
    <div id={GRID_ID} class="grid-region">
      <div class="toolbar">
        <ViewsMenu model={model} />
        {model.newHref ? (
          <a class="button primary" href={model.newHref}>
            + New registration
          </a>
        ) : null}
        <SearchBox model={model} />
        <FilterMenu model={model} />
        <SettingsMenu model={model} />
      </div>
      <Summary model={model} />
      {bulk ? <BulkBar model={model} /> : null}
      {model.page.rows.length === 0 ? (
        // An empty grid says why and what to do, at any width (no table of headers over nothing).
        <p class="grid-empty">
          <EmptyState model={model} />
        </p>
      ) : (
        <ScrollBox label="App registrations">
          <table class="grid registrations" aria-label="App registrations">
            {/* Column classes let a phone keep Name, Expires and State and fold the others away (static/app.css). */}
            <colgroup>
              {bulk ? <col class="col-select" /> : null}
              {model.columns.map((column) => (
                <col class={`col-${column}`} />
              ))}
            </colgroup>
            <thead>
              <tr>
                {bulk ? (
                  <th scope="col" class="select">
                    <span class="visually-hidden">Select</span>
                  </th>
                ) : null}
                {model.columns.map((column) => (
                  <HeaderCell model={model} column={column} />
                ))}
              </tr>
            </thead>
            <tbody>
              {model.page.rows.map((row) => (
                <tr data-registration-id={String(row.id)} class={row.enabled ? undefined : "disabled"}>
                  {bulk ? (
                    <td class="select">
                      <input
                        type="checkbox"
                        name="ids"
                        value={String(row.id)}
                        form={BULK_FORM_ID}
                        aria-label={`Select ${row.name}`}
                      />
                    </td>
                  ) : null}
                  {model.columns.map((column) => (
                    <Cell model={model} row={row} column={column} />
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
      <Pagination model={model} />
    </div>
  );
}

/** A grid URL (or grid form) that cannot be used: every problem named, and a way back. */
export function GridQueryError({
  base,
  problems,
  lead = "This grid address has parameters that cannot be used:",
}: {
  base: string;
  problems: string[];
  lead?: string;
}) {
  return (
    <div id={GRID_ID} class="grid-region">
      <FilterProblems lead={lead} messages={problems}>
        <p>
          <a href={base}>Show the Default View</a>
        </p>
      </FilterProblems>
    </div>
  );
}

/** The grid page: heading, intro, a notice, and the grid that htmx swaps on its own. */
export function RegistrationGridPage(props: { heading: string; intro: string; notice?: string; model: GridModel }) {
  return (
    <section class="catalog registrations">
      <h1>{props.heading}</h1>
      <p class="muted">{props.intro}</p>
      <Notice text={props.notice} />
      <RegistrationGrid model={props.model} />
    </section>
  );
}

/** The grid page when its address could not be read: the heading and what was wrong. */
export function RegistrationGridErrorPage(props: { heading: string; children: Child }) {
  return (
    <section class="catalog registrations">
      <h1>{props.heading}</h1>
      {props.children}
    </section>
  );
}
