import { inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { adminAuditEvents, appRegistrations, type Site } from "../../src/db/schema";
import { createSite, db, formBody, ORIGIN } from "../helpers/app";
import { bodyOf, textOf } from "../helpers/html";
import { callWorker, countingD1 } from "../helpers/oauth";
import { type Client, clientFor, gridPath, NOW, siteWithAdmin } from "../helpers/registration-pages";
import { createRegistration } from "../helpers/registrations";

async function seed(site: Site, name: string, options: { expirationDate?: string; enabled?: boolean } = {}) {
  const { registration } = await createRegistration(site.id, {
    name,
    expirationDate: options.expirationDate ?? "2031-06-01",
    enabled: options.enabled ?? true,
    now: NOW,
  });
  return registration;
}

const bulkPath = (site: Site) => `${gridPath(site)}/bulk`;

async function rowsOf(ids: number[]) {
  return db().select().from(appRegistrations).where(inArray(appRegistrations.id, ids)).orderBy(appRegistrations.id);
}

async function auditRows(ids: number[]) {
  return db()
    .select()
    .from(adminAuditEvents)
    .where(inArray(adminAuditEvents.registrationId, ids))
    .orderBy(adminAuditEvents.id)
    .all();
}

/** Posts the confirmed bulk form through a D1 binding that counts what the Worker sends. */
async function confirmCounted(admin: Client, site: Site, form: Record<string, string | string[]>) {
  const { binding, tally } = countingD1();
  const res = await callWorker(
    bulkPath(site),
    {
      method: "POST",
      headers: { Cookie: admin.cookie, Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
      body: formBody({ _csrf: admin.csrf, confirmed: "yes", ...form }),
      now: NOW,
    },
    { DB: binding },
  );
  return { res, tally };
}

describe("bulk actions on the grid's selected rows", () => {
  it("disables three registrations after a confirmation naming them, in one D1 batch with three audit rows", async () => {
    const { site, admin } = await siteWithAdmin();
    const regs = [await seed(site, "Bulk A"), await seed(site, "Bulk B"), await seed(site, "Bulk C")];
    const ids = regs.map((r) => String(r.id));

    // The grid offers the selection and the action.
    const grid = await bodyOf(await admin.get(gridPath(site)), 200);
    expect(grid).toContain(`<form method="post" action="${bulkPath(site)}" id="bulk-form"`);
    for (const r of regs) {
      expect(grid).toContain(`name="ids" value="${r.id}" form="bulk-form" aria-label="Select ${r.name}"`);
    }

    // The first post is the confirmation: every name listed, nothing changed yet.
    const confirm = await bodyOf(await admin.post(bulkPath(site), { ids, action: "disable", returnTo: "" }), 200);
    expect(textOf(confirm)).toContain("Disable 3 App registrations?");
    for (const r of regs) expect(textOf(confirm)).toContain(`${r.name} ${r.clientId}`);
    expect(confirm).toContain('name="confirmed" value="yes"');
    expect((await rowsOf(regs.map((r) => r.id))).map((r) => r.enabled)).toEqual([true, true, true]);
    expect(await auditRows(regs.map((r) => r.id))).toHaveLength(0);

    // Confirmed: one batch holds every update and every audit row.
    const { res, tally } = await confirmCounted(admin, site, { ids, action: "disable", returnTo: "sort=expires" });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`${gridPath(site)}?sort=expires&notice=bulk-disable&count=3`);
    expect(tally.batches).toBe(1);
    const batched = tally.statements.filter((s) =>
      /^(insert into "admin_audit_events"|update "app_registrations")/.test(s),
    );
    expect(batched).toHaveLength(6);
    expect((await rowsOf(regs.map((r) => r.id))).map((r) => r.enabled)).toEqual([false, false, false]);
    const audit = await auditRows(regs.map((r) => r.id));
    expect(audit.map((a) => [a.registrationId, a.action, a.actorEmail, a.targetLabel])).toEqual(
      regs.map((r) => [r.id, "disable", admin.email, r.name]),
    );
    expect(new Set(audit.map((a) => a.at))).toEqual(new Set([NOW]));

    // The grid says what happened.
    const after = await bodyOf(await admin.get(res.headers.get("Location") ?? ""), 200);
    expect(textOf(after)).toContain("3 App registrations disabled.");
  });

  it("enables, extends by N days and deletes, auditing each row; rows already in the state are left alone", async () => {
    const { site, admin } = await siteWithAdmin();
    const on = await seed(site, "Already on");
    const off = await seed(site, "Was off", { enabled: false });
    const enabled = await admin.post(bulkPath(site), {
      ids: [String(on.id), String(off.id)],
      action: "enable",
      confirmed: "yes",
    });
    expect(enabled.headers.get("Location")).toContain("notice=bulk-enable&count=1");
    expect((await auditRows([on.id, off.id])).map((a) => [a.registrationId, a.action])).toEqual([[off.id, "enable"]]);

    // Extension: from the later of today (2031-01-15 in UTC) and the current date; an expired one from today.
    const expired = await seed(site, "Expired", { expirationDate: "2031-01-10" });
    const later = await seed(site, "Later", { expirationDate: "2031-03-01" });
    const review = textOf(
      await bodyOf(
        await admin.post(bulkPath(site), { ids: [String(expired.id), String(later.id)], action: "extend", days: "30" }),
        200,
      ),
    );
    expect(review).toContain("Extend 2 App registrations by 30 days?");
    expect(review).toContain("Expired");
    expect(review).toContain("2031-01-10 → 2031-02-14");
    expect(review).toContain("2031-03-01 → 2031-03-31");
    const extended = await admin.post(bulkPath(site), {
      ids: [String(expired.id), String(later.id)],
      action: "extend",
      days: "30",
      confirmed: "yes",
    });
    expect(extended.headers.get("Location")).toContain("notice=bulk-extend&count=2");
    const rows = await rowsOf([expired.id, later.id]);
    expect(rows.map((r) => [r.expirationDate, r.expiresAt])).toEqual([
      ["2031-02-14", Date.UTC(2031, 1, 14)],
      ["2031-03-31", Date.UTC(2031, 2, 31)],
    ]);
    const extendAudit = await auditRows([expired.id, later.id]);
    expect(extendAudit.map((a) => [a.action, JSON.parse(a.changes)])).toEqual([
      ["update", { expirationDate: ["2031-01-10", "2031-02-14"] }],
      ["update", { expirationDate: ["2031-03-01", "2031-03-31"] }],
    ]);

    // Delete: the rows go; each deletion is audited with what was deleted.
    const deleted = await admin.post(bulkPath(site), {
      ids: [String(expired.id), String(later.id)],
      action: "delete",
      confirmed: "yes",
    });
    expect(deleted.headers.get("Location")).toContain("notice=bulk-delete&count=2");
    expect(await rowsOf([expired.id, later.id])).toEqual([]);
    const deleteAudit = (await auditRows([expired.id, later.id])).filter((a) => a.action === "delete");
    expect(deleteAudit.map((a) => a.targetLabel).sort()).toEqual(["Expired", "Later"]);
  });

  it("refuses bad input, another Site's ids and a date past the Site's limit, changing nothing", async () => {
    const { site, admin } = await siteWithAdmin({ maxRegistrationDays: 100 });
    const mine = await seed(site, "Mine", { expirationDate: "2031-04-01" });
    const other = await seed(await createSite(), "Theirs");
    const unchanged = async () => {
      expect((await rowsOf([mine.id, other.id])).map((r) => [r.enabled, r.expirationDate])).toEqual([
        [true, "2031-04-01"],
        [true, "2031-06-01"],
      ]);
      expect(await auditRows([mine.id, other.id])).toEqual([]);
    };
    const refused = async (form: Record<string, string | string[]>, status: number, message: string) => {
      const res = await admin.post(bulkPath(site), { confirmed: "yes", ...form });
      expect(res.status, JSON.stringify(form)).toBe(status);
      expect(textOf(await res.text())).toContain(message);
      await unchanged();
    };
    await refused({ action: "disable" }, 400, "Select at least one App registration.");
    await refused({ ids: ["abc"], action: "disable" }, 400, "Select registrations by their ids.");
    await refused({ ids: [String(mine.id)], action: "archive" }, 400, "Choose Disable, Enable, Extend or Delete.");
    await refused({ ids: [String(mine.id)], action: "extend", days: "0" }, 400, "Extend by a whole number of days");
    await refused({ ids: [String(mine.id)], action: "extend", days: "1.5" }, 400, "Extend by a whole number of days");
    await refused(
      { ids: Array.from({ length: 101 }, (_, i) => String(i + 1)), action: "disable" },
      400,
      "Select at most 100",
    );
    // Another Site's id is not found here, even beside one of this Site's.
    await refused({ ids: [String(mine.id), String(other.id)], action: "disable" }, 404, "not in this Site");
    // 2031-04-01 + 60 days is past today + 100 days (2031-04-25): the confirmation says so and offers no button.
    const late = await admin.post(bulkPath(site), {
      ids: [String(mine.id)],
      action: "extend",
      days: "60",
      confirmed: "yes",
    });
    expect(late.status).toBe(422);
    const lateText = textOf(await late.text());
    expect(lateText).toContain(
      "Nothing was changed: Mine: 2031-05-31 is too late. Choose a date at most 100 days ahead.",
    );
    expect(
      await (await admin.post(bulkPath(site), { ids: [String(mine.id)], action: "extend", days: "60" })).text(),
    ).not.toMatch(/>Extend 1 App registration<\/button>/);
    await unchanged();
    // Without the CSRF token nothing happens either.
    const forged = await admin.post(bulkPath(site), {
      ids: [String(mine.id)],
      action: "disable",
      confirmed: "yes",
      _csrf: "x",
    });
    expect(forged.status).toBe(403);
    await unchanged();
  });

  it("is offered on a Site's grid only, and only to those who can change registrations", async () => {
    const { site } = await siteWithAdmin();
    await seed(site, "Somewhere");
    const global = await clientFor("global", null);
    const all = await bodyOf(await global.get("/admin/registrations"), 200);
    expect(all).not.toContain('id="bulk-form"');
    const user = await clientFor("site_user", site);
    expect((await user.post(bulkPath(site), { ids: ["1"], action: "disable" })).status).toBe(403);
  });
});

// The extension arithmetic is the quick Renew's rule: never shorter, counted from today once expired.
describe("an extension's date", () => {
  it("counts from the later of today and the current date", async () => {
    const { extendedDate } = await import("../../src/registrations/lifecycle");
    expect(extendedDate("2031-01-10", "2031-01-15", 30)).toBe("2031-02-14");
    expect(extendedDate("2031-03-01", "2031-01-15", 30)).toBe("2031-03-31");
    expect(extendedDate("2031-01-15", "2031-01-15", 1)).toBe("2031-01-16");
  });
});
