import { describe, expect, it } from "vitest";
import { createSite } from "../helpers/app";
import { basicAuthorization, callWorker, FORM, registrationRow, uniqueIp } from "../helpers/oauth";
import { createRegistration } from "../helpers/registrations";

/* Seed 003 "Verify": exchange the new credentials for a token, list devices, see Last used update. */
describe("the seed flow, end to end", () => {
  it("creates a registration, gets a token with Basic, lists devices, and Last used shows the time", async () => {
    const site = await createSite({ name: "Main Site" });
    const { registration, clientSecret } = await createRegistration(site.id, {
      name: "Backup script — pull device list nightly",
      daysAhead: 90,
    });
    expect(registration.lastUsedAt).toBeNull();

    const now = Date.now();
    const ip = uniqueIp();
    const tokenResponse = await callWorker("/oauth/token", {
      method: "POST",
      headers: { "Content-Type": FORM, Authorization: basicAuthorization(registration.clientId, clientSecret) },
      body: "grant_type=client_credentials",
      now,
      ip,
    });
    expect(tokenResponse.status).toBe(200);
    const { access_token, token_type } = (await tokenResponse.json()) as { access_token: string; token_type: string };
    expect(token_type).toBe("Bearer");

    const devices = await callWorker(`/api/v1/sites/${site.slug}/devices`, {
      headers: { Authorization: `Bearer ${access_token}` },
      now: now + 1000,
      ip,
    });
    expect(devices.status).toBe(200);
    expect(await devices.json()).toEqual({ devices: [], next_cursor: null });

    const row = await registrationRow(registration.id);
    expect(row?.lastUsedAt).toBe(now);
    expect(row?.lastUsedIp).toBe(ip);
  });
});
