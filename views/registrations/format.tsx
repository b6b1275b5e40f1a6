import type { RegistrationState } from "../../src/registrations/lifecycle";

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
