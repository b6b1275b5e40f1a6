import { z } from "zod";
import { displayText } from "../lib/text";

/** The devices API's schemas (§7): the routes validate with them and the OpenAPI document is generated from them. */

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export const deviceListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().max(1024).optional(),
});

/** Unknown fields are ignored (never stored): zod objects strip them. */
export const newDeviceBody = z.object({
  name: displayText(
    z
      .string({ error: "name is required." })
      .trim()
      .min(1, "name must not be empty.")
      .max(100, "name is at most 100 characters."),
    { prefix: "name" },
  ),
  ip_address: z.union([z.ipv4(), z.ipv6()], { error: "ip_address must be an IPv4 or IPv6 address." }),
  last_seen: z.iso
    .datetime({ offset: true, error: "last_seen must be an ISO 8601 date and time, such as 2026-01-31T12:00:00Z." })
    .optional(),
});

export const deviceResource = z.object({
  id: z.number().int(),
  name: z.string(),
  ip_address: z.string(),
  last_seen: z.iso.datetime({ offset: true }).nullable(),
});

export const deviceListResource = z.object({ devices: z.array(deviceResource), next_cursor: z.string().nullable() });
