import { Hono } from "hono";
import { CHANGE_PASSWORD_PATH, ChangePasswordPage } from "../../views/auth/change-password";
import type { Errors } from "../../views/components/form";
import { callerIp } from "../audit/security-events";
import { createDb } from "../db/client";
import type { AppEnv } from "../env";
import { hashPassword, verifyPassword } from "../lib/crypto";
import { type AdminContext, validForm } from "../lib/forms";
import { changeOwnPassword, changePasswordForm } from "../users/passwords";
import { requireSignIn } from "./guards";
import { recordPasswordFailure } from "./password-failures";
import { setSessionCookie } from "./session-cookie";
import { reservePasswordAttempt } from "./throttle";

const NOTICES: Record<string, string> = {
  changed: "Password changed. Every other session of yours has ended; you are still signed in here.",
};

function renderPage(c: AdminContext, status: 200 | 409 | 422 | 429, errors: Errors = {}) {
  const session = c.var.session;
  c.status(status);
  return c.render(
    <ChangePasswordPage
      email={session?.user.email ?? ""}
      csrf={session?.csrfToken ?? ""}
      errors={errors}
      notice={status === 200 ? NOTICES[c.req.query("notice") ?? ""] : undefined}
    />,
    { title: "Change password" },
  );
}

/** The signed-in user's own account: changing their password (any role). */
export const accountRoutes = new Hono<AppEnv>()
  .use(requireSignIn)
  .get("/password", (c) => renderPage(c, 200))
  .post(
    "/password",
    validForm(changePasswordForm, (c, _typed, errors) => renderPage(c, 422, errors)),
    async (c) => {
      const user = c.var.session?.user;
      if (!user) return c.text("Sign-in required", 401);
      const { currentPassword, newPassword } = c.req.valid("form");
      const db = createDb(c.env.DB);
      const now = c.var.now;
      const attempt = { email: user.email, ip: callerIp(c.req) };
      // Guessing the current password here is guessing it at sign-in: same throttle, same security-log rows.
      const refuse = async (detailCode: "InvalidCredentials" | "TooManyFailures", message: string) => {
        await recordPasswordFailure(c, db, { ...attempt, endpoint: `POST ${CHANGE_PASSWORD_PATH}` }, detailCode, now);
        return renderPage(c, detailCode === "TooManyFailures" ? 429 : 422, { currentPassword: message });
      };

      const reservation = await reservePasswordAttempt(db, attempt, now);
      const throttled = "Too many wrong passwords. Wait a few minutes and try again.";
      if (reservation.kind === "blocked") return refuse("TooManyFailures", throttled);
      if (!(await verifyPassword(currentPassword, user.passwordHash))) {
        if (reservation.accountOverBudget) return refuse("TooManyFailures", throttled);
        return refuse("InvalidCredentials", "The current password is incorrect.");
      }
      await reservation.release();
      if (newPassword === currentPassword) {
        return renderPage(c, 422, { newPassword: "Choose a password other than your current one." });
      }

      const result = await changeOwnPassword(db, user, user.passwordHash, await hashPassword(newPassword), now);
      if (!result.ok) {
        return renderPage(c, 409, {
          _form: "Your password was changed somewhere else at the same time. Nothing was saved here: sign in again.",
        });
      }
      setSessionCookie(c, result.token);
      return c.redirect(`${CHANGE_PASSWORD_PATH}?notice=changed`, 303);
    },
  );
