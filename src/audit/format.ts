import { formatInstantSeconds } from "../lib/time";

/**
 * `2026-11-22 14:05:07`: a security-log instant in a Site's zone, to the second (coalesced rows span less than a
 * minute, so first and last seen differ only in seconds). The zone is named next to it by the caller.
 */
export function formatLogTime(instant: number, timeZone: string): string {
  return formatInstantSeconds(instant, timeZone);
}

/** `2026-11-22T13:05:07.000Z` */
export function isoInstant(instant: number): string {
  return new Date(instant).toISOString();
}
