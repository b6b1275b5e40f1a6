import { and, asc, eq } from "drizzle-orm";
import { expect } from "vitest";
import { adminAuditEvents } from "../../src/db/schema";
import { type Browser, createUser, db, HTMX, signIn } from "./app";
import { bodyOf, textOf } from "./html";

/** A signed-in Global Administrator (a fresh account per call). */
export async function signInGlobalAdmin() {
  const user = await createUser({ global: true });
  const browser = await signIn(user.email);
  return { user, browser };
}

/** The outer HTML of the element with this id (`<tr id=…>` rows, `<section id=…>`), or "" when absent. */
export function elementById(html: string, id: string): string {
  const start = html.search(new RegExp(`<(\\w+)[^>]*\\sid="${id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`));
  if (start < 0) return "";
  const tag = /^<(\w+)/.exec(html.slice(start))?.[1] ?? "";
  // Count nested elements of the same tag to find the matching close.
  const re = new RegExp(`<${tag}[\\s>]|</${tag}>`, "g");
  re.lastIndex = start;
  let depth = 0;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    depth += m[0].startsWith("</") ? -1 : 1;
    if (depth === 0) return html.slice(start, m.index + m[0].length);
  }
  return html.slice(start);
}

export { textOf };

/** The message shown next to a field of a re-rendered form. */
export function fieldError(html: string, form: string, name: string): string {
  const match = new RegExp(`<p class="field-error" id="${form}-${name}-error">([^<]*)</p>`).exec(html);
  return match ? textOf(match[1] ?? "") : "";
}

/** The value attribute of an input, as rendered. */
export function inputValue(html: string, form: string, name: string): string | undefined {
  const tag = new RegExp(`<input[^>]*id="${form}-${name}"[^>]*>`).exec(html)?.[0];
  if (!tag) return undefined;
  return /\svalue="([^"]*)"/.exec(tag)?.[1];
}

export async function auditRowsFor(targetType: "site" | "user", label: string) {
  const rows = await db()
    .select()
    .from(adminAuditEvents)
    .where(and(eq(adminAuditEvents.targetType, targetType), eq(adminAuditEvents.targetLabel, label)))
    .orderBy(asc(adminAuditEvents.id))
    .all();
  return rows.map((r) => ({ ...r, changes: JSON.parse(r.changes) as Record<string, [unknown, unknown]> }));
}

export { HTMX };

/**
 * Turns a user's switch (`disabled`, `global-admin`) the way htmx does, from the user's page (answered with the
 * changed section) or from the list (answered with the user's row).
 */
export function toggleUser(
  browser: Browser,
  userId: number,
  toggle: "disabled" | "global-admin",
  value: boolean,
  from: "page" | "row" = "page",
) {
  return browser.post(`/admin/users/${userId}/${toggle}`, { value: String(value), view: from }, { headers: HTMX });
}

/** The htmx fragment an answer carries: 200, starting with `start` (never a whole page). */
export async function fragmentOf(res: Response, start: string): Promise<string> {
  const html = await bodyOf(res, 200);
  expect(html.startsWith(start)).toBe(true);
  return html;
}
