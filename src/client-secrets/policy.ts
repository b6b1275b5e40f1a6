import { DAY } from "../lib/time";

/**
 * The rules of Client secrets (§2): how many may be live, how long retired ones are kept, what a rotation does to the
 * secret that was live before, and the state of each. No I/O: the token endpoint, the pages and the cron share them.
 */

/** §2: a registration holds at most this many live secrets: the one in use and its successor during a rotation. */
export const MAX_LIVE_SECRETS = 2;
/** Revoked and expired secrets stay listed (and recognised at the token endpoint) this long, then the cron purges them. */
export const RETIRED_SECRET_RETENTION = 90 * DAY;

/** "Old secret stops working", in the order the form offers it; the first is the default. */
export const OLD_SECRET_STOPS = ["7d", "1d", "30d", "now", "never"] as const;
export type OldSecretStops = (typeof OLD_SECRET_STOPS)[number];

export const OLD_SECRET_STOPS_LABELS: Record<OldSecretStops, string> = {
  "7d": "in 7 days",
  "1d": "in 1 day",
  "30d": "in 30 days",
  now: "now",
  never: "never (keep both)",
};

const STOPS_AFTER: Record<OldSecretStops, number | null> = {
  "7d": 7 * DAY,
  "1d": DAY,
  "30d": 30 * DAY,
  now: 0,
  never: null,
};

/** The expiry a choice gives the secret that was live before a rotation: null keeps it without expiry. */
export function oldSecretExpiry(choice: OldSecretStops, now: number): number | null {
  const after = STOPS_AFTER[choice];
  return after === null ? null : now + after;
}

export type SecretState = "Live" | "Expired" | "Revoked";

/** A secret as the admin pages and the management API show it: never more of the secret than its hint. */
export interface ClientSecretSummary {
  id: number;
  /** Null for a secret issued before hints were stored. */
  hint: string | null;
  createdAt: number;
  createdBy: string | null;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

/** Derived from the row and `now`, never stored: revoked wins over expired. */
export function secretState(secret: Pick<ClientSecretSummary, "expiresAt" | "revokedAt">, now: number): SecretState {
  if (secret.revokedAt !== null) return "Revoked";
  if (secret.expiresAt !== null && now >= secret.expiresAt) return "Expired";
  return "Live";
}

export const isLiveSecret = (secret: Pick<ClientSecretSummary, "expiresAt" | "revokedAt">, now: number) =>
  secretState(secret, now) === "Live";

/** How a hint reads where a secret is named (pages, emails, the audit trail). */
export const hintLabel = (hint: string | null) => (hint === null ? "(issued before hints)" : `${hint}…`);
