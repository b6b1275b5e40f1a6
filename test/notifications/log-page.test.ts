import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { appRegistrations, notificationDeliveries, notifications, type Site, type User } from "../../src/db/schema";
import { DAY } from "../../src/lib/time";
import { runCron } from "../../src/notifications/scheduled";
import { createSite, createUser, db, PASSWORD, signIn } from "../helpers/app";
import { bodyOf } from "../helpers/html";
import { DEAD_LETTER_QUEUE, deliverMessages, recordingBindings, siteWithAdmins } from "../helpers/notifications";
import { createRegistration } from "../helpers/registrations";

// 10:00 in Berlin (CET).
const N = Date.UTC(2031, 2, 10, 9);
const path = (site: Site, query = "") => `/sites/${site.slug}/settings/notifications${query}`;
/** The instant the pages are looked at: the day after the notices fired (sessions are checked against it). */
const LATER = N + DAY;
const signInLater = (email: string) => signIn(email, PASSWORD, LATER);

let siteA: Site;
let siteB: Site;
let adminA: User;
let flakyAdmin: User;
let adminB: User;
let regs: Record<"expired" | "week" | "month" | "deleted" | "other", { id: number; name: string; clientId: string }>;

/** The body's rows as text, one string per row, whitespace collapsed. */
function rows(html: string): string[] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? "";
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) =>
    (m[1] ?? "")
      // Copy buttons only show with JavaScript; the row's text is what they copy.
      .replace(/<button[^>]*>[\s\S]*?<\/button>/g, "")
      .replace(/<[^>]+>/g, " ")
      .replace(/\s+/g, " ")
      .trim(),
  );
}

beforeAll(async () => {
  ({ site: siteA } = await siteWithAdmins(0, { timeZone: "Europe/Berlin", name: "Berlin Site" }));
  adminA = await createUser({ email: `a-${siteA.slug}@example.test`, sites: [[siteA.id, "site_admin"]] });
  flakyAdmin = await createUser({ email: `z-${siteA.slug}@example.test`, sites: [[siteA.id, "site_admin"]] });
  siteB = await createSite({ name: "Other Site" });
  adminB = await createUser({ sites: [[siteB.id, "site_admin"]] });
  const make = async (site: Site, name: string, expirationDate: string) => {
    const { registration } = await createRegistration(site.id, { name, expirationDate, now: N - 60 * DAY });
    return registration;
  };
  regs = {
    expired: await make(siteA, "Nightly <b>backup</b>", "2031-03-10"),
    week: await make(siteA, "SIEM connector", "2031-03-14"),
    month: await make(siteA, "CI deploy", "2031-04-01"),
    deleted: await make(siteA, "Old importer", "2031-03-12"),
    other: await make(siteB, "Lab scanner", "2031-03-12"),
  };
  const queue = recordingBindings({
    sendEmail: async (email) => {
      if (email.to === flakyAdmin.email) throw new Error("450 mailbox <busy>");
    },
  });
  await runCron(queue.env, N);
  await deliverMessages(queue.env, queue.take());
  const deliveryMessages = queue.take();
  const [notice] = await db().select().from(notifications).where(eq(notifications.registrationId, regs.month.id)).all();
  const monthDeliveries = await db()
    .select({ id: notificationDeliveries.id })
    .from(notificationDeliveries)
    .where(eq(notificationDeliveries.notificationId, notice?.id ?? 0))
    .all();
  // The CI deploy notice's emails stay queued (their messages are "lost"); every other one is delivered.
  const held = new Set(monthDeliveries.map((d) => d.id));
  await deliverMessages(
    queue.env,
    deliveryMessages.filter((m) => "deliveryId" in m && !held.has(m.deliveryId)),
  );
  // One of the flaky administrator's deliveries gave up: the dead-letter queue marks it failed.
  const [expiredNotice] = await db()
    .select()
    .from(notifications)
    .where(eq(notifications.registrationId, regs.expired.id))
    .all();
  const failed = await db()
    .select()
    .from(notificationDeliveries)
    .where(eq(notificationDeliveries.notificationId, expiredNotice?.id ?? 0))
    .all();
  const flaky = failed.find((d) => d.recipientEmail === flakyAdmin.email);
  await deliverMessages(queue.env, [{ deliveryId: flaky?.id ?? 0 }], { queue: DEAD_LETTER_QUEUE });
  await db().delete(appRegistrations).where(eq(appRegistrations.id, regs.deleted.id));
});

describe("the Administrative notification log", () => {
  it("lists every notice of the Site with template, registration, expiration, fired time and delivery per recipient", async () => {
    const admin = await signInLater(adminA.email);
    const res = await admin.get(path(siteA), { now: LATER });
    const html = await bodyOf(res, 200);
    expect(html).toContain("<h1>Administrative notification log</h1>");
    expect(html).toContain("Fired at (Europe/Berlin)");
    // Each Client ID has a Copy button beside it.
    expect(html).toContain(`data-copy-target="notification-client-`);
    const a = adminA.email;
    const z = flakyAdmin.email;
    expect(rows(html)).toEqual([
      `2031-03-10 10:00 App registration expires in 30 days CI deploy ${regs.month.clientId} 2031-04-01 ${a} Queued ${z} Queued`,
      `2031-03-10 10:00 App registration expires in 7 days SIEM connector ${regs.week.clientId} 2031-03-14 ${a} Sent ${sentAt(html, a)} ${z} Retrying after 1 attempt: 450 mailbox &lt;busy&gt;`,
      `2031-03-10 10:00 App registration expires in 7 days Old importer (deleted) ${regs.deleted.clientId} 2031-03-12 ${a} Sent ${sentAt(html, a)} ${z} Retrying after 1 attempt: 450 mailbox &lt;busy&gt;`,
      `2031-03-10 10:00 App registration has expired Nightly &lt;b&gt;backup&lt;/b&gt; ${regs.expired.clientId} 2031-03-10 ${a} Sent ${sentAt(html, a)} ${z} Failed after 1 attempt: 450 mailbox &lt;busy&gt;`,
    ]);
    expect(html).toContain(
      `<a href="/sites/${siteA.slug}/settings/iam/app-registrations/${regs.week.id}">SIEM connector</a>`,
    );
    expect(html).not.toContain(`app-registrations/${regs.deleted.id}"`);
    expect(html).not.toContain("<b>backup</b>");
    expect(html).not.toContain("Lab scanner");
    expect(html).toContain('<p class="notification-log-total" role="status">4 notifications</p>');
  });

  it("filters by template and by registration, in the URL, and offers only the Site's logged registrations", async () => {
    const admin = await signInLater(adminA.email);
    const byTemplate = await (await admin.get(path(siteA, "?template=expires_in_7_days"), { now: LATER })).text();
    expect(rows(byTemplate).map((r) => /expires in 7 days (\w+)/.exec(r)?.[1])).toEqual(["SIEM", "Old"]);
    expect(byTemplate).toContain(
      '<option value="expires_in_7_days" selected="">App registration expires in 7 days</option>',
    );
    const byRegistration = await (await admin.get(path(siteA, `?registration=${regs.week.id}`), { now: LATER })).text();
    expect(rows(byRegistration)).toHaveLength(1);
    expect(rows(byRegistration)[0]).toContain("SIEM connector");
    const both = await (
      await admin.get(path(siteA, `?template=expired&registration=${regs.week.id}`), { now: LATER })
    ).text();
    expect(both).toContain("No notification matches the filter.");
    const options = [...byTemplate.matchAll(/<option value="(\d+)"[^>]*>([^<]*)<\/option>/g)].map((m) => m[2]);
    expect(options).toEqual(["CI deploy", "Nightly &lt;b&gt;backup&lt;/b&gt;", "SIEM connector"]);
  });

  it("refuses a bad filter with 400, the error next to its field, and no rows", async () => {
    const admin = await signInLater(adminA.email);
    for (const [query, message] of [
      ["?template=expires_tomorrow", "Choose one of the listed templates."],
      [`?registration=${regs.other.id}`, "Choose one of the listed registrations."],
      ["?registration=abc", "Choose one of the listed registrations."],
      ["?page=0", "The page must be a whole number from 1."],
      ["?template=expired&template=expires_in_7_days", "Choose one of the listed templates."],
    ] as const) {
      const res = await admin.get(path(siteA, query), { now: LATER });
      expect(res.status, query).toBe(400);
      const html = await res.text();
      expect(html).toContain(message);
      expect(rows(html)).toEqual([]);
    }
  });

  it("pages 25 at a time, keeping the filter in the links", async () => {
    const { site, admins } = await siteWithAdmins(1);
    const { registration } = await createRegistration(site.id, { expirationDate: "2031-06-01", now: N });
    // Nine rows per statement: D1 binds at most 100 values.
    const notices = Array.from({ length: 30 }, (_, i) => ({
      siteId: site.id,
      registrationId: registration.id,
      registrationName: registration.name,
      clientId: registration.clientId,
      template: "expires_in_30_days" as const,
      expiresAt: registration.expiresAt + i * DAY,
      expirationDate: "2031-06-01",
      firedAt: N + i * 60_000,
      dedupeKey: `reg:${registration.id}|expires_in_30_days|${registration.expiresAt + i * DAY}`,
    }));
    for (let i = 0; i < notices.length; i += 9)
      await db()
        .insert(notifications)
        .values(notices.slice(i, i + 9));
    const admin = await signInLater(admins[0]?.email ?? "");
    const first = await (await admin.get(path(site, "?template=expires_in_30_days"), { now: LATER })).text();
    expect(rows(first)).toHaveLength(25);
    expect(first).toContain("Page 1 of 2");
    const next = `/sites/${site.slug}/settings/notifications?template=expires_in_30_days&amp;page=2`;
    expect(first).toContain(
      `<a href="${next}" rel="next" hx-get="${next}" hx-target="#notification-log-results" hx-swap="outerHTML" hx-push-url="true">Next</a>`,
    );
    const second = await (await admin.get(path(site, "?template=expires_in_30_days&page=2"), { now: LATER })).text();
    expect(rows(second)).toHaveLength(5);
    expect(second).toContain("Page 2 of 2");
    // Newest first: the last row of page 2 is the first notice.
    // The header names the zone; the cell does not repeat it.
    expect(rows(second)[4]).toContain("2031-03-10 09:00 App");
    expect(rows(second)[4]).not.toContain("(UTC)");
    const beyond = await (await admin.get(path(site, "?page=9"), { now: LATER })).text();
    expect(beyond).toContain("There are no notifications on this page.");
  });

  it("answers htmx with the results fragment only (no layout, no banners) and a history restore with the page", async () => {
    const admin = await signInLater(adminA.email);
    const partial = await admin.get(path(siteA, "?template=expired"), {
      now: N + DAY,
      headers: { "HX-Request": "true", "HX-Request-Type": "partial" },
    });
    const fragment = await bodyOf(partial, 200);
    expect(fragment.startsWith('<section id="notification-log-results"')).toBe(true);
    expect(fragment).not.toContain("<html");
    expect(fragment).not.toContain("api-client-alert");
    expect(rows(fragment)).toHaveLength(1);
    expect(partial.headers.get("Vary")).toContain("HX-Request");

    const restore = await admin.get(path(siteA, "?template=expired"), {
      now: N + DAY,
      headers: { "HX-Request": "true", "HX-History-Restore-Request": "true", "HX-Request-Type": "full" },
    });
    const page = await restore.text();
    expect(page).toContain("<html");
    // The page itself carries the §6 banner of the expired registration.
    expect(page).toContain('class="api-client-alert" role="alert"');

    const invalid = await admin.get(path(siteA, "?template=nope"), {
      now: LATER,
      headers: { "HX-Request": "true", "HX-Request-Type": "partial" },
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toMatch(
      /^<section id="notification-log-results"[\s\S]*Choose one of the listed templates/,
    );
  });

  it("is for the Site's administrators and Global Administrators only, and never shows another Site's notices", async () => {
    const user = await createUser({ sites: [[siteA.id, "site_user"]] });
    expect((await (await signInLater(user.email)).get(path(siteA), { now: LATER })).status).toBe(403);
    expect((await (await signInLater(adminB.email)).get(path(siteA), { now: LATER })).status).toBe(404);
    const root = await signInLater((await createUser({ global: true })).email);
    const asRoot = await root.get(path(siteA), { now: LATER });
    expect(asRoot.status).toBe(200);
    expect(rows(await asRoot.text())).toHaveLength(4);
    const other = await (await root.get(path(siteB), { now: LATER })).text();
    expect(rows(other).map((r) => r.includes("Lab scanner"))).toEqual([true]);
    expect(other).not.toContain("SIEM connector");
  });
});

/** The "Sent …" time shown for the given recipient's first sent delivery (real sending time, not pinned). */
function sentAt(html: string, email: string): string {
  const match = new RegExp(
    `${email.replace(/[.]/g, "\\.")}</span> <span class="delivery-state delivery-sent">Sent ([^<]+)<`,
  ).exec(html);
  return match?.[1] ?? "";
}
