import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { memberships, sessions, users } from "../../src/db/schema";
import { verifyPassword } from "../../src/lib/crypto";
import {
  auditRowsFor,
  elementById,
  fieldError,
  fragmentOf,
  HTMX,
  inputValue,
  signInGlobalAdmin,
  textOf,
  toggleUser,
} from "../helpers/admin-pages";
import { call, createSite, createUser, db, expectSentToSignIn, ORIGIN, signIn, unique } from "../helpers/app";
import { bodyOf } from "../helpers/html";

const INITIAL_PASSWORD = "first day at the plant";

const userForm = (overrides: Record<string, string> = {}) => ({
  email: `${unique("new")}@example.test`,
  name: "Ada Operator",
  password: INITIAL_PASSWORD,
  ...overrides,
});

const userByEmail = (email: string) => db().select().from(users).where(eq(users.email, email)).get();
const membershipsOf = (userId: number) => db().select().from(memberships).where(eq(memberships.userId, userId)).all();
const sessionsOf = (userId: number) => db().select().from(sessions).where(eq(sessions.userId, userId)).all();

describe("Users page: access", () => {
  it("sends anonymous visitors to sign-in and refuses their posts", async () => {
    await expectSentToSignIn("/admin/users");
    const form = userForm();
    const post = await call("/admin/users", {
      method: "POST",
      headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form),
    });
    expect(post.status).toBe(401);
    expect(await userByEmail(form.email)).toBeUndefined();
  });

  it("answers 403 to a Site Administrator and a Site User, for pages and posts alike", async () => {
    const site = await createSite();
    const victim = await createUser({ sites: [[site.id, "site_user"]] });
    for (const role of ["site_admin", "site_user"] as const) {
      const user = await createUser({ sites: [[site.id, role]] });
      const browser = await signIn(user.email);
      for (const path of ["/admin/users", "/admin/users/new", `/admin/users/${victim.id}`]) {
        expect((await browser.get(path)).status, `${role} GET ${path}`).toBe(403);
      }
      const form = userForm();
      expect((await browser.post("/admin/users", form)).status).toBe(403);
      expect(await userByEmail(form.email)).toBeUndefined();
      expect((await browser.post(`/admin/users/${victim.id}/disabled`, { value: "true" })).status).toBe(403);
      expect((await browser.post(`/admin/users/${user.id}/global-admin`, { value: "true" })).status).toBe(403);
      expect(
        (await browser.post(`/admin/users/${user.id}/memberships`, { siteId: String(site.id), role: "site_admin" }))
          .status,
      ).toBe(403);
      expect((await browser.post(`/admin/users/${victim.id}/memberships/${site.id}/remove`, {})).status).toBe(403);
      expect(await userByEmail(victim.email)).toMatchObject({ disabled: false });
      expect(await userByEmail(user.email)).toMatchObject({ isGlobalAdmin: false });
      expect(await membershipsOf(user.id)).toEqual([{ userId: user.id, siteId: site.id, role }]);
      expect(await membershipsOf(victim.id)).toHaveLength(1);
    }
  });
});

describe("Users page: list", () => {
  it("lists email, name, Global Administrator, status and every membership with its role", async () => {
    const { browser } = await signInGlobalAdmin();
    const a = await createSite({ name: unique("Alpha") });
    const b = await createSite({ name: unique("Beta") });
    const member = await createUser({
      sites: [
        [a.id, "site_admin"],
        [b.id, "site_user"],
      ],
    });
    const disabled = await createUser({ disabled: true, global: true });
    const html = await (await browser.get("/admin/users")).text();
    const cells = (id: number) =>
      [...elementById(html, `user-${id}`).matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => textOf(m[1] ?? ""));
    expect(cells(member.id).slice(0, 5)).toEqual([
      member.email,
      member.email,
      "No",
      "Active",
      `${a.name} — Site Administrator ${b.name} — Site User`,
    ]);
    expect(cells(disabled.id).slice(0, 5)).toEqual([disabled.email, disabled.email, "Yes", "Disabled", "None"]);
    expect(elementById(html, `user-${member.id}`)).toContain(`href="/admin/users/${member.id}"`);
  });

  it("searches by email or name, literally, and pages through 50 users at a time", async () => {
    const { browser } = await signInGlobalAdmin();
    const marker = unique("pager");
    for (let i = 0; i < 52; i++) await createUser({ email: `${marker}-${String(i).padStart(2, "0")}@example.test` });
    const first = await (await browser.get(`/admin/users?q=${marker.toUpperCase()}`)).text();
    expect(first).toContain(`<input id="users-q" name="q" type="search" value="${marker.toUpperCase()}"`);
    expect(first).toContain("52 users · page 1 of 2");
    expect(first.match(/<tr id="user-/g)).toHaveLength(50);
    expect(first).toContain(`href="/admin/users?q=${marker.toUpperCase()}&amp;page=2"`);
    const second = await (await browser.get(`/admin/users?q=${marker}&page=2`)).text();
    expect(second.match(/<tr id="user-/g)).toHaveLength(2);
    expect(second).toContain(`${marker}-51@example.test`);
    // `%` is matched as a character, not as a wildcard.
    const wildcard = await (await browser.get("/admin/users?q=%25")).text();
    expect(wildcard).toContain("0 users · page 1 of 1");
    // A nonsense page number falls back to the first page.
    expect((await browser.get(`/admin/users?q=${marker}&page=zero`)).status).toBe(200);
  });
});

describe("Users page: create", () => {
  it("creates a user with a PBKDF2-hashed password, stored lower-case, with a first membership, all audited", async () => {
    const { user: admin, browser } = await signInGlobalAdmin();
    const site = await createSite();
    const email = `${unique("Mixed.Case")}@Example.TEST`;
    const res = await browser.post("/admin/users", userForm({ email, siteId: String(site.id), role: "site_admin" }));
    expect(res.status).toBe(303);
    const created = await userByEmail(email.toLowerCase());
    expect(created).toMatchObject({ name: "Ada Operator", isGlobalAdmin: false, disabled: false });
    expect(res.headers.get("Location")).toBe(`/admin/users/${created?.id}?notice=created`);
    expect(created?.passwordHash).toMatch(/^pbkdf2_sha256\$100000\$/);
    expect(created?.passwordHash).not.toContain(INITIAL_PASSWORD);
    expect(await verifyPassword(INITIAL_PASSWORD, created?.passwordHash ?? "")).toBe(true);
    expect(await membershipsOf(created?.id ?? 0)).toEqual([
      { userId: created?.id, siteId: site.id, role: "site_admin" },
    ]);
    const audits = await auditRowsFor("user", email.toLowerCase());
    expect(audits.map((a) => [a.action, a.actorEmail, a.siteId])).toEqual([
      ["create", admin.email, null],
      ["add_membership", admin.email, site.id],
    ]);
    expect(audits[0]?.changes).toEqual({
      email: [null, email.toLowerCase()],
      name: [null, "Ada Operator"],
      isGlobalAdmin: [null, false],
    });
    expect(JSON.stringify(audits)).not.toContain(INITIAL_PASSWORD);
    expect(JSON.stringify(audits)).not.toContain("pbkdf2");

    const page = await (await browser.get(res.headers.get("Location") ?? "")).text();
    expect(page).toContain("User created.");
    expect(page).not.toContain(INITIAL_PASSWORD);
    // The new user signs in with the initial password and lands on their Site.
    const newcomer = await signIn(email.toLowerCase(), INITIAL_PASSWORD);
    expect((await newcomer.get("/")).headers.get("Location")).toBe(`/sites/${site.slug}`);
  });

  it("creates a Global Administrator without any membership", async () => {
    const { browser } = await signInGlobalAdmin();
    const form = userForm({ isGlobalAdmin: "on", siteId: "" });
    expect((await browser.post("/admin/users", form)).status).toBe(303);
    const created = await userByEmail(form.email);
    expect(created?.isGlobalAdmin).toBe(true);
    expect(await membershipsOf(created?.id ?? 0)).toEqual([]);
    const them = await signIn(form.email, INITIAL_PASSWORD);
    expect((await them.get("/admin/users")).status).toBe(200);
  });

  it("ignores fields that are not on the form", async () => {
    const { browser } = await signInGlobalAdmin();
    const form = userForm();
    const res = await browser.post("/admin/users", {
      ...form,
      id: "99999",
      disabled: "on",
      passwordHash: "pbkdf2_sha256$1$AAAA$AAAA",
      password_hash: "x",
      is_global_admin: "1",
      createdAt: "1",
    });
    expect(res.status).toBe(303);
    const created = await userByEmail(form.email);
    expect(created).toMatchObject({ disabled: false, isGlobalAdmin: false });
    expect(created?.id).not.toBe(99999);
    expect(created?.createdAt).toBeGreaterThan(1);
    expect(await verifyPassword(INITIAL_PASSWORD, created?.passwordHash ?? "")).toBe(true);
  });

  it("refuses an email already in use in any letter case, and never echoes the password", async () => {
    const { browser } = await signInGlobalAdmin();
    const existing = await createUser();
    const res = await browser.post("/admin/users", userForm({ email: existing.email.toUpperCase(), name: "Twin" }));
    const html = await bodyOf(res, 422);
    expect(fieldError(html, "user", "email")).toBe("A user with this email address already exists.");
    expect(inputValue(html, "user", "name")).toBe("Twin");
    expect(html).not.toContain(INITIAL_PASSWORD);
    expect((await db().select().from(users).where(eq(users.name, "Twin")).all()).length).toBe(0);
    expect(await auditRowsFor("user", existing.email)).toEqual([]);
  });

  const invalid: [string, Record<string, string>, string, string][] = [
    ["no email", { email: "" }, "email", "Enter an email address."],
    ["an email without a domain", { email: "ada@" }, "email", "Enter a valid email address, such as name@example.com."],
    ["no name", { name: " " }, "name", "Enter a name."],
    ["a 101-character name", { name: "n".repeat(101) }, "name", "Use at most 100 characters."],
    ["an 11-character password", { password: "elevenchars" }, "password", "Use at least 12 characters."],
    ["no password", { password: "" }, "password", "Use at least 12 characters."],
    ["a Site that is not a number", { siteId: "main" }, "siteId", "Choose a Site from the list."],
    ["a Site that does not exist", { siteId: "987654321" }, "siteId", "Choose a Site from the list."],
    ["an unknown role", { siteId: "1", role: "owner" }, "role", "Choose Site Administrator or Site User."],
  ];
  for (const [what, overrides, field, message] of invalid) {
    it(`refuses ${what} with 422, the error next to the field and the input kept`, async () => {
      const { browser } = await signInGlobalAdmin();
      const form = userForm({ name: `Kept "${unique("n")}"`, ...overrides });
      const before = (await db().select().from(users).all()).length;
      const res = await browser.post("/admin/users", form);
      const html = await bodyOf(res, 422);
      expect(fieldError(html, "user", field)).toBe(message);
      expect(html).toContain("Nothing was saved. Correct the fields marked below.");
      if (field !== "email") expect(inputValue(html, "user", "email")).toBe(form.email);
      if (field !== "name") expect(inputValue(html, "user", "name")).toBe(form.name.replace(/"/g, "&quot;"));
      expect(inputValue(html, "user", "password")).toBeUndefined();
      if (form.password) expect(html).not.toContain(form.password);
      expect((await db().select().from(users).all()).length).toBe(before);
    });
  }
});

describe("Users page: disable and enable", () => {
  it("disabling ends every session of the user at once: their cookie stops working", async () => {
    const { user: admin, browser } = await signInGlobalAdmin();
    const site = await createSite();
    const target = await createUser({ sites: [[site.id, "site_admin"]] });
    const laptop = await signIn(target.email);
    const phone = await signIn(target.email);
    expect((await laptop.get(`/sites/${site.slug}`)).status).toBe(200);
    expect(await sessionsOf(target.id)).toHaveLength(2);

    const res = await browser.post(`/admin/users/${target.id}/disabled`, { value: "true", view: "page" });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`/admin/users/${target.id}?notice=disabled`);
    expect(await userByEmail(target.email)).toMatchObject({ disabled: true });
    // Gone server-side before the user makes another request.
    expect(await sessionsOf(target.id)).toEqual([]);
    const after = await laptop.get(`/sites/${site.slug}`);
    expect(after.status).toBe(303);
    expect(after.headers.get("Location")).toMatch(/^\/sign-in/);
    expect((await phone.post("/sign-out", {})).status).toBe(303);
    await expect(signIn(target.email)).rejects.toThrow(/sign-in failed: 401/);

    const [audit] = await auditRowsFor("user", target.email);
    expect(audit).toMatchObject({ action: "disable", actorEmail: admin.email, siteId: null });
    expect(audit?.changes).toEqual({ disabled: [false, true] });
    const page = await (await browser.get(`/admin/users/${target.id}?notice=disabled`)).text();
    expect(page).toContain("User disabled. Every session of theirs has ended.");
    expect(textOf(elementById(page, "account"))).toContain("Status Disabled");
  });

  it("re-enabling lets the user sign in again", async () => {
    const { browser } = await signInGlobalAdmin();
    const target = await createUser({ disabled: true });
    const res = await browser.post(`/admin/users/${target.id}/disabled`, { value: "false", view: "row" });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/admin/users?notice=enabled");
    expect(await userByEmail(target.email)).toMatchObject({ disabled: false });
    await expect(signIn(target.email)).resolves.toBeTruthy();
    const [audit] = await auditRowsFor("user", target.email);
    expect(audit).toMatchObject({ action: "enable" });
    expect(audit?.changes).toEqual({ disabled: [true, false] });
  });

  it("answers an htmx toggle from the list with just the user's row", async () => {
    const { browser } = await signInGlobalAdmin();
    const target = await createUser();
    const res = await toggleUser(browser, target.id, "disabled", true, "row");
    const html = await fragmentOf(res, `<tr id="user-${target.id}">`);
    expect(html).not.toContain("<html");
    expect(textOf(html)).toContain("Disabled");
    expect(html).toContain(`aria-label="Enable ${target.email}"`);
  });

  it("answers an htmx toggle from the user's page with just the account section", async () => {
    const { browser } = await signInGlobalAdmin();
    const target = await createUser();
    const res = await toggleUser(browser, target.id, "disabled", true);
    const html = await fragmentOf(res, '<section id="account"');
    expect(textOf(html)).toContain("Status Disabled");
  });

  it("does nothing and writes no audit row when the user already is in that state", async () => {
    const { browser } = await signInGlobalAdmin();
    const target = await createUser();
    const res = await browser.post(`/admin/users/${target.id}/disabled`, { value: "false" });
    expect(res.headers.get("Location")).toBe(`/admin/users/${target.id}?notice=unchanged`);
    expect(await auditRowsFor("user", target.email)).toEqual([]);
  });

  it("refuses to let a Global Administrator disable their own account", async () => {
    const { user: admin, browser } = await signInGlobalAdmin();
    const res = await browser.post(`/admin/users/${admin.id}/disabled`, { value: "true" });
    const html = await bodyOf(res, 409);
    expect(html).toContain('data-error-code="SelfDisable"');
    expect(html).toContain("You cannot disable your own account. Another Global Administrator can.");
    expect(await userByEmail(admin.email)).toMatchObject({ disabled: false });
    expect((await browser.get("/admin/users")).status).toBe(200);
    expect(await auditRowsFor("user", admin.email)).toEqual([]);
    // The page offers no such button in the first place.
    const page = await (await browser.get(`/admin/users/${admin.id}`)).text();
    expect(page).not.toContain(`aria-label="Disable ${admin.email}"`);
    const htmx = await toggleUser(browser, admin.id, "disabled", true, "row");
    expect(htmx.status).toBe(409);
    expect(await htmx.text()).toMatch(/^<tr id="user-\d+">[\s\S]*data-error-code="SelfDisable"/);
  });

  it("refuses a toggle value other than true or false, and answers 404 for an unknown user", async () => {
    const { browser } = await signInGlobalAdmin();
    const target = await createUser();
    expect((await browser.post(`/admin/users/${target.id}/disabled`, { value: "yes" })).status).toBe(422);
    expect((await browser.post(`/admin/users/${target.id}/global-admin`, {})).status).toBe(422);
    expect(await userByEmail(target.email)).toMatchObject({ disabled: false, isGlobalAdmin: false });
    expect((await browser.post("/admin/users/987654321/disabled", { value: "true" })).status).toBe(404);
    expect((await browser.get("/admin/users/987654321")).status).toBe(404);
  });
});

describe("Users page: Global Administrator flag", () => {
  it("grants and removes the flag, which opens and closes the global pages for that user", async () => {
    const { user: admin, browser } = await signInGlobalAdmin();
    const target = await createUser();
    const them = await signIn(target.email);
    expect((await them.get("/admin/sites")).status).toBe(403);

    const grant = await browser.post(`/admin/users/${target.id}/global-admin`, { value: "true", view: "page" });
    expect(grant.headers.get("Location")).toBe(`/admin/users/${target.id}?notice=granted`);
    expect((await them.get("/admin/sites")).status).toBe(200);

    const revoke = await toggleUser(browser, target.id, "global-admin", false, "row");
    expect(revoke.status).toBe(200);
    expect(textOf(await revoke.text())).toContain("No Active");
    expect((await them.get("/admin/sites")).status).toBe(403);

    const audits = await auditRowsFor("user", target.email);
    expect(audits.map((a) => [a.action, a.actorEmail, a.changes])).toEqual([
      ["grant_global_admin", admin.email, { isGlobalAdmin: [false, true] }],
      ["revoke_global_admin", admin.email, { isGlobalAdmin: [true, false] }],
    ]);
  });

  it("lets a Global Administrator who is not the last one give up their own flag, then sends them home", async () => {
    const { user: admin, browser } = await signInGlobalAdmin();
    await createUser({ global: true });
    const res = await browser.post(`/admin/users/${admin.id}/global-admin`, { value: "false" });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/");
    expect(await userByEmail(admin.email)).toMatchObject({ isGlobalAdmin: false });
    expect((await browser.get("/admin/users")).status).toBe(403);
  });
});

describe("Users page: memberships", () => {
  it("adds a membership, changes its role and removes it, each audited", async () => {
    const { user: admin, browser } = await signInGlobalAdmin();
    const site = await createSite();
    // The Site keeps another Site Administrator, so the target may give the role up (see the next describe).
    await createUser({ sites: [[site.id, "site_admin"]] });
    const target = await createUser();

    const add = await browser.post(`/admin/users/${target.id}/memberships`, {
      siteId: String(site.id),
      role: "site_user",
      userId: String(admin.id),
    });
    expect(add.status).toBe(303);
    expect(add.headers.get("Location")).toBe(`/admin/users/${target.id}?notice=membership-added`);
    expect(await membershipsOf(target.id)).toEqual([{ userId: target.id, siteId: site.id, role: "site_user" }]);
    expect(await membershipsOf(admin.id)).toEqual([]);
    const them = await signIn(target.email);
    expect((await them.get(`/sites/${site.slug}/settings/iam/app-registrations`)).status).toBe(403);

    const change = await browser.post(`/admin/users/${target.id}/memberships`, {
      siteId: String(site.id),
      role: "site_admin",
    });
    expect(change.headers.get("Location")).toBe(`/admin/users/${target.id}?notice=role-changed`);
    expect(await membershipsOf(target.id)).toEqual([{ userId: target.id, siteId: site.id, role: "site_admin" }]);
    expect((await them.get(`/sites/${site.slug}/settings/iam/app-registrations`)).status).toBe(200);

    const same = await browser.post(`/admin/users/${target.id}/memberships`, {
      siteId: String(site.id),
      role: "site_admin",
    });
    expect(same.headers.get("Location")).toBe(`/admin/users/${target.id}?notice=unchanged`);

    const remove = await browser.post(`/admin/users/${target.id}/memberships/${site.id}/remove`, {});
    expect(remove.headers.get("Location")).toBe(`/admin/users/${target.id}?notice=membership-removed`);
    expect(await membershipsOf(target.id)).toEqual([]);
    expect((await them.get(`/sites/${site.slug}`)).status).toBe(404);

    const audits = await auditRowsFor("user", target.email);
    expect(audits.map((a) => [a.action, a.siteId, a.changes])).toEqual([
      ["add_membership", site.id, { site: [null, site.slug], role: [null, "site_user"] }],
      ["change_role", site.id, { site: [site.slug, site.slug], role: ["site_user", "site_admin"] }],
      ["remove_membership", site.id, { site: [site.slug, null], role: ["site_admin", null] }],
    ]);
    const page = await (await browser.get(`/admin/users/${target.id}`)).text();
    expect(textOf(elementById(page, "audit-trail-heading"))).toBe("Changes to this user");
    expect(textOf(page)).toContain(
      // A field that names what changed, the same before and after, is shown once.
      `Role changed Site: ${site.slug} Role: Site User → Site Administrator`,
    );
  });

  it("answers htmx membership forms with just the memberships section", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite({ name: unique("Section") });
    const target = await createUser();
    const res = await browser.post(
      `/admin/users/${target.id}/memberships`,
      { siteId: String(site.id), role: "site_admin" },
      { headers: HTMX },
    );
    const html = await fragmentOf(res, '<section id="memberships"');
    expect(html).toContain("Membership added.");
    expect(textOf(elementById(html, "memberships"))).toContain(site.name);
  });

  it("refuses an unknown Site or role with 422 next to the field, changing nothing", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite();
    const target = await createUser();
    const badRole = await browser.post(`/admin/users/${target.id}/memberships`, {
      siteId: String(site.id),
      role: "root",
    });
    expect(badRole.status).toBe(422);
    expect(fieldError(await badRole.text(), "membership", "role")).toBe("Choose Site Administrator or Site User.");
    const badSite = await browser.post(
      `/admin/users/${target.id}/memberships`,
      { siteId: "987654321", role: "site_user" },
      { headers: HTMX },
    );
    const fragment = await bodyOf(badSite, 422);
    expect(fragment.startsWith('<section id="memberships"')).toBe(true);
    expect(fieldError(fragment, "membership", "siteId")).toBe("Choose a Site from the list.");
    const noSite = await browser.post(`/admin/users/${target.id}/memberships`, { role: "site_user" });
    expect(noSite.status).toBe(422);
    expect(fieldError(await noSite.text(), "membership", "siteId")).toBe("Choose a Site.");
    expect(await membershipsOf(target.id)).toEqual([]);
    expect(await auditRowsFor("user", target.email)).toEqual([]);
  });

  it("answers 404 when removing a membership that does not exist", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite();
    const target = await createUser();
    expect((await browser.post(`/admin/users/${target.id}/memberships/${site.id}/remove`, {})).status).toBe(404);
    expect((await browser.post(`/admin/users/${target.id}/memberships/987654321/remove`, {})).status).toBe(404);
  });
});

describe("Users page: escaping", () => {
  it("renders a hostile name as text in the list, the user's page and the fragments", async () => {
    const { browser } = await signInGlobalAdmin();
    const payload = `<script>alert("pwned")</script>`;
    const form = userForm({ name: payload });
    const res = await browser.post("/admin/users", form);
    expect(res.status).toBe(303);
    const created = await userByEmail(form.email);
    const pages = [
      await (await browser.get(`/admin/users?q=${encodeURIComponent(form.email)}`)).text(),
      await (await browser.get(`/admin/users/${created?.id}`)).text(),
      await (
        await browser.post(`/admin/users/${created?.id}/disabled`, { value: "true", view: "row" }, { headers: HTMX })
      ).text(),
    ];
    for (const html of pages) {
      expect(html).not.toContain(payload);
      expect(html).toContain("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;");
    }
    const invalid = await browser.post("/admin/users", userForm({ name: payload, password: "short" }));
    const html = await invalid.text();
    expect(html).not.toContain(payload);
    expect(inputValue(html, "user", "name")).toBe("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;");
  });
});

describe("Users page: a Site's last Site Administrator", () => {
  const LAST_ADMIN = (email: string, siteName: string) =>
    `${email} is the last Site Administrator of ${siteName}, so nobody else could manage its App registrations or would get its expiry notices. Make another member a Site Administrator first.`;

  it("can be neither demoted nor removed, and nothing is written", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite();
    const last = await createUser({ sites: [[site.id, "site_admin"]] });
    await createUser({ sites: [[site.id, "site_user"]] });

    const demote = await browser.post(`/admin/users/${last.id}/memberships`, {
      siteId: String(site.id),
      role: "site_user",
    });
    const html = await bodyOf(demote, 409);
    expect(html).toContain('data-error-code="LastSiteAdmin"');
    expect(textOf(html)).toContain(LAST_ADMIN(last.email, site.name));

    const remove = await browser.post(`/admin/users/${last.id}/memberships/${site.id}/remove`, {}, { headers: HTMX });
    const fragment = await bodyOf(remove, 409);
    expect(fragment).toMatch(/^<section id="memberships"[\s\S]*data-error-code="LastSiteAdmin"/);

    expect(await membershipsOf(last.id)).toEqual([{ userId: last.id, siteId: site.id, role: "site_admin" }]);
    expect(await auditRowsFor("user", last.email)).toEqual([]);
  });

  it("is counted among enabled users only: a disabled Site Administrator does not receive expiry notices", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite();
    const last = await createUser({ sites: [[site.id, "site_admin"]] });
    await createUser({ disabled: true, sites: [[site.id, "site_admin"]] });
    const res = await browser.post(`/admin/users/${last.id}/memberships/${site.id}/remove`, {});
    expect(res.status).toBe(409);
    expect(await membershipsOf(last.id)).toHaveLength(1);
  });

  it("may step down once another enabled Site Administrator exists", async () => {
    const { browser } = await signInGlobalAdmin();
    const site = await createSite();
    const first = await createUser({ sites: [[site.id, "site_admin"]] });
    const second = await createUser({ sites: [[site.id, "site_admin"]] });

    const demote = await browser.post(`/admin/users/${first.id}/memberships`, {
      siteId: String(site.id),
      role: "site_user",
    });
    expect(demote.headers.get("Location")).toBe(`/admin/users/${first.id}?notice=role-changed`);
    // Now `second` is the last one.
    const remove = await browser.post(`/admin/users/${second.id}/memberships/${site.id}/remove`, {});
    expect(remove.status).toBe(409);
    // Removing a Site User is never held back.
    const removeUser = await browser.post(`/admin/users/${first.id}/memberships/${site.id}/remove`, {});
    expect(removeUser.headers.get("Location")).toBe(`/admin/users/${first.id}?notice=membership-removed`);
    expect(await membershipsOf(first.id)).toEqual([]);
    expect(await membershipsOf(second.id)).toEqual([{ userId: second.id, siteId: site.id, role: "site_admin" }]);
  });
});
