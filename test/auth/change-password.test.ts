import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { SIGN_IN_MAX_FAILURES_PER_ACCOUNT, SIGN_IN_WINDOW } from "../../src/auth/throttle";
import { securityEvents, sessions, users } from "../../src/db/schema";
import { hashPassword, sha256Hex, verifyPassword } from "../../src/lib/crypto";
import { changeOwnPassword } from "../../src/users/passwords";
import { auditRowsFor, fieldError, textOf } from "../helpers/admin-pages";
import {
  type Browser,
  call,
  createSite,
  createUser,
  db,
  formBody,
  ORIGIN,
  PASSWORD,
  signIn,
  unique,
} from "../helpers/app";
import { NEW_PASSWORD_REFUSALS, type RefusedForm } from "../helpers/passwords";

const PATH = "/account/password";
const NEW_PASSWORD = "a longer passphrase for the plant";

const storedHash = async (userId: number) =>
  (await db().select({ hash: users.passwordHash }).from(users).where(eq(users.id, userId)).get())?.hash ?? "";
const sessionsOf = (userId: number) => db().select().from(sessions).where(eq(sessions.userId, userId)).all();

/** A fresh Site User, signed in twice: the browser that changes the password, and another device. */
async function siteUserWithTwoSessions() {
  const site = await createSite();
  const user = await createUser({ sites: [[site.id, "site_user"]] });
  const here = await signIn(user.email);
  const elsewhere = await signIn(user.email);
  return { site, user, here, elsewhere };
}

/** A distinct caller IP per test, so the per-IP sign-in throttle of one test never reaches another. */
const ipHeader = () => ({
  "CF-Connecting-IP": `198.18.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
});

const change = (browser: Browser, form: Record<string, string>, init: RequestInit & { now?: number } = {}) =>
  browser.post(
    PATH,
    { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD, ...form },
    { ...init, headers: { ...ipHeader(), ...init.headers } },
  );

/** The session cookie a response sets, as a Cookie header. */
const cookieFrom = (res: Response) => (res.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";

/** The middle of the current throttle window, so a burst never straddles two windows. */
const midWindow = () => Math.floor(Date.now() / SIGN_IN_WINDOW) * SIGN_IN_WINDOW + SIGN_IN_WINDOW / 2;

describe("changing one's own password", () => {
  it("is linked from the signed-in user's email in the header, for every role", async () => {
    const { site, here } = await siteUserWithTwoSessions();
    const html = await (await here.get(`/sites/${site.slug}`)).text();
    expect(html).toMatch(/<a class="user-email" href="\/account\/password"[^>]*>/);
    const page = await here.get(PATH);
    expect(page.status).toBe(200);
    const text = textOf(await page.text());
    expect(text).toContain("Change your password");
    expect(text).toContain("Current password");
    expect(text).toContain("Confirm new password");
    expect(text).toContain("At least 12 characters.");
  });

  it("sends anonymous visitors to sign in and refuses their posts", async () => {
    const page = await call(PATH);
    expect(page.status).toBe(303);
    expect(page.headers.get("Location")).toBe("/sign-in?next=%2Faccount%2Fpassword");
    const post = await call(PATH, {
      method: "POST",
      headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
      body: formBody({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }),
    });
    expect(post.status).toBe(401);
  });

  it("stores a new PBKDF2 hash, ends every other session and keeps this browser signed in on a new token", async () => {
    const { site, user, here, elsewhere } = await siteUserWithTwoSessions();
    const before = await storedHash(user.id);
    const res = await change(here, {});
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`${PATH}?notice=changed`);

    const after = await storedHash(user.id);
    expect(after).not.toBe(before);
    expect(after).toMatch(/^pbkdf2_sha256\$100000\$/);
    expect(await verifyPassword(NEW_PASSWORD, after)).toBe(true);
    expect(await verifyPassword(PASSWORD, after)).toBe(false);

    // Rotated: a new __Host- cookie; the old token and the other device's are dead server-side.
    const setCookie = res.headers.get("Set-Cookie") ?? "";
    expect(setCookie).toMatch(/^__Host-session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("Secure");
    const cookie = cookieFrom(res);
    expect(cookie).not.toBe(here.cookie);
    const rows = await sessionsOf(user.id);
    expect(rows.map((r) => r.id)).toEqual([await sha256Hex(cookie.slice("__Host-session=".length))]);
    expect(rows[0]?.csrfToken).not.toBe(here.csrf);
    expect((await here.get(`/sites/${site.slug}`)).status).toBe(303);
    expect((await elsewhere.get(`/sites/${site.slug}`)).status).toBe(303);
    expect((await call(`/sites/${site.slug}`, { headers: { Cookie: cookie } })).status).toBe(200);

    const page = await (await call(`${PATH}?notice=changed`, { headers: { Cookie: cookie } })).text();
    expect(textOf(page)).toContain(
      "Password changed. Every other session of yours has ended; you are still signed in here.",
    );
    expect(page).toContain(`<meta name="csrf-token" content="${rows[0]?.csrfToken}"`);

    // Sign-in takes the new password and no longer the old one.
    await expect(signIn(user.email, PASSWORD)).rejects.toThrow(/sign-in failed: 401/);
    await expect(signIn(user.email, NEW_PASSWORD)).resolves.toBeTruthy();
  });

  it("is audited as the user's own change, without the password or a hash", async () => {
    const { user, here } = await siteUserWithTwoSessions();
    expect((await change(here, {})).status).toBe(303);
    const audits = await auditRowsFor("user", user.email);
    expect(audits.map((a) => [a.action, a.actorEmail, a.actorUserId, a.siteId, a.changes])).toEqual([
      ["change_password", user.email, user.id, null, {}],
    ]);
    const stored = JSON.stringify(audits);
    expect(stored).not.toContain(PASSWORD);
    expect(stored).not.toContain(NEW_PASSWORD);
    expect(stored).not.toContain("pbkdf2");
  });

  it("works for a Global Administrator too, who then sees it in their own trail", async () => {
    const admin = await createUser({ global: true });
    const browser = await signIn(admin.email);
    const res = await change(browser, {});
    expect(res.status).toBe(303);
    const cookie = cookieFrom(res);
    const page = await (await call(`/admin/users/${admin.id}`, { headers: { Cookie: cookie } })).text();
    expect(textOf(page)).toMatch(new RegExp(`${admin.email.replace(/\./g, "\\.")} Password changed`));
  });

  const invalid: RefusedForm[] = [
    ["no current password", { currentPassword: "" }, "currentPassword", "Enter your current password."],
    ...NEW_PASSWORD_REFUSALS,
    [
      "the current password again",
      { newPassword: PASSWORD, confirmPassword: PASSWORD },
      "newPassword",
      "Choose a password other than your current one.",
    ],
    [
      "a wrong current password",
      { currentPassword: "not my password" },
      "currentPassword",
      "The current password is incorrect.",
    ],
  ];
  for (const [what, form, field, message] of invalid) {
    it(`refuses ${what} with 422 next to the field, changing nothing`, async () => {
      const { site, user, here, elsewhere } = await siteUserWithTwoSessions();
      const before = await storedHash(user.id);
      const res = await change(here, form);
      expect(res.status).toBe(422);
      expect(res.headers.get("Set-Cookie")).toBeNull();
      const html = await res.text();
      expect(fieldError(html, "account", field)).toBe(message);
      expect(html).toContain("Nothing was saved. Correct the fields marked below.");
      for (const typed of Object.values(form)) if (typed) expect(html).not.toContain(`value="${typed}"`);
      expect(await storedHash(user.id)).toBe(before);
      expect(await sessionsOf(user.id)).toHaveLength(2);
      expect((await here.get(`/sites/${site.slug}`)).status).toBe(200);
      expect((await elsewhere.get(`/sites/${site.slug}`)).status).toBe(200);
      expect(await auditRowsFor("user", user.email)).toEqual([]);
    });
  }

  it("writes nothing when the password changed after it was verified (two changes at once)", async () => {
    const { user } = await siteUserWithTwoSessions();
    const before = await storedHash(user.id);
    const stale = await hashPassword("an older password of theirs", 1000);
    const result = await changeOwnPassword(db(), user, stale, await hashPassword(NEW_PASSWORD, 1000), Date.now());
    expect(result).toEqual({ ok: false, code: "Conflict" });
    expect(await storedHash(user.id)).toBe(before);
    expect(await sessionsOf(user.id)).toHaveLength(2);
    expect(await auditRowsFor("user", user.email)).toEqual([]);
  });

  it("ignores fields that are not on the form", async () => {
    const { user, here } = await siteUserWithTwoSessions();
    const res = await change(here, { passwordHash: "pbkdf2_sha256$1$AAAA$AAAA", userId: "1", isGlobalAdmin: "on" });
    expect(res.status).toBe(303);
    expect(await verifyPassword(NEW_PASSWORD, await storedHash(user.id))).toBe(true);
    expect((await db().select().from(users).where(eq(users.id, user.id)).get())?.isGlobalAdmin).toBe(false);
  });
});

describe("guessing the current password", () => {
  it("counts as failed sign-ins: logged, and throttled with sign-in after 5 per account", async () => {
    const { user, here } = await siteUserWithTwoSessions();
    const before = await storedHash(user.id);
    const now = midWindow();
    for (let i = 0; i < SIGN_IN_MAX_FAILURES_PER_ACCOUNT; i++) {
      const res = await change(
        here,
        { currentPassword: `guess ${i}` },
        { now, headers: { "CF-Connecting-IP": `203.0.113.${i}` } },
      );
      expect(res.status).toBe(422);
    }
    // Further wrong guesses are refused as throttled, from any IP…
    const blocked = await change(
      here,
      { currentPassword: "guess again" },
      { now, headers: { "CF-Connecting-IP": "203.0.113.200" } },
    );
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(fieldError(await blocked.text(), "account", "currentPassword")).toBe(
      "Too many wrong passwords. Wait a few minutes and try again.",
    );
    expect(await storedHash(user.id)).toBe(before);
    // …and the same budget counts at sign-in: a wrong password there is throttled too.
    const signInAttempt = await call("/sign-in", {
      method: "POST",
      headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded", ...ipHeader() },
      body: formBody({ email: user.email, password: "not it" }),
      now,
    });
    expect(signInAttempt.status).toBe(429);

    const events = await db()
      .select()
      .from(securityEvents)
      .where(and(eq(securityEvents.clientId, user.email), eq(securityEvents.endpoint, `POST ${PATH}`)))
      .all();
    expect(
      events.filter((e) => e.detailCode === "InvalidCredentials").map((e) => [e.event, e.siteId, e.count]),
    ).toEqual(Array.from({ length: SIGN_IN_MAX_FAILURES_PER_ACCOUNT }, () => ["admin_sign_in_failed", null, 1]));
    expect(events.some((e) => e.detailCode === "TooManyFailures")).toBe(true);
  });
});

describe("changing one's own password: CSRF", () => {
  it("refuses a post without Origin, from another origin, or without the session's token", async () => {
    const { user, here } = await siteUserWithTwoSessions();
    const before = await storedHash(user.id);
    const form = { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD };
    const noOrigin = await call(PATH, {
      method: "POST",
      headers: { Cookie: here.cookie, "Content-Type": "application/x-www-form-urlencoded" },
      body: formBody({ _csrf: here.csrf, ...form }),
    });
    expect(noOrigin.status).toBe(403);
    expect((await change(here, {}, { headers: { Origin: "https://evil.example" } })).status).toBe(403);
    const noToken = await call(PATH, {
      method: "POST",
      headers: { Cookie: here.cookie, Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
      body: formBody(form),
    });
    expect(noToken.status).toBe(403);
    expect(await noToken.text()).toContain("The form has expired");
    expect((await change(here, { _csrf: unique("x").padEnd(43, "x") })).status).toBe(403);
    expect(await storedHash(user.id)).toBe(before);
    expect(await sessionsOf(user.id)).toHaveLength(2);
  });
});
