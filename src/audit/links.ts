import type { SecurityEventType } from "../db/schema";
import { type RangePreset, SECURITY_LOG_FIELDS } from "./query";

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

function queryString(params: SecurityLogLink): string {
  const search = new URLSearchParams();
  for (const key of SECURITY_LOG_FIELDS) {
    const value = params[key];
    if (value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** A Site's security log, filtered. */
export function securityLogUrl(siteSlug: string, params: SecurityLogLink = {}): string {
  return `/sites/${encodeURIComponent(siteSlug)}/settings/security-log${queryString(params)}`;
}

/** The Global Administrator's security log across Sites, filtered. */
export function globalSecurityLogUrl(params: SecurityLogLink = {}): string {
  return `/admin/security-log${queryString(params)}`;
}

/** The App registrations grid of a Site, with the catalog's own filter parameters. */
export function registrationsGridUrl(siteSlug: string, params: Record<string, string> = {}): string {
  const search = new URLSearchParams(params).toString();
  return `/sites/${encodeURIComponent(siteSlug)}/settings/iam/app-registrations${search ? `?${search}` : ""}`;
}

export function registrationUrl(siteSlug: string, registrationId: number): string {
  return `/sites/${encodeURIComponent(siteSlug)}/settings/iam/app-registrations/${registrationId}`;
}
