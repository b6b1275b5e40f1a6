import { describe, expect, it } from "vitest";
import { purgeSecurityEvents, SECURITY_LOG_RETENTION } from "../../src/audit/retention";
import { MINUTE } from "../../src/lib/time";
import { createSite, db } from "../helpers/app";
import { recordFailure, rowsForClient } from "../helpers/security-log";

describe("security-log retention", () => {
  it("purges rows last seen more than 90 days ago, in batches, and keeps the rest", async () => {
    const site = await createSite();
    const old = crypto.randomUUID();
    const kept = crypto.randomUUID();
    // An early "now": other tests' rows (stored in the same database) are all newer than its cutoff.
    const now = Date.UTC(2020, 0, 1);
    for (let i = 0; i < 5; i++) {
      await recordFailure(
        { siteId: site.id, clientId: old, ip: `192.0.2.${i}` },
        now - SECURITY_LOG_RETENTION - (i + 1) * MINUTE,
      );
    }
    await recordFailure({ siteId: site.id, clientId: kept }, now - SECURITY_LOG_RETENTION + MINUTE);

    let rounds = 0;
    let deleted = 0;
    for (;;) {
      const result = await purgeSecurityEvents(db(), now, { batchSize: 2 });
      rounds++;
      deleted += result.deleted;
      if (result.done) break;
    }
    expect(deleted).toBe(5);
    expect(rounds).toBe(3);
    expect(await rowsForClient(old)).toHaveLength(0);
    expect(await rowsForClient(kept)).toHaveLength(1);
    expect(await purgeSecurityEvents(db(), now)).toEqual({ deleted: 0, done: true });
  });
});
