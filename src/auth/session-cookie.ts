import type { Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { SESSION_ABSOLUTE_TIMEOUT, SESSION_COOKIE } from "../users/sessions";

/** §10: `__Host-` prefixed, Secure, HttpOnly, SameSite=Lax, the whole site, as long as the session can live. */
export function setSessionCookie(c: Context, token: string): void {
  setCookie(c, SESSION_COOKIE, token, {
    path: "/",
    secure: true,
    httpOnly: true,
    sameSite: "Lax",
    maxAge: SESSION_ABSOLUTE_TIMEOUT / 1000,
  });
}

export function deleteSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true });
}
