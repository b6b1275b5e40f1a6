/** Calendar arithmetic in IANA time zones, with no dependency beyond Intl. */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    partsFormatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(instant: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of partsFormatter(timeZone).formatToParts(new Date(instant))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** Offset of `timeZone` from UTC at `instant`, in milliseconds. */
function offsetAt(instant: number, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses `YYYY-MM-DD` into its parts, or null when it is not a real calendar date. */
export function parseCalendarDate(value: string): { year: number; month: number; day: number } | null {
  const m = DATE_PATTERN.exec(value);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return { year, month, day };
}

/**
 * The instant of 00:00 on `date` (YYYY-MM-DD) in `timeZone` (§3 `expires_at`). Where midnight does not exist
 * (a DST gap at midnight), the first instant of that day.
 */
export function startOfDayInZone(date: string, timeZone: string): number {
  const parsed = parseCalendarDate(date);
  if (!parsed) throw new RangeError(`not a calendar date: ${date}`);
  const guess = Date.UTC(parsed.year, parsed.month - 1, parsed.day);
  // Two passes settle the offset even across a DST change on that day.
  let instant = guess - offsetAt(guess, timeZone);
  instant = guess - offsetAt(instant, timeZone);
  const w = wallClock(instant, timeZone);
  if (w.day !== parsed.day) {
    // Midnight fell in a gap: move forward to the first instant of the date.
    instant += (24 - w.hour) * HOUR - w.minute * MINUTE - w.second * 1000;
  }
  return instant;
}

/** The calendar date (YYYY-MM-DD) of `instant` in `timeZone`. */
export function calendarDateInZone(instant: number, timeZone: string): string {
  const w = wallClock(instant, timeZone);
  return `${String(w.year).padStart(4, "0")}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`;
}

/** Whole calendar days from `from` to `to` (both YYYY-MM-DD); negative when `to` is earlier. */
export function calendarDaysBetween(from: string, to: string): number {
  const a = parseCalendarDate(from);
  const b = parseCalendarDate(to);
  if (!a || !b) throw new RangeError("not a calendar date");
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / DAY);
}

/** Adds `days` to a calendar date. */
export function addCalendarDays(date: string, days: number): string {
  const p = parseCalendarDate(date);
  if (!p) throw new RangeError(`not a calendar date: ${date}`);
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day + days));
  return d.toISOString().slice(0, 10);
}

const displayFormatters = new Map<string, Intl.DateTimeFormat>();

/** `2026-11-22 14:05 (Europe/Berlin)`: an instant shown in a Site's zone, with the zone named (§4). */
export function formatInstant(instant: number, timeZone: string): string {
  return `${formatWallClock(instant, timeZone)} (${timeZone})`;
}

/** `YYYY-MM-DD HH:MM` in the zone, unnamed: for a column whose header already names the zone. */
export function formatWallClock(instant: number, timeZone: string): string {
  const w = wallClock(instant, timeZone);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}`;
}

/** "just now", "5 minutes ago", "3 hours ago", "2 days ago", "4 months ago", "1 year ago"; "in …" for later instants. */
export function relativeTime(instant: number, now: number): string {
  const diff = instant - now;
  const past = diff <= 0;
  const ms = Math.abs(diff);
  const MINUTE = 60_000;
  if (ms < MINUTE) return past ? "just now" : "in less than a minute";
  const units: [number, string][] = [
    [365 * 86_400_000, "year"],
    [30 * 86_400_000, "month"],
    [86_400_000, "day"],
    [3_600_000, "hour"],
    [MINUTE, "minute"],
  ];
  const [size, unit] = units.find(([size]) => ms >= size) ?? [MINUTE, "minute"];
  const n = Math.floor(ms / size);
  const amount = `${n} ${unit}${n === 1 ? "" : "s"}`;
  return past ? `${amount} ago` : `in ${amount}`;
}

/** The short zone name (e.g. `CET`) for display next to a date. */
export function zoneAbbreviation(instant: number, timeZone: string): string {
  let f = displayFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "short" });
    displayFormatters.set(timeZone, f);
  }
  return f.formatToParts(new Date(instant)).find((p) => p.type === "timeZoneName")?.value ?? timeZone;
}

/** `2026-11-22 14:05:07`: an instant in `timeZone`, to the second, without the zone name. */
export function formatInstantSeconds(instant: number, timeZone: string): string {
  const w = wallClock(instant, timeZone);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
}
