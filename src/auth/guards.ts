import { and, asc, eq } from "drizzle-orm";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import type { AuditActor } from "../audit/admin-audit";
import { createDb } from "../db/client";
import { memberships, sites } from "../db/schema";
import type { AppEnv } from "../env";
import { timingSafeEqual } from "../lib/crypto";
import { isHtmx } from "../lib/htmx";
import { SESSION_COOKIE, validateSessionToken } from "../users/sessions";

/** Loads the session from the cookie (or null) and the Sites the user can reach. */
export const loadSession = createMiddleware<AppEnv>(async (c, next) => {
  c.set("session", null);
  c.set("reachableSites", []);
  const token = getCookie(c, SESSION_COOKIE);
  if (token) {
    const db = createDb(c.env.DB);
    const { session, user } = await validateSessionToken(db, token, c.var.now);
    if (session) {
      c.set("session", { id: session.id, csrfToken: session.csrfToken, user });
      const reachable = user.isGlobalAdmin
        ? await db.select().from(sites).orderBy(asc(sites.name)).all()
        : await db
            .select({ site: sites })
            .from(sites)
            .innerJoin(memberships, eq(memberships.siteId, sites.id))
            .where(eq(memberships.userId, user.id))
            .orderBy(asc(sites.name))
            .all()
            .then((rows) => rows.map((r) => r.site));
      c.set("reachableSites", reachable);
    }
  }
  await next();
});

/** Sends anyone without a session to the sign-in page (htmx requests get a client-side redirect). */
export const requireSignIn = createMiddleware<AppEnv>(async (c, next) => {
  if (c.var.session) return next();
  const url = new URL(c.req.url);
  const target = `/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`;
  if (isHtmx(c)) {
    c.header("HX-Redirect", target);
    return c.body(null, 401);
  }
  if (c.req.method === "GET" || c.req.method === "HEAD") return c.redirect(target, 303);
  return c.text("Sign-in required", 401);
});

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"];

/** §10 CSRF: every state change comes from our own origin, as a form, carrying the session's token. */
export const csrfProtection = createMiddleware<AppEnv>(async (c, next) => {
  if (SAFE_METHODS.has(c.req.method)) return next();
  const origin = c.req.header("Origin");
  const expected = new URL(c.req.url).origin;
  if (origin !== expected) {
    throw new HTTPException(403, { message: "Cross-origin request refused" });
  }
  const contentType = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const hasBody = c.req.method === "POST" || c.req.method === "PATCH" || c.req.method === "PUT";
  if (hasBody && !FORM_TYPES.includes(contentType)) {
    throw new HTTPException(415, { message: "Send the form as application/x-www-form-urlencoded" });
  }
  const session = c.var.session;
  // Sign-in itself has no session token to check yet (the Origin check above still applies).
  if (session && c.req.path !== "/sign-in") {
    let token = c.req.header("X-CSRF-Token") ?? "";
    if (!token && hasBody) {
      const body = await c.req.parseBody();
      token = typeof body._csrf === "string" ? body._csrf : "";
    }
    if (!token || !timingSafeEqual(token, session.csrfToken)) {
      throw new HTTPException(403, { message: "The form has expired. Reload the page and try again." });
    }
  }
  await next();
});

/** Global Administrators only. */
export const requireGlobalAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.var.session?.user.isGlobalAdmin) throw new HTTPException(403, { message: "Global Administrators only" });
  await next();
});

/**
 * Resolves `:site` and the user's role in it. `role: "admin"` lets Site Administrators of that Site and Global
 * Administrators through; `role: "member"` any member. Everyone else: 404 for a Site they cannot see, 403 for a
 * page their role does not allow (§10 RBAC).
 */
export function requireSite(roleFor: (path: string) => "admin" | "member") {
  return createMiddleware<AppEnv>(async (c, next) => {
    const session = c.var.session;
    if (!session) throw new HTTPException(401);
    const slug = c.req.param("site") ?? "";
    const db = createDb(c.env.DB);
    const site = await db.select().from(sites).where(eq(sites.slug, slug)).get();
    if (!site) throw new HTTPException(404, { message: "No such Site" });
    const membership =
      (await db
        .select()
        .from(memberships)
        .where(and(eq(memberships.siteId, site.id), eq(memberships.userId, session.user.id)))
        .get()) ?? null;
    const isGlobal = session.user.isGlobalAdmin;
    if (!membership && !isGlobal) throw new HTTPException(404, { message: "No such Site" });
    const isAdmin = isGlobal || membership?.role === "site_admin";
    // Set before the role check, so a 403 page still has the Site's navigation.
    c.set("siteContext", { site, membership, isAdmin });
    if (roleFor(c.req.path) === "admin" && !isAdmin) {
      throw new HTTPException(403, { message: "Only Site Administrators can open this page" });
    }
    await next();
  });
}

/** Who is acting: the signed-in user, as audit rows record them. Only behind `requireSignIn`; otherwise 401. */
export function actorOf(c: Context<AppEnv>): AuditActor {
  const user = c.var.session?.user;
  if (!user) throw new HTTPException(401);
  return { id: user.id, email: user.email };
}

/** The session's CSRF token, for the forms a page renders. */
export const csrfOf = (c: Context<AppEnv>) => c.var.session?.csrfToken ?? "";
