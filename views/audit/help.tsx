import type { Child } from "hono/jsx";
import { DETAIL_CODES, EVENT_LABELS, EVENT_SOURCES } from "../../src/audit/detail-codes";
import { SECURITY_EVENTS, type SecurityEventType } from "../../src/db/schema";
import { ASSERTION_FAILURE_CODES } from "../../src/oauth/errors";
import { globalSecurityLogUrl, registrationsGridUrl, type SecurityLogLink, securityLogUrl } from "../../src/paths";
import { ScrollBox } from "../components/scroll-box";
import type { LogView } from "./security-log";

/** Links of the help, pointed at a Site's pages or (Global Administrator) the all-Sites pages. */
function linksFor(view: LogView) {
  return {
    log: (params: SecurityLogLink) =>
      view.kind === "site" ? securityLogUrl(view.site.slug, params) : globalSecurityLogUrl(params),
    /** Unknown Client IDs belong to no Site: only the all-Sites log has them. */
    unknownClientLog: (params: SecurityLogLink) => globalSecurityLogUrl(params),
    grid: (params: Record<string, string> = {}) =>
      view.kind === "site"
        ? registrationsGridUrl(view.site.slug, params)
        : `/admin/registrations${Object.keys(params).length ? `?${new URLSearchParams(params)}` : ""}`,
    logBase: view.kind === "site" ? securityLogUrl(view.site.slug) : globalSecurityLogUrl(),
  };
}

/** The bold lead-in of a part of a symptom ("Where to verify:", "Resolution:"). */
const Lead = ({ children }: { children: Child }) => (
  <p>
    <strong>{children}</strong>
  </p>
);

function Symptom({ id, title, children }: { id: string; title: string; children: Child }) {
  return (
    <section class="help-symptom card" id={id} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </section>
  );
}

function CodeLink({ href, code }: { href: string; code: string }) {
  return (
    <a href={href}>
      <code>{code}</code>
    </a>
  );
}

/** A small GET form: the failures of one consumer, by Client ID and/or IP, in the security log. */
function ConsumerLookup({ action }: { action: string }) {
  return (
    <form class="help-lookup" method="get" action={action} aria-label="Find a consumer's failures">
      <input type="hidden" name="event" value="service_auth_failed" />
      <input type="hidden" name="range" value="24h" />
      <label>
        Client ID <input type="text" name="client" maxlength={256} />
      </label>
      <label>
        Consumer's IP <input type="text" name="ip" maxlength={45} />
      </label>
      <button type="submit" class="secondary">
        Show its failures of the last 24 hours
      </button>
    </form>
  );
}

/**
 * Integrations troubleshooting (seed 000) as in-product help: each symptom's "where to verify" opens the filtered
 * view that answers it, followed by every detail code (seed 004's table, for this product).
 */
export function SecurityLogHelp({ view }: { view: LogView }) {
  const links = linksFor(view);
  const isSite = view.kind === "site";
  return (
    <article class="security-log-help">
      <h1>Integrations troubleshooting</h1>
      <p class="muted">
        Common symptoms with App registrations and the REST API, the likely cause and where to verify it. Each "where to
        verify" link opens the filtered view that answers it. The caller only ever gets a generic error; the reason is
        in the <a href={links.logBase}>security log</a>.
      </p>
      <p class="muted">
        Every call a consumer or an automation can make (token endpoint, devices, and the management API for
        registrations, secrets, keys and this log) is in the <a href="/help/api">API reference</a> (OpenAPI document:{" "}
        <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>).
      </p>

      <Symptom id="banner" title={'Persistent "API client alert" banner on every page'}>
        <p>
          <strong>Likely cause:</strong> one or more App registrations have passed their Expiration date. One rose-pink
          banner per expired registration shows at the top of every page until it is renewed or deleted.
        </p>
        <Lead>Where to verify:</Lead>
        <ul>
          <li>
            <a href={links.grid({ state: "expired" })}>App registrations whose Expires shows Expired</a>
          </li>
          <li>
            <a href={links.log({ code: "IntegrationExpired", range: "7d" })}>
              Token requests refused because the registration expired
            </a>{" "}
            (<code>IntegrationExpired</code>, last 7 days)
          </li>
        </ul>
        <Lead>Resolution:</Lead>
        <ol>
          <li>Open the affected registration.</li>
          <li>
            Push the Expiration date forward (the same Client ID and Client secret keep working). If the secret has been
            lost too, click New client secret on the registration and revoke the lost one.
          </li>
          <li>The banner clears on the next page load.</li>
        </ol>
      </Symptom>

      <Symptom id="invalid-client" title="Token request returns 401 invalid_client">
        <p>
          <strong>Likely cause (most common):</strong> a wrong Client ID or Client secret in the consumer; the
          registration has expired (Expires shows Expired); the registration is disabled (Enabled = No); or REST API
          enabled is off for the Site.
        </p>
        <Lead>Where to verify:</Lead>
        <ul>
          <li>
            The App registrations grid: <a href={links.grid({ state: "expired" })}>expired registrations</a> and{" "}
            <a href={links.grid({ enabled: "no" })}>disabled registrations</a>.
          </li>
          <li>
            <a href={links.log({ event: "service_auth_failed", range: "24h" })}>
              Service authentication failed rows of the last 24 hours
            </a>
            ; each row names the reason: <CodeLink href={links.log({ code: "InvalidSecret" })} code="InvalidSecret" />{" "}
            (wrong secret), <CodeLink href={links.log({ code: "SecretRevoked" })} code="SecretRevoked" /> and{" "}
            <CodeLink href={links.log({ code: "SecretExpired" })} code="SecretExpired" /> (the consumer still uses the
            old secret), <CodeLink href={links.log({ code: "IntegrationExpired" })} code="IntegrationExpired" />,{" "}
            <CodeLink href={links.log({ code: "IntegrationBlocked" })} code="IntegrationBlocked" /> (disabled),{" "}
            <CodeLink href={links.log({ code: "FeatureDisabled" })} code="FeatureDisabled" /> (REST API off),{" "}
            <CodeLink href={links.unknownClientLog({ code: "InvalidIntegration" })} code="InvalidIntegration" />{" "}
            (unknown Client ID{isSite ? "; tied to no Site, so only a Global Administrator can open it" : ""}).
          </li>
          <li>
            Correlate with the consumer:
            <ConsumerLookup action={links.logBase} />
          </li>
        </ul>
        <Lead>Resolution:</Lead>
        <ol>
          <li>
            Confirm the Client ID matches what the consumer sends. The grid shows the Client ID; the secret is never
            shown again.
          </li>
          <li>If the registration is expired, push the Expiration date forward.</li>
          <li>If the registration is disabled, turn Enabled back on.</li>
          <li>
            If the log shows <code>SecretRevoked</code> or <code>SecretExpired</code>, the consumer still uses the old
            secret: give it the current one (the registration's Client secrets list each secret's hint, state and Last
            used).
          </li>
          <li>
            If both look right and the log shows <code>InvalidSecret</code>, the consumer has the wrong secret: click
            New client secret on the registration, give the consumer the new secret, then revoke the lost one.
          </li>
        </ol>
      </Symptom>

      <Symptom id="throttled" title="Token request returns 429 Too Many Requests">
        <p>
          <strong>Likely cause:</strong> repeated failures for the Client ID or from the caller's IP; the token endpoint
          refuses further attempts for a short time and answers with <code>Retry-After</code>.
        </p>
        <p>
          <strong>Where to verify:</strong>{" "}
          <a href={links.log({ code: "TooManyFailures", event: "service_auth_failed", range: "24h" })}>
            Throttled token requests
          </a>{" "}
          (<code>TooManyFailures</code>), then filter by the same Client ID or IP to see the failures that caused them.
        </p>
        <p>
          <strong>Resolution:</strong> fix the cause of the earlier failures and wait for <code>Retry-After</code>. The
          real client with the right secret calling from another IP keeps getting tokens.
        </p>
      </Symptom>

      <Symptom id="forbidden" title="Token request succeeds but specific endpoints return 403 (or 401 invalid_token)">
        <p>
          <strong>Likely cause:</strong> the token is valid but has no right to the action: it lacks the scope (for
          example <code>devices:write</code> to create a device), it belongs to another Site than the one in the URL, it
          has expired, or the Site's REST API has been turned off.
        </p>
        <p>
          <strong>Where to verify:</strong>{" "}
          <a href={links.log({ event: "api_access_denied", range: "24h" })}>API access denied rows</a>:{" "}
          <CodeLink href={links.log({ code: "ScopeMismatched", event: "api_access_denied" })} code="ScopeMismatched" />{" "}
          (missing scope), <CodeLink href={links.log({ code: "SiteMismatch" })} code="SiteMismatch" /> (another Site),{" "}
          <CodeLink href={links.log({ code: "AccessTokenExpired" })} code="AccessTokenExpired" />,{" "}
          <CodeLink href={links.log({ code: "FeatureDisabled", event: "api_access_denied" })} code="FeatureDisabled" />{" "}
          (REST API off). The registration's allowed scopes are on its page in the{" "}
          <a href={links.grid()}>App registrations grid</a>. Cross-Site visibility is for Global Administrators only.
        </p>
        <p>
          <strong>Resolution:</strong> tick the missing scope on the registration and request a new token, or call the
          API under the registration's own Site, or create an App registration in the Site you need to act in; a Global
          Administrator turns REST API enabled back on.
        </p>
      </Symptom>

      <Symptom id="private-key-jwt" title="private_key_jwt assertion rejected">
        <p>
          <strong>Likely cause:</strong> the client assertion does not match the registration's public key or breaks a
          rule of §9 (kid, algorithm, issuer, lifetime, single use).
        </p>
        <p>
          <strong>Where to verify:</strong> the security log rows with{" "}
          {ASSERTION_FAILURE_CODES.map((code) => (
            <>
              <CodeLink href={links.log({ code, event: "service_auth_failed" })} code={code} />{" "}
            </>
          ))}
          ; each code's fix is in the table below.
        </p>
      </Symptom>

      <Symptom id="usage" title="Which registrations are in use, which are failing, which can go?">
        <p>
          <strong>Where to look:</strong> the Admin Center's <strong>Overview</strong> counts registrations by state
          (each number opens that grid view), charts the Site's tokens and failures per UTC day for 30 days, and lists
          the five registrations with the most failures in 24 hours (each opens its filtered security log) and the next
          five expiries. A registration's page has the same chart for it alone (hover or Tab to a day for its numbers;{" "}
          <em>Show the numbers</em> for the table), and a CSV of every day kept.
        </p>
        <p>
          <strong>In the grid:</strong> ⚙️ adds <strong>Tokens (30 d)</strong> (sortable), and Last used carries a
          sparkline of the last 30 days. The built-in view{" "}
          <a href={links.grid({ unused_days: "90" })}>Unused for 90 days</a> lists the candidates to retire: not used,
          and not created, in 90 days.
        </p>
      </Symptom>

      <Symptom id="lost-secret" title="Lost Client secret">
        <p>
          <strong>Likely cause:</strong> the Client secret was not captured at creation. AlloyScan shows it once and
          stores only a keyed hash, so it cannot be shown again.
        </p>
        <p>
          <strong>Where to verify:</strong> nowhere: the secret is genuinely unrecoverable. The registration's Client
          secrets list shows only a hint of each (<code>asc_</code> and its first 4 characters).
        </p>
        <p>
          <strong>Resolution:</strong> in the <a href={links.grid()}>App registrations grid</a>, open the registration,
          click <strong>New client secret</strong>, then <strong>Revoke</strong> the lost one: the Client ID does not
          change. Give the consumer the new secret. Choose how long the old secret keeps working (in 7 days by default,
          or now if it may have leaked).
        </p>
      </Symptom>

      <section class="help-codes" id="detail-codes" aria-labelledby="detail-codes-title">
        <h2 id="detail-codes-title">Detail codes</h2>
        <p class="muted">
          The Detail column of the security log. Identical failures (same Site, Client ID, code and IP) within a minute
          are one row with a count.
        </p>
        {SECURITY_EVENTS.map((event: SecurityEventType) => (
          <ScrollBox label={EVENT_LABELS[event]}>
            <table class="grid help-code-table" aria-label={EVENT_LABELS[event]}>
              <caption>
                {EVENT_LABELS[event]} <span class="muted">· {EVENT_SOURCES[event]}</span>
              </caption>
              <thead>
                <tr>
                  <th scope="col">Detail code</th>
                  <th scope="col">Problem</th>
                  <th scope="col">Resolution</th>
                  <th scope="col">Caller got</th>
                </tr>
              </thead>
              <tbody>
                {DETAIL_CODES.filter((d) => d.event === event).map((d) => (
                  <tr id={`code-${event}-${d.code}`}>
                    <th scope="row">
                      {event === "admin_sign_in_failed" || d.code === "InvalidIntegration" ? (
                        isSite ? (
                          <code>{d.code}</code>
                        ) : (
                          <CodeLink href={links.log({ code: d.code, event })} code={d.code} />
                        )
                      ) : (
                        <CodeLink href={links.log({ code: d.code, event })} code={d.code} />
                      )}
                    </th>
                    <td>{d.explanation}</td>
                    <td>{d.fix}</td>
                    <td>{d.answer}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
        ))}
        {isSite ? (
          <p class="muted">
            Admin sign-in failures and unknown Client IDs are tied to no Site; Global Administrators see them in the
            all-Sites security log.
          </p>
        ) : null}
      </section>
    </article>
  );
}
