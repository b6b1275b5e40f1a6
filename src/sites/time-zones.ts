/** IANA time zones as the runtime knows them (workerd ships ICU, so `Intl` is the source of truth). */

const supported: readonly string[] = (() => {
  const list = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  // ICU lists canonical zones and leaves out "UTC"; it is the §2 default, so it leads the list.
  return ["UTC", ...list.filter((zone) => zone !== "UTC")];
})();

/** The zones offered in the Site form's select: "UTC" first, then every zone the runtime supports. */
export function timeZoneOptions(current?: string): readonly string[] {
  return current && !supported.includes(current) ? [current, ...supported] : supported;
}

const known = new Set(supported);
/** Region/City names only: Intl also accepts bare offsets such as `+02:00`, which are not IANA zones. */
const ZONE_NAME = /^(UTC|[A-Za-z]+(\/[A-Za-z0-9_+-]+)+)$/;

/**
 * The canonical spelling of an IANA time zone the Site form offers (`europe/berlin` → `Europe/Berlin`,
 * `US/Pacific` → `America/Los_Angeles`), or null when it is not one.
 */
export function canonicalTimeZone(value: string): string | null {
  if (!value || value.length > 64) return null;
  let zone: string;
  try {
    zone = new Intl.DateTimeFormat("en-US", { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
  // Where the runtime cannot list its zones, any Region/City name it accepts will do.
  const offered = known.size > 1 ? known.has(zone) : ZONE_NAME.test(zone);
  return offered ? zone : null;
}
