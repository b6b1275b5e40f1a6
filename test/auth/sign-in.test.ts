import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { SIGN_IN_WINDOW } from "../../src/auth/throttle";
import { securityEvents, sessions } from "../../src/db/schema";
import { hashPassword, PBKDF2_ITERATIONS, verifyPassword } from "../../src/lib/crypto";
import { HOUR } from "../../src/lib/time";
import { SESSION_IDLE_TIMEOUT } from "../../src/users/sessions";
import { call, createSite, createUser, db, formBody, ORIGIN, PASSWORD, signIn } from "../helpers/app";
import { bodyOf } from "../helpers/html";

const postSignIn = (email: string, password: string, headers: Record<string, string> = {}, now?: number) =>
  call("/sign-in", {
    method: "POST",
    headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: formBody({ email, password }),
    now,
  });

/** The middle of the current throttle window, so a burst never straddles two windows. */
const midWindow = () => Math.floor(Date.now() / SIGN_IN_WINDOW) * SIGN_IN_WINDOW + SIGN_IN_WINDOW / 2;

describe("password hashing", () => {
  it("uses PBKDF2-SHA256 with 100,000 iterations and a per-user salt", async () => {
    const a = await hashPassword("secret words");
    const b = await hashPassword("secret words");
    expect(a).toMatch(/^pbkdf2_sha256\$100000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(PBKDF2_ITERATIONS).toBe(100_000);
    expect(a).not.toBe(b);
    expect(await verifyPassword("secret words", a)).toBe(true);
    expect(await verifyPassword("Secret words", a)).toBe(false);
  });
});

describe("admin sign-in", () => {
  it("serves the sign-in page to anonymous visitors and redirects pages to it", async () => {
    const page = await call("/sign-in");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Sign in to AlloyScan");
    const redirect = await call("/sites/main");
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get("Location")).toBe("/sign-in?next=%2Fsites%2Fmain");
  });

  it("sets a __Host- session cookie that is Secure, HttpOnly and SameSite=Lax, storing only its hash", async () => {
    const site = await createSite();
    const user = await createUser({ sites: [[site.id, "site_admin"]] });
    const res = await postSignIn(user.email, PASSWORD);
    expect(res.status).toBe(303);
    const cookie = res.headers.get("Set-Cookie") ?? "";
    expect(cookie).toMatch(/^__Host-session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain("Path=/");
    expect(cookie).toContain("Secure");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).not.toContain("Domain=");
    const token = /^__Host-session=([^;]+)/.exec(cookie)?.[1] ?? "";
    const rows = await db().select().from(sessions).where(eq(sessions.userId, user.id)).all();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).not.toBe(token);
    expect(rows[0]?.id).toMatch(/^[0-9a-f]{64}$/);
  });

  it("rejects a wrong password with a generic error and records InvalidCredentials", async () => {
    const user = await createUser();
    const res = await postSignIn(user.email, "wrong password", { "CF-Connecting-IP": "203.0.113.7" });
    const html = await bodyOf(res, 401);
    expect(html).toContain("The email or password is incorrect.");
    expect(res.headers.get("Set-Cookie")).toBeNull();
    const unknown = await postSignIn("nobody@example.test", "whatever", { "CF-Connecting-IP": "203.0.113.7" });
    expect(unknown.status).toBe(401);
    expect(await unknown.text()).toContain("The email or password is incorrect.");
    const events = await db().select().from(securityEvents).where(eq(securityEvents.clientId, user.email)).all();
    expect(events.map((e) => [e.event, e.detailCode, e.ip])).toEqual([
      ["admin_sign_in_failed", "InvalidCredentials", "203.0.113.7"],
    ]);
  });

  it("refuses a disabled user with the same generic error and records UserDisabled", async () => {
    const user = await createUser({ disabled: true });
    const res = await postSignIn(user.email, PASSWORD);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("The email or password is incorrect.");
    const [event] = await db().select().from(securityEvents).where(eq(securityEvents.clientId, user.email)).all();
    expect(event?.detailCode).toBe("UserDisabled");
  });

  it("answers failures for an account past 5 with 429, yet the right password from another IP signs in", async () => {
    const user = await createUser();
    const now = midWindow();
    for (let i = 0; i < 5; i++) {
      expect((await postSignIn(user.email, "nope", { "CF-Connecting-IP": `198.51.100.${i}` }, now)).status).toBe(401);
    }
    const throttled = await postSignIn(user.email, "nope again", { "CF-Connecting-IP": "198.51.100.98" }, now);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await throttled.text()).toContain("Too many failed sign-in attempts");
    const codes = await db().select().from(securityEvents).where(eq(securityEvents.clientId, user.email)).all();
    expect(codes.some((e) => e.detailCode === "TooManyFailures")).toBe(true);
    // The account holder is never locked out by someone else's guesses.
    const real = await postSignIn(user.email, PASSWORD, { "CF-Connecting-IP": "198.51.100.99" }, now);
    expect(real.status).toBe(303);
    // Signing in starts the account afresh: the next typo is an ordinary 401.
    expect((await postSignIn(user.email, "typo", { "CF-Connecting-IP": "198.51.100.99" }, now)).status).toBe(401);
  });

  it("throttles an IP after 20 failures across accounts", async () => {
    const ip = `192.0.2.${100 + Math.floor(Math.random() * 100)}`;
    const now = midWindow();
    for (let i = 0; i < 20; i++) {
      await postSignIn(`spray-${i}-${ip}@example.test`, "nope", { "CF-Connecting-IP": ip }, now);
    }
    const user = await createUser();
    expect((await postSignIn(user.email, PASSWORD, { "CF-Connecting-IP": ip }, now)).status).toBe(429);
    expect((await postSignIn(user.email, PASSWORD, { "CF-Connecting-IP": "2001:db8::202" }, now)).status).toBe(303);
  });

  it("rotates the session at sign-in: the old cookie stops working", async () => {
    const site = await createSite();
    const user = await createUser({ sites: [[site.id, "site_admin"]] });
    const first = await signIn(user.email);
    const res = await call("/sign-in", {
      method: "POST",
      headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded", Cookie: first.cookie },
      body: formBody({ email: user.email, password: PASSWORD }),
    });
    expect(res.status).toBe(303);
    const second = (res.headers.get("Set-Cookie") ?? "").split(";")[0];
    expect(second).not.toBe(first.cookie);
    expect((await first.get(`/sites/${site.slug}`)).status).toBe(303);
    expect((await call(`/sites/${site.slug}`, { headers: { Cookie: second ?? "" } })).status).toBe(200);
  });

  it("only follows same-site next paths", async () => {
    const user = await createUser();
    const res = await call("/sign-in", {
      method: "POST",
      headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
      body: formBody({ email: user.email, password: PASSWORD, next: "//evil.example/" }),
    });
    expect(res.headers.get("Location")).toBe("/");
  });
});

describe("sessions", () => {
  it("end at sign-out, server-side", async () => {
    const site = await createSite();
    const user = await createUser({ sites: [[site.id, "site_admin"]] });
    const browser = await signIn(user.email);
    const out = await browser.post("/sign-out", {});
    expect(out.status).toBe(303);
    expect(out.headers.get("Set-Cookie")).toContain("__Host-session=;");
    expect((await browser.get(`/sites/${site.slug}`)).status).toBe(303);
    expect(await db().select().from(sessions).where(eq(sessions.userId, user.id)).all()).toHaveLength(0);
  });

  it("expire after 8 idle hours and after 7 days in all", async () => {
    const site = await createSite();
    const user = await createUser({ sites: [[site.id, "site_admin"]] });
    const start = Date.now();
    const browser = await signIn(user.email, PASSWORD, start);
    expect((await browser.get(`/sites/${site.slug}`, { now: start + SESSION_IDLE_TIMEOUT - HOUR })).status).toBe(200);
    // Active use keeps it alive past 8 hours since sign-in…
    expect(
      (await browser.get(`/sites/${site.slug}`, { now: start + 2 * SESSION_IDLE_TIMEOUT - 2 * HOUR })).status,
    ).toBe(200);
    // …but 8 idle hours end it.
    expect((await browser.get(`/sites/${site.slug}`, { now: start + 3 * SESSION_IDLE_TIMEOUT })).status).toBe(303);

    const other = await signIn(user.email, PASSWORD, start);
    let t = start;
    while (t < start + 7 * 24 * HOUR - 7 * HOUR) {
      t += 7 * HOUR;
      expect((await other.get(`/sites/${site.slug}`, { now: t })).status).toBe(200);
    }
    expect((await other.get(`/sites/${site.slug}`, { now: start + 7 * 24 * HOUR + 1 })).status).toBe(303);
  });

  it("end when the user is disabled", async () => {
    const site = await createSite();
    const user = await createUser({ sites: [[site.id, "site_admin"]] });
    const browser = await signIn(user.email);
    const { users } = await import("../../src/db/schema");
    await db().update(users).set({ disabled: true }).where(eq(users.id, user.id));
    expect((await browser.get(`/sites/${site.slug}`)).status).toBe(303);
    expect(await db().select().from(sessions).where(eq(sessions.userId, user.id)).all()).toHaveLength(0);
  });
});
