import { formatInstant } from "../../src/lib/time";
import type { RegistrationState } from "../../src/registrations/lifecycle";

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

const STATE_CLASSES: Record<RegistrationState, string> = {
  Active: "state state-active",
  "Expiring (30 d)": "state state-expiring-30",
  "Expiring (7 d)": "state state-expiring-7",
  Expired: "state state-expired",
  Disabled: "state state-disabled",
};

export function StateBadge({ state }: { state: RegistrationState }) {
  return <span class={STATE_CLASSES[state]}>{state}</span>;
}

export function formatLifetime(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  if (minutes % 60 === 0) return minutes === 60 ? "1 hour" : `${minutes / 60} hours`;
  return `${minutes} minutes`;
}

/** htmx attributes of a control that loads another grid state: swap only the grid, push the URL (§4). */
export function gridNavigation(href: string, target = "#registrations-grid") {
  return { "hx-get": href, "hx-target": target, "hx-swap": "outerHTML", "hx-push-url": "true" };
}
