import { secretState } from "../../client-secrets/policy";
import { timingSafeEqualBytes } from "../../lib/crypto";
import { clientSecretDigest } from "../../registrations/secrets";
import type { StoredClient, StoredClientSecret } from "../client-store";
import type { ClientAuthOutcome } from "./types";

/** Compared against when a Client ID is unknown or has no secret, so those cases cost what a real check costs. */
const NO_SECRET: readonly Pick<StoredClientSecret, "digest">[] = [{ digest: new Uint8Array(32) }];

/**
 * Checks a presented client secret (§7): one HMAC with the pepper (no key derivation), then a constant-time
 * comparison with every loaded secret of the registration (live and retired), without stopping at a match, so the
 * time spent does not depend on which secret matched or whether one did. A match with a revoked or an expired
 * secret is refused with its own detail code (§8): the consumer still sends an old secret.
 */
export async function verifyClientSecret(
  pepper: string,
  secret: string,
  client: StoredClient | null,
  now: number,
): Promise<ClientAuthOutcome> {
  const presented = await clientSecretDigest(pepper, secret);
  const stored = client && client.secrets.length > 0 ? client.secrets : NO_SECRET;
  let matched: StoredClientSecret | undefined;
  for (const candidate of stored) {
    if (timingSafeEqualBytes(presented, candidate.digest) && !matched) matched = candidate as StoredClientSecret;
  }
  if (!client) return { ok: false, detail: "InvalidIntegration" };
  if (!matched) return { ok: false, detail: "InvalidSecret" };
  switch (secretState(matched, now)) {
    case "Revoked":
      return { ok: false, detail: "SecretRevoked" };
    case "Expired":
      return { ok: false, detail: "SecretExpired" };
    case "Live":
      return { ok: true, secret: matched };
  }
}
