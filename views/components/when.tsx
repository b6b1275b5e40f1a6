import { formatInstant, relativeTime } from "../../src/lib/time";

/**
 * An instant in a Site's time zone with the zone named (§4), machine-readable in `datetime`. With `relativeTo`, it
 * reads "3 hours ago" (or "in 5 days"), and the absolute time is in its title, spoken after it, and shown beside it
 * on hover and keyboard focus.
 */
export function When({ at, timeZone, relativeTo }: { at: number; timeZone: string; relativeTo?: number }) {
  const text = formatInstant(at, timeZone);
  if (relativeTo !== undefined) {
    return (
      <time datetime={new Date(at).toISOString()} title={text} class="relative" tabindex={0}>
        {relativeTime(at, relativeTo)}
        <span class="absolute">
          <span class="visually-hidden">, </span>
          {text}
        </span>
      </time>
    );
  }
  const split = text.lastIndexOf(" (");
  return (
    <time datetime={new Date(at).toISOString()}>
      <span class="clock">{text.slice(0, split)}</span> <span class="zone">{text.slice(split + 1)}</span>
    </time>
  );
}
