import type { Membership, Site, User } from "./db/schema";
import type { DeliveryMessage, NoticeBatchMessage } from "./notifications/messages";

/** Worker bindings (wrangler.toml) and secrets (`.dev.vars` locally, `wrangler secret put` in production). */
export interface Bindings {
  DB: D1Database;
  NOTIFICATIONS: Queue<NotificationMessage>;
  EMAIL: SendEmail;
  /** Public origin of the token service; empty means "the request's origin". */
  ISSUER: string;
  /**
   * Local development only: the origin `wrangler dev` listens on (`npm start` passes it), for links in emails when
   * ISSUER is empty.
   */
  LOCAL_ORIGIN?: string;
  AUDIENCE: string;
  ENVIRONMENT: string;
  EMAIL_FROM: string;
  /** Secret: JSON Web Key Set of private signing keys; the first key signs, all verify. */
  SIGNING_KEYS: string;
  /** Secret: the pepper that keys the HMAC of client secrets. */
  SECRET_PEPPER: string;
}

/**
 * One Queue message (§5): one notification email to one recipient, or a group of due notices the consumer records
 * in the notification log (src/notifications/messages.ts).
 */
export type NotificationMessage = DeliveryMessage | NoticeBatchMessage;

export interface SessionContext {
  id: string;
  csrfToken: string;
  user: User;
}

/** The Site a request is about, with the signed-in user's role in it. */
export interface SiteContext {
  site: Site;
  /** Null for a Global Administrator without a membership in this Site. */
  membership: Membership | null;
  isAdmin: boolean;
}

export interface Variables {
  session: SessionContext | null;
  siteContext: SiteContext;
  /** The Sites the signed-in user can reach (all of them for a Global Administrator). */
  reachableSites: Site[];
  now: number;
}

export type AppEnv = { Bindings: Bindings; Variables: Variables };

declare module "hono" {
  /** `c.render(page, { title, breadcrumbs })` renders inside the layout (views/layout.tsx). */
  interface ContextRenderer {
    (
      content: string | Promise<string>,
      props: { title: string; breadcrumbs?: { label: string; href?: string }[] },
    ): Response | Promise<Response>;
  }
}
