import { HTTPException } from "hono/http-exception";
import type { Actor } from "./audit";
import { type AdminContext, validForm } from "./forms";
import { toggleForm } from "./validation";

/** The signed-in Global Administrator, as the audit trail records them. */
export function actorOf(c: AdminContext): Actor {
  const user = c.var.session?.user;
  if (!user) throw new HTTPException(401);
  return { id: user.id, email: user.email };
}

export const csrfOf = (c: AdminContext) => c.var.session?.csrfToken ?? "";

/** An on/off switch's form (`value=true|false`); the buttons always send one of the two, so anything else is a 422. */
export const validToggle = validForm(toggleForm, () => {
  throw new HTTPException(422, { message: "Send value=true or value=false." });
});
