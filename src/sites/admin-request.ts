import { HTTPException } from "hono/http-exception";
import { validForm } from "../lib/forms";
import { toggleForm } from "./validation";

/** An on/off switch's form (`value=true|false`); the buttons always send one of the two, so anything else is a 422. */
export const validToggle = validForm(toggleForm, () => {
  throw new HTTPException(422, { message: "Send value=true or value=false." });
});
