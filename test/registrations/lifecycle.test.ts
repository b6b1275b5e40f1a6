import { describe, expect, it } from "vitest";
import { DAY, HOUR, MINUTE, startOfDayInZone } from "../../src/lib/time";
import { expiresLabel, isExpired, registrationState } from "../../src/registrations/lifecycle";

/** A registration whose Expiration date is `date` in `zone` (expires_at = 00:00 of that date there, §3). */
const expiringOn = (date: string, zone: string, enabled = true) => ({
  enabled,
  expirationDate: date,
  expiresAt: startOfDayInZone(date, zone),
});

describe("registration states (§3)", () => {
  const expiresAt = Date.UTC(2031, 5, 1);
  const reg = (enabled: boolean) => ({ enabled, expiresAt });

  it("is Active while more than 30 days remain", () => {
    expect(registrationState(reg(true), expiresAt - 30 * DAY - 1)).toBe("Active");
    expect(registrationState(reg(true), expiresAt - 365 * DAY)).toBe("Active");
  });

  it("is Expiring (30 d) from exactly 30 days before expires_at", () => {
    expect(registrationState(reg(true), expiresAt - 30 * DAY)).toBe("Expiring (30 d)");
    expect(registrationState(reg(true), expiresAt - 7 * DAY - 1)).toBe("Expiring (30 d)");
  });

  it("is Expiring (7 d) from exactly 7 days before expires_at until the last millisecond", () => {
    expect(registrationState(reg(true), expiresAt - 7 * DAY)).toBe("Expiring (7 d)");
    expect(registrationState(reg(true), expiresAt - 1)).toBe("Expiring (7 d)");
  });

  it("is Expired at exactly expires_at and after", () => {
    expect(registrationState(reg(true), expiresAt)).toBe("Expired");
    expect(registrationState(reg(true), expiresAt + 400 * DAY)).toBe("Expired");
    expect(isExpired(reg(true), expiresAt - 1)).toBe(false);
    expect(isExpired(reg(true), expiresAt)).toBe(true);
  });

  it("is Disabled whenever Enabled is off, whatever the date", () => {
    for (const now of [expiresAt - 365 * DAY, expiresAt - 3 * DAY, expiresAt, expiresAt + DAY]) {
      expect(registrationState(reg(false), now)).toBe("Disabled");
    }
  });

  it("is Active again at once when renewed to a later date (derived, never stored)", () => {
    const now = expiresAt + DAY;
    expect(registrationState({ enabled: true, expiresAt }, now)).toBe("Expired");
    expect(registrationState({ enabled: true, expiresAt: expiresAt + 90 * DAY }, now)).toBe("Active");
  });
});

describe("the Expires column: In N days / Expired (§3)", () => {
  it("counts calendar days from today in the Site's zone", () => {
    const reg = expiringOn("2031-03-10", "UTC");
    expect(expiresLabel(reg, "UTC", Date.UTC(2031, 2, 1, 0, 0))).toBe("In 9 days");
    expect(expiresLabel(reg, "UTC", Date.UTC(2031, 2, 1, 23, 59))).toBe("In 9 days");
    expect(expiresLabel(reg, "UTC", Date.UTC(2031, 2, 8, 12))).toBe("In 2 days");
  });

  it("says In 1 day (singular) on the day before, up to the last millisecond", () => {
    const reg = expiringOn("2031-03-10", "UTC");
    expect(expiresLabel(reg, "UTC", Date.UTC(2031, 2, 9, 0, 0))).toBe("In 1 day");
    expect(expiresLabel(reg, "UTC", reg.expiresAt - 1)).toBe("In 1 day");
  });

  it("says Expired at exactly expires_at, and never shows a negative number", () => {
    const reg = expiringOn("2031-03-10", "UTC");
    expect(expiresLabel(reg, "UTC", reg.expiresAt)).toBe("Expired");
    expect(expiresLabel(reg, "UTC", reg.expiresAt + 45 * DAY)).toBe("Expired");
  });

  it("gives different answers in different zones at the same instant", () => {
    // 2031-03-01 23:30 UTC is already 2 March in Auckland (UTC+13) and still 1 March in Los Angeles (UTC-8).
    const now = Date.UTC(2031, 2, 1, 23, 30);
    expect(expiresLabel(expiringOn("2031-03-10", "Pacific/Auckland"), "Pacific/Auckland", now)).toBe("In 8 days");
    expect(expiresLabel(expiringOn("2031-03-10", "America/Los_Angeles"), "America/Los_Angeles", now)).toBe("In 9 days");
    expect(expiresLabel(expiringOn("2031-03-10", "UTC"), "UTC", now)).toBe("In 9 days");
  });

  it("expires at local midnight: a Berlin registration is Expired while a New York one still has a day", () => {
    const now = Date.UTC(2031, 5, 9, 23, 30); // 10 June 01:30 in Berlin, 9 June 19:30 in New York
    const berlin = expiringOn("2031-06-10", "Europe/Berlin");
    const newYork = expiringOn("2031-06-10", "America/New_York");
    expect(berlin.expiresAt).toBe(Date.UTC(2031, 5, 9, 22, 0));
    expect(expiresLabel(berlin, "Europe/Berlin", now)).toBe("Expired");
    expect(registrationState(berlin, now)).toBe("Expired");
    expect(expiresLabel(newYork, "America/New_York", now)).toBe("In 1 day");
    expect(registrationState(newYork, now)).toBe("Expiring (7 d)");
  });

  it("counts calendar days, not 24-hour periods, across the spring DST change (23-hour day)", () => {
    // US clocks go forward on Sunday 9 March 2031 at 02:00 in New York.
    const zone = "America/New_York";
    const reg = expiringOn("2031-03-10", zone);
    expect(reg.expiresAt).toBe(Date.UTC(2031, 2, 10, 4, 0)); // 00:00 EDT
    const saturdayNoon = Date.UTC(2031, 2, 8, 17, 0); // 12:00 EST
    expect(reg.expiresAt - saturdayNoon).toBe(35 * HOUR);
    expect(expiresLabel(reg, zone, saturdayNoon)).toBe("In 2 days");
    const sundayEarly = Date.UTC(2031, 2, 9, 5, 30); // 00:30 EST, before the change
    expect(expiresLabel(reg, zone, sundayEarly)).toBe("In 1 day");
  });

  it("counts calendar days across the autumn DST change (25-hour day)", () => {
    // Europe goes back to winter time on Sunday 26 October 2031 at 03:00 in Berlin.
    const zone = "Europe/Berlin";
    const reg = expiringOn("2031-10-27", zone);
    expect(reg.expiresAt).toBe(Date.UTC(2031, 9, 26, 23, 0)); // 00:00 CET
    const saturdayLate = Date.UTC(2031, 9, 25, 21, 59); // 23:59 CEST on the 25th
    expect(expiresLabel(reg, zone, saturdayLate)).toBe("In 2 days");
    expect(reg.expiresAt - saturdayLate).toBe(25 * HOUR + MINUTE);
    const sundayMidnight = Date.UTC(2031, 9, 25, 22, 0); // 00:00 CEST on the 26th
    expect(expiresLabel(reg, zone, sundayMidnight)).toBe("In 1 day");
    expect(expiresLabel(reg, zone, reg.expiresAt)).toBe("Expired");
  });

  it("a date whose midnight does not exist expires at the first instant of that date", () => {
    // Santiago moved clocks forward at 00:00 on Sunday 7 September 2025: that day starts at 01:00.
    const zone = "America/Santiago";
    const reg = expiringOn("2025-09-07", zone);
    expect(reg.expiresAt).toBe(Date.UTC(2025, 8, 7, 4, 0));
    expect(expiresLabel(reg, zone, reg.expiresAt - 1)).toBe("In 1 day");
    expect(expiresLabel(reg, zone, reg.expiresAt)).toBe("Expired");
  });
});
