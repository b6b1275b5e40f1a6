import { describe, expect, it } from "vitest";
import { MINUTE } from "../../src/lib/time";
import { createSite, createUser, signIn } from "../helpers/app";
import { bodyOf } from "../helpers/html";
import { recordFailure, T0, tableRows } from "../helpers/security-log";

/** Two Sites with one row each, a row no Site can be tied to, and one person per role. */
async function world() {
  const siteA = await createSite({ name: "Alpha Works" });
  const siteB = await createSite({ name: "Beta Works" });
  const clientA = crypto.randomUUID();
  const clientB = crypto.randomUUID();
  const unknownClient = crypto.randomUUID();
  // A documentation-range IPv6 address of this world alone (rows of other tests share the database).
  const ip = `2001:db8:${crypto.randomUUID().slice(0, 4)}:${crypto.randomUUID().slice(0, 4)}::1`;
  await recordFailure({ siteId: siteA.id, clientId: clientA, registrationName: "Alpha sync", ip }, T0 - MINUTE);
  await recordFailure({ siteId: siteB.id, clientId: clientB, registrationName: "Beta sync", ip }, T0 - MINUTE);
  await recordFailure({ siteId: null, clientId: unknownClient, detailCode: "InvalidIntegration", ip }, T0 - MINUTE);
  const adminA = await signIn((await createUser({ sites: [[siteA.id, "site_admin"]] })).email, undefined, T0);
  const adminB = await signIn((await createUser({ sites: [[siteB.id, "site_admin"]] })).email, undefined, T0);
  const userA = await signIn((await createUser({ sites: [[siteA.id, "site_user"]] })).email, undefined, T0);
  const root = await signIn((await createUser({ global: true })).email, undefined, T0);
  return { siteA, siteB, clientA, clientB, unknownClient, ip, adminA, adminB, userA, root };
}

const htmx = { "HX-Request": "true", "HX-Request-Type": "partial" };

describe("who sees the security log", () => {
  it("a Site User gets 403 on the page, the fragment, the export and the help", async () => {
    const { siteA, userA, clientA } = await world();
    const base = `/sites/${siteA.slug}/settings/security-log`;
    for (const [path, headers] of [
      [base, {}],
      [`${base}?client=${clientA}`, htmx],
      [`${base}/export.csv`, {}],
      [`${base}/help`, {}],
    ] as const) {
      const res = await userA.get(path, { now: T0, headers });
      expect(res.status, path).toBe(403);
      const body = await res.text();
      expect(body).not.toContain(clientA);
      expect(body).not.toContain("Alpha sync");
    }
    expect((await userA.get("/admin/security-log", { now: T0 })).status).toBe(403);
  });

  it("a Site Administrator of another Site cannot read this Site's rows: not by URL, fragment, export, nor filter", async () => {
    const { siteA, siteB, adminB, clientA, clientB, unknownClient, ip } = await world();
    const baseA = `/sites/${siteA.slug}/settings/security-log`;
    for (const [path, headers] of [
      [baseA, {}],
      [`${baseA}?client=${clientA}`, htmx],
      [`${baseA}/export.csv`, {}],
    ] as const) {
      const res = await adminB.get(path, { now: T0, headers });
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain(clientA);
    }
    // Their own log has their row only, whatever the filter asks for.
    const baseB = `/sites/${siteB.slug}/settings/security-log`;
    const own = await (await adminB.get(`${baseB}?ip=${ip}`, { now: T0 })).text();
    expect(tableRows(own)).toHaveLength(1);
    expect(own).toContain(clientB);
    expect(own).not.toContain(clientA);
    expect(own).not.toContain(unknownClient);
    for (const client of [clientA, unknownClient]) {
      const page = await (await adminB.get(`${baseB}?client=${client}`, { now: T0, headers: htmx })).text();
      expect(page).toContain("No failures match the filter.");
      const csv = await (await adminB.get(`${baseB}/export.csv?client=${client}`, { now: T0 })).text();
      expect(csv.trim().split("\r\n")).toHaveLength(1);
    }
    // Passing a Site filter to a Site's log changes nothing: the scope is the Site in the URL.
    const sneaky = await (await adminB.get(`${baseB}?site=${siteA.slug}&ip=${ip}`, { now: T0 })).text();
    expect(sneaky).not.toContain(clientA);
    expect((await adminB.get("/admin/security-log", { now: T0 })).status).toBe(403);
  });

  it("rows no Site can be tied to are only in the Global Administrator's log", async () => {
    const { siteA, adminA, root, unknownClient, ip } = await world();
    const site = await (await adminA.get(`/sites/${siteA.slug}/settings/security-log?ip=${ip}`, { now: T0 })).text();
    expect(site).not.toContain(unknownClient);
    const global = await (await root.get(`/admin/security-log?client=${unknownClient}`, { now: T0 })).text();
    const [row] = tableRows(global);
    expect(row).toContain("No Site");
    expect(row).toContain("InvalidIntegration");
  });

  it("the Global Administrator sees every Site's rows with a Site column, and each Site's own log", async () => {
    const { siteA, siteB, root, clientA, clientB, unknownClient, ip } = await world();
    const res = await root.get(`/admin/security-log?ip=${ip}`, { now: T0 });
    const html = await bodyOf(res, 200);
    expect(html).toContain(`<th scope="col">Site</th>`);
    const rows = tableRows(html);
    expect(rows).toHaveLength(3);
    expect(rows.find((r) => r.includes(clientA))).toContain("Alpha Works");
    expect(rows.find((r) => r.includes(clientB))).toContain("Beta Works");
    expect(rows.find((r) => r.includes(unknownClient))).toContain("No Site");
    expect(html).toContain(`href="/sites/${siteA.slug}/settings/security-log">Alpha Works</a>`);

    const onlyA = tableRows(
      await (await root.get(`/admin/security-log?ip=${ip}&site=${siteA.slug}`, { now: T0 })).text(),
    );
    expect(onlyA.map((r) => r.includes(clientA))).toEqual([true]);
    const none = tableRows(await (await root.get(`/admin/security-log?ip=${ip}&site=none`, { now: T0 })).text());
    expect(none.map((r) => r.includes(unknownClient))).toEqual([true]);

    const csv = await (await root.get(`/admin/security-log/export.csv?ip=${ip}`, { now: T0 })).text();
    const lines = csv.trim().split("\r\n").slice(1);
    expect(lines.map((l) => l.split(",")[0]).sort()).toEqual(["", siteA.slug, siteB.slug].sort());

    const siteLog = await (await root.get(`/sites/${siteB.slug}/settings/security-log?ip=${ip}`, { now: T0 })).text();
    expect(tableRows(siteLog)).toHaveLength(1);
    expect(siteLog).toContain(clientB);
  });

  it("anonymous visitors are sent to sign in", async () => {
    const { siteA } = await world();
    const { call } = await import("../helpers/app");
    const res = await call(`/sites/${siteA.slug}/settings/security-log/export.csv`);
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toContain("/sign-in?next=");
  });
});
