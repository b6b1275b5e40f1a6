import { describe, expect, it } from "vitest";
import { resolveTimeRange, securityLogBatches } from "../../src/audit/query";
import { DAY, HOUR, MINUTE } from "../../src/lib/time";
import { createSite, db } from "../helpers/app";
import { recordFailure, T0 } from "../helpers/security-log";

describe("time range", () => {
  it("counts a preset back from now, 7 days by default", () => {
    expect(resolveTimeRange({}, "UTC", T0)).toEqual({ from: T0 - 7 * DAY, to: undefined });
    expect(resolveTimeRange({ range: "1h" }, "UTC", T0)).toEqual({ from: T0 - HOUR, to: undefined });
    expect(resolveTimeRange({ range: "90d" }, "UTC", T0)).toEqual({ from: T0 - 90 * DAY, to: undefined });
  });

  it("reads dates as whole days in the zone, To included", () => {
    expect(resolveTimeRange({ from: "2031-03-10", to: "2031-03-10" }, "Asia/Tokyo", T0)).toEqual({
      from: Date.UTC(2031, 2, 9, 15),
      to: Date.UTC(2031, 2, 10, 15),
    });
    // Across the DST change in New York (9 March 2031): that day has 23 hours.
    expect(resolveTimeRange({ from: "2031-03-09", to: "2031-03-09", range: "1h" }, "America/New_York", T0)).toEqual({
      from: Date.UTC(2031, 2, 9, 5),
      to: Date.UTC(2031, 2, 10, 4),
    });
    expect(resolveTimeRange({ to: "2031-03-09" }, "UTC", T0)).toEqual({ from: undefined, to: Date.UTC(2031, 2, 10) });
  });
});

describe("export batches", () => {
  it("walk every row once, newest first, even when many rows share the same last-seen instant", async () => {
    const site = await createSite();
    const expected: string[] = [];
    for (let i = 0; i < 23; i++) {
      // Groups of five rows per instant: the keyset must break ties by id.
      const at = T0 - Math.floor(i / 5) * MINUTE;
      await recordFailure({ siteId: site.id, clientId: `batch-${i}` }, at);
      expected.push(`batch-${i}`);
    }
    const seen: string[] = [];
    const sizes: number[] = [];
    for await (const batch of securityLogBatches(db(), { kind: "site", siteId: site.id }, {}, 4)) {
      sizes.push(batch.length);
      seen.push(...batch.map((r) => r.clientId ?? ""));
    }
    expect(sizes).toEqual([4, 4, 4, 4, 4, 3]);
    expect([...seen].sort()).toEqual([...expected].sort());
    expect(new Set(seen).size).toBe(23);
    // Newest first: the five rows of T0 come before everything else.
    expect(seen.slice(0, 5).sort()).toEqual(["batch-0", "batch-1", "batch-2", "batch-3", "batch-4"]);
  });
});
