import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { SignInPage } from "../../views/auth/sign-in";
import { callerIp } from "../audit/security-events";
import { createDb } from "../db/client";
import { users } from "../db/schema";
import type { AppEnv } from "../env";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "../lib/crypto";
import { validForm } from "../lib/forms";
import { createSession, invalidateSession } from "../users/sessions";
import { accountRoutes } from "./account-routes";
import { safeNextPath } from "./next-path";
import { recordPasswordFailure } from "./password-failures";
import { deleteSessionCookie, setSessionCookie } from "./session-cookie";
import { reservePasswordAttempt } from "./throttle";

const GENERIC_ERROR = "The email or password is incorrect.";
const THROTTLED_ERROR = "Too many failed sign-in attempts. Wait a few minutes and try again.";

const signInForm = z.object({
  email: z.string().trim().toLowerCase().max(254).default(""),
  password: z.string().max(1024).default(""),
  next: z.string().max(2048).optional(),
});

export const authRoutes = new Hono<AppEnv>()
  .get("/sign-in", (c) => {
    const next = safeNextPath(c.req.query("next"), new URL(c.req.url).origin);
    if (c.var.session) return c.redirect(next, 303);
    return c.render(<SignInPage next={next === "/" ? "" : next} />, { title: "Sign in" });
  })
  .post(
    "/sign-in",
    validForm(signInForm, (c) => {
      c.status(400);
      return c.render(<SignInPage next="" error="Enter your email and password." />, { title: "Sign in" });
    }),
    async (c) => {
      const { email, password } = c.req.valid("form");
      // Decided before anything is written, so no input can fail the redirect after a session was created.
      const next = safeNextPath(c.req.valid("form").next, new URL(c.req.url).origin);
      const db = createDb(c.env.DB);
      const now = c.var.now;
      const ip = callerIp(c.req);
      const failure = async (
        detailCode: "InvalidCredentials" | "UserDisabled" | "TooManyFailures",
        status: 401 | 429,
        message: string,
      ) => {
        await recordPasswordFailure(c, db, { email, ip, endpoint: "POST /sign-in" }, detailCode, now);
        c.status(status);
        return c.render(<SignInPage next={next === "/" ? "" : next} email={email} error={message} />, {
          title: "Sign in",
        });
      };

      const reservation = await reservePasswordAttempt(db, { email, ip }, now);
      if (reservation.kind === "blocked") return failure("TooManyFailures", 429, THROTTLED_ERROR);

      const user = email ? await db.select().from(users).where(eq(users.email, email)).get() : undefined;
      // Unknown accounts cost the same PBKDF2 work as known ones.
      const passwordOk = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
      if (!user || !passwordOk || user.disabled) {
        // Past the account's budget a failure says so; the right password still got through above.
        if (reservation.accountOverBudget) return failure("TooManyFailures", 429, THROTTLED_ERROR);
        return failure(user && passwordOk ? "UserDisabled" : "InvalidCredentials", 401, GENERIC_ERROR);
      }

      await reservation.release();
      // Rotation: any session this browser had ends; a fresh one starts.
      if (c.var.session) await invalidateSession(db, c.var.session.id);
      const { token } = await createSession(db, user.id, now);
      setSessionCookie(c, token);
      return c.redirect(next, 303);
    },
  )
  .post("/sign-out", async (c) => {
    if (c.var.session) await invalidateSession(createDb(c.env.DB), c.var.session.id);
    deleteSessionCookie(c);
    return c.redirect("/sign-in", 303);
  })
  .route("/account", accountRoutes);
