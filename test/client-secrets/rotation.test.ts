import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { RETIRED_SECRET_RETENTION } from "../../src/client-secrets/policy";
import { purgeRetiredSecrets } from "../../src/client-secrets/repository";
import type { Site } from "../../src/db/schema";
import { adminAuditEvents, appRegistrations, clientSecrets, notifications } from "../../src/db/schema";
import { calendarDateInZone, DAY, MINUTE } from "../../src/lib/time";
import { hashClientSecret } from "../../src/registrations/secrets";
import { elementById } from "../helpers/admin-pages";
import { db } from "../helpers/app";
import { bodyOf, textOf } from "../helpers/html";
import { drain, recordingBindings, resetCronState, runScheduled } from "../helpers/notifications";
import { eventsWithCode, requestToken } from "../helpers/oauth";
import {
  type Client,
  clientFor,
  createThroughForm,
  HTMX,
  NOW,
  postWithoutToken,
  regPath,
  SECRET_IN_PAGE,
  siteWithAdmin,
} from "../helpers/registration-pages";

const secretsPath = (site: Site, id: number) => `${regPath(site, id)}/secrets`;

/** The stored secrets of a registration, oldest first. */
function secretsOf(registrationId: number) {
  return db()
    .select()
    .from(clientSecrets)
    .where(eq(clientSecrets.registrationId, registrationId))
    .orderBy(clientSecrets.id)
    .all();
}

function secretAudit(registrationId: number) {
  return db()
    .select()
    .from(adminAuditEvents)
    .where(and(eq(adminAuditEvents.registrationId, registrationId), eq(adminAuditEvents.targetType, "client_secret")))
    .orderBy(adminAuditEvents.id)
    .all();
}

/** A registration made through the form, with its first secret as the creation page showed it. */
async function registrationWithSecret(admin: Client, site: Site) {
  const created = await createThroughForm(admin, site);
  expect(created.res.status).toBe(201);
  if (!created.row || !created.secret) throw new Error("creation failed");
  const [first] = await secretsOf(created.row.id);
  if (!first) throw new Error("no first secret");
  return { registration: created.row, secret: created.secret, secretId: first.id };
}

/** Rotates through the form of the registration page; returns the answer and the new secret it showed. */
async function rotate(
  admin: Client,
  site: Site,
  registrationId: number,
  basis: number,
  oldSecretStops: string,
  now = NOW,
) {
  const res = await admin.post(secretsPath(site, registrationId), { basis: String(basis), oldSecretStops }, { now });
  const html = await res.text();
  return { res, html, secret: SECRET_IN_PAGE.exec(html)?.[1] };
}

async function tokenStatus(clientId: string, clientSecret: string, now: number) {
  const res = await requestToken({ clientId, clientSecret, now });
  return res.status;
}

let site: Site;
let admin: Client;

/** The Site's administrator signed in at `now` (sessions end after a while, and the tests travel in time). */
const adminAt = (now: number) => clientFor("site_admin", site, now);

beforeEach(async () => {
  ({ site, admin } = await siteWithAdmin({ timeZone: "Europe/Berlin" }));
});

describe("New client secret", () => {
  it("issues a second secret shown once; both work during the overlap; the old one stops at its chosen expiry", async () => {
    const { registration, secret: oldSecret, secretId } = await registrationWithSecret(admin, site);

    const page = await bodyOf(await admin.get(regPath(site, registration.id)), 200);
    const section = elementById(page, "client-secrets");
    expect(textOf(section)).toContain(`${oldSecret.slice(0, 8)}…`);
    expect(textOf(section)).toContain(`by ${admin.email}`);
    expect(textOf(section)).toContain("Live");
    expect(textOf(section)).toContain("Not used yet");
    expect(section).toContain(`name="basis" value="${secretId}"`);
    expect(section).toMatch(/<button[^>]*>New client secret<\/button>/);

    const rotation = await rotate(admin, site, registration.id, secretId, "7d");
    expect(rotation.res.status).toBe(201);
    expect(rotation.res.headers.get("Cache-Control")).toContain("no-store");
    const newSecret = rotation.secret ?? "";
    expect(newSecret).toMatch(/^asc_[A-Za-z0-9_-]{43}$/);
    expect(newSecret).not.toBe(oldSecret);
    expect(rotation.html).toContain(registration.clientId);
    expect(textOf(rotation.html)).toContain("Copy the Client secret now. It is shown only once");
    expect(rotation.html).toContain('data-copy-target="client-secret"');
    expect(textOf(rotation.html)).toContain(`The previous secret ${oldSecret.slice(0, 8)}… keeps working until`);

    // Client ID, Expiration date, scopes and lifetime do not change.
    const after = await db().select().from(appRegistrations).where(eq(appRegistrations.id, registration.id)).get();
    expect(after).toEqual(registration);

    const stored = await secretsOf(registration.id);
    expect(stored.map((s) => [s.hint, s.expiresAt, s.expirySetAt, s.revokedAt, s.createdBy])).toEqual([
      [oldSecret.slice(0, 8), NOW + 7 * DAY, NOW, null, admin.email],
      [newSecret.slice(0, 8), null, null, null, admin.email],
    ]);
    expect(stored[1]?.secretHash).toBe(await hashClientSecret(env.SECRET_PEPPER, newSecret));

    // The overlap: both get tokens.
    const { clientId } = registration;
    expect(await tokenStatus(clientId, oldSecret, NOW + MINUTE)).toBe(200);
    expect(await tokenStatus(clientId, newSecret, NOW + MINUTE)).toBe(200);
    expect(await tokenStatus(clientId, oldSecret, NOW + 7 * DAY - 1)).toBe(200);

    // From the chosen expiry, the old one is refused with its own detail code; the new one keeps working.
    expect(await tokenStatus(clientId, oldSecret, NOW + 7 * DAY)).toBe(401);
    expect(await eventsWithCode(clientId, "SecretExpired")).toHaveLength(1);
    expect(await tokenStatus(clientId, newSecret, NOW + 7 * DAY)).toBe(200);
    // A secret that matches nothing stays InvalidSecret.
    expect(await tokenStatus(clientId, `${newSecret.slice(0, -1)}x`, NOW + 7 * DAY)).toBe(401);
    expect(await eventsWithCode(clientId, "InvalidSecret")).toHaveLength(1);

    const later = await bodyOf(await (await adminAt(NOW + 7 * DAY + MINUTE)).get(regPath(site, registration.id)), 200);
    const rows = [...later.matchAll(/<tr data-secret-id="(\d+)"[^>]*>([\s\S]*?)<\/tr>/g)].map((m) =>
      textOf(m[2] ?? ""),
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/Live/);
    expect(rows[1]).toMatch(/Expired/);
    expect(rows[1]).not.toMatch(/Revoke/);
  });

  it("offers in 7 days (default), in 1 day, in 30 days, now and never, each setting the old secret's expiry", async () => {
    const page = await bodyOf(
      await admin.get(regPath(site, (await registrationWithSecret(admin, site)).registration.id)),
      200,
    );
    expect(textOf(page)).toContain("Old secret stops working in 7 days in 1 day in 30 days now never (keep both)");
    expect(page).toMatch(/value="7d" checked/);

    const expected: Record<string, number | null> = { "1d": NOW + DAY, "30d": NOW + 30 * DAY, now: NOW, never: null };
    for (const [choice, expiry] of Object.entries(expected)) {
      const { registration, secret, secretId } = await registrationWithSecret(admin, site);
      const rotation = await rotate(admin, site, registration.id, secretId, choice);
      expect(rotation.res.status, choice).toBe(201);
      const [old] = await secretsOf(registration.id);
      expect(old?.expiresAt, choice).toBe(expiry);
      const status = await tokenStatus(registration.clientId, secret, NOW + 1);
      expect(status, choice).toBe(choice === "now" ? 401 : 200);
    }
  });

  it("refuses a third live secret, and explains why on the page", async () => {
    const { registration, secretId } = await registrationWithSecret(admin, site);
    expect((await rotate(admin, site, registration.id, secretId, "never")).res.status).toBe(201);
    const [, second] = await secretsOf(registration.id);

    const page = await bodyOf(await admin.get(regPath(site, registration.id)), 200);
    expect(page).toMatch(/<button type="submit" class="primary" disabled="" aria-describedby="new-secret-full">/);
    expect(textOf(page)).toContain("Two secrets are live. Revoke one of them before issuing another.");

    const third = await rotate(admin, site, registration.id, second?.id ?? 0, "7d");
    expect(third.res.status).toBe(409);
    expect(third.secret).toBeUndefined();
    expect(textOf(third.html)).toContain("Two secrets are live already. Revoke one of them before issuing another.");
    expect(await secretsOf(registration.id)).toHaveLength(2);
    expect((await secretAudit(registration.id)).map((a) => a.action)).toEqual(["add_secret"]);
  });

  it("does nothing when the same form is sent again (a reload of the secret page)", async () => {
    const { registration, secret, secretId } = await registrationWithSecret(admin, site);
    const first = await rotate(admin, site, registration.id, secretId, "now");
    expect(first.res.status).toBe(201);
    const again = await rotate(admin, site, registration.id, secretId, "now");
    expect(again.res.status).toBe(409);
    expect(again.secret).toBeUndefined();
    expect(textOf(again.html)).toContain("This form was already used or is out of date");
    const stored = await secretsOf(registration.id);
    expect(stored).toHaveLength(2);
    // The secret just issued is untouched and works; the old one stopped "now".
    expect(stored[1]?.expiresAt).toBeNull();
    expect(await tokenStatus(registration.clientId, first.secret ?? "", NOW + 1)).toBe(200);
    expect(await tokenStatus(registration.clientId, secret, NOW + 1)).toBe(401);
  });

  it("refuses bad input with a clear error and changes nothing", async () => {
    const { registration, secretId } = await registrationWithSecret(admin, site);
    const path = secretsPath(site, registration.id);
    const forms: Record<string, string>[] = [
      { basis: String(secretId), oldSecretStops: "tomorrow" },
      { basis: String(secretId) },
      { basis: "-1", oldSecretStops: "7d" },
      { basis: "1e3", oldSecretStops: "7d" },
    ];
    for (const form of forms) {
      const res = await admin.post(path, form);
      const html = await bodyOf(res, 422);
      expect(textOf(html)).toMatch(/Choose when the old secret stops working|The form is damaged/);
      expect(SECRET_IN_PAGE.test(html)).toBe(false);
    }
    expect(await secretsOf(registration.id)).toHaveLength(1);
    expect(await secretAudit(registration.id)).toHaveLength(0);
  });
});

describe("Revoke", () => {
  it("stops the secret at the token endpoint at once, records SecretRevoked, and audits with the hint only", async () => {
    const { registration, secret: oldSecret, secretId } = await registrationWithSecret(admin, site);
    const { secret: newSecret } = await rotate(admin, site, registration.id, secretId, "never");
    const { clientId } = registration;
    expect(await tokenStatus(clientId, oldSecret, NOW + 1)).toBe(200);

    // Without JavaScript: a confirmation page, then the POST.
    const confirm = await bodyOf(await admin.get(`${secretsPath(site, registration.id)}/${secretId}/revoke`), 200);
    expect(textOf(confirm)).toContain(`Revoke the Client secret ${oldSecret.slice(0, 8)}…?`);
    const res = await admin.post(`${secretsPath(site, registration.id)}/${secretId}/revoke`, {});
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`${regPath(site, registration.id)}?notice=secret-revoked#client-secrets`);

    expect(await tokenStatus(clientId, oldSecret, NOW + 2)).toBe(401);
    expect(await eventsWithCode(clientId, "SecretRevoked")).toHaveLength(1);
    expect(await tokenStatus(clientId, newSecret ?? "", NOW + 3)).toBe(200);

    const [old] = await secretsOf(registration.id);
    expect(old?.revokedAt).toBe(NOW);
    const audit = await secretAudit(registration.id);
    expect(audit.map((a) => [a.action, a.targetLabel, a.actorEmail])).toEqual([
      ["add_secret", newSecret?.slice(0, 8), admin.email],
      ["revoke_secret", oldSecret.slice(0, 8), admin.email],
    ]);
    expect(JSON.parse(audit[1]?.changes ?? "{}")).toEqual({ secret: [`${oldSecret.slice(0, 8)}…`, null] });

    // A revoked secret cannot be revoked again, and offers no Revoke button.
    const again = await admin.post(`${secretsPath(site, registration.id)}/${secretId}/revoke`, {});
    expect(textOf(await bodyOf(again, 409))).toContain("is not live any more: nothing was changed");
    const page = await bodyOf(await admin.get(`${regPath(site, registration.id)}?notice=secret-revoked`), 200);
    expect(textOf(page)).toContain("The Client secret was revoked");
    expect(page.match(/>Revoke<\/button>/g)).toHaveLength(1);
  });

  it("answers htmx with the section and the audit trail out of band", async () => {
    const { registration, secretId } = await registrationWithSecret(admin, site);
    await rotate(admin, site, registration.id, secretId, "never");
    const res = await admin.post(`${secretsPath(site, registration.id)}/${secretId}/revoke`, {}, { headers: HTMX });
    const html = await bodyOf(res, 200);
    expect(html).toMatch(/^<section id="client-secrets"/);
    expect(html).toContain('id="audit-trail" class="audit-trail" aria-labelledby="audit-heading" hx-swap-oob="true"');
    expect(textOf(html)).toContain("Client secret revoked");
    expect(textOf(html)).toContain("was revoked.");
  });

  it("warns before revoking the last live secret, and the page warns when nothing can authenticate", async () => {
    const { registration, secret, secretId } = await registrationWithSecret(admin, site);
    const page = await bodyOf(await admin.get(regPath(site, registration.id)), 200);
    expect(page).toContain("It is the last live secret and the registration has no public key");
    const confirm = await bodyOf(await admin.get(`${secretsPath(site, registration.id)}/${secretId}/revoke`), 200);
    expect(textOf(confirm)).toContain("every consumer will fail until a new client secret is issued");
    expect(textOf(page)).not.toContain("No consumer can get a token");

    expect((await admin.post(`${secretsPath(site, registration.id)}/${secretId}/revoke`, {})).status).toBe(303);
    const after = await bodyOf(await admin.get(regPath(site, registration.id)), 200);
    expect(textOf(after)).toContain(
      "No consumer can get a token: this registration has no live Client secret and no public key.",
    );
    expect(await tokenStatus(registration.clientId, secret, NOW + 1)).toBe(401);

    // With none live, New client secret issues one without asking about an old secret.
    expect(after).toContain('name="basis" value="0"');
    const rotation = await rotate(admin, site, registration.id, 0, "never");
    expect(rotation.res.status).toBe(201);
    expect(textOf(rotation.html)).toContain("There was no live secret before");
    expect(await tokenStatus(registration.clientId, rotation.secret ?? "", NOW + 2)).toBe(200);
  });
});

describe("access rules", () => {
  it("Site Users get 403, another Site's ids 404, a secret of another registration 404, a forged form 403", async () => {
    const { registration, secret, secretId } = await registrationWithSecret(admin, site);
    const other = await registrationWithSecret(admin, site);
    const user = await clientFor("site_user", site);
    const path = secretsPath(site, registration.id);

    expect((await user.post(path, { basis: String(secretId), oldSecretStops: "7d" })).status).toBe(403);
    expect((await user.post(`${path}/${secretId}/revoke`, {})).status).toBe(403);
    expect((await user.get(`${path}/${secretId}/revoke`)).status).toBe(403);

    // Another registration's secret id under this registration: 404, and it stays live.
    expect((await admin.post(`${secretsPath(site, registration.id)}/${other.secretId}/revoke`, {})).status).toBe(404);
    expect((await admin.get(`${secretsPath(site, registration.id)}/${other.secretId}/revoke`)).status).toBe(404);
    expect((await admin.post(`${path}/abc/revoke`, {})).status).toBe(404);
    expect((await admin.post(`${path}/99999999999999999999/revoke`, {})).status).toBe(404);

    // Another Site's administrator cannot reach this Site's registration through their own Site either.
    const elsewhere = await siteWithAdmin();
    const foreign = `${secretsPath(elsewhere.site, registration.id)}`;
    expect((await elsewhere.admin.post(foreign, { basis: String(secretId), oldSecretStops: "now" })).status).toBe(404);
    expect((await elsewhere.admin.post(`${foreign}/${secretId}/revoke`, {})).status).toBe(404);

    expect((await postWithoutToken(admin, path, { basis: String(secretId), oldSecretStops: "now" })).status).toBe(403);

    expect(await secretsOf(registration.id)).toHaveLength(1);
    expect((await secretsOf(other.registration.id))[0]?.revokedAt).toBeNull();
    expect(await tokenStatus(registration.clientId, secret, NOW + 1)).toBe(200);
    expect(await tokenStatus(other.registration.clientId, other.secret, NOW + 1)).toBe(200);

    // A Global Administrator may rotate.
    const global = await clientFor("global", null);
    expect((await rotate(global, site, registration.id, secretId, "7d")).res.status).toBe(201);
  });
});

describe("Last used of each secret", () => {
  it("is written after the response, at most once a minute per secret", async () => {
    const { registration, secret, secretId } = await registrationWithSecret(admin, site);
    const { secret: newSecret } = await rotate(admin, site, registration.id, secretId, "7d");
    const at = NOW + 10 * MINUTE;
    expect(await tokenStatus(registration.clientId, newSecret ?? "", at)).toBe(200);
    expect(await tokenStatus(registration.clientId, newSecret ?? "", at + 30_000)).toBe(200);
    let [old, current] = await secretsOf(registration.id);
    expect(old?.lastUsedAt).toBeNull();
    expect(current?.lastUsedAt).toBe(at);

    expect(await tokenStatus(registration.clientId, secret, at + 2 * MINUTE)).toBe(200);
    expect(await tokenStatus(registration.clientId, newSecret ?? "", at + 2 * MINUTE)).toBe(200);
    [old, current] = await secretsOf(registration.id);
    expect(old?.lastUsedAt).toBe(at + 2 * MINUTE);
    expect(current?.lastUsedAt).toBe(at + 2 * MINUTE);

    const page = await bodyOf(await admin.get(regPath(site, registration.id), { now: at + 3 * MINUTE }), 200);
    const rows = [...page.matchAll(/<tr data-secret-id="(\d+)"[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => textOf(m[2] ?? ""));
    expect(rows.every((r) => !r.includes("Not used yet"))).toBe(true);
  });
});

describe("expiry notices and retention", () => {
  beforeEach(resetCronState);

  it("fires 'Client secret expires in 7 days' and 'has expired' naming the hint, never the secret", async () => {
    const { registration, secret: oldSecret, secretId } = await registrationWithSecret(admin, site);
    const { secret: newSecret } = await rotate(admin, site, registration.id, secretId, "7d");
    const queue = recordingBindings();
    await runScheduled(NOW + MINUTE, queue.env);
    await drain(queue);
    await runScheduled(NOW + 7 * DAY + MINUTE, queue.env);
    await drain(queue);

    const fired = await db()
      .select()
      .from(notifications)
      .where(eq(notifications.registrationId, registration.id))
      .orderBy(notifications.id)
      .all();
    expect(fired.map((n) => [n.template, n.secretHint, n.expiresAt])).toEqual([
      ["expires_in_7_days", oldSecret.slice(0, 8), NOW + 7 * DAY],
      ["expired", oldSecret.slice(0, 8), NOW + 7 * DAY],
    ]);
    const mine = queue.emails.filter((e) => e.subject.includes(registration.name));
    expect(mine.map((e) => e.subject)).toEqual([
      `Client secret expires in 7 days, on ${calendarDateInZone(NOW + 7 * DAY, site.timeZone)}: ${oldSecret.slice(0, 8)}… of ${registration.name} (${site.name})`,
      `Client secret has expired: ${oldSecret.slice(0, 8)}… of ${registration.name} (${site.name})`,
    ]);
    for (const email of mine) {
      for (const body of [email.text, email.html, email.subject]) {
        expect(body).not.toContain(oldSecret);
        expect(body).not.toContain(newSecret);
      }
    }

    const log = await bodyOf(
      await (await adminAt(NOW + 7 * DAY + 2 * MINUTE)).get(`/sites/${site.slug}/settings/notifications`),
      200,
    );
    expect(textOf(log)).toContain(`Client secret has expired Client secret ${oldSecret.slice(0, 8)}…`);
  });

  it("skips the 30-day notice for a shorter overlap, and sends none for a secret stopped now, revoked or kept", async () => {
    const thirty = await registrationWithSecret(admin, site);
    await rotate(admin, site, thirty.registration.id, thirty.secretId, "30d");
    const oneDay = await registrationWithSecret(admin, site);
    await rotate(admin, site, oneDay.registration.id, oneDay.secretId, "1d");
    const stopped = await registrationWithSecret(admin, site);
    await rotate(admin, site, stopped.registration.id, stopped.secretId, "now");
    const revoked = await registrationWithSecret(admin, site);
    await rotate(admin, site, revoked.registration.id, revoked.secretId, "7d");
    await admin.post(`${secretsPath(site, revoked.registration.id)}/${revoked.secretId}/revoke`, {});
    const kept = await registrationWithSecret(admin, site);
    await rotate(admin, site, kept.registration.id, kept.secretId, "never");

    const queue = recordingBindings();
    for (const at of [NOW + MINUTE, NOW + DAY + MINUTE, NOW + 23 * DAY + MINUTE, NOW + 30 * DAY + MINUTE]) {
      await runScheduled(at, queue.env);
      await drain(queue);
    }
    const templates = async (id: number) =>
      (await db().select().from(notifications).where(eq(notifications.registrationId, id)).orderBy(notifications.id))
        .filter((n) => n.secretHint !== null)
        .map((n) => n.template);
    expect(await templates(thirty.registration.id)).toEqual(["expires_in_30_days", "expires_in_7_days", "expired"]);
    expect(await templates(oneDay.registration.id)).toEqual(["expires_in_7_days", "expired"]);
    expect(await templates(stopped.registration.id)).toEqual([]);
    expect(await templates(revoked.registration.id)).toEqual([]);
    expect(await templates(kept.registration.id)).toEqual([]);
  });

  it("keeps retired secrets listed and recognised for 90 days, then the cron purges them", async () => {
    const { registration, secret: oldSecret, secretId } = await registrationWithSecret(admin, site);
    const { secret: newSecret } = await rotate(admin, site, registration.id, secretId, "never");
    await admin.post(`${secretsPath(site, registration.id)}/${secretId}/revoke`, {});

    const before = NOW + RETIRED_SECRET_RETENTION - MINUTE;
    expect(await tokenStatus(registration.clientId, oldSecret, before)).toBe(401);
    expect(await eventsWithCode(registration.clientId, "SecretRevoked")).toHaveLength(1);
    const listed = await bodyOf(await (await adminAt(before)).get(regPath(site, registration.id)), 200);
    expect(textOf(listed)).toContain(`${oldSecret.slice(0, 8)}… Revoked`);

    const after = NOW + RETIRED_SECRET_RETENTION + MINUTE;
    await runScheduled(after, recordingBindings().env);
    expect((await secretsOf(registration.id)).map((s) => s.hint)).toEqual([newSecret?.slice(0, 8)]);
    expect(await tokenStatus(registration.clientId, oldSecret, after)).toBe(401);
    expect(await eventsWithCode(registration.clientId, "InvalidSecret")).toHaveLength(1);
    const page = await bodyOf(await (await adminAt(after)).get(regPath(site, registration.id)), 200);
    const section = elementById(page, "client-secrets");
    expect(section).toContain(newSecret?.slice(0, 8));
    expect(section).not.toContain(oldSecret.slice(0, 8));
    // The audit trail keeps naming it by its hint.
    expect(textOf(page)).toContain(`Client secret revoked Client secret: ${oldSecret.slice(0, 8)}…`);
  });
});

describe("the retention purge's cost", () => {
  it("reads the retired secrets only, not the live ones (whose revoked_at and expires_at are NULL)", async () => {
    for (let i = 0; i < 40; i++) await registrationWithSecret(admin, site);
    // The real purge, through a binding that keeps what D1 reports about the statement it runs.
    let rowsRead = Number.NaN;
    const metered = {
      prepare: (sql: string) => {
        const statement = env.DB.prepare(sql);
        return {
          bind: (...values: unknown[]) => {
            const bound = statement.bind(...values);
            return {
              run: async () => {
                const result = await bound.run();
                rowsRead = result.meta.rows_read;
                return result;
              },
            };
          },
        };
      },
    } as unknown as D1Database;
    expect(await purgeRetiredSecrets(metered, NOW, { batchSize: 100 })).toEqual({ deleted: 0, done: true });
    // A few index probes, whatever the number of live secrets (here more than 40).
    expect(rowsRead).toBeLessThanOrEqual(8);
  });
});

describe("a secret is never shown after its creation page", () => {
  it("appears in no page, fragment, email, log or CSV", async () => {
    const { registration, secret: first, secretId } = await registrationWithSecret(admin, site);
    const { secret: second } = await rotate(admin, site, registration.id, secretId, "1d");
    const secrets = [first, second ?? ""];
    const hashes = await Promise.all(secrets.map((s) => hashClientSecret(env.SECRET_PEPPER, s)));
    // Failures and successes, so every log has rows about this registration.
    await tokenStatus(registration.clientId, second ?? "", NOW + MINUTE);
    await tokenStatus(registration.clientId, `${first}x`, NOW + MINUTE);
    await tokenStatus(registration.clientId, first, NOW + 2 * DAY);
    const queue = recordingBindings();
    await runScheduled(NOW + MINUTE, queue.env);
    await runScheduled(NOW + 2 * DAY, queue.env);
    await drain(queue);
    expect(queue.emails.length).toBeGreaterThan(0);

    const at = NOW + 2 * DAY + MINUTE;
    const later = await adminAt(at);
    const base = regPath(site, registration.id);
    const pages = [
      base,
      `${base}/secrets`,
      `${base}/secrets/${secretId}/revoke`,
      `${base}/edit`,
      `${base}/keys`,
      `/sites/${site.slug}/settings/iam/app-registrations`,
      `/sites/${site.slug}/settings/notifications`,
      `/sites/${site.slug}/settings/security-log?from=2031-01-01&to=2031-12-31`,
      `/sites/${site.slug}/settings/security-log/export.csv?from=2031-01-01&to=2031-12-31`,
      `/sites/${site.slug}/settings/security-log/help`,
    ];
    const bodies: string[] = [];
    for (const path of pages) {
      const res = await later.get(path);
      // The revoke confirmation of the (expired) first secret answers 409: it is not live any more.
      expect(res.status, path).toBe(path.endsWith("/revoke") ? 409 : 200);
      bodies.push(await res.text());
    }
    const fragment = await later.get(base.replace(/\/\d+$/, ""), { headers: HTMX });
    bodies.push(await fragment.text());
    for (const email of queue.emails) bodies.push(email.subject, email.text, email.html);
    const trail = await db()
      .select()
      .from(adminAuditEvents)
      .where(eq(adminAuditEvents.registrationId, registration.id))
      .all();
    bodies.push(JSON.stringify(trail));
    bodies.push(
      JSON.stringify(await db().select().from(notifications).where(eq(notifications.registrationId, registration.id))),
    );
    const log = await bodyOf(
      await later.get(`/sites/${site.slug}/settings/security-log/export.csv?from=2031-01-01&to=2031-12-31`),
      200,
    );
    expect(log).toContain("SecretExpired");
    for (const body of bodies) {
      for (const secret of secrets) expect(body).not.toContain(secret.slice(8));
      for (const hash of hashes) expect(body).not.toContain(hash);
    }
  });
});
