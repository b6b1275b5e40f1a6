import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  SIGN_IN_MAX_FAILURES_PER_ACCOUNT,
  SIGN_IN_MAX_FAILURES_PER_ACCOUNT_AND_IP,
  SIGN_IN_MAX_FAILURES_PER_IP,
  SIGN_IN_WINDOW,
} from "../../src/auth/throttle";
import { securityEvents, sessions, throttleCounters } from "../../src/db/schema";
import { call, createUser, db, formBody, ORIGIN, PASSWORD, signIn } from "../helpers/app";

/** The middle of the current throttle window, so a burst never straddles two windows. */
const midWindow = () => Math.floor(Date.now() / SIGN_IN_WINDOW) * SIGN_IN_WINDOW + SIGN_IN_WINDOW / 2;

let ipSeed = 0;
/** A fresh documentation-range IPv6 address per call. */
const freshIp = () => `2001:db8:5195:${(Date.now() % 0xffff).toString(16)}::${(++ipSeed).toString(16)}`;

const postSignIn = (email: string, password: string, ip: string, now?: number, next?: string) =>
  call("/sign-in", {
    method: "POST",
    headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": ip },
    body: formBody(next === undefined ? { email, password } : { email, password, next }),
    now,
  });

const statusCounts = (responses: Response[]) => {
  const counts: Record<number, number> = {};
  for (const res of responses) counts[res.status] = (counts[res.status] ?? 0) + 1;
  return counts;
};

const sessionsOf = async (userId: number) => db().select().from(sessions).where(eq(sessions.userId, userId)).all();

describe("sign-in throttling cannot lock out the account holder", () => {
  it("signs in with the right password from an unblocked IP while the account is under attack from other IPs", async () => {
    const admin = await createUser({ global: true });
    const now = midWindow();
    const attack = Array.from({ length: 40 }, () => postSignIn(admin.email, "guess", freshIp(), now));
    const real = postSignIn(admin.email, PASSWORD, freshIp(), now);
    const [answer, ...refused] = await Promise.all([real, ...attack]);
    expect(answer?.status).toBe(303);
    expect(answer?.headers.get("Set-Cookie")).toMatch(/^__Host-session=/);
    expect(refused.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    // And again after the burst, when the account's budget is certainly spent.
    for (let i = 0; i < 10; i++) await postSignIn(admin.email, `guess ${i}`, freshIp(), now);
    expect((await postSignIn(admin.email, PASSWORD, freshIp(), now)).status).toBe(303);
  });

  it("answers at most the account's budget of 401s to 100 parallel wrong passwords from 100 IPs, the rest 429", async () => {
    const user = await createUser();
    const now = midWindow();
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => postSignIn(user.email, `guess ${i}`, freshIp(), now)),
    );
    const counts = statusCounts(responses);
    expect(counts[401] ?? 0).toBeLessThanOrEqual(SIGN_IN_MAX_FAILURES_PER_ACCOUNT + 2);
    expect(counts[401]).toBe(SIGN_IN_MAX_FAILURES_PER_ACCOUNT);
    expect(counts[429]).toBe(100 - SIGN_IN_MAX_FAILURES_PER_ACCOUNT);
    // The counter saturates at the budget instead of counting every attempt past it.
    const account = await db()
      .select()
      .from(throttleCounters)
      .where(eq(throttleCounters.key, `signin:account:${user.email}`))
      .get();
    expect(account?.count).toBe(SIGN_IN_MAX_FAILURES_PER_ACCOUNT);
    // Every refused attempt is a security-log row (coalesced per IP and code).
    const events = await db().select().from(securityEvents).where(eq(securityEvents.clientId, user.email)).all();
    const total = (code: string) => events.filter((e) => e.detailCode === code).reduce((n, e) => n + e.count, 0);
    expect(total("InvalidCredentials")).toBe(SIGN_IN_MAX_FAILURES_PER_ACCOUNT);
    expect(total("TooManyFailures")).toBe(100 - SIGN_IN_MAX_FAILURES_PER_ACCOUNT);
  });

  it("checks at most the per-account-and-IP budget of 100 parallel wrong passwords from one IP", async () => {
    const user = await createUser();
    const ip = freshIp();
    const now = midWindow();
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => postSignIn(user.email, `guess ${i}`, ip, now)),
    );
    const counts = statusCounts(responses);
    expect(counts[401] ?? 0).toBeLessThanOrEqual(SIGN_IN_MAX_FAILURES_PER_ACCOUNT_AND_IP + 2);
    expect((counts[401] ?? 0) + (counts[429] ?? 0)).toBe(100);
    const pair = await db()
      .select()
      .from(throttleCounters)
      .where(eq(throttleCounters.key, `signin:account:${user.email}|ip:${ip}`))
      .get();
    expect(pair?.count).toBe(SIGN_IN_MAX_FAILURES_PER_ACCOUNT_AND_IP);
    // That IP is refused for this account even with the right password; another IP is not.
    expect((await postSignIn(user.email, PASSWORD, ip, now)).status).toBe(429);
    expect((await postSignIn(user.email, PASSWORD, freshIp(), now)).status).toBe(303);
  });

  it("blocks an IP spraying 100 parallel attempts over many accounts after its budget, right passwords included", async () => {
    const ip = freshIp();
    const now = midWindow();
    const victims = await Promise.all(Array.from({ length: 10 }, () => createUser()));
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => postSignIn(victims[i % 10]?.email ?? "", `spray ${i}`, ip, now)),
    );
    const counts = statusCounts(responses);
    expect(counts[401] ?? 0).toBeLessThanOrEqual(SIGN_IN_MAX_FAILURES_PER_IP + 2);
    const byIp = await db()
      .select()
      .from(throttleCounters)
      .where(eq(throttleCounters.key, `signin:ip:${ip}`))
      .get();
    expect(byIp?.count).toBe(SIGN_IN_MAX_FAILURES_PER_IP);
    const fresh = await createUser();
    expect((await postSignIn(fresh.email, PASSWORD, ip, now)).status).toBe(429);
    expect((await postSignIn(fresh.email, PASSWORD, freshIp(), now)).status).toBe(303);
  });

  it("gives the IP's reservation back on success, so an office of colleagues signing in is never throttled", async () => {
    const ip = freshIp();
    const now = midWindow();
    const colleagues = await Promise.all(Array.from({ length: SIGN_IN_MAX_FAILURES_PER_IP + 5 }, () => createUser()));
    for (const colleague of colleagues) expect((await postSignIn(colleague.email, PASSWORD, ip, now)).status).toBe(303);
    const byIp = await db()
      .select()
      .from(throttleCounters)
      .where(and(eq(throttleCounters.key, `signin:ip:${ip}`)))
      .get();
    expect(byIp?.count ?? 0).toBe(0);
    // Successes leave no account rows behind either.
    const rows = await db()
      .select()
      .from(throttleCounters)
      .where(like(throttleCounters.key, `signin:account:${colleagues[0]?.email}%`))
      .all();
    expect(rows).toEqual([]);
  });
});

describe("next= after sign-in is a path of this origin, or /", () => {
  /** Inputs that must land on "/". */
  const hostile = [
    "/\t/evil.example/phish",
    "/\r/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t/evil.example",
    "//evil.example/phish",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "/./\\evil.example",
    "/.//evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https://evil.example/phish",
    "http:evil.example",
    "evil.example",
    "%2F%2Fevil.example",
    "%252F%252Fevil.example",
    "%2F%09%2Fevil.example",
    "/\u0000/evil.example",
    "/\u007f",
    "/\u0085/evil.example",
    " //evil.example",
  ];

  const landsHome = (res: Response) => {
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/");
  };

  it("ignores every hostile next when signing in, answers 303 and creates one session per sign-in", async () => {
    const user = await createUser();
    for (const next of hostile) {
      const res = await postSignIn(user.email, PASSWORD, freshIp(), undefined, next);
      landsHome(res);
    }
    expect(await sessionsOf(user.id)).toHaveLength(hostile.length);
  });

  it("ignores every hostile next for a signed-in visitor of /sign-in, raw or percent-encoded in the query", async () => {
    const user = await createUser();
    const browser = await signIn(user.email);
    for (const next of [...hostile, "%0A%2Fevil.example"]) {
      landsHome(await browser.get(`/sign-in?next=${encodeURIComponent(next)}`));
    }
    // The issue's own reproductions, exactly as sent.
    landsHome(await browser.get("/sign-in?next=%2F%09%2Fevil.example%2Fphish"));
    landsHome(await browser.get("/sign-in?next=%2F%0A%2Fevil.example"));
    landsHome(await browser.get("/sign-in?next=%2F%0D%0A%2Fevil.example"));
  });

  it("never answers 500 nor leaves a session behind for a newline in next", async () => {
    const user = await createUser();
    const res = await postSignIn(user.email, PASSWORD, freshIp(), undefined, "/\n/x");
    landsHome(res);
    expect(await sessionsOf(user.id)).toHaveLength(1);
  });

  it("keeps a path of this origin with its query and fragment, also an encoded one that stays a path", async () => {
    const user = await createUser();
    for (const [next, expected] of [
      ["/sites/main/settings/iam/app-registrations?state=expired&sort=name", null],
      ["/admin/users#top", null],
      ["/%2F%2Fevil.example", null],
      // An absolute URL, even of this origin, is not a path.
      [`${ORIGIN}/admin/sites`, "/"],
    ] as const) {
      const res = await postSignIn(user.email, PASSWORD, freshIp(), undefined, next);
      expect(res.status).toBe(303);
      expect(res.headers.get("Location")).toBe(expected ?? next);
      expect(new URL(res.headers.get("Location") ?? "", ORIGIN).origin).toBe(ORIGIN);
    }
  });

  it("keeps next in the sign-in form only when it is safe", async () => {
    const safe = await (await call(`/sign-in?next=${encodeURIComponent("/admin/users")}`)).text();
    expect(safe).toContain('name="next" value="/admin/users"');
    const hostileForm = await (await call("/sign-in?next=%2F%09%2Fevil.example")).text();
    expect(hostileForm).toContain('name="next" value=""');
  });
});
