import { globalSecurityLogUrl, registrationsGridUrl, registrationUrl, securityLogUrl } from "../../src/paths";
import type { StateFilter } from "../../src/registrations/grid-query";
import type { Overview } from "../../src/usage/overview";
import { When } from "../components/when";
import { UsageChart, UsageTotals } from "./chart";

const STATES: [StateFilter, string][] = [
  ["active", "Active"],
  ["expiring_30", "Expire within 30 days"],
  ["expiring_7", "Expire within 7 days"],
  ["expired", "Expired"],
  ["disabled", "Disabled"],
];

/**
 * The Admin Center overview: registrations by state (each a link to that grid view), tokens and failures, the
 * registrations failing most in 24 hours (each linked to its filtered security log) and the next expiries. For one
 * Site, or (`site` absent) across every Site.
 */
export function OverviewSection(props: { overview: Overview; site?: { slug: string; name: string } }) {
  const { overview, site } = props;
  const gridOf = (state: StateFilter) =>
    site ? registrationsGridUrl(site.slug, { state }) : `/admin/registrations?state=${state}`;
  const subject = site ? site.name : "every Site";
  return (
    <section class="overview" aria-labelledby="overview-heading">
      <h2 id="overview-heading">Overview</h2>
      <h3>App registrations by state</h3>
      <ul class="overview-states">
        {STATES.map(([state, label]) => (
          <li>
            <a href={gridOf(state)}>
              <span class="n">{overview.states[state].toLocaleString("en-US")}</span> {label}
            </a>
          </li>
        ))}
      </ul>
      <h3>Tokens and failures</h3>
      <UsageTotals summary={overview.usage} />
      <UsageChart summary={overview.usage} subject={subject} id="overview-chart" compact />
      <div class="overview-lists">
        <section aria-labelledby="failing-heading">
          <h3 id="failing-heading">Most failures in the last 24 hours</h3>
          {overview.failing.length === 0 ? (
            <p class="muted">No failures in the last 24 hours.</p>
          ) : (
            <ol>
              {overview.failing.map((f) => {
                const href = site
                  ? securityLogUrl(f.siteSlug, { client: f.clientId, range: "24h" })
                  : globalSecurityLogUrl({ client: f.clientId, range: "24h" });
                return (
                  <li>
                    <a href={href}>{f.name ?? f.clientId}</a>: {f.failures.toLocaleString("en-US")}{" "}
                    {f.failures === 1 ? "failure" : "failures"}
                    {site ? null : <span class="muted"> · {f.siteName}</span>}
                  </li>
                );
              })}
            </ol>
          )}
        </section>
        <section aria-labelledby="expiries-heading">
          <h3 id="expiries-heading">Next expiries</h3>
          {overview.expiries.length === 0 ? (
            <p class="muted">No registration expires.</p>
          ) : (
            <ol>
              {overview.expiries.map((e) => (
                <li>
                  <a href={registrationUrl(e.siteSlug, e.id)}>{e.name}</a>:{" "}
                  <When at={e.expiresAt} timeZone={e.siteTimeZone} />
                  {site ? null : <span class="muted"> · {e.siteName}</span>}
                </li>
              ))}
            </ol>
          )}
        </section>
      </div>
    </section>
  );
}
