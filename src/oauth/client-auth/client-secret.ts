import { timingSafeEqual } from "../../lib/crypto";
import { hashClientSecret } from "../../registrations/secrets";
import type { StoredClient } from "../client-store";
import type { ClientAuthOutcome } from "./types";

/** Compared against when a Client ID is unknown or has no live secret, so those cases cost what a real check costs. */
const NO_SECRET_HASH = "0".repeat(64);

/**
 * Checks a presented client secret (§7): one HMAC with the pepper (no key derivation), then a constant-time
 * comparison with every live secret of the registration, without stopping at a match, so the time spent does not
 * depend on which secret matched or whether one did.
 */
export async function verifyClientSecret(
  pepper: string,
  secret: string,
  client: StoredClient | null,
): Promise<ClientAuthOutcome> {
  const presented = await hashClientSecret(pepper, secret);
  const stored = client && client.secretHashes.length > 0 ? client.secretHashes : [NO_SECRET_HASH];
  let matched = false;
  for (const hash of stored) matched = timingSafeEqual(presented, hash) || matched;
  if (!client) return { ok: false, detail: "InvalidIntegration" };
  return matched ? { ok: true } : { ok: false, detail: "InvalidSecret" };
}
