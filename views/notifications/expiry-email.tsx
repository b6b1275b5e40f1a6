const BOX = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2933;max-width:40rem";
const LABEL = "color:#616e7c;padding:0.2rem 1.25rem 0.2rem 0;vertical-align:top;white-space:nowrap";
const BUTTON =
  "display:inline-block;background:#1d4e89;color:#ffffff;padding:0.55rem 1.1rem;border-radius:4px;text-decoration:none";

/** What an expiration notice says, composed by `composeExpiryEmail` (src/notifications/email.tsx). */
export interface ExpiryEmail {
  subject: string;
  title: string;
  summary: string;
  facts: [string, string][];
  consequence: string;
  action: string;
  linkLabel: string;
  renewUrl: string;
  footer: string;
}

/** The HTML body of an expiration notice (§5). Every value is escaped by hono/jsx; no secret is ever part of it. */
export function ExpiryNoticeEmail({ email }: { email: ExpiryEmail }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>{email.subject}</title>
      </head>
      <body>
        <div style={BOX}>
          <h1 style="font-size:1.3rem">{email.title}</h1>
          <p>{email.summary}</p>
          <table role="presentation" style="border-collapse:collapse;margin:1rem 0">
            <tbody>
              {email.facts.map(([label, value]) => (
                <tr>
                  <td style={LABEL}>{label}</td>
                  <td style="padding:0.2rem 0">{value}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2 style="font-size:1.05rem">What happens at expiry</h2>
          <p>{email.consequence}</p>
          <h2 style="font-size:1.05rem">What to do</h2>
          <p>{email.action}</p>
          <p>
            <a href={email.renewUrl} style={BUTTON}>
              {email.linkLabel}
            </a>
          </p>
          <p style="font-size:0.9rem;color:#616e7c">
            Or open this address: <a href={email.renewUrl}>{email.renewUrl}</a>
          </p>
          <p style="font-size:0.85rem;color:#616e7c">{email.footer}</p>
        </div>
      </body>
    </html>
  );
}
