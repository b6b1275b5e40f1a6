import { formatInstant } from "../../src/lib/time";

/** An instant in a Site's time zone with the zone named (§4), machine-readable in `datetime`. */
export function When({ at, timeZone }: { at: number; timeZone: string }) {
  const text = formatInstant(at, timeZone);
  const split = text.lastIndexOf(" (");
  return (
    <time datetime={new Date(at).toISOString()}>
      <span class="clock">{text.slice(0, split)}</span> <span class="zone">{text.slice(split + 1)}</span>
    </time>
  );
}
