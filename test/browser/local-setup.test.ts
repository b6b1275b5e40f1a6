import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
// @ts-expect-error -- plain ESM script shared with `npm start`
import { childEnv, prepareLocal, queryLocal, ROOT } from "../../scripts/local.mjs";
import { baseURL } from "./browser";

const dir = mkdtempSync(join(tmpdir(), "app-registrations-setup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm start's local set-up", () => {
  it("writes .dev.vars once, applies migrations and seeds; a second run changes and loses nothing", async () => {
    const persistTo = join(dir, "d1");
    const devVarsFile = join(dir, ".dev.vars");
    const first = await prepareLocal({ persistTo, devVarsFile });
    expect(first.wroteDevVars).toBe(true);
    const vars = readFileSync(devVarsFile, "utf8");
    const keys = JSON.parse(/SIGNING_KEYS='([^']+)'/.exec(vars)?.[1] ?? "{}");
    expect(keys.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(keys.keys[0].d).toBeDefined();
    expect(/SECRET_PEPPER='([A-Za-z0-9_-]{43})'/.test(vars)).toBe(true);

    const snapshot = () => ({
      sites: queryLocal("select slug, name, time_zone from sites order by slug", { persistTo }),
      users: queryLocal("select email, password_hash, is_global_admin from users order by email", { persistTo }),
      memberships: queryLocal(
        "select u.email, s.slug, m.role from memberships m join users u on u.id = m.user_id join sites s on s.id = m.site_id order by 1, 2",
        { persistTo },
      ),
    });
    const before = snapshot();
    expect(before.sites.map((s: { slug: string }) => s.slug)).toEqual(["lab", "main"]);
    expect(before.users.map((u: { email: string }) => u.email)).toEqual([
      "admin@example.test",
      "lab-admin@example.test",
      "root@example.test",
      "user@example.test",
    ]);
    expect(before.memberships).toEqual([
      { email: "admin@example.test", slug: "main", role: "site_admin" },
      { email: "lab-admin@example.test", slug: "lab", role: "site_admin" },
      { email: "user@example.test", slug: "main", role: "site_user" },
    ]);

    // Something a developer made locally must survive a restart.
    queryLocal("insert into sites (slug, name, time_zone, created_at) values ('mine', 'Mine', 'UTC', 1)", {
      persistTo,
    });
    const second = await prepareLocal({ persistTo, devVarsFile });
    expect(second.wroteDevVars).toBe(false);
    expect(readFileSync(devVarsFile, "utf8")).toBe(vars);
    const after = snapshot();
    expect(after.users).toEqual(before.users);
    expect(after.memberships).toEqual(before.memberships);
    expect(after.sites.map((s: { slug: string }) => s.slug)).toEqual(["lab", "main", "mine"]);
  });
});

describe("npm run admin:create", () => {
  it("creates a Global Administrator who can then sign in", async () => {
    const email = `ops-${Date.now()}@example.test`;
    execFileSync(
      process.execPath,
      [join(ROOT, "scripts/create-admin.mjs"), "--email", email, "--name", "Ops", "--persist-to", inject("persistTo")],
      { env: childEnv({ ADMIN_PASSWORD: "a long enough password" }), stdio: "pipe" },
    );
    const res = await fetch(`${baseURL()}/sign-in`, {
      method: "POST",
      redirect: "manual",
      headers: { Origin: baseURL(), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email, password: "a long enough password" }),
    });
    expect(res.status).toBe(303);
    const cookie = (res.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
    const page = await fetch(`${baseURL()}/admin/users`, { headers: { Cookie: cookie }, redirect: "manual" });
    expect(page.status).toBe(200);
  });

  it("refuses a short password and changes nothing", () => {
    expect(() =>
      execFileSync(process.execPath, [join(ROOT, "scripts/create-admin.mjs"), "--email", "short@example.test"], {
        env: childEnv({ ADMIN_PASSWORD: "short" }),
        stdio: "pipe",
      }),
    ).toThrow(/at least 12 characters/);
  });
});
