import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { appRegistrations, savedViews, sites, users } from "../../src/db/schema";
import { fieldError, signInGlobalAdmin } from "../helpers/admin-pages";
import { db, unique } from "../helpers/app";
import { bodyOf } from "../helpers/html";
import { callWorker, createClient, eventsFor, requestToken } from "../helpers/oauth";
import { createForm, gridPath, siteWithAdmin } from "../helpers/registration-pages";

/**
 * Names and descriptions that people type are shown to others (grid, pages, emails, logs): characters that make
 * text look like other text are refused everywhere with a field error, and accepted text is stored as NFC.
 */
const SPOOFS: [string, string, string][] = [
  ["a right-to-left override (U+202E)", "invoice\u202Egpj.exe", "text-direction control"],
  ["a left-to-right embedding (U+202A)", "a\u202Ab", "text-direction control"],
  ["a first-strong isolate (U+2068)", "a\u2068b\u2069", "text-direction control"],
  ["a zero-width space (U+200B)", "ad\u200Bmin", "zero-width"],
  ["a zero-width joiner between letters (U+200D)", "ad\u200Dmin", "zero-width"],
  ["a word joiner (U+2060)", "ad\u2060min", "zero-width"],
  ["a byte-order mark inside (U+FEFF)", "ad\uFEFFmin", "zero-width"],
  ["a NUL", "a\u0000b", "control characters"],
  ["a C1 control (U+0085)", "a\u0085b", "control characters"],
  ["a tab", "a\tb", "control characters"],
];

const NFD_CAFE = "Cafe\u0301"; // "Café" with a combining accent
const ACCEPTED = ["Überwachung 東京 Δέλτα مرحبا", "Deploy bot 👩‍💻🏳️‍🌈👍🏽"];

const registrationByName = (siteId: number, name: string) =>
  db()
    .select()
    .from(appRegistrations)
    .where(eq(appRegistrations.siteId, siteId))
    .all()
    .then((rows) => rows.find((r) => r.name === name));

describe("registration names and descriptions", () => {
  for (const [what, name, words] of SPOOFS) {
    it(`refuses a name with ${what}: 422 next to the field, nothing stored`, async () => {
      const { site, admin } = await siteWithAdmin();
      const res = await admin.post(`${gridPath(site)}/new`, createForm({ name }));
      const html = await bodyOf(res, 422);
      expect(html).toMatch(new RegExp(`<p class="field-error" id="name-error">[^<]*${words}`));
      expect(await db().select().from(appRegistrations).where(eq(appRegistrations.siteId, site.id)).all()).toEqual([]);
    });
  }

  it("refuses a description with bidi controls or NUL, and keeps line breaks and tabs", async () => {
    const { site, admin } = await siteWithAdmin();
    for (const description of ["left\u202Eright", "nul\u0000here", "hidden\u200Bspace"]) {
      const res = await admin.post(`${gridPath(site)}/new`, createForm({ description }));
      expect(res.status).toBe(422);
      expect(await res.text()).toMatch(/<p class="field-error" id="description-error">Remove/);
    }
    const description = "Line one\r\nLine two\twith a tab";
    const name = unique("Multiline");
    expect((await admin.post(`${gridPath(site)}/new`, createForm({ name, description }))).status).toBe(201);
    expect((await registrationByName(site.id, name))?.description).toBe("Line one\r\nLine two\twith a tab");
  });

  it("keeps letters of every script and emoji, including ZWJ sequences, and stores NFC", async () => {
    const { site, admin } = await siteWithAdmin();
    for (const name of ACCEPTED) {
      expect((await admin.post(`${gridPath(site)}/new`, createForm({ name }))).status).toBe(201);
      expect(await registrationByName(site.id, name)).toBeDefined();
    }
    expect((await admin.post(`${gridPath(site)}/new`, createForm({ name: NFD_CAFE }))).status).toBe(201);
    expect(await registrationByName(site.id, "Caf\u00e9")).toBeDefined();
    expect(await registrationByName(site.id, NFD_CAFE)).toBeUndefined();
    // The NFC form is what uniqueness compares: the composed spelling is the same name.
    const again = await admin.post(`${gridPath(site)}/new`, createForm({ name: "Caf\u00e9" }));
    expect(again.status).toBe(422);
  });
});

const siteNamed = async (slug: string) => (await db().select().from(sites).where(eq(sites.slug, slug)).get())?.name;
const userNamed = async (email: string) => (await db().select().from(users).where(eq(users.email, email)).get())?.name;

/** The Global Administrator's create forms that take a display name: what each posts and where it stores it. */
const NAMED_FORMS = [
  {
    what: "a Site name with a bidi override or zero-width space",
    path: "/admin/sites",
    form: "site",
    refused: ["Plant\u202EFloor", "Plant\u200BFloor"],
    accepted: [NFD_CAFE, "Caf\u00e9"],
    body: (name: string) => ({
      slug: unique("site"),
      name,
      timeZone: "UTC",
      restApiEnabled: "on",
      maxRegistrationDays: "365",
    }),
    storedName: (body: Record<string, string>) => siteNamed(body.slug ?? ""),
  },
  {
    what: "a user name with a bidi isolate or NUL",
    path: "/admin/users",
    form: "user",
    refused: ["Ada\u2066Operator", "Ada\u0000Operator"],
    accepted: [`${NFD_CAFE} 👩‍🔧`, "Caf\u00e9 👩‍🔧"],
    body: (name: string) => ({ email: `${unique("named")}@example.test`, name, password: "first day at the plant" }),
    storedName: (body: Record<string, string>) => userNamed(body.email ?? ""),
  },
] as const;

describe("Site and user names", () => {
  for (const named of NAMED_FORMS) {
    it(`refuses ${named.what}, and stores NFC`, async () => {
      const { browser } = await signInGlobalAdmin();
      for (const name of named.refused) {
        const body = named.body(name);
        const res = await browser.post(named.path, body);
        expect(res.status).toBe(422);
        expect(fieldError(await res.text(), named.form, "name")).toMatch(/^Remove/);
        expect(await named.storedName(body)).toBeUndefined();
      }
      const [typed, stored] = named.accepted;
      const ok = named.body(typed);
      expect((await browser.post(named.path, ok)).status).toBe(303);
      expect(await named.storedName(ok)).toBe(stored);
    });
  }
});

describe("saved view names", () => {
  it("refuses a view name with a bidi override with 400 and saves nothing", async () => {
    const { site, admin } = await siteWithAdmin();
    const res = await admin.post(`${gridPath(site)}/views`, { name: "Expired\u202E", query: "state=expired" });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("text-direction control");
    expect(await db().select().from(savedViews).where(eq(savedViews.userId, admin.userId)).all()).toEqual([]);
  });
});

describe("device names over the REST API", () => {
  async function tokenOf(client: { clientId: string; clientSecret: string }) {
    const res = await requestToken({ ...client, scope: "devices:write" });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }
  const post = (slug: string, token: string, body: unknown) =>
    callWorker(`/api/v1/sites/${slug}/devices`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });

  it("refuses NUL, bidi and zero-width characters with 400 per field, and stores NFC", async () => {
    const client = await createClient({ scopes: ["devices:read", "devices:write"] });
    const token = await tokenOf(client);
    for (const [name, words] of [
      ["pump\u00001", "control characters"],
      ["pump\u202E1", "text-direction control"],
      ["pump\u200B1", "zero-width"],
    ]) {
      const res = await post(client.site.slug, token, { name, ip_address: "192.0.2.1" });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; fields: { name: string } };
      expect(body.error).toBe("invalid_request");
      expect(body.fields.name).toMatch(new RegExp(`^name: .*${words}`));
    }
    const ok = await post(client.site.slug, token, { name: `${NFD_CAFE} 🏭`, ip_address: "192.0.2.1" });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { name: string }).name).toBe("Caf\u00e9 🏭");
  });
});

describe("the caller's IP (CF-Connecting-IP)", () => {
  it("is stored only when it is an IP address; anything else is recorded as unknown", async () => {
    const { clientId } = await createClient();
    for (const ip of ["not-an-ip", "<script>alert(1)</script>", "999.1.1.1", "1.2.3.4, 5.6.7.8"]) {
      const res = await requestToken({ clientId, clientSecret: "asc_wrong", ip });
      expect(res.status).toBe(401);
    }
    await requestToken({ clientId, clientSecret: "asc_wrong", ip: "2001:db8::7" });
    const ips = [...new Set((await eventsFor(clientId)).map((e) => e.ip))].sort();
    expect(ips).toEqual(["", "2001:db8::7"]);
  });
});
