import { and, asc, eq, gt, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { devices } from "../db/schema";

/** The Site of an API path: its id, and whether its REST API is enabled. */
export async function findApiSite(
  d1: D1Database,
  slug: string,
): Promise<{ id: number; restApiEnabled: boolean } | null> {
  const row = await d1
    .prepare("SELECT id, rest_api_enabled FROM sites WHERE slug = ?")
    .bind(slug)
    .first<{ id: number; rest_api_enabled: number }>();
  return row ? { id: row.id, restApiEnabled: row.rest_api_enabled === 1 } : null;
}

/** A device as the REST API shows it. */
export interface DeviceResource {
  id: number;
  name: string;
  ip_address: string;
  /** ISO 8601, or null when never seen. */
  last_seen: string | null;
}

type DeviceRow = typeof devices.$inferSelect;

export function toResource(row: DeviceRow): DeviceResource {
  return {
    id: row.id,
    name: row.name,
    ip_address: row.ipAddress,
    last_seen: row.lastSeenAt === null ? null : new Date(row.lastSeenAt).toISOString(),
  };
}

/** Where a page of devices continues: the last (name, id) of the previous page. */
export interface DeviceCursor {
  name: string;
  id: number;
}

/**
 * One page of a Site's devices ordered by name then id (keyset pagination on devices_site_idx, whose rows carry the
 * id): stable while devices are added.
 */
export async function listDevices(db: Db, siteId: number, limit: number, after: DeviceCursor | null) {
  const rows = await db
    .select()
    .from(devices)
    .where(
      and(
        eq(devices.siteId, siteId),
        after
          ? or(gt(devices.name, after.name), and(eq(devices.name, after.name), gt(devices.id, after.id)))
          : undefined,
      ),
    )
    .orderBy(asc(devices.name), asc(devices.id))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { devices: page, next: rows.length > limit && last ? { name: last.name, id: last.id } : null };
}

export interface NewDevice {
  name: string;
  ipAddress: string;
  lastSeenAt: number | null;
}

export async function insertDevice(db: Db, siteId: number, input: NewDevice, clientId: string, now: number) {
  return db
    .insert(devices)
    .values({
      siteId,
      name: input.name,
      ipAddress: input.ipAddress,
      lastSeenAt: input.lastSeenAt,
      createdAt: now,
      createdByClientId: clientId,
    })
    .returning()
    .get();
}
