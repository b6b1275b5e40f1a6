import type { RegistrationState } from "../../src/registrations/lifecycle";

const STATE_CLASSES: Record<RegistrationState, string> = {
  Active: "state state-active",
  "Expiring (30 d)": "state state-expiring-30",
  "Expiring (7 d)": "state state-expiring-7",
  Expired: "state state-expired",
  Disabled: "state state-disabled",
};

/**
 * The pill's words: unambiguous about time ("Expires within 7 days", never "7 d" beside "In 5 days"); the §3 state
 * name stays in `data-state` and in filters.
 */
export const STATE_WORDS: Record<RegistrationState, string> = {
  Active: "Active",
  "Expiring (30 d)": "Expires within 30 days",
  "Expiring (7 d)": "Expires within 7 days",
  Expired: "Expired",
  Disabled: "Disabled",
};

export function StateBadge({ state }: { state: RegistrationState }) {
  return (
    <span class={STATE_CLASSES[state]} data-state={state}>
      {STATE_WORDS[state]}
    </span>
  );
}
