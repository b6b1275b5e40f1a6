import { secretState } from "../../client-secrets/policy";
import { timingSafeEqual } from "../../lib/crypto";
import { hashClientSecret } from "../../registrations/secrets";
import type { StoredClient, StoredClientSecret } from "../client-store";
import type { ClientAuthOutcome } from "./types";

/** Compared against when a Client ID is unknown or has no secret, so those cases cost what a real check costs. */
const NO_SECRET_HASH = "0".repeat(64);

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
  const presented = await hashClientSecret(pepper, secret);
  const stored: readonly Pick<StoredClientSecret, "hash">[] =
    client && client.secrets.length > 0 ? client.secrets : [{ hash: NO_SECRET_HASH }];
  let matched: StoredClientSecret | undefined;
  for (const candidate of stored) {
    if (timingSafeEqual(presented, candidate.hash) && !matched) matched = candidate as StoredClientSecret;
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
