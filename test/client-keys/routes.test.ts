import { and, eq } from "drizzle-orm";
import { calculateJwkThumbprint, exportJWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_KEYS_PER_REGISTRATION } from "../../src/client-keys/repository";
import { adminAuditEvents, clientKeys } from "../../src/db/schema";
import { addCalendarDays, calendarDateInZone, DAY, startOfDayInZone } from "../../src/lib/time";
import { type Browser, createSite, createUser, db, signIn } from "../helpers/app";
import { bodyOf } from "../helpers/html";
import { generateClientKeyPair, generateWeakRsaKeyPair } from "../helpers/key-pairs";
import { createRegistration } from "../helpers/registrations";
import { privateKeyPem, selfSignedCertificate } from "../helpers/x509";

const NOW = Date.UTC(2026, 10, 22, 9, 30);
const HTMX = { "HX-Request": "true" };

let site: Awaited<ReturnType<typeof createSite>>;
let adminEmail: string;
let admin: Browser;

beforeAll(async () => {
  site = await createSite({ timeZone: "Europe/Berlin" });
  adminEmail = (await createUser({ sites: [[site.id, "site_admin"]] })).email;
  admin = await signIn(adminEmail, undefined, NOW);
});

const keysPath = (registrationId: number, slug = site.slug) =>
  `/sites/${slug}/settings/iam/app-registrations/${registrationId}/keys`;

async function newRegistration(siteId = site.id) {
  return (await createRegistration(siteId, { now: NOW })).registration;
}

async function storedKeys(registrationId: number) {
  return db().select().from(clientKeys).where(eq(clientKeys.registrationId, registrationId)).all();
}

async function auditRows(registrationId: number) {
  return db()
    .select()
    .from(adminAuditEvents)
    .where(and(eq(adminAuditEvents.registrationId, registrationId), eq(adminAuditEvents.targetType, "client_key")))
    .all();
}

async function publicJwkText(alg: "ES256" | "RS256" | "EdDSA", kid: string) {
  const pair = await generateClientKeyPair(alg);
  return { pair, text: JSON.stringify({ ...pair.publicJwk, kid }) };
}

describe("adding a key", () => {
  it("stores a public JWK with its fingerprint and pinned algorithm, audits it and lists it", async () => {
    const registration = await newRegistration();
    const { pair, text } = await publicJwkText("ES256", "consumer-2026");
    const res = await admin.post(keysPath(registration.id), { key: text, alg: "", kid: "", expires: "" }, { now: NOW });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`${keysPath(registration.id)}?notice=added`);

    const [row, ...others] = await storedKeys(registration.id);
    expect(others).toHaveLength(0);
    const fingerprint = await calculateJwkThumbprint(pair.publicJwk);
    expect(row).toMatchObject({ kid: "consumer-2026", alg: "ES256", fingerprint, expiresAt: null, createdAt: NOW });
    expect(JSON.parse(row?.publicJwk ?? "{}")).toEqual({
      ...pair.publicJwk,
      kid: "consumer-2026",
      alg: "ES256",
      use: "sig",
    });

    const [audit] = await auditRows(registration.id);
    expect(audit).toMatchObject({ siteId: site.id, action: "add_key", targetLabel: "consumer-2026", at: NOW });
    expect(JSON.parse(audit?.changes ?? "{}")).toEqual({
      kid: [null, "consumer-2026"],
      alg: [null, "ES256"],
      fingerprint: [null, fingerprint],
      expires: [null, null],
    });
    // No key material beyond kid, algorithm and fingerprint in the audit trail.
    expect(audit?.changes).not.toContain(pair.publicJwk.x as string);

    const page = await (await admin.get(`${keysPath(registration.id)}?notice=added`, { now: NOW })).text();
    expect(page).toContain("<h1>Public keys · ");
    expect(page).toContain("The key was added.");
    expect(page).toContain("consumer-2026");
    expect(page).toContain(fingerprint);
    expect(page).toContain("Never");
  });

  it("answers an htmx add with the section fragment listing the key and a notice", async () => {
    const registration = await newRegistration();
    const pair = await generateClientKeyPair("EdDSA");
    const certificate = await selfSignedCertificate(pair, "EdDSA");
    const res = await admin.post(
      keysPath(registration.id),
      { key: certificate, kid: "ed-cert" },
      { now: NOW, headers: HTMX },
    );
    const html = await bodyOf(res, 200);
    expect(html.startsWith('<section id="client-keys"')).toBe(true);
    expect(html).not.toContain("<html");
    const fingerprint = await calculateJwkThumbprint(pair.publicJwk);
    expect(html).toContain(`The key &quot;ed-cert&quot; was added (fingerprint ${fingerprint}).`);
    expect(html).toContain("EdDSA");
  });

  it("stores an expiry date as 00:00 of that date in the Site's zone and shows it with the zone named", async () => {
    const registration = await newRegistration();
    const date = addCalendarDays(calendarDateInZone(NOW, site.timeZone), 60);
    const { text } = await publicJwkText("RS256", "rsa-expiring");
    const res = await admin.post(keysPath(registration.id), { key: text, expires: date }, { now: NOW });
    expect(res.status).toBe(303);
    const [row] = await storedKeys(registration.id);
    expect(row?.expiresAt).toBe(startOfDayInZone(date, "Europe/Berlin"));
    const page = await (await admin.get(keysPath(registration.id), { now: NOW })).text();
    expect(page).toContain(`${date} 00:00 (Europe/Berlin)`);
    // Once the date is reached the key is shown as expired.
    const later = (row?.expiresAt ?? 0) + DAY;
    const laterAdmin = await signIn(adminEmail, undefined, later);
    const laterPage = await (await laterAdmin.get(keysPath(registration.id), { now: later })).text();
    expect(laterPage).toContain(">Expired<");
  });

  it("refuses an expiry date that is not in the future and stores nothing", async () => {
    const registration = await newRegistration();
    const today = calendarDateInZone(NOW, site.timeZone);
    const { text } = await publicJwkText("ES256", "k");
    for (const expires of [today, "2020-01-01", "2026-02-30", "next week"]) {
      const res = await admin.post(keysPath(registration.id), { key: text, expires }, { now: NOW });
      expect(res.status).toBe(422);
      expect(await res.text()).toMatch(/The expiry date must be in the future\.|Enter the expiry as a date/);
    }
    expect(await storedKeys(registration.id)).toHaveLength(0);
  });

  it("escapes a kid with markup everywhere it is shown", async () => {
    const registration = await newRegistration();
    const { text } = await publicJwkText("ES256", "<img/src=x>");
    await admin.post(keysPath(registration.id), { key: text }, { now: NOW });
    const page = await (await admin.get(keysPath(registration.id), { now: NOW })).text();
    expect(page).toContain("&lt;img/src=x&gt;");
    expect(page).not.toContain("<img/src=x>");
  });
});

describe("refused uploads show a clear error next to the field, keep what was typed and change nothing", () => {
  const cases: [string, () => Promise<Record<string, string>>, RegExp][] = [
    [
      "a private JWK",
      async () => ({ key: JSON.stringify({ ...(await generateClientKeyPair("ES256")).privateJwk, kid: "p" }) }),
      /This JWK contains private key material/,
    ],
    [
      "a PEM private key",
      async () => ({ key: await privateKeyPem((await generateClientKeyPair("RS256")).privateKey), kid: "p" }),
      /This is a private key\./,
    ],
    [
      "a symmetric key",
      async () => ({ key: JSON.stringify({ kty: "oct", k: "c2VjcmV0LXNlY3JldC1zZWNyZXQ", kid: "s" }) }),
      /This is a symmetric \(kty &quot;oct&quot;\) key/,
    ],
    [
      "an RSA key of 1024 bits",
      async () => ({
        key: JSON.stringify({ ...(await exportJWK((await generateWeakRsaKeyPair()).publicKey)), kid: "w" }),
      }),
      /This RSA key has 1024 bits\. RSA keys must have at least 2048 bits/,
    ],
    [
      "an algorithm that does not fit the key",
      async () => ({ key: (await publicJwkText("ES256", "m")).text, alg: "EdDSA" }),
      /The key is an EC P-256 key, which signs with ES256, not EdDSA\./,
    ],
    [
      "an unknown algorithm",
      async () => ({ key: (await publicJwkText("RS256", "u")).text, alg: "HS256" }),
      /The algorithm HS256 is not supported\. Use ES256, RS256 or EdDSA\./,
    ],
    ["garbage", async () => ({ key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 me@laptop" }), /neither a PEM certificate/],
    [
      "an upload over 16 KB",
      async () => ({ key: JSON.stringify({ kty: "EC", padding: "x".repeat(17_000) }) }),
      /The key is larger than 16 KB/,
    ],
    [
      "a certificate without kid",
      async () => {
        const pair = await generateClientKeyPair("ES256");
        return { key: await selfSignedCertificate(pair, "ES256") };
      },
      /Give the certificate a kid\./,
    ],
    ["no key field at all", async () => ({ kid: "only-a-kid" }), /Paste a PEM certificate or a public JWK\./],
  ];

  for (const [what, form, message] of cases) {
    it(`refuses ${what}`, async () => {
      const registration = await newRegistration();
      const fields = await form();
      const res = await admin.post(keysPath(registration.id), fields, { now: NOW, headers: HTMX });
      const html = await bodyOf(res, 422);
      expect(html).toMatch(message);
      expect(html).toMatch(/class="(field|form)-error"/);
      if (fields.kid) expect(html).toContain(`value="${fields.kid}"`);
      expect(await storedKeys(registration.id)).toHaveLength(0);
      expect(await auditRows(registration.id)).toHaveLength(0);
    });
  }

  it("refuses a second key with the same kid in the same registration", async () => {
    const registration = await newRegistration();
    const first = await publicJwkText("ES256", "same");
    const second = await publicJwkText("ES256", "same");
    expect((await admin.post(keysPath(registration.id), { key: first.text }, { now: NOW })).status).toBe(303);
    const res = await admin.post(keysPath(registration.id), { key: second.text }, { now: NOW });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("This registration already has a key with the kid &quot;same&quot;.");
    const rows = await storedKeys(registration.id);
    expect(rows.map((r) => r.fingerprint)).toEqual([await calculateJwkThumbprint(first.pair.publicJwk)]);
    expect(await auditRows(registration.id)).toHaveLength(1);

    // The same kid in another registration is fine.
    const other = await newRegistration();
    expect((await admin.post(keysPath(other.id), { key: second.text }, { now: NOW })).status).toBe(303);
  });

  it(`refuses an eleventh key: a registration holds at most ${MAX_KEYS_PER_REGISTRATION}`, async () => {
    const registration = await newRegistration();
    for (let i = 0; i < MAX_KEYS_PER_REGISTRATION; i++) {
      const { text } = await publicJwkText("ES256", `k${i}`);
      expect((await admin.post(keysPath(registration.id), { key: text }, { now: NOW })).status).toBe(303);
    }
    const { text } = await publicJwkText("ES256", "one-too-many");
    const res = await admin.post(keysPath(registration.id), { key: text }, { now: NOW });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain(`A registration holds at most ${MAX_KEYS_PER_REGISTRATION} public keys.`);
    expect(await storedKeys(registration.id)).toHaveLength(MAX_KEYS_PER_REGISTRATION);
  });
});

describe("removing a key", () => {
  it("asks for confirmation without JavaScript, then removes the key and audits it", async () => {
    const registration = await newRegistration();
    const { text, pair } = await publicJwkText("ES256", "to-remove");
    await admin.post(keysPath(registration.id), { key: text }, { now: NOW });
    const [row] = await storedKeys(registration.id);
    const confirmation = await (await admin.get(`${keysPath(registration.id)}/${row?.id}/delete`, { now: NOW })).text();
    expect(confirmation).toContain("Remove key to-remove?");
    expect(await storedKeys(registration.id)).toHaveLength(1);

    const res = await admin.post(`${keysPath(registration.id)}/${row?.id}/delete`, {}, { now: NOW + 1000 });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`${keysPath(registration.id)}?notice=removed`);
    expect(await storedKeys(registration.id)).toHaveLength(0);
    const removal = (await auditRows(registration.id)).find((r) => r.action === "remove_key");
    expect(removal).toMatchObject({ siteId: site.id, targetLabel: "to-remove", at: NOW + 1000 });
    expect(JSON.parse(removal?.changes ?? "{}")).toEqual({
      kid: ["to-remove", null],
      alg: ["ES256", null],
      fingerprint: [await calculateJwkThumbprint(pair.publicJwk), null],
    });
  });

  it("answers an htmx removal with the section without the key", async () => {
    const registration = await newRegistration();
    const { text } = await publicJwkText("RS256", "htmx-remove");
    await admin.post(keysPath(registration.id), { key: text }, { now: NOW });
    const [row] = await storedKeys(registration.id);
    const res = await admin.post(`${keysPath(registration.id)}/${row?.id}/delete`, {}, { now: NOW, headers: HTMX });
    const html = await bodyOf(res, 200);
    expect(html).toContain("The key was removed.");
    expect(html).toContain("No public keys yet.");
  });

  it("answers 404 for a key that is already gone", async () => {
    const registration = await newRegistration();
    const { text } = await publicJwkText("ES256", "twice");
    await admin.post(keysPath(registration.id), { key: text }, { now: NOW });
    const [row] = await storedKeys(registration.id);
    expect((await admin.post(`${keysPath(registration.id)}/${row?.id}/delete`, {}, { now: NOW })).status).toBe(303);
    expect((await admin.post(`${keysPath(registration.id)}/${row?.id}/delete`, {}, { now: NOW })).status).toBe(404);
    expect((await auditRows(registration.id)).filter((r) => r.action === "remove_key")).toHaveLength(1);
  });
});

describe("ownership and access", () => {
  it("a key id of another registration answers 404 and the key stays", async () => {
    const mine = await newRegistration();
    const theirs = await newRegistration();
    const { text } = await publicJwkText("ES256", "theirs");
    await admin.post(keysPath(theirs.id), { key: text }, { now: NOW });
    const [row] = await storedKeys(theirs.id);
    expect((await admin.post(`${keysPath(mine.id)}/${row?.id}/delete`, {}, { now: NOW })).status).toBe(404);
    expect((await admin.get(`${keysPath(mine.id)}/${row?.id}/delete`, { now: NOW })).status).toBe(404);
    expect(await storedKeys(theirs.id)).toHaveLength(1);
  });

  it("a registration of another Site answers 404 under this Site, for reading, adding and removing", async () => {
    const otherSite = await createSite();
    const foreign = await newRegistration(otherSite.id);
    const otherAdmin = await signIn(
      (await createUser({ sites: [[otherSite.id, "site_admin"]] })).email,
      undefined,
      NOW,
    );
    const { text } = await publicJwkText("ES256", "foreign");
    expect((await otherAdmin.post(keysPath(foreign.id, otherSite.slug), { key: text }, { now: NOW })).status).toBe(303);
    const [row] = await storedKeys(foreign.id);

    expect((await admin.get(keysPath(foreign.id), { now: NOW })).status).toBe(404);
    expect((await admin.post(keysPath(foreign.id), { key: text }, { now: NOW })).status).toBe(404);
    expect((await admin.post(`${keysPath(foreign.id)}/${row?.id}/delete`, {}, { now: NOW })).status).toBe(404);
    // And this Site's administrator cannot reach the other Site at all.
    expect((await admin.get(keysPath(foreign.id, otherSite.slug), { now: NOW })).status).toBe(404);
    expect(await storedKeys(foreign.id)).toHaveLength(1);
  });

  it("a Site User gets 403, a Global Administrator gets the page, ids that are not numbers get 404", async () => {
    const registration = await newRegistration();
    const siteUser = await signIn((await createUser({ sites: [[site.id, "site_user"]] })).email, undefined, NOW);
    expect((await siteUser.get(keysPath(registration.id), { now: NOW })).status).toBe(403);
    const { text } = await publicJwkText("ES256", "user");
    expect((await siteUser.post(keysPath(registration.id), { key: text }, { now: NOW })).status).toBe(403);
    const root = await signIn((await createUser({ global: true })).email, undefined, NOW);
    expect((await root.get(keysPath(registration.id), { now: NOW })).status).toBe(200);
    expect((await admin.get(`/sites/${site.slug}/settings/iam/app-registrations/abc/keys`, { now: NOW })).status).toBe(
      404,
    );
    expect((await admin.post(`${keysPath(registration.id)}/1e3/delete`, {}, { now: NOW })).status).toBe(404);
    expect(await storedKeys(registration.id)).toHaveLength(0);
  });

  it("refuses a post without the session's CSRF token", async () => {
    const registration = await newRegistration();
    const { text } = await publicJwkText("ES256", "csrf");
    const res = await admin.post(keysPath(registration.id), { key: text, _csrf: "forged" }, { now: NOW });
    expect(res.status).toBe(403);
    expect(await storedKeys(registration.id)).toHaveLength(0);
  });
});
