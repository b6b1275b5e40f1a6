import { describe, expect, it } from "vitest";
import { DAY, MINUTE, startOfDayInZone } from "../../src/lib/time";
import {
  crossingWindows,
  dedupeKey,
  dueNotice,
  dueWindow,
  EXPIRED_CATCH_UP,
  laterTemplates,
  milestoneMoment,
} from "../../src/notifications/cadence";
import { chooseMode } from "../../src/notifications/evaluate";
import { registrationState } from "../../src/registrations/lifecycle";

const MS = 1;
// 00:00 on 1 December 2030 (UTC).
const EXPIRES = Date.UTC(2030, 11, 1);

describe("the §5 cadence: the latest notice due at an instant", () => {
  it("is nothing before the 30-day mark, the 30-day notice from exactly 30 days before", () => {
    expect(dueNotice(EXPIRES, EXPIRES - 30 * DAY - MS)).toBeNull();
    expect(dueNotice(EXPIRES, EXPIRES - 30 * DAY)).toBe("expires_in_30_days");
    expect(dueNotice(EXPIRES, EXPIRES - 7 * DAY - MS)).toBe("expires_in_30_days");
  });

  it("is the 7-day notice from exactly 7 days before until the expiry", () => {
    expect(dueNotice(EXPIRES, EXPIRES - 7 * DAY)).toBe("expires_in_7_days");
    expect(dueNotice(EXPIRES, EXPIRES - MS)).toBe("expires_in_7_days");
  });

  it("is the expired notice from the expiry instant (00:00 of the Expiration date) on", () => {
    expect(dueNotice(EXPIRES, EXPIRES)).toBe("expired");
    expect(dueNotice(EXPIRES, EXPIRES + 3 * DAY)).toBe("expired");
  });

  it("fires in step with the §3 states, at every boundary", () => {
    const expected = {
      Active: null,
      "Expiring (30 d)": "expires_in_30_days",
      "Expiring (7 d)": "expires_in_7_days",
      Expired: "expired",
    } as const;
    for (const offset of [31 * DAY, 30 * DAY + MS, 30 * DAY, 20 * DAY, 7 * DAY + MS, 7 * DAY, MS, 0, -MS, -DAY]) {
      const now = EXPIRES - offset;
      const state = registrationState({ enabled: true, expiresAt: EXPIRES }, now);
      expect(state).not.toBe("Disabled");
      expect(dueNotice(EXPIRES, now)).toBe(expected[state as keyof typeof expected]);
    }
  });

  it("gives a registration created 5 days before its expiry the 7-day notice only", () => {
    const created = EXPIRES - 5 * DAY;
    expect(dueNotice(EXPIRES, created)).toBe("expires_in_7_days");
    expect(laterTemplates("expires_in_7_days")).toEqual(["expired"]);
  });

  it("catches up after missed runs with the latest milestone only", () => {
    // The last run was 40 days before expiry; the next one happens 2 days before: the 30-day notice is skipped.
    expect(dueNotice(EXPIRES, EXPIRES - 2 * DAY)).toBe("expires_in_7_days");
    // Runs stopped before the 7-day mark and came back a day after the expiry.
    expect(dueNotice(EXPIRES, EXPIRES + DAY)).toBe("expired");
  });

  it("still sends a missed expired notice up to the catch-up horizon, and not after", () => {
    expect(dueNotice(EXPIRES, EXPIRES + EXPIRED_CATCH_UP)).toBe("expired");
    expect(dueNotice(EXPIRES, EXPIRES + EXPIRED_CATCH_UP + MS)).toBeNull();
  });

  it("starts a fresh cadence after renewal: the new expiry has its own keys", () => {
    const renewed = EXPIRES + 365 * DAY;
    const at = EXPIRES + DAY;
    expect(dueNotice(EXPIRES, at)).toBe("expired");
    expect(dueNotice(renewed, at)).toBeNull();
    expect(dueNotice(renewed, renewed - 30 * DAY)).toBe("expires_in_30_days");
    const subject = { kind: "reg", id: 42 } as const;
    expect(dedupeKey(subject, "expires_in_30_days", EXPIRES)).toBe(`reg:42|expires_in_30_days|${EXPIRES}`);
    expect(dedupeKey(subject, "expires_in_30_days", renewed)).not.toBe(
      dedupeKey(subject, "expires_in_30_days", EXPIRES),
    );
    expect(dedupeKey({ kind: "key", id: 42 }, "expired", EXPIRES)).toBe(`key:42|expired|${EXPIRES}`);
  });

  it("measures in exact 24-hour units from expires_at, also across a DST change in the Site's zone", () => {
    // 00:00 on 15 April 2030 in Berlin is 22:00 UTC on the 14th (CEST); 30 days earlier Berlin was on CET.
    const berlin = startOfDayInZone("2030-04-15", "Europe/Berlin");
    expect(berlin).toBe(Date.UTC(2030, 3, 14, 22));
    const thirty = milestoneMoment(berlin, "expires_in_30_days");
    expect(thirty).toBe(Date.UTC(2030, 2, 15, 22));
    expect(dueNotice(berlin, thirty - MS)).toBeNull();
    expect(dueNotice(berlin, thirty)).toBe("expires_in_30_days");
    expect(registrationState({ enabled: true, expiresAt: berlin }, thirty)).toBe("Expiring (30 d)");
    expect(registrationState({ enabled: true, expiresAt: berlin }, thirty - MS)).toBe("Active");
    // The expired notice is due at local midnight, whatever the offset.
    expect(dueNotice(berlin, berlin)).toBe("expired");
    expect(dueNotice(berlin, berlin - MS)).toBe("expires_in_7_days");
  });

  it("follows each Site's own midnight: the same Expiration date expires at different instants", () => {
    const tokyo = startOfDayInZone("2030-12-01", "Asia/Tokyo");
    const newYork = startOfDayInZone("2030-12-01", "America/New_York");
    expect(tokyo).toBe(Date.UTC(2030, 10, 30, 15));
    expect(newYork).toBe(Date.UTC(2030, 11, 1, 5));
    const at = Date.UTC(2030, 11, 1, 0);
    expect(dueNotice(tokyo, at)).toBe("expired");
    expect(dueNotice(newYork, at)).toBe("expires_in_7_days");
  });
});

describe("the windows the cron reads", () => {
  it("covers exactly the expires_at values whose notice can be due", () => {
    const now = EXPIRES;
    const window = dueWindow(now);
    expect(dueNotice(window.from, now)).toBeNull();
    expect(dueNotice(window.from + MS, now)).toBe("expired");
    expect(dueNotice(window.to, now)).toBe("expires_in_30_days");
    expect(dueNotice(window.to + MS, now)).toBeNull();
  });

  it("reads only the expiries whose milestone moment passed since the previous run", () => {
    const since = EXPIRES - 15 * MINUTE;
    expect(crossingWindows(since, EXPIRES)).toEqual([
      { from: since, to: EXPIRES },
      { from: since + 7 * DAY, to: EXPIRES + 7 * DAY },
      { from: since + 30 * DAY, to: EXPIRES + 30 * DAY },
    ]);
    // After ten missed days the 7-day and 30-day windows overlap and are read once.
    expect(crossingWindows(EXPIRES - 10 * DAY, EXPIRES)).toEqual([
      { from: EXPIRES - 10 * DAY, to: EXPIRES + 7 * DAY },
      { from: EXPIRES + 20 * DAY, to: EXPIRES + 30 * DAY },
    ]);
    expect(crossingWindows(EXPIRES, EXPIRES)).toEqual([]);
  });

  it("sweeps on the first run, a replay, a stale cursor, once a UTC day and by hand; otherwise reads increments", () => {
    const cursor = { through: EXPIRES + 10 * 60 * MINUTE, registrationId: 1, keyId: 1, auditId: 1 };
    expect(chooseMode(null, cursor.through)).toEqual({ kind: "sweep", reason: "first-run" });
    expect(chooseMode(cursor, cursor.through - MS)).toEqual({ kind: "sweep", reason: "replay" });
    expect(chooseMode(cursor, cursor.through + EXPIRED_CATCH_UP + MS)).toEqual({
      kind: "sweep",
      reason: "stale-cursor",
    });
    expect(chooseMode(cursor, EXPIRES + DAY)).toEqual({ kind: "sweep", reason: "daily" });
    expect(chooseMode(cursor, cursor.through + 15 * MINUTE)).toEqual({ kind: "incremental", cursor });
    expect(chooseMode(cursor, cursor.through)).toEqual({ kind: "incremental", cursor });
    expect(chooseMode(cursor, cursor.through + 15 * MINUTE, true)).toEqual({ kind: "sweep", reason: "manual" });
  });
});
