import { and, eq } from "drizzle-orm";
import { adminAuditEvents, appRegistrations, type Role, type Site, type sites } from "../../src/db/schema";
import { DAY } from "../../src/lib/time";
import { type Browser, call, createSite, createUser, db, formBody, HTMX, ORIGIN, signIn, unique } from "./app";
import { textOf } from "./html";

/** A pinned "now" for the catalog tests: Wednesday 15 January 2031, 12:00 UTC. */
export const NOW = Date.UTC(2031, 0, 15, 12, 0);
export { DAY };

export const gridPath = (site: Pick<Site, "slug">) => `/sites/${site.slug}/settings/iam/app-registrations`;
export const regPath = (site: Pick<Site, "slug">, id: number) => `${gridPath(site)}/${id}`;

export { HTMX };

/** A signed-in client whose every request carries the same pinned time. */
export interface Client extends Browser {
  userId: number;
  email: string;
}

export async function clientFor(role: Role | "global", site: Site | null, now = NOW): Promise<Client> {
  const email = `${unique(role)}@example.test`;
  const user = await createUser({
    email,
    global: role === "global",
    sites: site && role !== "global" ? [[site.id, role]] : [],
  });
  const browser = await signIn(email, undefined, now);
  return {
    ...browser,
    userId: user.id,
    email,
    get: (path, init = {}) => browser.get(path, { now, ...init }),
    post: (path, form, init = {}) => browser.post(path, form, { now, ...init }),
  };
}

/** A fresh Site (own zone) with one Site Administrator signed in. */
export async function siteWithAdmin(overrides: Partial<typeof sites.$inferInsert> = {}) {
  const site = await createSite(overrides);
  const admin = await clientFor("site_admin", site);
  return { site, admin };
}

/** A valid create form, as the browser sends it (date 90 days after NOW). */
export function createForm(overrides: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  return {
    name: unique("Backup script"),
    description: "Pulls the device list nightly",
    expirationDate: "2031-04-15",
    enabled: "on",
    scopes: ["devices:read"],
    lifetimeMinutes: "60",
    ...overrides,
  };
}

export const SECRET_IN_PAGE = /id="client-secret"[^>]*value="(asc_[A-Za-z0-9_-]{43})"/;
export const CLIENT_ID_IN_PAGE = /id="client-id"[^>]*value="([0-9a-f-]{36})"/;

/** Creates a registration through the form; returns the response, its page, the secret and the stored row. */
export async function createThroughForm(client: Client, site: Site, overrides: Record<string, string | string[]> = {}) {
  const res = await client.post(`${gridPath(site)}/new`, createForm(overrides));
  const html = await res.text();
  const secret = SECRET_IN_PAGE.exec(html)?.[1];
  const clientId = CLIENT_ID_IN_PAGE.exec(html)?.[1];
  const row = clientId
    ? await db().select().from(appRegistrations).where(eq(appRegistrations.clientId, clientId)).get()
    : undefined;
  return { res, html, secret, clientId, row };
}

export async function registrationsOf(siteId: number) {
  return db().select().from(appRegistrations).where(eq(appRegistrations.siteId, siteId)).all();
}

export async function auditOf(siteId: number, registrationId: number) {
  return db()
    .select()
    .from(adminAuditEvents)
    .where(and(eq(adminAuditEvents.siteId, siteId), eq(adminAuditEvents.registrationId, registrationId)))
    .orderBy(adminAuditEvents.id)
    .all();
}

/** The version hidden field of an edit form. */
export function versionIn(html: string): string {
  return /name="version" value="([0-9a-f]{16})"/.exec(html)?.[1] ?? "";
}

/** A POST that skips the CSRF token (to show the guard still stands in front of the catalog). */
export function postWithoutToken(client: Client, path: string, form: Record<string, string>) {
  return call(path, {
    method: "POST",
    headers: { Cookie: client.cookie, Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
    body: formBody(form),
    now: NOW,
  });
}

export { textOf };

/**
 * The rows of the grid's table body, in order: each row's cell texts, without the row's selection box and the Copy
 * buttons (which only show with JavaScript).
 */
export function gridRows(html: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? "";
  return [...body.matchAll(/<tr[^>]*data-registration-id[^>]*>([\s\S]*?)<\/tr>/g)].map((m) =>
    [...(m[1] ?? "").matchAll(/<td(?! class="select")[^>]*>([\s\S]*?)<\/td>/g)].map((c) =>
      (c[1] ?? "")
        .replace(/<button[^>]*>[\s\S]*?<\/button>/g, "")
        .replace(/<[^>]+>/g, "")
        .replace(/&amp;/g, "&")
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/\s+/g, " ")
        .trim(),
    ),
  );
}

/** The column headers of the grid, in order. */
export function gridHeaders(html: string): string[] {
  const head = /<thead>([\s\S]*?)<\/thead>/.exec(html)?.[1] ?? "";
  return [...head.matchAll(/<th(?![^>]*class="select")[^>]*>([\s\S]*?)<\/th>/g)].map((m) =>
    (m[1] ?? "")
      .replace(/<span aria-hidden="true">[^<]*<\/span>/g, "")
      .replace(/<[^>]+>/g, "")
      .trim(),
  );
}

export const days = (n: number) => n * DAY;
