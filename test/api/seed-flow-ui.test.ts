import { describe, expect, it } from "vitest";
import { formatInstant } from "../../src/lib/time";
import { basicAuthorization, callWorker, FORM, uniqueIp } from "../helpers/oauth";
import { createForm, createThroughForm, gridPath, NOW, siteWithAdmin } from "../helpers/registration-pages";

/* Seeds 003 and 000 end to end through the admin form: create → token with Basic → list devices → Last used in the grid. */
describe("the seed flow through the admin UI", () => {
  it("creates a registration in the form, gets a token with its secret, lists devices, and the grid shows Last used", async () => {
    const { site, admin } = await siteWithAdmin({ timeZone: "Europe/Berlin" });
    const name = "Backup script — pull device list nightly";
    const created = await createThroughForm(admin, site, createForm({ name }));
    expect(created.res.status).toBe(201);
    expect(created.clientId).toBeDefined();
    expect(created.secret).toBeDefined();

    const before = await (await admin.get(gridPath(site))).text();
    const rowBefore = before.slice(before.indexOf(name));
    expect(rowBefore).toContain("In 90 days");

    const at = NOW + 60_000;
    const ip = uniqueIp();
    const token = await callWorker("/oauth/token", {
      method: "POST",
      headers: {
        "Content-Type": FORM,
        Authorization: basicAuthorization(created.clientId ?? "", created.secret ?? ""),
      },
      body: "grant_type=client_credentials",
      now: at,
      ip,
    });
    expect(token.status).toBe(200);
    const { access_token } = (await token.json()) as { access_token: string };

    const devices = await callWorker(`/api/v1/sites/${site.slug}/devices`, {
      headers: { Authorization: `Bearer ${access_token}` },
      now: at + 1000,
      ip,
    });
    expect(devices.status).toBe(200);

    const after = await (await admin.get(gridPath(site), { now: at + 2000 })).text();
    const row = after.slice(after.indexOf(name), after.indexOf("</tr>", after.indexOf(name)));
    // "2031-01-15 13:01 (Europe/Berlin)": the minute of the token request, in the Site's zone.
    const shown = formatInstant(at, "Europe/Berlin").replace(/ \(.*\)$/, "");
    expect(row).toContain(shown);
  });
});
