import type { Child } from "hono/jsx";
import { ScrollBox } from "./scroll-box";

/**
 * A plain table of the admin pages: one header row of column names, then the body rows the caller renders. With
 * `empty` and no rows, that text stands instead of the table.
 */
export function DataTable(props: {
  columns: readonly string[];
  label?: string;
  class?: string;
  rowCount?: number;
  empty?: Child;
  /** A last column of row buttons, named for screen readers only. */
  actions?: boolean;
  children: Child;
}) {
  if (props.empty !== undefined && props.rowCount === 0) return <p class="muted">{props.empty}</p>;
  // Inside its own scroll box: a wide table never makes the page scroll sideways.
  return (
    <ScrollBox label={props.label ?? props.columns.join(", ")}>
      <table class={props.class ?? "grid"} aria-label={props.label}>
        <thead>
          <tr>
            {props.columns.map((column) => (
              <th scope="col">{column}</th>
            ))}
            {props.actions ? (
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </ScrollBox>
  );
}
