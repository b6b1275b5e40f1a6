import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { sessions, users } from "../../src/db/schema";
import { findUser, setUserDisabled } from "../../src/users/accounts";
import { auditRowsFor, toggleUser } from "../helpers/admin-pages";
import { createUser, db, signIn } from "../helpers/app";
import { bodyOf } from "../helpers/html";

// This file's D1 starts empty and its tests run in order, so it knows every Global Administrator there is.
const activeGlobalAdmins = async () =>
  (
    await db()
      .select()
      .from(users)
      .where(and(eq(users.isGlobalAdmin, true), eq(users.disabled, false)))
      .all()
  ).map((u) => u.email);

describe("the last active Global Administrator", () => {
  let first: Awaited<ReturnType<typeof createUser>>;

  it("cannot remove their own Global Administrator flag", async () => {
    first = await createUser({ global: true });
    expect(await activeGlobalAdmins()).toEqual([first.email]);
    const browser = await signIn(first.email);
    const res = await browser.post(`/admin/users/${first.id}/global-admin`, { value: "false", view: "page" });
    const html = await bodyOf(res, 409);
    expect(html).toContain('data-error-code="LastGlobalAdmin"');
    expect(html).toContain(
      `${first.email} is the last active Global Administrator, so this would leave nobody to manage Sites and users. Make another user a Global Administrator first.`,
    );
    const htmx = await toggleUser(browser, first.id, "global-admin", false);
    expect(htmx.status).toBe(409);
    expect(await htmx.text()).toMatch(/^<section id="account"[\s\S]*data-error-code="LastGlobalAdmin"/);
    expect(await activeGlobalAdmins()).toEqual([first.email]);
    expect((await browser.get("/admin/users")).status).toBe(200);
    expect(await auditRowsFor("user", first.email)).toEqual([]);
  });

  it("is still the last one when the only other Global Administrator is disabled", async () => {
    await createUser({ global: true, disabled: true });
    const browser = await signIn(first.email);
    const res = await browser.post(`/admin/users/${first.id}/global-admin`, { value: "false" });
    expect(res.status).toBe(409);
    expect(await activeGlobalAdmins()).toEqual([first.email]);
  });

  it("can give the flag up once another active Global Administrator exists, who then is the last", async () => {
    const second = await createUser({ global: true });
    const browser = await signIn(first.email);
    const res = await browser.post(`/admin/users/${first.id}/global-admin`, { value: "false" });
    expect(res.status).toBe(303);
    expect(await activeGlobalAdmins()).toEqual([second.email]);
    const them = await signIn(second.email);
    expect((await them.post(`/admin/users/${second.id}/global-admin`, { value: "false" })).status).toBe(409);
    expect(await activeGlobalAdmins()).toEqual([second.email]);
  });

  it("survives two Global Administrators removing their own flags at the same moment", async () => {
    const [only] = await activeGlobalAdmins();
    const third = await createUser({ global: true });
    const a = await signIn(only ?? "");
    const b = await signIn(third.email);
    const secondUser = await db()
      .select()
      .from(users)
      .where(eq(users.email, only ?? ""))
      .get();
    const statuses = await Promise.all([
      a.post(`/admin/users/${secondUser?.id}/global-admin`, { value: "false" }),
      b.post(`/admin/users/${third.id}/global-admin`, { value: "false" }),
    ]).then((responses) => responses.map((r) => r.status).sort());
    expect(statuses).toEqual([303, 409]);
    expect(await activeGlobalAdmins()).toHaveLength(1);
  });

  it("cannot be disabled by a Global Administrator who was disabled a moment earlier", async () => {
    const [lastEmail] = await activeGlobalAdmins();
    const last = await db()
      .select()
      .from(users)
      .where(eq(users.email, lastEmail ?? ""))
      .get();
    const other = await createUser({ global: true });
    const lastBrowser = await signIn(lastEmail ?? "");
    // Both read each other as enabled; `other` is disabled first.
    const lastAsRead = (await findUser(db(), last?.id ?? 0))?.user;
    expect((await lastBrowser.post(`/admin/users/${other.id}/disabled`, { value: "true" })).status).toBe(303);
    const result = await setUserDisabled(db(), lastAsRead!, true, { id: other.id, email: other.email }, Date.now());
    expect(result).toEqual({ ok: false, code: "LastGlobalAdmin" });
    expect(await activeGlobalAdmins()).toEqual([lastEmail]);
    // The refused batch ended none of their sessions either.
    expect(
      await db()
        .select()
        .from(sessions)
        .where(eq(sessions.userId, last?.id ?? 0))
        .all(),
    ).not.toEqual([]);
    expect((await lastBrowser.get("/admin/users")).status).toBe(200);
  });
});
