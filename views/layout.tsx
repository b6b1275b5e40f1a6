import type { Child } from "hono/jsx";
import { jsxRenderer, useRequestContext } from "hono/jsx-renderer";
import type { Site } from "../src/db/schema";
import type { AppEnv, SessionContext, SiteContext } from "../src/env";
import { type ApiClientAlert, alertsForPage } from "../src/notifications/alerts";
import {
  adminSitesUrl,
  adminUsersUrl,
  notificationLogUrl,
  registrationsGridUrl,
  registrationUrl,
  securityLogUrl,
  sitePath,
} from "../src/paths";
import { STATIC } from "../src/static-assets";
import { CHANGE_PASSWORD_PATH } from "./auth/change-password";
import { CsrfField } from "./components/form";
import { STATUS_ID } from "./registrations/page";

export interface Crumb {
  label: string;
  href?: string;
}

/** Breadcrumbs of a section (`label` at `href`): the section itself, or one page under it. */
export const crumbsUnder = (label: string, href: string, leaf?: string): Crumb[] =>
  leaf ? [{ label, href }, { label: leaf }] : [{ label }];

/**
 * One rose-pink banner per expired registration (§6), on one compact line: its name, since when, Renew (the
 * registration's Status card) and Dismiss, which hides it for this page view. Dismiss needs the page script, so
 * without it the button is not shown (never a dead button); the banner then simply stays, as §6 allows.
 */
export function ApiClientAlertBanner({ alert, showSite }: { alert: ApiClientAlert; showSite: boolean }) {
  const href = registrationUrl(alert.siteSlug, alert.registrationId);
  return (
    <div class="api-client-alert" role="alert" data-registration-id={String(alert.registrationId)}>
      <span class="api-client-alert-text">
        <strong>API client alert:</strong> <a href={href}>{alert.name}</a>
        {showSite ? ` (${alert.siteName})` : ""} expired on {alert.expirationDate}
        <span class="alert-consequence">; its token requests fail</span>.
      </span>
      <a class="renew-link" href={`${href}#${STATUS_ID}`} aria-label={`Renew ${alert.name}`}>
        Renew
      </a>
      <button type="button" class="dismiss" data-dismiss-alert aria-label={`Dismiss the alert for ${alert.name}`}>
        Dismiss
      </button>
    </div>
  );
}

/** The banners, with "Dismiss all" above them when there are several. */
function ApiClientAlerts({ alerts, showSite }: { alerts: ApiClientAlert[]; showSite: boolean }) {
  if (alerts.length === 0) return null;
  return (
    <section class="alerts" id="api-client-alerts" aria-label="API client alerts">
      {alerts.length > 1 ? (
        <div class="alerts-summary">
          <span>{alerts.length} App registrations have expired.</span>{" "}
          <button type="button" class="dismiss" data-dismiss-all-alerts>
            Dismiss all
          </button>
        </div>
      ) : null}
      {alerts.map((alert) => (
        <ApiClientAlertBanner alert={alert} showSite={showSite} />
      ))}
    </section>
  );
}

export function Breadcrumbs({ items }: { items: Crumb[] }) {
  return (
    <nav aria-label="Breadcrumb" class="breadcrumbs">
      <ol>
        {items.map((item, i) => (
          <li>
            {item.href && i < items.length - 1 ? (
              <a href={item.href}>{item.label}</a>
            ) : (
              <span aria-current={i === items.length - 1 ? "page" : undefined}>{item.label}</span>
            )}
          </li>
        ))}
      </ol>
    </nav>
  );
}

function SiteSwitcher({ sites, current }: { sites: Site[]; current: Site | undefined }) {
  if (sites.length === 0) return null;
  if (sites.length === 1 && current) return <span class="site-name">Site: {current.name}</span>;
  return (
    <details class="site-switcher">
      <summary>Site: {current ? current.name : "choose a Site"}</summary>
      <ul aria-label="Sites">
        {sites.map((s) => (
          <li>
            <a href={sitePath(s.slug)} aria-current={current?.id === s.id ? "true" : undefined}>
              {s.name}
            </a>
          </li>
        ))}
      </ul>
    </details>
  );
}

function MainNav({
  session,
  ctx,
  sites,
}: {
  session: SessionContext | null;
  ctx: SiteContext | undefined;
  sites: Site[];
}) {
  if (!session) return null;
  return (
    <nav aria-label="Main" class="main-nav">
      <ul>
        {!ctx && !session.user.isGlobalAdmin
          ? // Off a Site's pages (the account page, an error page): the way back to each of the user's Sites.
            sites.map((s) => (
              <li>
                <a href={sitePath(s.slug)}>{s.name}</a>
              </li>
            ))
          : null}
        {ctx ? (
          <>
            <li>
              <a href={sitePath(ctx.site.slug)}>Admin Center</a>
            </li>
            {ctx.isAdmin ? (
              <>
                <li>
                  <a href={registrationsGridUrl(ctx.site.slug)}>App registrations</a>
                </li>
                <li>
                  <a href={notificationLogUrl(ctx.site.slug)}>Notification log</a>
                </li>
                <li>
                  <a href={securityLogUrl(ctx.site.slug)}>Security log</a>
                </li>
              </>
            ) : null}
          </>
        ) : null}
        {session.user.isGlobalAdmin ? (
          <>
            <li>
              <a href="/admin">Overview</a>
            </li>
            <li>
              <a href="/admin/registrations">All registrations</a>
            </li>
            <li>
              <a href={adminSitesUrl()}>Sites</a>
            </li>
            <li>
              <a href={adminUsersUrl()}>Users</a>
            </li>
            <li>
              <a href="/admin/security-log">All security logs</a>
            </li>
          </>
        ) : null}
      </ul>
    </nav>
  );
}

export const layout = jsxRenderer<AppEnv>(
  async ({ children, title, breadcrumbs }: { children?: Child; title: string; breadcrumbs?: Crumb[] }) => {
    const c = useRequestContext<AppEnv>();
    const session = c.var.session;
    const alerts = await alertsForPage(c);
    // Banners name their Site where they may come from several: for a Global Administrator, and off a Site's pages.
    const showSite = Boolean(session?.user.isGlobalAdmin) || !c.var.siteContext;
    return (
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          {session ? <meta name="csrf-token" content={session.csrfToken} /> : null}
          <title>{`${title} · AlloyScan`}</title>
          <link rel="stylesheet" href={STATIC.css.path} />
          <link rel="icon" type="image/svg+xml" href={STATIC.icon.path} />
          <script src={STATIC.htmx.path} defer></script>
          <script src={STATIC.js.path} defer></script>
        </head>
        <body>
          <a class="skip-link" href="#main">
            Skip to content
          </a>
          <header class="topbar">
            <a class="brand" href="/">
              AlloyScan
            </a>
            <SiteSwitcher sites={c.var.reachableSites ?? []} current={c.var.siteContext?.site} />
            {session ? (
              <div class="account">
                <a class="user-email" href={CHANGE_PASSWORD_PATH} title="Your account: change your password">
                  {session.user.email}
                </a>
                {session.user.isGlobalAdmin ? <span class="badge">Global Administrator</span> : null}
                <form method="post" action="/sign-out" class="inline">
                  <CsrfField token={session.csrfToken} />
                  <button type="submit" class="link-button">
                    Sign out
                  </button>
                </form>
              </div>
            ) : null}
          </header>
          <MainNav session={session} ctx={c.var.siteContext} sites={c.var.reachableSites ?? []} />
          <ApiClientAlerts alerts={alerts} showSite={showSite} />
          {breadcrumbs ? <Breadcrumbs items={breadcrumbs} /> : null}
          <main id="main" tabindex={-1}>
            {children}
          </main>
          {/* Announcements for screen readers: "Copied", and what a swap brought ("12 registrations"). */}
          <p class="visually-hidden" id="live-region" aria-live="polite" aria-atomic="true" />
        </body>
      </html>
    );
  },
);
