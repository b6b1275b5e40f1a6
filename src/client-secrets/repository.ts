import { and, desc, eq, isNull, or, type SQL, sql } from "drizzle-orm";
import { type AuditActor, type AuditEntry, type AuditTargetType, auditStatement } from "../audit/admin-audit";
import type { Db } from "../db/client";
import { appRegistrations, clientSecrets } from "../db/schema";
import { formatInstant } from "../lib/time";
import { forgetCachedClients } from "../oauth/client-cache";
import { clientSecretHint, generateClientSecret, hashClientSecret } from "../registrations/secrets";
import {
  type ClientSecretSummary,
  hintLabel,
  isLiveSecret,
  MAX_LIVE_SECRETS,
  type OldSecretStops,
  oldSecretExpiry,
  RETIRED_SECRET_RETENTION,
} from "./policy";

export type { ClientSecretSummary } from "./policy";

export const AUDIT_TARGET_TYPE = "client_secret" satisfies AuditTargetType;

const summaryColumns = {
  id: clientSecrets.id,
  hint: clientSecrets.hint,
  createdAt: clientSecrets.createdAt,
  createdBy: clientSecrets.createdBy,
  expiresAt: clientSecrets.expiresAt,
  revokedAt: clientSecrets.revokedAt,
  lastUsedAt: clientSecrets.lastUsedAt,
};

/** Live at `now`: not revoked, and no expiry or one still ahead. */
function liveAt(now: number): SQL {
  return and(
    isNull(clientSecrets.revokedAt),
    or(isNull(clientSecrets.expiresAt), sql`${clientSecrets.expiresAt} > ${now}`),
  ) as SQL;
}

/** Not yet purged: retired (revoked or expired) less than the retention ago, or live. */
function retained(now: number): SQL {
  const cutoff = now - RETIRED_SECRET_RETENTION;
  return and(
    or(isNull(clientSecrets.revokedAt), sql`${clientSecrets.revokedAt} > ${cutoff}`),
    or(isNull(clientSecrets.expiresAt), sql`${clientSecrets.expiresAt} > ${cutoff}`),
  ) as SQL;
}

/** The secrets of a registration of a Site; a registration id of another Site selects nothing (§10). */
function ownedBy(siteId: number, registrationId: number): SQL {
  return and(
    eq(clientSecrets.registrationId, registrationId),
    sql`${clientSecrets.registrationId} in (select ${appRegistrations.id} from ${appRegistrations} where ${appRegistrations.siteId} = ${siteId})`,
  ) as SQL;
}

/** The secrets of one registration of one Site still listed at `now`, newest first. */
export function listClientSecrets(
  db: Db,
  siteId: number,
  registrationId: number,
  now: number,
): Promise<ClientSecretSummary[]> {
  return db
    .select(summaryColumns)
    .from(clientSecrets)
    .where(and(ownedBy(siteId, registrationId), retained(now)))
    .orderBy(desc(clientSecrets.createdAt), desc(clientSecrets.id))
    .all();
}

export function findClientSecret(
  db: Db,
  siteId: number,
  registrationId: number,
  secretId: number,
  now: number,
): Promise<ClientSecretSummary | undefined> {
  return db
    .select(summaryColumns)
    .from(clientSecrets)
    .where(and(eq(clientSecrets.id, secretId), ownedBy(siteId, registrationId), retained(now)))
    .get();
}

/** An expiry as the audit trail records it: text in the Site's zone, or "Never". */
const expiryText = (expiresAt: number | null, timeZone: string) =>
  expiresAt === null ? "Never" : formatInstant(expiresAt, timeZone);

export interface NewClientSecretInput {
  siteId: number;
  siteTimeZone: string;
  registrationId: number;
  /**
   * The newest live secret when the form was shown (null: none was live). The rotation happens only if it still is,
   * so a resubmitted or reloaded form cannot issue a second secret or shorten the one just issued.
   */
  basis: number | null;
  oldSecretStops: OldSecretStops;
  actor: AuditActor;
}

export type NewClientSecretResult =
  | {
      ok: true;
      secret: ClientSecretSummary;
      /** The plaintext secret: only in this return value, shown once (§2). */
      clientSecret: string;
      /** The secret that was live before, with the expiry the choice gave it; null when none was live. */
      previous: ClientSecretSummary | null;
    }
  | { ok: false; reason: "registration_not_found" | "too_many_live" | "stale" };

/** The newest live secret of the registration, or 0 when none is live (the form's `basis`). */
function newestLiveId(registrationId: number, now: number): SQL<number> {
  return sql<number>`coalesce((select max(${clientSecrets.id}) from ${clientSecrets}
    where ${clientSecrets.registrationId} = ${registrationId} and ${liveAt(now)}), 0)`;
}

/**
 * Rotation (§2): issues a new secret and sets the expiry of the one that was live before, with their audit rows,
 * in one D1 batch. The insert itself checks that the registration belongs to the Site, that fewer than
 * MAX_LIVE_SECRETS are live and that the newest live secret is still `basis`; the other statements act only when
 * the insert happened. The Client ID, Expiration date, scopes and keys do not change.
 */
export async function issueClientSecret(
  db: Db,
  pepper: string,
  input: NewClientSecretInput,
  now: number,
): Promise<NewClientSecretResult> {
  const clientSecret = generateClientSecret();
  const secretHash = await hashClientSecret(pepper, clientSecret);
  const hint = clientSecretHint(clientSecret);
  const basis = input.basis ?? 0;
  const liveCount = db.$count(clientSecrets, and(eq(clientSecrets.registrationId, input.registrationId), liveAt(now)));
  const constant = <T>(value: T, name: string) => sql<T>`${value}`.as(name);
  const insertSecret = db
    .insert(clientSecrets)
    .select(
      db
        .select({
          id: sql<null>`null`.as("id"),
          registrationId: appRegistrations.id,
          secretHash: constant(secretHash, "secret_hash"),
          hint: constant(hint, "hint"),
          createdAt: constant(now, "created_at"),
          createdBy: constant(input.actor.email, "created_by"),
          expiresAt: sql<null>`null`.as("expires_at"),
          expirySetAt: sql<null>`null`.as("expiry_set_at"),
          revokedAt: sql<null>`null`.as("revoked_at"),
          lastUsedAt: sql<null>`null`.as("last_used_at"),
        })
        .from(appRegistrations)
        .where(
          and(
            eq(appRegistrations.id, input.registrationId),
            eq(appRegistrations.siteId, input.siteId),
            sql`${liveCount} < ${MAX_LIVE_SECRETS}`,
            sql`${newestLiveId(input.registrationId, now)} = ${basis}`,
          ),
        ),
    )
    .returning(summaryColumns);
  const addedAudit = auditStatement(
    db,
    {
      siteId: input.siteId,
      registrationId: input.registrationId,
      targetType: AUDIT_TARGET_TYPE,
      targetLabel: hint,
      action: "add_secret",
      actor: input.actor,
      changes: { secret: [null, hintLabel(hint)], secretExpires: [null, "Never"] },
    },
    now,
    "afterChange",
  );

  const newExpiry = oldSecretExpiry(input.oldSecretStops, now);
  // The secret live before: `basis`, changed only when this batch issued the new one and the expiry differs.
  const issued = sql`exists (select 1 from ${clientSecrets} as issued where issued.registration_id = ${input.registrationId}
    and issued.secret_hash = ${secretHash} and issued.created_at = ${now})`;
  const previousRow = and(
    eq(clientSecrets.id, basis),
    eq(clientSecrets.registrationId, input.registrationId),
    liveAt(now),
    sql`${clientSecrets.expiresAt} is not ${newExpiry}`,
    issued,
  );
  const previousBefore = basis ? await findClientSecret(db, input.siteId, input.registrationId, basis, now) : undefined;
  const statements = [insertSecret, addedAudit] as const;
  const expiryStatements = previousBefore
    ? ([
        auditStatement(
          db,
          {
            siteId: input.siteId,
            registrationId: input.registrationId,
            targetType: AUDIT_TARGET_TYPE,
            targetLabel: previousBefore.hint ?? "",
            action: "set_secret_expiry",
            actor: input.actor,
            changes: {
              secret: [hintLabel(previousBefore.hint), hintLabel(previousBefore.hint)],
              secretExpires: [
                expiryText(previousBefore.expiresAt, input.siteTimeZone),
                expiryText(newExpiry, input.siteTimeZone),
              ],
            },
          } satisfies AuditEntry,
          now,
          { from: clientSecrets, where: previousRow },
        ),
        db
          .update(clientSecrets)
          .set({ expiresAt: newExpiry, expirySetAt: now })
          .where(previousRow)
          .returning(summaryColumns),
      ] as const)
    : null;
  const results = expiryStatements
    ? await db.batch([...statements, ...expiryStatements])
    : await db.batch([...statements]);
  const inserted = results[0][0];
  if (inserted) {
    forgetCachedClients({ registrationId: input.registrationId });
    const updated = expiryStatements ? (results[3] as ClientSecretSummary[] | undefined)?.[0] : undefined;
    return { ok: true, secret: inserted, clientSecret, previous: updated ?? previousBefore ?? null };
  }

  // Nothing written: explain why (reads only).
  const owner = await db
    .select({ id: appRegistrations.id })
    .from(appRegistrations)
    .where(and(eq(appRegistrations.id, input.registrationId), eq(appRegistrations.siteId, input.siteId)))
    .get();
  if (!owner) return { ok: false, reason: "registration_not_found" };
  const live = (await listClientSecrets(db, input.siteId, input.registrationId, now)).filter((s) =>
    isLiveSecret(s, now),
  );
  return { ok: false, reason: live.length >= MAX_LIVE_SECRETS ? "too_many_live" : "stale" };
}

export type RevokeClientSecretResult =
  | { ok: true; secret: ClientSecretSummary }
  | { ok: false; reason: "not_found" | "not_live" };

/**
 * Revokes one live secret of a registration of a Site, with its audit row, in one batch. It takes effect at the token
 * endpoint within the client cache's bound (§7). An id of another registration or Site is `not_found`.
 */
export async function revokeClientSecret(
  db: Db,
  input: { siteId: number; registrationId: number; secretId: number; actor: AuditActor },
  now: number,
): Promise<RevokeClientSecretResult> {
  const existing = await findClientSecret(db, input.siteId, input.registrationId, input.secretId, now);
  if (!existing) return { ok: false, reason: "not_found" };
  const target = and(eq(clientSecrets.id, input.secretId), ownedBy(input.siteId, input.registrationId), liveAt(now));
  const [, revoked] = await db.batch([
    auditStatement(
      db,
      {
        siteId: input.siteId,
        registrationId: input.registrationId,
        targetType: AUDIT_TARGET_TYPE,
        targetLabel: existing.hint ?? "",
        action: "revoke_secret",
        actor: input.actor,
        changes: { secret: [hintLabel(existing.hint), null] },
      },
      now,
      { from: clientSecrets, where: target },
    ),
    db.update(clientSecrets).set({ revokedAt: now }).where(target).returning(summaryColumns),
  ]);
  const row = revoked[0];
  if (!row) return { ok: false, reason: "not_live" };
  forgetCachedClients({ registrationId: input.registrationId });
  return { ok: true, secret: row };
}

/** The cron's purge of secrets retired (revoked or expired) more than RETIRED_SECRET_RETENTION ago, one batch. */
export async function purgeRetiredSecrets(
  d1: D1Database,
  now: number,
  options: { batchSize: number },
): Promise<{ deleted: number; done: boolean }> {
  const cutoff = now - RETIRED_SECRET_RETENTION;
  const result = await d1
    .prepare(
      `DELETE FROM client_secrets WHERE rowid IN (
         SELECT rowid FROM client_secrets WHERE revoked_at IS NOT NULL AND revoked_at <= ?1
         UNION SELECT rowid FROM client_secrets WHERE expires_at IS NOT NULL AND expires_at <= ?1
         LIMIT ?2)`,
    )
    .bind(cutoff, options.batchSize)
    .run();
  const deleted = result.meta.changes ?? 0;
  return { deleted, done: deleted < options.batchSize };
}
