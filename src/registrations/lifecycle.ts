import { calendarDateInZone, calendarDaysBetween, DAY } from "../lib/time";

/** §3 states, derived from the row and `now` (never stored). */
export type RegistrationState = "Disabled" | "Expired" | "Expiring (7 d)" | "Expiring (30 d)" | "Active";

export function registrationState(reg: { enabled: boolean; expiresAt: number }, now: number): RegistrationState {
  if (!reg.enabled) return "Disabled";
  if (now >= reg.expiresAt) return "Expired";
  if (reg.expiresAt - now <= 7 * DAY) return "Expiring (7 d)";
  if (reg.expiresAt - now <= 30 * DAY) return "Expiring (30 d)";
  return "Active";
}

/** Whether a registration accepts token requests at `now` (§3: stops at 00:00 of the Expiration date). */
export function isExpired(reg: { expiresAt: number }, now: number): boolean {
  return now >= reg.expiresAt;
}

/**
 * The Expires column (§3): `In N days`, N being calendar days from today in the Site's zone to the Expiration
 * date; `Expired` once `now >= expires_at`. Never negative.
 */
export function expiresLabel(
  reg: { expiresAt: number; expirationDate: string },
  timeZone: string,
  now: number,
): string {
  if (now >= reg.expiresAt) return "Expired";
  const days = Math.max(0, calendarDaysBetween(calendarDateInZone(now, timeZone), reg.expirationDate));
  return days === 1 ? "In 1 day" : `In ${days} days`;
}
