import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  adminAuditEvents,
  appRegistrations,
  memberships,
  savedViews,
  securityEvents,
  sessions,
  userPreferences,
  users,
} from "../../src/db/schema";
import { deleteUser } from "../../src/users/accounts";
import {
  auditRowsFor,
  elementById,
  fieldError,
  fragmentOf,
  HTMX,
  signInGlobalAdmin,
  textOf,
  toggleUser,
} from "../helpers/admin-pages";
import { call, createSite, createUser, db, formBody, ORIGIN, PASSWORD, signIn, unique } from "../helpers/app";
import { bodyOf } from "../helpers/html";
import { requestToken } from "../helpers/oauth";
import { createRegistration } from "../helpers/registrations";

const userById = (id: number) => db().select().from(users).where(eq(users.id, id)).get();
const membershipsOf = (userId: number) => db().select().from(memberships).where(eq(memberships.userId, userId)).all();
const sessionsOf = (userId: number) => db().select().from(sessions).where(eq(sessions.userId, userId)).all();
const deletePath = (id: number) => `/admin/users/${id}/delete`;

/** A disabled Site Administrator, as the first step of deleting leaves them. */
async function disabledMember() {
  const site = await createSite();
  const user = await createUser({ disabled: true, sites: [[site.id, "site_admin"]] });
  return { site, user };
}

/** Nothing about the user changed: still there, in their Site, with no delete recorded. */
async function expectUntouched(user: { id: number; email: string }, site: { id: number }) {
  expect(await userById(user.id)).toMatchObject({ email: user.email });
  expect(await membershipsOf(user.id)).toEqual([{ userId: user.id, siteId: site.id, role: "site_admin" }]);
  expect((await auditRowsFor("user", user.email)).map((a) => a.action)).not.toContain("delete");
}

describe("Global Administrator deletes a user", () => {
  it("deletes a disabled user with their memberships, sessions, saved views and settings, audited as a delete", async () => {
    const { user: admin, browser } = await signInGlobalAdmin();
    const site = await createSite();
    const other = await createSite();
    const target = await createUser({ sites: [[site.id, "site_admin"]] });
    await db().insert(memberships).values({ userId: target.id, siteId: other.id, role: "site_user" });
    const theirs = await signIn(target.email);
    expect((await theirs.get(`/sites/${site.slug}`)).status).toBe(200);
    await db()
      .insert(savedViews)
      .values({ userId: target.id, siteId: site.id, grid: "registrations", name: "Mine", query: "", createdAt: 1 });
    await db().insert(userPreferences).values({ userId: target.id, key: "registrations.columns", value: "[]" });
    // Disabled behind the application's back, so a session row is still there for the delete to take with it.
    await db().update(users).set({ disabled: true }).where(eq(users.id, target.id));
    expect(await sessionsOf(target.id)).toHaveLength(1);

    const res = await browser.post(deletePath(target.id), { confirmEmail: target.email });
    expect(res.status).toBe(303);
    const location = res.headers.get("Location") ?? "";
    expect(location).toMatch(/^\/admin\/users\?deleted=\d+$/);

    expect(await userById(target.id)).toBeUndefined();
    expect(await membershipsOf(target.id)).toEqual([]);
    expect(await sessionsOf(target.id)).toEqual([]);
    expect(await db().select().from(savedViews).where(eq(savedViews.userId, target.id)).all()).toEqual([]);
    expect(await db().select().from(userPreferences).where(eq(userPreferences.userId, target.id)).all()).toEqual([]);
    const after = await theirs.get(`/sites/${site.slug}`);
    expect(after.status).toBe(303);
    expect(after.headers.get("Location")).toMatch(/^\/sign-in/);

    const audits = await auditRowsFor("user", target.email);
    expect(audits.map((a) => [a.action, a.actorEmail, a.actorUserId, a.siteId, a.changes])).toEqual([
      ["delete", admin.email, admin.id, null, { email: [target.email, null], name: [target.name, null] }],
    ]);
    expect(location).toBe(`/admin/users?deleted=${audits[0]?.id}`);

    const list = await (await browser.get(location)).text();
    expect(textOf(list)).toContain(`User ${target.email} deleted.`);
    expect(list).not.toContain(`href="/admin/users/${target.id}"`);
    expect((await browser.get(`/admin/users/${target.id}`)).status).toBe(404);
    expect((await browser.post(deletePath(target.id), { confirmEmail: target.email })).status).toBe(404);
  });

  it("keeps what the user left behind: their registrations keep working, their audit and security-log rows stay", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite();
    const target = await createUser({ sites: [[site.id, "site_admin"]] });
    const { registration, clientSecret } = await createRegistration(site.id, { createdBy: target.id });
    // An audit row with the user as actor: they change their own password.
    const theirs = await signIn(target.email);
    const changed = await theirs.post("/account/password", {
      currentPassword: PASSWORD,
      newPassword: "a password of their own",
      confirmPassword: "a password of their own",
    });
    expect(changed.status).toBe(303);
    expect((await browser.post(`/admin/users/${target.id}/disabled`, { value: "true" })).status).toBe(303);
    // A security-log row about them: a sign-in attempt after they were disabled.
    await expect(signIn(target.email, "a password of their own")).rejects.toThrow(/sign-in failed: 401/);

    expect((await browser.post(deletePath(target.id), { confirmEmail: target.email })).status).toBe(303);

    const kept = await db().select().from(appRegistrations).where(eq(appRegistrations.id, registration.id)).get();
    expect(kept).toMatchObject({ clientId: registration.clientId, createdBy: null, enabled: true });
    const token = await requestToken({ clientId: registration.clientId, clientSecret });
    expect(token.status).toBe(200);

    const asActor = await db()
      .select()
      .from(adminAuditEvents)
      .where(and(eq(adminAuditEvents.actorEmail, target.email), eq(adminAuditEvents.action, "change_password")))
      .all();
    expect(asActor).toHaveLength(1);
    expect(asActor[0]).toMatchObject({ targetLabel: target.email, actorUserId: target.id });
    expect((await auditRowsFor("user", target.email)).map((a) => a.action)).toEqual([
      "change_password",
      "disable",
      "delete",
    ]);
    const logged = await db().select().from(securityEvents).where(eq(securityEvents.clientId, target.email)).all();
    expect(logged.map((e) => e.detailCode)).toContain("UserDisabled");
  });

  it("frees the email for a new user, whose page shows the address's earlier trail up to the delete", async () => {
    const { browser } = await signInGlobalAdmin();
    const email = `${unique("again")}@example.test`;
    const first = await createUser({ email, disabled: true });
    expect((await browser.post(deletePath(first.id), { confirmEmail: email })).status).toBe(303);

    const created = await browser.post("/admin/users", { email, name: "Second Person", password: PASSWORD });
    expect(created.status).toBe(303);
    const second = await db().select().from(users).where(eq(users.email, email)).get();
    expect(second?.id).not.toBe(first.id);
    expect(second?.disabled).toBe(false);
    await expect(signIn(email)).resolves.toBeTruthy();
    const page = await (await browser.get(`/admin/users/${second?.id}`)).text();
    const rows = textOf(page.slice(page.indexOf('id="audit-trail-heading"')));
    expect(rows).toContain("Created");
    expect(rows).toContain("Deleted");
    expect(rows.indexOf("Created")).toBeLessThan(rows.indexOf("Deleted"));
  });

  it("refuses an enabled user with 409 and says to disable them first, changing nothing", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite();
    const user = await createUser({ sites: [[site.id, "site_admin"]] });
    const theirs = await signIn(user.email);

    const section = elementById(await (await browser.get(`/admin/users/${user.id}`)).text(), "delete-user");
    expect(textOf(section)).toContain("Only a disabled user can be deleted. Disable them first");
    expect(section).not.toContain("<form");

    const res = await browser.post(deletePath(user.id), { confirmEmail: user.email });
    const html = await bodyOf(res, 409);
    expect(html).toContain('data-error-code="NotDisabled"');
    expect(textOf(elementById(html, "delete-user"))).toContain(
      `${user.email} is enabled. Only a disabled user can be deleted: disable them first, which ends their sessions, then delete them.`,
    );
    await expectUntouched(user, site);
    expect((await theirs.get(`/sites/${site.slug}`)).status).toBe(200);
  });

  it("refuses to let a Global Administrator delete their own account", async () => {
    const { user: admin, browser } = await signInGlobalAdmin();
    const section = elementById(await (await browser.get(`/admin/users/${admin.id}`)).text(), "delete-user");
    expect(textOf(section)).toContain("This is your own account: you cannot delete it.");
    expect(section).not.toContain("<form");

    for (const form of [{ confirmEmail: admin.email }, { confirmEmail: "" }]) {
      const res = await browser.post(deletePath(admin.id), form);
      expect(res.status).toBe(409);
      expect(await res.text()).toContain('data-error-code="SelfDelete"');
    }
    expect(await userById(admin.id)).toMatchObject({ email: admin.email, disabled: false });
    expect(await auditRowsFor("user", admin.email)).toEqual([]);
    expect((await browser.get("/admin/users")).status).toBe(200);
  });

  it("asks for the email on a disabled user's page, in a danger section", async () => {
    const { browser } = await signInGlobalAdmin();
    const { user } = await disabledMember();
    const section = elementById(await (await browser.get(`/admin/users/${user.id}`)).text(), "delete-user");
    expect(section).toContain('class="card danger-zone"');
    expect(section).toContain(`action="/admin/users/${user.id}/delete"`);
    expect(section).toContain('name="_csrf"');
    expect(section).toContain('name="confirmEmail"');
    expect(section).toContain('class="danger"');
    expect(textOf(section)).toContain(`Type ${user.email} to confirm.`);
    expect(textOf(section)).toContain("App registrations they created stay and keep working.");
  });

  const wrong: [string, Record<string, string>, (email: string) => string][] = [
    [
      "another email",
      { confirmEmail: "someone-else@example.test" },
      (e) => `This is not the user's email. Type ${e} exactly.`,
    ],
    ["an empty confirmation", { confirmEmail: "  " }, () => "Type the user's email to confirm."],
    ["no confirmation field", {}, () => "Type the user's email to confirm."],
    [
      "an oversized confirmation",
      { confirmEmail: "x".repeat(300) },
      (e) => `This is not the user's email. Type ${e} exactly.`,
    ],
  ];
  for (const [what, form, message] of wrong) {
    it(`refuses ${what} with 422 next to the field, changing nothing`, async () => {
      const { browser } = await signInGlobalAdmin();
      const { site, user } = await disabledMember();
      const res = await browser.post(deletePath(user.id), form);
      expect(res.status).toBe(422);
      expect(fieldError(await res.text(), "delete", "confirmEmail")).toBe(message(user.email));
      await expectUntouched(user, site);
    });
  }

  it("accepts the email typed in another letter case or with spaces around it", async () => {
    const { browser } = await signInGlobalAdmin();
    const { user } = await disabledMember();
    const res = await browser.post(deletePath(user.id), { confirmEmail: ` ${user.email.toUpperCase()} ` });
    expect(res.status).toBe(303);
    expect(await userById(user.id)).toBeUndefined();
  });

  it("answers htmx with a redirect to the list", async () => {
    const { browser } = await signInGlobalAdmin();
    const { user } = await disabledMember();
    const res = await browser.post(deletePath(user.id), { confirmEmail: user.email }, { headers: HTMX });
    expect(res.status).toBe(204);
    expect(res.headers.get("HX-Redirect")).toMatch(/^\/admin\/users\?deleted=\d+$/);
    expect(await userById(user.id)).toBeUndefined();
  });

  it("announces only deletions that happened", async () => {
    const { browser } = await signInGlobalAdmin();
    const other = await createUser({ disabled: true });
    expect((await browser.post(`/admin/users/${other.id}/disabled`, { value: "false" })).status).toBe(303);
    const [enable] = await auditRowsFor("user", other.email);
    expect(enable?.action).toBe("enable");
    for (const id of [String(enable?.id), "987654321", "x"]) {
      const page = await (await browser.get(`/admin/users?deleted=${id}`)).text();
      expect(page, id).not.toContain('class="notice"');
    }
  });

  it("deletes only a user still disabled when the delete runs: one enabled meanwhile stays, with no audit row", async () => {
    const { user: admin } = await signInGlobalAdmin();
    const { site, user } = await disabledMember();
    const asRead = await userById(user.id);
    if (!asRead) throw new Error("the user was not created");
    // Another administrator enables them between this page load and the delete.
    await db().update(users).set({ disabled: false }).where(eq(users.id, user.id));
    const result = await deleteUser(db(), asRead, { id: admin.id, email: admin.email }, Date.now());
    expect(result).toEqual({ ok: false, code: "NotDisabled" });
    await expectUntouched(user, site);
    expect(await auditRowsFor("user", user.email)).toEqual([]);
  });

  it("updates the delete section when the user is disabled from their page through htmx", async () => {
    const { browser } = await signInGlobalAdmin();
    const target = await createUser();
    const res = await toggleUser(browser, target.id, "disabled", true);
    const html = await fragmentOf(res, '<section id="account"');
    const section = elementById(html, "delete-user");
    expect(section).toContain('hx-swap-oob="true"');
    expect(section).toContain(`action="/admin/users/${target.id}/delete"`);
  });

  it("refuses a post without Origin or without the session's token", async () => {
    const { browser } = await signInGlobalAdmin();
    const { site, user } = await disabledMember();
    const noOrigin = await call(deletePath(user.id), {
      method: "POST",
      headers: { Cookie: browser.cookie, "Content-Type": "application/x-www-form-urlencoded" },
      body: formBody({ _csrf: browser.csrf, confirmEmail: user.email }),
    });
    expect(noOrigin.status).toBe(403);
    const noToken = await call(deletePath(user.id), {
      method: "POST",
      headers: { Cookie: browser.cookie, Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
      body: formBody({ confirmEmail: user.email }),
    });
    expect(noToken.status).toBe(403);
    const wrongToken = await browser.post(deletePath(user.id), { _csrf: "not-the-token", confirmEmail: user.email });
    expect(wrongToken.status).toBe(403);
    await expectUntouched(user, site);
  });

  it("is closed to Site Administrators and Site Users (403)", async () => {
    const { site, user: victim } = await disabledMember();
    for (const role of ["site_admin", "site_user"] as const) {
      const user = await createUser({ sites: [[site.id, role]] });
      const browser = await signIn(user.email);
      expect((await browser.post(deletePath(victim.id), { confirmEmail: victim.email })).status, role).toBe(403);
    }
    await expectUntouched(victim, site);
  });

  it("answers 404 for an unknown user", async () => {
    const { browser } = await signInGlobalAdmin();
    expect((await browser.post(deletePath(987654321), { confirmEmail: "nobody@example.test" })).status).toBe(404);
  });
});
