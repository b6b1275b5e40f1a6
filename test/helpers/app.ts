import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { createDb } from "../../src/db/client";
import { memberships, type Role, sites, users } from "../../src/db/schema";
import { hashPassword } from "../../src/lib/crypto";

export const ORIGIN = "https://admin.alloyscan.test";
export const PASSWORD = "correct horse battery staple";

/** Low-cost hash for fixtures; production hashes use 100,000 iterations (tested in auth tests). */
let fixtureHash: Promise<string> | undefined;
const passwordHash = () => (fixtureHash ??= hashPassword(PASSWORD, 1000));

export const db = () => createDb(env.DB);

let counter = 0;
export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** Calls the real Worker (its default export) the way a browser or API client would. */
export function call(path: string, init: RequestInit & { now?: number } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.now !== undefined) headers.set("X-Test-Now", String(init.now));
  return exports.default.fetch(new Request(new URL(path, ORIGIN), { ...init, headers, redirect: "manual" }));
}

export async function createSite(overrides: Partial<typeof sites.$inferInsert> = {}) {
  const slug = overrides.slug ?? unique("site");
  return db()
    .insert(sites)
    .values({ slug, name: overrides.name ?? `Site ${slug}`, createdAt: Date.now(), ...overrides })
    .returning()
    .get();
}

export async function createUser(
  options: { email?: string; global?: boolean; disabled?: boolean; sites?: [number, Role][] } = {},
) {
  const email = options.email ?? `${unique("user")}@example.test`;
  const user = await db()
    .insert(users)
    .values({
      email,
      name: email,
      passwordHash: await passwordHash(),
      isGlobalAdmin: options.global ?? false,
      disabled: options.disabled ?? false,
      createdAt: Date.now(),
    })
    .returning()
    .get();
  for (const [siteId, role] of options.sites ?? []) {
    await db().insert(memberships).values({ userId: user.id, siteId, role });
  }
  return user;
}

/** htmx request headers for a partial swap (what htmx 4 sends for a targeted element). */
export const HTMX = { "HX-Request": "true", "HX-Request-Type": "partial" } as const;

export interface Browser {
  cookie: string;
  csrf: string;
  get(path: string, init?: RequestInit & { now?: number }): Promise<Response>;
  post(path: string, form: Record<string, string | string[]>, init?: RequestInit & { now?: number }): Promise<Response>;
}

export function formBody(form: Record<string, string | string[]>): URLSearchParams {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) {
    for (const item of Array.isArray(v) ? v : [v]) body.append(k, item);
  }
  return body;
}

/** Signs in through the real sign-in form and returns a cookie-carrying client with the page's CSRF token. */
export async function signIn(email: string, password = PASSWORD, now?: number): Promise<Browser> {
  const res = await call("/sign-in", {
    method: "POST",
    headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
    body: formBody({ email, password }),
    now,
  });
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  const cookie = (res.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
  const page = await call("/", { headers: { Cookie: cookie }, now });
  const landing = page.headers.get("Location") ?? "/";
  const html = await (await call(landing, { headers: { Cookie: cookie }, now })).text();
  const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(html)?.[1] ?? "";
  const client: Browser = {
    cookie,
    csrf,
    get: (path, init = {}) => call(path, { ...init, headers: { Cookie: cookie, ...init.headers } }),
    post: (path, form, init = {}) =>
      call(path, {
        ...init,
        method: "POST",
        headers: {
          Cookie: cookie,
          Origin: ORIGIN,
          "Content-Type": "application/x-www-form-urlencoded",
          ...init.headers,
        },
        body: formBody({ _csrf: csrf, ...form }),
      }),
  };
  return client;
}

/** An anonymous visit of `path` is sent to sign-in, with `next` to come back to it. */
export async function expectSentToSignIn(path: string): Promise<void> {
  const page = await call(path);
  expect(page.status).toBe(303);
  expect(page.headers.get("Location")).toBe(`/sign-in?next=${encodeURIComponent(path)}`);
}
