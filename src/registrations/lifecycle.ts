import { addCalendarDays, calendarDateInZone, calendarDaysBetween, DAY } from "../lib/time";

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

/** What a renewal counts from: the later of today and the current Expiration date (a renewal never shortens). */
const renewalBase = (current: string, today: string) => (calendarDaysBetween(today, current) > 0 ? current : today);

/** The Expiration date an extension by `days` sets (the grid's bulk Extend), counted like a renewal. */
export function extendedDate(current: string, today: string, days: number): string {
  return addCalendarDays(renewalBase(current, today), days);
}

/** The date a quick renewal sets: +30 days, +90 days or +1 year from the renewal base. */
export function renewedDate(current: string, today: string, extend: "30d" | "90d" | "1y"): string {
  if (extend === "30d") return extendedDate(current, today, 30);
  if (extend === "90d") return extendedDate(current, today, 90);
  const from = renewalBase(current, today);
  const [y, m, d] = from.split("-").map(Number) as [number, number, number];
  // A year later on the same day; 29 February becomes 28 February.
  const last = new Date(Date.UTC(y + 1, m, 0)).getUTCDate();
  return `${y + 1}-${String(m).padStart(2, "0")}-${String(Math.min(d, last)).padStart(2, "0")}`;
}
