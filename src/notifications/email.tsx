import { type ExpiryEmail, ExpiryNoticeEmail } from "../../views/notifications/expiry-email";
import type { Bindings } from "../env";
import { formatInstant } from "../lib/time";
import { registrationsGridUrl, registrationUrl } from "../paths";
import { TEMPLATE_TITLES } from "./cadence";
import type { NotificationRow } from "./log-query";

/** `npm start` serves here (§11); used for links in emails when no public origin (ISSUER) is configured. */
export const LOCAL_ORIGIN = "http://localhost:8787";

/** The origin links in emails point at: the configured issuer's origin, else the local development origin. */
export function publicOrigin(env: Pick<Bindings, "ISSUER">): string {
  if (env.ISSUER) {
    try {
      return new URL(env.ISSUER).origin;
    } catch {
      // An unparsable ISSUER is a configuration error shown elsewhere; emails fall back to the local origin.
    }
  }
  return LOCAL_ORIGIN;
}

/** Everything an expiration notice says: its notification log row, so the email matches the log, and its Site. */
export type ExpiryNotice = Pick<
  NotificationRow,
  "template" | "registrationId" | "registrationName" | "clientId" | "key" | "expirationDate" | "expiresAt"
> & { siteSlug: string; siteName: string; siteTimeZone: string };

/** Names are user-entered: inside an email header or a line of text they never carry control characters. */
const oneLine = (value: string) => value.replace(/\p{Cc}+/gu, " ").trim();

/** The content of an expiration notice: Site, registration, Client ID, expiration, consequences, a renew link. */
export function composeExpiryEmail(notice: ExpiryNotice, origin: string): ExpiryEmail {
  const name = oneLine(notice.registrationName);
  const site = oneLine(notice.siteName);
  const kid = notice.key === null ? null : oneLine(notice.key.kid ?? "(deleted key)");
  const expired = notice.template === "expired";
  const renewUrl = `${origin}${
    notice.registrationId === null
      ? registrationsGridUrl(notice.siteSlug)
      : registrationUrl(notice.siteSlug, notice.registrationId)
  }`;
  const when = formatInstant(notice.expiresAt, notice.siteTimeZone);
  const subjectOf = kid === null ? `${name} (${site})` : `public key ${kid} of ${name} (${site})`;
  const title = TEMPLATE_TITLES[notice.template];

  const summary =
    kid === null
      ? expired
        ? `The App registration ${name} in ${site} expired on ${notice.expirationDate}.`
        : `The App registration ${name} in ${site} expires on ${notice.expirationDate}.`
      : expired
        ? `The public key ${kid} of the App registration ${name} in ${site} expired on ${notice.expirationDate}.`
        : `The public key ${kid} of the App registration ${name} in ${site} expires on ${notice.expirationDate}.`;

  const consequence =
    kid === null
      ? expired
        ? `Since ${when} the token endpoint refuses this Client ID (invalid_client): every service using it gets no access tokens and its REST API calls fail. A rose-pink API client alert shows on every admin page of ${site} until the registration is renewed or deleted.`
        : `From ${when} the token endpoint refuses this Client ID (invalid_client): every service using it stops getting access tokens and its REST API calls fail. A rose-pink API client alert then shows on every admin page of ${site}.`
      : expired
        ? `Since ${when} client assertions signed with this key are refused, so a service authenticating with it (private_key_jwt) gets no access tokens.`
        : `From ${when} client assertions signed with this key are refused, so a service authenticating with it (private_key_jwt) stops getting access tokens.`;

  const action =
    notice.registrationId === null
      ? "The registration has been deleted since this notice was written; nothing needs renewing. Create a new registration if a service still needs access."
      : kid === null
        ? expired
          ? "Open the registration and set a later Expiration date: it accepts token requests again at once, with the same Client ID and Client secret. If the service no longer has its secret, delete the registration and create a new one."
          : "Open the registration and set a later Expiration date. The Client ID and Client secret stay the same, so the service needs no change."
        : "Open the registration, add a new public key and switch the service to it before the old one expires.";

  const facts: [string, string][] = [
    ["Site", site],
    ["App registration", name],
    ["Client ID", notice.clientId],
  ];
  if (kid !== null) facts.push(["Public key (kid)", kid]);
  facts.push(["Expiration date", `${notice.expirationDate} (token requests fail from ${when})`]);

  return {
    subject: `${title}: ${subjectOf}`,
    title,
    summary,
    facts,
    consequence,
    action,
    linkLabel: notice.registrationId === null ? "Open App registrations" : "Open the registration to renew it",
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
