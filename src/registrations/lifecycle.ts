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

/** The date a quick renewal sets: from the later of today and the current Expiration date (a renewal never shortens). */
export function renewedDate(current: string, today: string, extend: "30d" | "90d" | "1y"): string {
  const from = calendarDaysBetween(today, current) > 0 ? current : today;
  if (extend === "30d") return addCalendarDays(from, 30);
  if (extend === "90d") return addCalendarDays(from, 90);
  const [y, m, d] = from.split("-").map(Number) as [number, number, number];
  // A year later on the same day; 29 February becomes 28 February.
  const last = new Date(Date.UTC(y + 1, m, 0)).getUTCDate();
  return `${y + 1}-${String(m).padStart(2, "0")}-${String(Math.min(d, last)).padStart(2, "0")}`;
}
