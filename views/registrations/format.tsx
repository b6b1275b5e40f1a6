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
