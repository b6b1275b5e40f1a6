import type { AppRegistration } from "../../src/db/schema";
import type { BulkAction } from "../../src/registrations/service";
import { CsrfField } from "../components/form";

/** What each bulk action does, as the confirmation page's heading and button say it. */
export const BULK_VERBS: Record<BulkAction, string> = {
  disable: "Disable",
  enable: "Enable",
  extend: "Extend",
  delete: "Delete",
};

const CONSEQUENCES: Record<BulkAction, string> = {
  disable:
    "Token requests with these Client IDs fail until they are enabled again. Issued tokens stay valid until they expire.",
  enable: "These registrations accept token requests again, until their Expiration dates.",
  extend:
    "Each Expiration date moves later by the days chosen, counted from today for one that has already expired. Client IDs and secrets stay the same.",
  delete:
    "These Client IDs stop working at once and their secrets and keys are destroyed. This cannot be undone. Security-log rows about them stay.",
};

export interface BulkRow {
  registration: AppRegistration;
  /** For an extension: the new Expiration date. */
  newDate?: string;
  /** Why this row is left as it is ("already disabled"), or why the action cannot be done (`blocking`). */
  note?: string;
}

const plural = (n: number) => (n === 1 ? "1 App registration" : `${n} App registrations`);

/**
 * The confirmation of a bulk action: every selected registration named, with what happens to it. Confirming posts the
 * same selection again with `confirmed=yes`; without JavaScript this page is the confirmation.
 */
export function BulkConfirmPage(props: {
  action: BulkAction;
  days?: number;
  rows: BulkRow[];
  /** Problems that stop the action: shown instead of the confirm button. */
  problems: string[];
  formAction: string;
  cancelHref: string;
  returnTo: string;
  csrfToken: string;
}) {
  const { action, rows } = props;
  const verb = BULK_VERBS[action];
  const affected = rows.filter((r) => !r.note).length;
  const heading =
    action === "extend" ? `Extend ${plural(rows.length)} by ${props.days} days?` : `${verb} ${plural(rows.length)}?`;
  return (
    <section class="catalog card bulk-confirm">
      <h1>{heading}</h1>
      <p>{CONSEQUENCES[action]}</p>
      {props.problems.length > 0 ? (
        <div class="form-error" role="alert">
          <p>Nothing was changed:</p>
          <ul>
            {props.problems.map((p) => (
              <li>{p}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <ul class="bulk-list">
        {rows.map((r) => (
          <li>
            <strong>{r.registration.name}</strong> <code>{r.registration.clientId}</code>
            {r.newDate ? (
              <span>
                {" "}
                — {r.registration.expirationDate} → {r.newDate}
              </span>
            ) : null}
            {r.note ? <span class="muted"> — {r.note}</span> : null}
          </li>
        ))}
      </ul>
      <form method="post" action={props.formAction} class="form-actions">
        <CsrfField token={props.csrfToken} />
        {rows.map((r) => (
          <input type="hidden" name="ids" value={String(r.registration.id)} />
        ))}
        <input type="hidden" name="action" value={action} />
        {props.days !== undefined ? <input type="hidden" name="days" value={String(props.days)} /> : null}
        <input type="hidden" name="returnTo" value={props.returnTo} />
        <input type="hidden" name="confirmed" value="yes" />
        {props.problems.length === 0 && affected > 0 ? (
          <button type="submit" class={action === "delete" || action === "disable" ? "danger" : "primary"}>
            {verb} {plural(affected)}
          </button>
        ) : null}
        <a href={props.cancelHref}>{props.problems.length === 0 && affected > 0 ? "Cancel" : "Back to the grid"}</a>
      </form>
    </section>
  );
}
