import type { NotificationTemplate } from "../db/schema";
import { DAY } from "../lib/time";

/**
 * The §5 expiration notices, in the order they fire. Each is due from an exact instant relative to `expires_at`,
 * measured in 24-hour units (not calendar days in the Site's zone), so a notice becomes due at the very moment the
 * §3 state changes: `Expiring (30 d)` is `expires_at - now <= 30 days`, `Expiring (7 d)` is `<= 7 days`, `Expired`
 * is `now >= expires_at`.
 */
export const MILESTONES: readonly { template: NotificationTemplate; before: number }[] = [
  { template: "expires_in_30_days", before: 30 * DAY },
  { template: "expires_in_7_days", before: 7 * DAY },
  { template: "expired", before: 0 },
];

/** The earliest notice starts this long before `expires_at`: nothing is due for a registration further out. */
export const NOTICE_LEAD = 30 * DAY;

/**
 * Catch-up horizon for the "has expired" notice: a run still sends it when the expiry happened at most this long
 * ago and no notice for that `expires_at` exists (missed runs, a registration re-enabled after it expired). Older
 * expiries are not mailed: the banner (§6) keeps showing them, and the window the cron reads stays bounded.
 */
export const EXPIRED_CATCH_UP = 30 * DAY;

/** Human names of the templates (the Administrative notification category, §5). */
export const TEMPLATE_TITLES: Record<NotificationTemplate, string> = {
  expires_in_30_days: "App registration expires in 30 days",
  expires_in_7_days: "App registration expires in 7 days",
  expired: "App registration has expired",
};

/** The same milestones about a Client secret whose expiry a rotation set (§5). */
export const SECRET_TEMPLATE_TITLES: Record<NotificationTemplate, string> = {
  expires_in_30_days: "Client secret expires in 30 days",
  expires_in_7_days: "Client secret expires in 7 days",
  expired: "Client secret has expired",
};

/** The instant from which `template` is due for an expiry at `expiresAt`. */
export function milestoneMoment(expiresAt: number, template: NotificationTemplate): number {
  const milestone = MILESTONES.find((m) => m.template === template);
  if (!milestone) throw new RangeError(`unknown template ${template}`);
  return expiresAt - milestone.before;
}

/**
 * The latest notice due at `now` for an expiry at `expiresAt`, or null when none is. Only the latest fires: a
 * registration created 5 days before its expiry is due for the 7-day notice and never for the 30-day one.
 */
export function dueNotice(expiresAt: number, now: number): NotificationTemplate | null {
  if (now - expiresAt > EXPIRED_CATCH_UP) return null;
  let due: NotificationTemplate | null = null;
  for (const m of MILESTONES) {
    if (now >= expiresAt - m.before) due = m.template;
  }
  return due;
}

/** The templates that come after `template` in the cadence (a notice is skipped once a later one fired). */
export function laterTemplates(template: NotificationTemplate): NotificationTemplate[] {
  const index = MILESTONES.findIndex((m) => m.template === template);
  return MILESTONES.slice(index + 1).map((m) => m.template);
}

/** What a notice is about: the registration itself, one of its private_key_jwt public keys (§9) or Client secrets. */
export type NoticeSubject = { kind: "reg" | "key" | "secret"; id: number };

/**
 * The unique key of a notice: at most once per subject, milestone and `expires_at` (§5). A renewal changes
 * `expires_at` and therefore starts a fresh cadence.
 */
export function dedupeKey(subject: NoticeSubject, template: NotificationTemplate, expiresAt: number): string {
  return `${subject.kind}:${subject.id}|${template}|${expiresAt}`;
}

/** The half-open windows `(from, to]` of `expires_at` values whose next milestone falls in `(since, now]`. */
export function crossingWindows(since: number, now: number): { from: number; to: number }[] {
  const windows = MILESTONES.map((m) => ({ from: since + m.before, to: now + m.before }))
    .map((w) => ({ from: Math.max(w.from, now - EXPIRED_CATCH_UP - 1), to: w.to }))
    .filter((w) => w.to > w.from)
    .sort((a, b) => a.from - b.from);
  const merged: { from: number; to: number }[] = [];
  for (const w of windows) {
    const last = merged.at(-1);
    if (last && w.from <= last.to) last.to = Math.max(last.to, w.to);
    else merged.push({ ...w });
  }
  return merged;
}

/** The half-open window `(from, to]` of every `expires_at` that can have a notice due at `now`. */
export function dueWindow(now: number): { from: number; to: number } {
  return { from: now - EXPIRED_CATCH_UP - 1, to: now + NOTICE_LEAD };
}
