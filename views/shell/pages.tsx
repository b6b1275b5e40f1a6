import type { Child } from "hono/jsx";
import type { Site } from "../../src/db/schema";
import { registrationsGridUrl, sitePath } from "../../src/paths";
import type { Crumb } from "../layout";

/** Admin Center › Site Settings › IAM › App registrations (§4). */
export function siteCrumbs(site: Site, depth: "center" | "settings" | "iam", leaf?: Crumb): Crumb[] {
  const base = sitePath(site.slug);
  const crumbs: Crumb[] = [{ label: "Admin Center", href: base }];
  if (depth !== "center") crumbs.push({ label: "Site Settings", href: `${base}/settings` });
  if (depth === "iam") crumbs.push({ label: "IAM", href: `${base}/settings/iam` });
  if (leaf) crumbs.push(leaf);
  return crumbs;
}

export function AdminCenterPage({
  site,
  isAdmin,
  role,
  overview,
}: {
  site: Site;
  isAdmin: boolean;
  role: string;
  overview?: Child;
}) {
  const base = sitePath(site.slug);
  return (
    <section>
      <h1>Admin Center</h1>
      <p>
        {site.name} · time zone {site.timeZone} · your role: {role}
      </p>
      <ul class="tiles">
        <li>
          <a href={`${base}/settings`}>Site Settings</a>
        </li>
        {isAdmin ? (
          <li>
            <a href={registrationsGridUrl(site.slug)}>App registrations</a>
          </li>
        ) : null}
      </ul>
      {isAdmin ? null : <p class="muted">App registrations are managed by Site Administrators.</p>}
      {overview}
    </section>
  );
}

export function SiteSettingsPage({ site, isAdmin }: { site: Site; isAdmin: boolean }) {
  const base = `${sitePath(site.slug)}/settings`;
  return (
    <section>
      <h1>Site Settings</h1>
      <dl class="details">
        <dt>Site</dt>
        <dd>{site.name}</dd>
        <dt>Time zone</dt>
        <dd>{site.timeZone}</dd>
        <dt>REST API enabled</dt>
        <dd>{site.restApiEnabled ? "Yes" : "No"}</dd>
      </dl>
      {isAdmin ? (
        <ul class="tiles">
          <li>
            <a href={`${base}/iam`}>IAM</a>
          </li>
        </ul>
      ) : null}
    </section>
  );
}

export function IamPage({ site }: { site: Site }) {
  const base = `${sitePath(site.slug)}/settings`;
  return (
    <section>
      <h1>IAM</h1>
      <ul class="tiles">
        <li>
          <a href={`${base}/iam/app-registrations`}>App registrations</a>
        </li>
        <li>
          <a href={`${base}/security-log`}>Security log</a>
        </li>
        <li>
          <a href={`${base}/notifications`}>Administrative notification log</a>
        </li>
      </ul>
    </section>
  );
}

export function NoSitesPage() {
  return (
    <section>
      <h1>No Sites yet</h1>
      <p>Your account is not a member of any Site. Ask a Global Administrator to add you to one.</p>
    </section>
  );
}

export function ErrorPage({ status, message }: { status: number; message: string }) {
  return (
    <section class="card narrow">
      <h1>{status === 403 ? "Not allowed" : status === 404 ? "Not found" : "Something went wrong"}</h1>
      <p>{message}</p>
      <p>
        <a href="/">Back to the Admin Center</a>
      </p>
    </section>
  );
}
