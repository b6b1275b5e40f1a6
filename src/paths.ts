import { type RangePreset, SECURITY_LOG_FIELDS } from "./audit/query";
import type { SecurityEventType } from "./db/schema";

/**
 * Every admin URL, built in one place: pages, forms, redirects, emails and links between pages ask here instead of
 * writing paths by hand. Slugs are encoded (they are `[a-z0-9-]` today, so the encoding changes nothing but guards a
 * later rule); ids are numbers.
 */

/** The security-log filters a link can carry (the query string the log page validates). */
export interface SecurityLogLink {
  range?: RangePreset;
  from?: string;
  to?: string;
  event?: SecurityEventType;
  code?: string;
  client?: string;
  ip?: string;
  site?: string;
  page?: number;
  size?: number;
}

function securityLogQuery(params: SecurityLogLink): string {
  const search = new URLSearchParams();
  for (const key of SECURITY_LOG_FIELDS) {
    const value = params[key];
    if (value !== undefined && value !== "") search.set(key, String(value));
  }
  return withQuery("", search);
}

const withQuery = (path: string, search: URLSearchParams) => {
  const text = search.toString();
  return text ? `${path}?${text}` : path;
};

/** A Site's pages: `/sites/:site/…`. */
export function sitePath(siteSlug: string): string {
  return `/sites/${encodeURIComponent(siteSlug)}`;
}

/** The App registrations grid of a Site, with the catalog's own filter parameters. */
export function registrationsGridUrl(siteSlug: string, params: Record<string, string> = {}): string {
  return withQuery(`${sitePath(siteSlug)}/settings/iam/app-registrations`, new URLSearchParams(params));
}

export function registrationUrl(siteSlug: string, registrationId: number): string {
  return `${registrationsGridUrl(siteSlug)}/${registrationId}`;
}

/** The public keys (private_key_jwt, §9) of a registration. */
export function clientKeysUrl(siteSlug: string, registrationId: number): string {
  return `${registrationUrl(siteSlug, registrationId)}/keys`;
}

/** A registration's Client secrets: POST issues a new one; `/:secretId/revoke` revokes one. */
export function clientSecretsUrl(siteSlug: string, registrationId: number): string {
  return `${registrationUrl(siteSlug, registrationId)}/secrets`;
}

/** A Site's security log, filtered. */
export function securityLogUrl(siteSlug: string, params: SecurityLogLink = {}): string {
  return `${sitePath(siteSlug)}/settings/security-log${securityLogQuery(params)}`;
}

/** The Global Administrator's security log across Sites, filtered. */
export function globalSecurityLogUrl(params: SecurityLogLink = {}): string {
  return `/admin/security-log${securityLogQuery(params)}`;
}

/** A Site's administrative notification log (§4). */
export function notificationLogUrl(siteSlug: string): string {
  return `${sitePath(siteSlug)}/settings/notifications`;
}

/** The Global Administrator's Sites pages: the list, or one Site by slug. */
/** The Global Administrator's home: the overview across every Site. */
export const ALL_SITES_HOME = "/admin";

export function adminSitesUrl(siteSlug?: string): string {
  return siteSlug === undefined ? "/admin/sites" : `/admin/sites/${encodeURIComponent(siteSlug)}`;
}

/** The Global Administrator's Users pages: the list, or one user by id. */
export function adminUsersUrl(userId?: number): string {
  return userId === undefined ? "/admin/users" : `/admin/users/${userId}`;
}
