import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { recordSecurityEvent } from "../../src/audit/security-events";
import { securityEvents } from "../../src/db/schema";
import { MINUTE } from "../../src/lib/time";
import { createSite, db } from "../helpers/app";

describe("coalesced security-log rows", () => {
  it("keep the true first and last moments when writes land out of order", async () => {
    const site = await createSite();
    const clientId = crypto.randomUUID();
    const minute = Math.floor(Date.UTC(2031, 0, 1, 12) / MINUTE) * MINUTE;
    for (const offset of [30_000, 50_000, 10_000, 40_000]) {
      await recordSecurityEvent(
        db(),
        {
          siteId: site.id,
          event: "service_auth_failed",
          detailCode: "InvalidSecret",
          clientId,
          ip: "198.51.100.9",
          userAgent: "test",
          endpoint: "POST /oauth/token",
        },
        minute + offset,
      );
    }
    const rows = await db().select().from(securityEvents).where(eq(securityEvents.clientId, clientId)).all();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ count: 4, firstAt: minute + 10_000, lastAt: minute + 50_000 });
  });
});
