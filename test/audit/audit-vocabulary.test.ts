import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { AUDIT_ACTIONS, listAuditTrail } from "../../src/audit/admin-audit";
import { adminAuditEvents } from "../../src/db/schema";
import { db, unique } from "../helpers/app";

/** The statements of the migration that brought stored rows into the one audit vocabulary. */
function vocabularyMigration(): string[] {
  const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0003_audit_vocabulary"));
  if (!migration) throw new Error("migration 0003_audit_vocabulary not found");
  return migration.queries;
}

const oldRow = (values: Partial<typeof adminAuditEvents.$inferInsert>) => ({
  siteId: null,
  registrationId: null,
  targetType: "user",
  targetLabel: unique("old@example.test"),
  action: "create",
  changes: "{}",
  actorUserId: null,
  actorEmail: "root@example.test",
  at: 1,
  ...values,
});

describe("one audit vocabulary", () => {
  it("rewrites rows stored in the old words to the one vocabulary, and leaves current rows as they are", async () => {
    const site = unique("Site");
    const registrationId = 900_000 + Math.floor(Math.random() * 90_000);
    const rows = [
      oldRow({ targetType: "app_registration", registrationId, targetLabel: site, action: "created" }),
      oldRow({ targetType: "app_registration", registrationId, targetLabel: site, action: "disabled" }),
      oldRow({ targetType: "client_key", registrationId, targetLabel: "kid-1", action: "add" }),
      oldRow({ targetType: "client_key", registrationId, targetLabel: "kid-1", action: "remove" }),
      oldRow({
        targetType: "site",
        targetLabel: site,
        action: "update",
        changes: JSON.stringify({ time_zone: ["UTC", "Europe/Berlin"], name: ['say "time_zone": hi', "b"] }),
      }),
      oldRow({ action: "grant_global_admin", changes: JSON.stringify({ is_global_admin: [false, true] }) }),
    ];
    const ids: number[] = [];
    for (const row of rows) {
      const [inserted] = await db().insert(adminAuditEvents).values(row).returning({ id: adminAuditEvents.id });
      ids.push(inserted?.id ?? 0);
    }
    for (const query of vocabularyMigration()) await env.DB.prepare(query).run();

    const after = await Promise.all(
      ids.map((id) => db().select().from(adminAuditEvents).where(eq(adminAuditEvents.id, id)).get()),
    );
    expect(after.map((r) => r?.action)).toEqual([
      "create",
      "disable",
      "add_key",
      "remove_key",
      "update",
      "grant_global_admin",
    ]);
    // Keys become the code's camelCase names; a value that merely looks like a key is untouched.
    expect(JSON.parse(after[4]?.changes ?? "")).toEqual({
      timeZone: ["UTC", "Europe/Berlin"],
      name: ['say "time_zone": hi', "b"],
    });
    expect(JSON.parse(after[5]?.changes ?? "")).toEqual({ isGlobalAdmin: [false, true] });
    for (const row of after) expect(AUDIT_ACTIONS).toContain(row?.action);

    // The one reader finds them by their subject.
    const trail = await listAuditTrail(db(), { type: "user", email: rows[5]?.targetLabel ?? "" });
    expect(trail.map((r) => r.action)).toEqual(["grant_global_admin"]);
  });
});
