import { and, asc, eq, sql } from "drizzle-orm";
import { type AuditActor, type AuditEntry, type AuditTargetType, auditStatement } from "../audit/admin-audit";
import type { Db } from "../db/client";
import type { KeyAlgorithm } from "../db/schema";
import { appRegistrations, clientKeys } from "../db/schema";
import { forgetCachedClients } from "../oauth/client-cache";
import type { ParsedClientKey } from "./parse";

/** Enough for a rotation overlap plus a few parallel clients; more is a sign of keys never being cleaned up. */
export const MAX_KEYS_PER_REGISTRATION = 10;
export const AUDIT_TARGET_TYPE = "client_key" satisfies AuditTargetType;

/** A key as the admin pages show it: never more key material than kid, algorithm and fingerprint. */
export interface ClientKeySummary {
  id: number;
  kid: string;
  alg: KeyAlgorithm;
  fingerprint: string;
  expiresAt: number | null;
  createdAt: number;
  lastUsedAt: number | null;
}

/** The registration the keys belong to, found only within its Site. */
export interface KeyOwner {
  id: number;
  siteId: number;
  name: string;
  clientId: string;
}

const summaryColumns = {
  id: clientKeys.id,
  kid: clientKeys.kid,
  alg: clientKeys.alg,
  fingerprint: clientKeys.fingerprint,
  expiresAt: clientKeys.expiresAt,
  createdAt: clientKeys.createdAt,
  lastUsedAt: clientKeys.lastUsedAt,
};

export async function findKeyOwner(db: Db, siteId: number, registrationId: number): Promise<KeyOwner | undefined> {
  return db
    .select({
      id: appRegistrations.id,
      siteId: appRegistrations.siteId,
      name: appRegistrations.name,
      clientId: appRegistrations.clientId,
    })
    .from(appRegistrations)
    .where(and(eq(appRegistrations.id, registrationId), eq(appRegistrations.siteId, siteId)))
    .get();
}

/** The keys of one registration of one Site, oldest first. */
export async function listClientKeys(db: Db, siteId: number, registrationId: number): Promise<ClientKeySummary[]> {
  return db
    .select(summaryColumns)
    .from(clientKeys)
    .innerJoin(appRegistrations, eq(appRegistrations.id, clientKeys.registrationId))
    .where(and(eq(clientKeys.registrationId, registrationId), eq(appRegistrations.siteId, siteId)))
    .orderBy(asc(clientKeys.createdAt), asc(clientKeys.id))
    .all();
}

export async function findClientKey(
  db: Db,
  siteId: number,
  registrationId: number,
  keyId: number,
): Promise<ClientKeySummary | undefined> {
  return db
    .select(summaryColumns)
    .from(clientKeys)
    .innerJoin(appRegistrations, eq(appRegistrations.id, clientKeys.registrationId))
    .where(
      and(eq(clientKeys.id, keyId), eq(clientKeys.registrationId, registrationId), eq(appRegistrations.siteId, siteId)),
    )
    .get();
}

export interface NewClientKey {
  siteId: number;
  registrationId: number;
  key: ParsedClientKey;
  /** 00:00 of the expiry date in the Site's zone, or null for a key that does not expire. */
  expiresAt: number | null;
  /** The expiry date as entered (for the audit trail). */
  expiryDate: string | null;
  actor: AuditActor;
}

export type AddClientKeyResult =
  | { ok: true; key: ClientKeySummary }
  | { ok: false; reason: "registration_not_found" | "duplicate_kid" | "too_many_keys" };

/**
 * Adds a key and its audit row in one batch. The insert itself checks that the registration belongs to the Site, that
 * the kid is new for it (unique index) and that it holds fewer than the maximum of keys, so a concurrent delete or a
 * double submit can never slip past a check made earlier.
 */
export async function addClientKey(db: Db, input: NewClientKey, now: number): Promise<AddClientKeyResult> {
  const { key } = input;
  const constant = <T>(value: T, name: string) => sql<T>`${value}`.as(name);
  const keyCount = db.$count(clientKeys, eq(clientKeys.registrationId, input.registrationId));
  const insertKey = db
    .insert(clientKeys)
    .select(
      db
        .select({
          id: sql<null>`null`.as("id"),
          registrationId: appRegistrations.id,
          kid: constant(key.kid, "kid"),
          alg: constant(key.alg, "alg"),
          publicJwk: constant(JSON.stringify(key.publicJwk), "public_jwk"),
          fingerprint: constant(key.fingerprint, "fingerprint"),
          expiresAt: constant(input.expiresAt, "expires_at"),
          createdAt: constant(now, "created_at"),
          lastUsedAt: sql<null>`null`.as("last_used_at"),
        })
        .from(appRegistrations)
        .where(
          and(
            eq(appRegistrations.id, input.registrationId),
            eq(appRegistrations.siteId, input.siteId),
            sql`${keyCount} < ${MAX_KEYS_PER_REGISTRATION}`,
          ),
        ),
    )
    .onConflictDoNothing({ target: [clientKeys.registrationId, clientKeys.kid] })
    .returning(summaryColumns);
  const audit = {
    siteId: input.siteId,
    registrationId: clientKeys.registrationId,
    targetType: AUDIT_TARGET_TYPE,
    targetLabel: key.kid,
    action: "add_key",
    actor: input.actor,
    changes: {
      kid: [null, key.kid],
      alg: [null, key.alg],
      fingerprint: [null, key.fingerprint],
      expires: [null, input.expiryDate],
    },
  } satisfies AuditEntry;
  // Written only when this batch's insert happened: the row it describes must exist with this upload's values.
  const insertAudit = auditStatement(db, audit, now, {
    from: clientKeys,
    where: and(
      eq(clientKeys.registrationId, input.registrationId),
      eq(clientKeys.kid, key.kid),
      eq(clientKeys.fingerprint, key.fingerprint),
      eq(clientKeys.createdAt, now),
    ),
  });
  const [inserted] = await db.batch([insertKey, insertAudit]);
  const row = inserted[0];
  if (row) {
    forgetCachedClients({ registrationId: input.registrationId });
    return { ok: true, key: row };
  }

  // Nothing inserted: explain why (reads only; nothing was written).
  if (!(await findKeyOwner(db, input.siteId, input.registrationId))) {
    return { ok: false, reason: "registration_not_found" };
  }
  const existing = await db
    .select({ id: clientKeys.id })
    .from(clientKeys)
    .where(and(eq(clientKeys.registrationId, input.registrationId), eq(clientKeys.kid, key.kid)))
    .get();
  return { ok: false, reason: existing ? "duplicate_kid" : "too_many_keys" };
}

/**
 * Removes a key of a registration of a Site with its audit row, in one batch. Returns false when no such key exists
 * there (already removed, or an id of another registration or Site).
 */
export async function removeClientKey(
  db: Db,
  input: { siteId: number; registrationId: number; keyId: number; actor: AuditActor },
  now: number,
): Promise<boolean> {
  const existing = await findClientKey(db, input.siteId, input.registrationId, input.keyId);
  if (!existing) return false;
  const ownedKey = and(
    eq(clientKeys.id, input.keyId),
    eq(clientKeys.registrationId, input.registrationId),
    sql`${clientKeys.registrationId} in (select ${appRegistrations.id} from ${appRegistrations} where ${appRegistrations.siteId} = ${input.siteId})`,
  );
  const audit = {
    siteId: input.siteId,
    registrationId: clientKeys.registrationId,
    targetType: AUDIT_TARGET_TYPE,
    targetLabel: existing.kid,
    action: "remove_key",
    actor: input.actor,
    changes: {
      kid: [existing.kid, null],
      alg: [existing.alg, null],
      fingerprint: [existing.fingerprint, null],
    },
  } satisfies AuditEntry;
  const [, deleted] = await db.batch([
    auditStatement(db, audit, now, { from: clientKeys, where: ownedKey }),
    db.delete(clientKeys).where(ownedKey).returning({ id: clientKeys.id }),
  ]);
  forgetCachedClients({ registrationId: input.registrationId });
  return deleted.length > 0;
}
