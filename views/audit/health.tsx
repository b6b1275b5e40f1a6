import { describeDetailCode, EVENT_LABELS } from "../../src/audit/detail-codes";
import { formatLogTime, isoInstant } from "../../src/audit/format";
import type { RegistrationHealth as Health } from "../../src/audit/health";
import type { Site } from "../../src/db/schema";
import { securityLogUrl } from "../../src/paths";

function When({ instant, site }: { instant: number; site: Site }) {
  return (
    <>
      <time datetime={isoInstant(instant)}>{formatLogTime(instant, site.timeZone)}</time>{" "}
      <span class="zone">{site.timeZone}</span>
    </>
  );
}

/** " from <ip>" after a time, or nothing when the IP is not known. */
function FromIp({ ip }: { ip: string | null }) {
  return ip ? (
    <>
      {" "}
      from <span class="mono">{ip}</span>
    </>
  ) : null;
}

/**
 * A registration's health at a glance (for its page): last successful use and from where, the last failure with
 * its reason, failures in the last 24 hours, and a link to its rows in the security log.
 */
export function RegistrationHealth({ health, site }: { health: Health; site: Site }) {
  const failure = health.lastFailure;
  const info = failure ? describeDetailCode(failure.event, failure.detailCode) : null;
  return (
    <section class="registration-health card" aria-labelledby="registration-health-title">
      <h2 id="registration-health-title">Health</h2>
      <dl class="details">
        <dt>Last used</dt>
        <dd>
          {health.lastUsedAt !== null ? (
            <>
              <When instant={health.lastUsedAt} site={site} />
              <FromIp ip={health.lastUsedIp} />
            </>
          ) : (
            <span class="muted">Never: no token has been issued yet</span>
          )}
        </dd>
        <dt>Last failure</dt>
        <dd>
          {failure ? (
            <>
              <code title={info?.explanation}>{failure.detailCode}</code> ({EVENT_LABELS[failure.event]}) at{" "}
              <When instant={failure.at} site={site} />
              <FromIp ip={failure.ip} />
              {info ? <p class="muted health-fix">Fix: {info.fix}</p> : null}
            </>
          ) : (
            <span class="muted">None in the last 90 days</span>
          )}
        </dd>
        <dt>Failures in the last 24 hours</dt>
        <dd class={health.failuresLast24h > 0 ? "health-failing" : undefined}>{health.failuresLast24h}</dd>
      </dl>
      <p>
        <a href={securityLogUrl(site.slug, { client: health.clientId, range: "90d" })}>
          Security log of this Client ID
        </a>
      </p>
    </section>
  );
}

/** The compact form for a grid column: failures in 24 hours and the last failure's code, linking to the log. */
export function RegistrationHealthCell({ health, site }: { health: Health | undefined; site: Site }) {
  if (!health?.lastFailure) return <span class="muted">No failures</span>;
  const href = securityLogUrl(site.slug, { client: health.clientId, range: "90d" });
  return (
    <a href={href} class={health.failuresLast24h > 0 ? "health-failing" : undefined}>
      {health.failuresLast24h} in 24 h · last <code>{health.lastFailure.detailCode}</code>
    </a>
  );
}
