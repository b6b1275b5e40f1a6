import type { Child } from "hono/jsx";
import { gridNavigation } from "./format";
import { ScrollBox } from "./scroll-box";

/** One page of a filtered log, as its query returns it. */
export interface ResultPage {
  rows: readonly unknown[];
  total: number;
  page: number;
  pages: number;
}

/** Shown instead of any rows while the filter has errors: every problem named. */
export function FilterProblems({
  lead,
  messages,
  children,
}: {
  lead: string;
  messages: readonly string[];
  /** What to do about them, after the list. */
  children?: Child;
}) {
  return (
    <div class="form-error" role="alert">
      <p>{lead}</p>
      <ul>
        {messages.map((m) => (
          <li>{m}</li>
        ))}
      </ul>
      {children}
    </div>
  );
}

/**
 * The rows of a page under their column headers, or a line saying why there are none: nothing matches the filter,
 * or the page lies beyond the last one.
 */
export function ResultsTable(props: {
  result: ResultPage;
  class: string;
  /** The table's name, also its scroll box's. */
  label: string;
  noMatch: string;
  noneOnPage: string;
  head: Child;
  children: Child;
}) {
  if (props.result.rows.length === 0) {
    return <p class="empty">{props.result.total === 0 ? props.noMatch : props.noneOnPage}</p>;
  }
  // A wide log scrolls inside its own box; the page never scrolls sideways.
  return (
    <ScrollBox label={props.label}>
      <table class={props.class} aria-label={props.label}>
        <thead>
          <tr>{props.head}</tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </ScrollBox>
  );
}

/**
 * Previous and Next around "Page n of m"; nothing when everything fits on the first page. Each link swaps only the
 * results region (`target`) and pushes its URL, and works as a plain link without JavaScript.
 */
export function Pager({
  result,
  hrefOf,
  target,
}: {
  result: ResultPage;
  hrefOf: (page: number) => string;
  target: string;
}) {
  if (result.pages <= 1 && result.page === 1) return null;
  const link = (page: number, label: string, rel: string) => {
    const href = hrefOf(page);
    return (
      <a href={href} rel={rel} {...gridNavigation(href, target)}>
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
