import { describe, expect, it } from "vitest";
import {
  clientFor,
  createForm,
  createThroughForm,
  DAY,
  gridPath,
  HTMX,
  NOW,
  regPath,
  siteWithAdmin,
} from "../helpers/registration-pages";
import { createRegistration } from "../helpers/registrations";

const PAYLOADS = ["<img src=x onerror=alert(1)>", '"><script>alert(1)</script>'];

/** What the raw payload must never be in markup: any tag it would open. */
function expectInert(html: string, label: string) {
  expect(html, label).not.toContain("<img src=x");
  expect(html, label).not.toContain("<script>alert(1)");
  expect(html, label).not.toMatch(/"><script/);
}

describe("an XSS payload as a Name is rendered inert everywhere (§10)", () => {
  for (const payload of PAYLOADS) {
    it(`escapes ${payload} in the secret page, grid, page, form, audit trail, banner and views`, async () => {
      const { site, admin } = await siteWithAdmin();
      const root = await clientFor("global", null);
      const created = await createThroughForm(admin, site, { name: payload, description: payload });
      expect(created.res.status).toBe(201);
      expect(created.row?.name).toBe(payload);
      const id = created.row!.id;
      const page = regPath(site, id);

      // An expired twin, so the §6 banner names it too.
      const expired = await createRegistration(site.id, {
        name: `${payload} expired`,
        expirationDate: "2031-01-10",
        now: NOW - 20 * DAY,
      });
      await admin.post(`${page}/enabled`, { enabled: "false" });
      await admin.post(`${gridPath(site)}/views`, { name: payload, query: "state=disabled" });

      const escaped = payload
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/"/g, "&quot;");
      const pages: [string, string][] = [
        ["secret page", created.html],
        ["grid", await (await admin.get(gridPath(site))).text()],
        ["grid fragment", await (await admin.get(`${gridPath(site)}?state=disabled`, { headers: { ...HTMX } })).text()],
        ["registration page", await (await admin.get(page)).text()],
        ["expired page", await (await admin.get(regPath(site, expired.registration.id))).text()],
        ["edit page", await (await admin.get(`${page}/edit`)).text()],
        ["delete confirmation", await (await admin.get(`${page}/delete`)).text()],
        ["refused create", await (await admin.post(`${gridPath(site)}/new`, createForm({ name: payload }))).text()],
        ["all-Sites grid", await (await root.get("/admin/registrations")).text()],
      ];
      for (const [label, html] of pages) {
        expectInert(html, label);
        expect(html, label).toContain(escaped);
      }
      const [, grid] = pages[1]!;
      expect(grid).toMatch(/<span class="api-client-alert-text">[\s\S]*&lt;/); // the banner, escaped
      const [, regPage] = pages[3]!;
      expect(regPage).toContain("<strong>Created</strong>"); // the audit trail row about it
      expect(regPage).toMatch(/hx-confirm="Delete the App registration “(&quot;&gt;|&lt;img)/);
    }, 30_000);
  }
});
