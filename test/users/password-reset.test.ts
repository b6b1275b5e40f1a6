import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { SIGN_IN_MAX_FAILURES_PER_ACCOUNT, SIGN_IN_WINDOW } from "../../src/auth/throttle";
import { sessions, users } from "../../src/db/schema";
import { verifyPassword } from "../../src/lib/crypto";
import { auditRowsFor, elementById, fieldError, signInGlobalAdmin, textOf } from "../helpers/admin-pages";
import { call, createSite, createUser, db, formBody, ORIGIN, PASSWORD, signIn } from "../helpers/app";
import { bodyOf } from "../helpers/html";
import { NEW_PASSWORD_REFUSALS } from "../helpers/passwords";

const NEW_PASSWORD = "handed over on a sticky note";

const storedHash = async (userId: number) =>
  (await db().select({ hash: users.passwordHash }).from(users).where(eq(users.id, userId)).get())?.hash ?? "";
const sessionsOf = (userId: number) => db().select().from(sessions).where(eq(sessions.userId, userId)).all();
const resetForm = (overrides: Record<string, string> = {}) => ({
  newPassword: NEW_PASSWORD,
  confirmPassword: NEW_PASSWORD,
  ...overrides,
});

/** A Site Administrator signed in on two devices. */
async function targetWithTwoSessions() {
  const site = await createSite();
  const user = await createUser({ sites: [[site.id, "site_admin"]] });
  return { site, user, laptop: await signIn(user.email), phone: await signIn(user.email) };
}

describe("Global Administrator sets a user's password", () => {
  it("stores the new hash, ends every session of the user and is audited as a reset by the administrator", async () => {
    const { user: admin, browser } = await signInGlobalAdmin();
    const { site, user, laptop, phone } = await targetWithTwoSessions();
    const res = await browser.post(`/admin/users/${user.id}/password`, resetForm());
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`/admin/users/${user.id}?notice=password-set`);

    const hash = await storedHash(user.id);
    expect(hash).toMatch(/^pbkdf2_sha256\$100000\$/);
    expect(await verifyPassword(NEW_PASSWORD, hash)).toBe(true);
    // Gone server-side before the user makes another request.
    expect(await sessionsOf(user.id)).toEqual([]);
    expect((await laptop.get(`/sites/${site.slug}`)).status).toBe(303);
    expect((await phone.get(`/sites/${site.slug}`)).status).toBe(303);
    await expect(signIn(user.email, PASSWORD)).rejects.toThrow(/sign-in failed: 401/);
    await expect(signIn(user.email, NEW_PASSWORD)).resolves.toBeTruthy();
    // The administrator's own session is untouched.
    expect((await browser.get("/admin/users")).status).toBe(200);

    const audits = await auditRowsFor("user", user.email);
    expect(audits.map((a) => [a.action, a.actorEmail, a.actorUserId, a.siteId, a.changes])).toEqual([
      ["reset_password", admin.email, admin.id, null, {}],
    ]);
    expect(JSON.stringify(audits)).not.toContain(NEW_PASSWORD);
    expect(JSON.stringify(audits)).not.toContain("pbkdf2");

    const page = await (await browser.get(res.headers.get("Location") ?? "")).text();
    expect(textOf(page)).toContain(
      "Password set. Every session of theirs has ended: give them the new password yourself, it is not shown or sent anywhere.",
    );
    expect(page).not.toContain(NEW_PASSWORD);
    // The trail on the user's page: when, who, what.
    expect(textOf(page.slice(page.indexOf('id="audit-trail-heading"')))).toContain(`${admin.email} Password reset`);
  });

  it("offers the form on another user's page, with the policy next to it", async () => {
    const { browser } = await signInGlobalAdmin();
    const target = await createUser();
    const section = elementById(await (await browser.get(`/admin/users/${target.id}`)).text(), "password");
    expect(section).toContain(`action="/admin/users/${target.id}/password"`);
    expect(section).toContain('name="_csrf"');
    expect(textOf(section)).toContain("New password");
    expect(textOf(section)).toContain("Confirm new password");
    expect(textOf(section)).toContain("At least 12 characters.");
  });

  it("clears the account's sign-in failures, so the user's next typo is no longer throttled", async () => {
    const { browser } = await signInGlobalAdmin();
    const target = await createUser();
    const now = Math.floor(Date.now() / SIGN_IN_WINDOW) * SIGN_IN_WINDOW + SIGN_IN_WINDOW / 2;
    const attempt = (password: string, ip: string) =>
      call("/sign-in", {
        method: "POST",
        headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": ip },
        body: formBody({ email: target.email, password }),
        now,
      });
    for (let i = 0; i < SIGN_IN_MAX_FAILURES_PER_ACCOUNT; i++) {
      expect((await attempt(`forgotten ${i}`, `198.51.100.${i + 10}`)).status).toBe(401);
    }
    expect((await attempt("forgotten again", "198.51.100.60")).status).toBe(429);
    expect((await browser.post(`/admin/users/${target.id}/password`, resetForm(), { now })).status).toBe(303);
    expect((await attempt("a typo", "198.51.100.62")).status).toBe(401);
    expect((await attempt(NEW_PASSWORD, "198.51.100.61")).status).toBe(303);
  });

  const invalid = NEW_PASSWORD_REFUSALS;
  for (const [what, overrides, field, message] of invalid) {
    it(`refuses ${what} with 422 next to the field, changing nothing`, async () => {
      const { browser } = await signInGlobalAdmin();
      const { site, user, laptop } = await targetWithTwoSessions();
      const before = await storedHash(user.id);
      const form = resetForm(overrides);
      const res = await browser.post(`/admin/users/${user.id}/password`, form);
      const html = await bodyOf(res, 422);
      expect(fieldError(html, "password", field)).toBe(message);
      expect(textOf(elementById(html, "password"))).toContain("Nothing was saved. Correct the fields marked below.");
      if (form.newPassword) expect(html).not.toContain(form.newPassword);
      expect(await storedHash(user.id)).toBe(before);
      expect(await sessionsOf(user.id)).toHaveLength(2);
      expect((await laptop.get(`/sites/${site.slug}`)).status).toBe(200);
      expect(await auditRowsFor("user", user.email)).toEqual([]);
    });
  }

  it("sends a Global Administrator to their account page for their own password, changing nothing", async () => {
    const { user: admin, browser } = await signInGlobalAdmin();
    const before = await storedHash(admin.id);
    const page = elementById(await (await browser.get(`/admin/users/${admin.id}`)).text(), "password");
    expect(page).not.toContain("<form");
    expect(page).toContain('href="/account/password"');

    for (const form of [resetForm(), resetForm({ newPassword: "short" })]) {
      const res = await browser.post(`/admin/users/${admin.id}/password`, form);
      const html = await bodyOf(res, 409);
      expect(html).toContain('data-error-code="OwnPassword"');
      expect(textOf(elementById(html, "password"))).toContain(
        "Change your own password on your account page: it asks for your current password.",
      );
    }
    expect(await storedHash(admin.id)).toBe(before);
    expect((await browser.get("/admin/users")).status).toBe(200);
    expect(await auditRowsFor("user", admin.email)).toEqual([]);
  });

  it("answers 404 for an unknown user", async () => {
    const { browser } = await signInGlobalAdmin();
    expect((await browser.post("/admin/users/987654321/password", resetForm())).status).toBe(404);
  });

  it("refuses a post without Origin or without the session's token", async () => {
    const { browser } = await signInGlobalAdmin();
    const { user } = await targetWithTwoSessions();
    const before = await storedHash(user.id);
    const noOrigin = await call(`/admin/users/${user.id}/password`, {
      method: "POST",
      headers: { Cookie: browser.cookie, "Content-Type": "application/x-www-form-urlencoded" },
      body: formBody({ _csrf: browser.csrf, ...resetForm() }),
    });
    expect(noOrigin.status).toBe(403);
    const noToken = await call(`/admin/users/${user.id}/password`, {
      method: "POST",
      headers: { Cookie: browser.cookie, Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
      body: formBody(resetForm()),
    });
    expect(noToken.status).toBe(403);
    expect(await storedHash(user.id)).toBe(before);
    expect(await sessionsOf(user.id)).toHaveLength(2);
  });

  it("is closed to Site Administrators and Site Users (403), who change only their own password", async () => {
    const site = await createSite();
    const victim = await createUser({ sites: [[site.id, "site_user"]] });
    const before = await storedHash(victim.id);
    for (const role of ["site_admin", "site_user"] as const) {
      const user = await createUser({ sites: [[site.id, role]] });
      const browser = await signIn(user.email);
      expect((await browser.post(`/admin/users/${victim.id}/password`, resetForm())).status, role).toBe(403);
      expect((await browser.post(`/admin/users/${user.id}/password`, resetForm())).status, role).toBe(403);
      expect((await browser.get("/account/password")).status, role).toBe(200);
    }
    expect(await storedHash(victim.id)).toBe(before);
    expect(await auditRowsFor("user", victim.email)).toEqual([]);
  });
});
