import { eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { appRegistrations, clientSecrets } from "../db/schema";
import { startOfDayInZone } from "../lib/time";
import { clientSecretHint, generateClientId, generateClientSecret, hashClientSecret } from "./secrets";

export interface NewRegistration {
  siteId: number;
  siteTimeZone: string;
  name: string;
  description?: string;
  /** YYYY-MM-DD in the Site's time zone. */
  expirationDate: string;
  enabled?: boolean;
  scopes?: string[];
  /** Seconds. */
  accessTokenLifetime?: number;
  createdBy?: number | null;
  /** Who issued the first secret, as text (the creator's email). */
  createdByLabel?: string | null;
}

/**
 * Creates a registration and its first client secret in one D1 batch. Returns the row and the plaintext secret,
 * which exists only in this return value: only its keyed hash is stored (§2). `alongside` adds statements that
 * belong to the same change (such as its audit event) to the same batch; they find the new row by its Client ID.
 */
export async function insertRegistrationWithSecret(
  db: Db,
  pepper: string,
  input: NewRegistration,
  now: number,
  alongside: (clientId: string) => BatchItem<"sqlite">[] = () => [],
) {
  const clientId = generateClientId();
  const clientSecret = generateClientSecret();
  const secretHash = await hashClientSecret(pepper, clientSecret);
  const [inserted] = await db.batch([
    db
      .insert(appRegistrations)
      .values({
        siteId: input.siteId,
        clientId,
        name: input.name,
        description: input.description ?? "",
        enabled: input.enabled ?? true,
        scopes: (input.scopes ?? ["devices:read"]).join(" "),
        accessTokenLifetime: input.accessTokenLifetime ?? 3600,
        expirationDate: input.expirationDate,
        expiresAt: startOfDayInZone(input.expirationDate, input.siteTimeZone),
        createdAt: now,
        updatedAt: now,
        createdBy: input.createdBy ?? null,
      })
      .returning(),
    // The secret row finds its registration through the Client ID, so both inserts travel in one batch.
    db.insert(clientSecrets).select(
      db
        .select({
          id: sql<null>`null`.as("id"),
          registrationId: appRegistrations.id,
          secretHash: sql<string>`${secretHash}`.as("secret_hash"),
          hint: sql<string>`${clientSecretHint(clientSecret)}`.as("hint"),
          createdAt: sql<number>`${now}`.as("created_at"),
          createdBy: sql<string | null>`${input.createdByLabel ?? null}`.as("created_by"),
          expiresAt: sql<null>`null`.as("expires_at"),
          expirySetAt: sql<null>`null`.as("expiry_set_at"),
          revokedAt: sql<null>`null`.as("revoked_at"),
          lastUsedAt: sql<null>`null`.as("last_used_at"),
        })
        .from(appRegistrations)
        .where(eq(appRegistrations.clientId, clientId)),
    ),
    ...alongside(clientId),
  ]);
  const registration = inserted[0];
  if (!registration) throw new Error("registration insert returned no row");
  return { registration, clientSecret };
}
