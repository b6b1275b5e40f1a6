/**
 * The single use of a client assertion's `jti` (§9, RFC 7523 §3 item 7), on D1's used_assertions table, and its
 * purge by the cron. private-key-jwt.ts claims; nothing else writes the table.
 */

/** Single use of `jti` (RFC 7523 §3 item 7): `claim` succeeds for exactly one caller per key until `expiresAt`. */
export interface ReplayStore {
  claim(key: string, expiresAt: number, now: number): Promise<boolean>;
}

/*
 * One conditional statement: the insert succeeds for a new key, or takes over a row whose assertion has expired
 * (a jti may be reused after its earlier assertion's exp); for a live row nothing happens and nothing is returned.
 * SQLite runs it atomically, so of any number of concurrent claims exactly one gets a row back.
 */
const CLAIM_SQL = `INSERT INTO used_assertions (key, expires_at) VALUES (?1, ?2)
ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_assertions.expires_at <= ?3
RETURNING key`;

/** The replay store on D1's used_assertions table. */
export function d1ReplayStore(d1: D1Database): ReplayStore {
  return {
    async claim(key, expiresAt, now) {
      const row = await d1.prepare(CLAIM_SQL).bind(key, Math.ceil(expiresAt), now).first<{ key: string }>();
      return row !== null;
    },
  };
}

/**
 * Deletes used-assertion rows whose assertion has expired (they can no longer be replayed), at most `batchSize` per
 * call, through used_assertions_expires_idx. For the cron; `done` says nothing expired is left.
 */
export async function purgeUsedAssertions(
  d1: D1Database,
  now: number,
  { batchSize = 500 }: { batchSize?: number } = {},
): Promise<{ deleted: number; done: boolean }> {
  const result = await d1
    .prepare(
      "DELETE FROM used_assertions WHERE key IN (SELECT key FROM used_assertions WHERE expires_at <= ?1 LIMIT ?2)",
    )
    .bind(now, batchSize)
    .run();
  const deleted = result.meta.changes;
  return { deleted, done: deleted < batchSize };
}
