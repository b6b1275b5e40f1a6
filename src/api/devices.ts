/*
 * Devices, the REST API's resource (§7). Each call is one D1 statement that also reads the Site of the path (does
 * it exist, is its REST API enabled), so an API request costs one round trip. Raw SQL: drizzle cannot express the
 * Site row joined with a keyset page of its devices in one statement.
 */

/** A device as the REST API shows it. */
export interface DeviceResource {
  id: number;
  name: string;
  ip_address: string;
  /** ISO 8601, or null when never seen. */
  last_seen: string | null;
}

interface DeviceRow {
  id: number;
  name: string;
  ip_address: string;
  last_seen_at: number | null;
}

export function toResource(row: DeviceRow): DeviceResource {
  return {
    id: row.id,
    name: row.name,
    ip_address: row.ip_address,
    last_seen: row.last_seen_at === null ? null : new Date(row.last_seen_at).toISOString(),
  };
}

/** Where a page of devices continues: the last (name, id) of the previous page. */
export interface DeviceCursor {
  name: string;
  id: number;
}

export interface ApiSite {
  id: number;
  restApiEnabled: boolean;
}

// Keyset pagination by (name, id) on devices_site_idx (site_id, name), whose entries carry the id. Devices are only
// joined when the Site's REST API is enabled.
const pageSql = (after: boolean) => `
SELECT s.id AS site_id, s.rest_api_enabled, d.id, d.name, d.ip_address, d.last_seen_at
FROM sites s
LEFT JOIN (
  SELECT id, name, ip_address, last_seen_at FROM devices
  WHERE site_id = (SELECT id FROM sites WHERE slug = ?1)${after ? " AND (name > ?3 OR (name = ?3 AND id > ?4))" : ""}
  ORDER BY name, id LIMIT ?2
) d ON s.rest_api_enabled = 1
WHERE s.slug = ?1
ORDER BY d.name, d.id`;

const FIRST_PAGE_SQL = pageSql(false);
const NEXT_PAGE_SQL = pageSql(true);

type PageRow = { site_id: number; rest_api_enabled: number } & { [K in keyof DeviceRow]: DeviceRow[K] | null };

/** The Site of `slug` (null when there is none) and one page of its devices ordered by name then id. */
export async function listSiteDevices(d1: D1Database, slug: string, limit: number, after: DeviceCursor | null) {
  const statement = after
    ? d1.prepare(NEXT_PAGE_SQL).bind(slug, limit + 1, after.name, after.id)
    : d1.prepare(FIRST_PAGE_SQL).bind(slug, limit + 1);
  const { results } = await statement.all<PageRow>();
  const [first] = results;
  if (!first) return { site: null, devices: [], next: null };
  const rows = results.filter((r): r is PageRow & DeviceRow => r.id !== null);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    site: { id: first.site_id, restApiEnabled: first.rest_api_enabled === 1 } satisfies ApiSite,
    devices: page,
    next: rows.length > limit && last ? { name: last.name, id: last.id } : null,
  };
}

export interface NewDevice {
  name: string;
  ipAddress: string;
  lastSeenAt: number | null;
}

const INSERT_SQL = `
INSERT INTO devices (site_id, name, ip_address, last_seen_at, created_at, created_by_client_id)
SELECT id, ?2, ?3, ?4, ?5, ?6 FROM sites WHERE slug = ?1 AND rest_api_enabled = 1
RETURNING id, name, ip_address, last_seen_at`;

/**
 * Stores a device in the Site of `slug`, only while that Site exists with its REST API enabled (one conditional
 * statement). When nothing was stored, the Site is read to say why.
 */
export async function createSiteDevice(
  d1: D1Database,
  slug: string,
  input: NewDevice,
  clientId: string,
  now: number,
): Promise<{ device: DeviceRow } | { device: null; site: ApiSite | null }> {
  const device = await d1
    .prepare(INSERT_SQL)
    .bind(slug, input.name, input.ipAddress, input.lastSeenAt, now, clientId)
    .first<DeviceRow>();
  if (device) return { device };
  const site = await d1
    .prepare("SELECT id, rest_api_enabled FROM sites WHERE slug = ?")
    .bind(slug)
    .first<{ id: number; rest_api_enabled: number }>();
  return { device: null, site: site ? { id: site.id, restApiEnabled: site.rest_api_enabled === 1 } : null };
}
