import { type ExpiryEmail, ExpiryNoticeEmail } from "../../views/notifications/expiry-email";
import { hintLabel } from "../client-secrets/policy";
import type { Bindings } from "../env";
import { calendarDateInZone, calendarDaysBetween, formatInstant } from "../lib/time";
import { registrationsGridUrl, registrationUrl } from "../paths";
import { SECRET_TEMPLATE_TITLES, TEMPLATE_TITLES } from "./cadence";
import type { NotificationRow } from "./log-query";

/** `npm start` serves here by default (§11); links in emails use it when nothing else names the origin. */
export const LOCAL_ORIGIN = "http://localhost:8787";

/**
 * The origin links in emails point at: the configured issuer's origin; else, locally, the origin `wrangler dev`
 * listens on (LOCAL_ORIGIN, which `npm start` and the browser tests pass); else the default local origin.
 */
export function publicOrigin(env: Pick<Bindings, "ISSUER" | "LOCAL_ORIGIN">): string {
  for (const configured of [env.ISSUER, env.LOCAL_ORIGIN]) {
    if (!configured) continue;
    try {
      return new URL(configured).origin;
    } catch {
      // An unparsable value is a configuration error shown elsewhere; emails fall back to the next origin.
    }
  }
  return LOCAL_ORIGIN;
}

/** Everything an expiration notice says: its notification log row, so the email matches the log, and its Site. */
export type ExpiryNotice = Pick<
  NotificationRow,
  "template" | "registrationId" | "registrationName" | "clientId" | "key" | "secret" | "expirationDate" | "expiresAt"
> & {
  siteSlug: string;
  siteName: string;
  siteTimeZone: string;
  /**
   * When the notice fired. With it, the title says the real time left then ("expires in 5 days, on 2031-03-01")
   * even when the §5 milestone that fired was "7 days"; the notification log keeps the milestone's title.
   */
  asOf?: number;
};

/** "today", "in 1 day", "in N days": calendar days in the Site's zone, like the grid's Expires column. */
function timeLeft(notice: ExpiryNotice, asOf: number): string {
  const days = Math.max(0, calendarDaysBetween(calendarDateInZone(asOf, notice.siteTimeZone), notice.expirationDate));
  return days === 0 ? "today" : days === 1 ? "in 1 day" : `in ${days} days`;
}

/** The title of an email: the milestone's, or the real time left when the notice fired, and the date. */
function titleOf(notice: ExpiryNotice, milestone: string, subject: "App registration" | "Client secret"): string {
  if (notice.template === "expired" || notice.asOf === undefined) return milestone;
  return `${subject} expires ${timeLeft(notice, notice.asOf)}, on ${notice.expirationDate}`;
}

/** Names are user-entered: inside an email header or a line of text they never carry control characters. */
const oneLine = (value: string) => value.replace(/\p{Cc}+/gu, " ").trim();

/** What the notice is about, in the words each part of the email uses. */
interface Subject {
  /** "App registration has expired" or the secret's own titles. */
  title: string;
  /** The subject line after the title. */
  label: string;
  /** The sentence's subject: "The App registration X in S", "The public key K of the App registration X in S". */
  phrase: string;
  fact: [string, string] | null;
  consequence: { expired: string; ahead: string };
  action: { expired: string; ahead: string };
}

function subjectOf(notice: ExpiryNotice, name: string, site: string, when: string): Subject {
  if (notice.secret !== null) {
    // Never the secret: its hint is the only part of it ever shown again (§2).
    const hint = hintLabel(notice.secret.hint);
    return {
      title: titleOf(notice, SECRET_TEMPLATE_TITLES[notice.template], "Client secret"),
      label: `${hint} of ${name} (${site})`,
      phrase: `The Client secret ${hint} of the App registration ${name} in ${site}`,
      fact: ["Client secret (hint)", hint],
      consequence: {
        expired: `Since ${when} the token endpoint refuses this secret (invalid_client, recorded as SecretExpired): a service still sending it gets no access tokens. The registration's other live secret and its public keys keep working.`,
        ahead: `From ${when} the token endpoint refuses this secret (invalid_client, recorded as SecretExpired): a service still sending it stops getting access tokens. The registration's newer secret keeps working.`,
      },
      action: {
        expired:
          "If a service still needs it, give the service the registration's newer secret; if nobody has that one, open the registration and click New client secret. The Client ID does not change.",
        ahead:
          "Make sure every service using this registration has switched to the newer secret before then; the security log shows SecretExpired for any that has not.",
      },
    };
  }
  if (notice.key !== null) {
    const kid = oneLine(notice.key.kid ?? "(deleted key)");
    const action =
      "Open the registration, add a new public key and switch the service to it before the old one expires.";
    return {
      title: titleOf(notice, TEMPLATE_TITLES[notice.template], "App registration"),
      label: `public key ${kid} of ${name} (${site})`,
      phrase: `The public key ${kid} of the App registration ${name} in ${site}`,
      fact: ["Public key (kid)", kid],
      consequence: {
        expired: `Since ${when} client assertions signed with this key are refused, so a service authenticating with it (private_key_jwt) gets no access tokens.`,
        ahead: `From ${when} client assertions signed with this key are refused, so a service authenticating with it (private_key_jwt) stops getting access tokens.`,
      },
      action: { expired: action, ahead: action },
    };
  }
  return {
    title: titleOf(notice, TEMPLATE_TITLES[notice.template], "App registration"),
    label: `${name} (${site})`,
    phrase: `The App registration ${name} in ${site}`,
    fact: null,
    consequence: {
      expired: `Since ${when} the token endpoint refuses this Client ID (invalid_client): every service using it gets no access tokens and its REST API calls fail. A rose-pink API client alert shows on every admin page of ${site} until the registration is renewed or deleted.`,
      ahead: `From ${when} the token endpoint refuses this Client ID (invalid_client): every service using it stops getting access tokens and its REST API calls fail. A rose-pink API client alert then shows on every admin page of ${site}.`,
    },
    action: {
      expired:
        "Open the registration and set a later Expiration date: it accepts token requests again at once, with the same Client ID and Client secret. If the service no longer has its secret, open the registration, click New client secret and revoke the lost one.",
      ahead:
        "Open the registration and set a later Expiration date. The Client ID and Client secret stay the same, so the service needs no change.",
    },
  };
}

/** The content of an expiration notice: Site, registration, Client ID, expiration, consequences, a renew link. */
export function composeExpiryEmail(notice: ExpiryNotice, origin: string): ExpiryEmail {
  const name = oneLine(notice.registrationName);
  const site = oneLine(notice.siteName);
  const expired = notice.template === "expired";
  const renewUrl = `${origin}${
    notice.registrationId === null
      ? registrationsGridUrl(notice.siteSlug)
      : registrationUrl(notice.siteSlug, notice.registrationId)
  }`;
  const when = formatInstant(notice.expiresAt, notice.siteTimeZone);
  const subject = subjectOf(notice, name, site, when);
  const summary = `${subject.phrase} ${expired ? "expired" : "expires"} on ${notice.expirationDate}.`;

  const facts: [string, string][] = [
    ["Site", site],
    ["App registration", name],
    ["Client ID", notice.clientId],
  ];
  if (subject.fact) facts.push(subject.fact);
  facts.push(["Expiration date", `${notice.expirationDate} (token requests fail from ${when})`]);

  return {
    subject: `${subject.title}: ${subject.label}`,
    title: subject.title,
    summary,
    facts,
    consequence: expired ? subject.consequence.expired : subject.consequence.ahead,
    action:
      notice.registrationId === null
        ? "The registration has been deleted since this notice was written; nothing needs renewing. Create a new registration if a service still needs access."
        : expired
          ? subject.action.expired
          : subject.action.ahead,
    linkLabel:
      notice.registrationId === null
        ? "Open App registrations"
        : notice.secret !== null
          ? "Open the registration"
          : "Open the registration to renew it",
    renewUrl,
    footer: `You receive this email because you are a Site Administrator of ${site} in AlloyScan. It never contains a Client secret.`,
  };
}

/** The plain-text body: the same content as the HTML body, line by line. */
export function expiryEmailText(email: ExpiryEmail): string {
  const width = Math.max(...email.facts.map(([label]) => label.length)) + 2;
  return [
    email.title,
    "",
    email.summary,
    "",
    ...email.facts.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`),
    "",
    "What happens at expiry",
    email.consequence,
    "",
    "What to do",
    email.action,
    `${email.linkLabel}: ${email.renewUrl}`,
    "",
    "--",
    email.footer,
    "",
  ].join("\n");
}

/** Subject, text and HTML of an expiration notice. */
export async function renderExpiryEmail(
  notice: ExpiryNotice,
  origin: string,
): Promise<{ subject: string; text: string; html: string }> {
  const email = composeExpiryEmail(notice, origin);
  const node = await (<ExpiryNoticeEmail email={email} />);
  const html = `<!DOCTYPE html>${await node.toString()}`;
  return { subject: email.subject, text: expiryEmailText(email), html };
}
