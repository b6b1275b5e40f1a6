import type { Child } from "hono/jsx";

/**
 * A wide table's own horizontal scroll box, so the page never scrolls sideways. It is a named region that takes
 * keyboard focus, so someone without a mouse can scroll it with the arrow keys.
 */
export function ScrollBox(props: { label: string; children: Child }) {
  return (
    <section class="table-scroll" aria-label={props.label} tabindex={0}>
      {props.children}
    </section>
  );
}
