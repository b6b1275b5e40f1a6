import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import {
  ClientKeysPage,
  ClientKeysSection,
  type ClientKeysSectionProps,
  type KeyFormState,
  RemoveKeyConfirmation,
} from "../../views/client-keys/section";
import { siteCrumbs } from "../../views/shell/pages";
import { actorOf, csrfOf } from "../auth/guards";
import { createDb } from "../db/client";
import type { AppEnv } from "../env";
import { validForm } from "../lib/forms";
import { wantsFragment } from "../lib/htmx";
import { parseCalendarDate, startOfDayInZone } from "../lib/time";
import { clientKeysUrl, registrationsGridUrl, registrationUrl } from "../paths";
import { parseClientKeyUpload } from "./parse";
import {
  addClientKey,
  findClientKey,
  findKeyOwner,
  type KeyOwner,
  listClientKeys,
  MAX_KEYS_PER_REGISTRATION,
  removeClientKey,
} from "./repository";

const ID_PATTERN = /^[1-9][0-9]{0,14}$/;

/** Form fields of the add form; anything else in the body is ignored. */
const addKeyForm = z.object({
  key: z.string({ error: "Paste a PEM certificate or a public JWK." }),
  kid: z.string({ error: "Send the kid once." }).default(""),
  alg: z.string({ error: "Choose one algorithm." }).default(""),
  expires: z.string({ error: "Send one expiry date." }).default(""),
});

const KEY_FORM_FIELDS = ["key", "kid", "alg", "expires"] as const;

const NOTICES: Record<string, string> = {
  added: "The key was added.",
  removed: "The key was removed.",
};

/** The registration named by `:id`, only within the current Site: any other id is 404 (§10 Site ownership). */
async function loadOwner(c: Context<AppEnv>): Promise<KeyOwner> {
  const id = c.req.param("id") ?? "";
  if (!ID_PATTERN.test(id)) throw new HTTPException(404, { message: "No such App registration" });
  const owner = await findKeyOwner(createDb(c.env.DB), c.var.siteContext.site.id, Number(id));
  if (!owner) throw new HTTPException(404, { message: "No such App registration" });
  return owner;
}

function keyIdParam(c: Context<AppEnv>): number {
  const keyId = c.req.param("keyId") ?? "";
  if (!ID_PATTERN.test(keyId)) throw new HTTPException(404, { message: "No such key" });
  return Number(keyId);
}

async function sectionProps(
  c: Context<AppEnv>,
  owner: KeyOwner,
  extra: Pick<ClientKeysSectionProps, "form" | "notice"> = {},
): Promise<ClientKeysSectionProps> {
  const { site } = c.var.siteContext;
  return {
    site,
    registration: { id: owner.id, name: owner.name },
    keys: await listClientKeys(createDb(c.env.DB), site.id, owner.id),
    csrfToken: csrfOf(c),
    now: c.var.now,
    ...extra,
  };
}

function registrationHref(c: Context<AppEnv>, owner: KeyOwner) {
  return registrationUrl(c.var.siteContext.site.slug, owner.id);
}

function crumbs(c: Context<AppEnv>, owner: KeyOwner, leaf: string) {
  const { site } = c.var.siteContext;
  return [
    ...siteCrumbs(site, "iam", {
      label: "App registrations",
      href: registrationsGridUrl(site.slug),
    }),
    { label: owner.name, href: registrationHref(c, owner) },
    { label: leaf },
  ];
}

/** The section as a fragment for htmx, or the whole keys page. */
async function respond(c: Context<AppEnv>, props: ClientKeysSectionProps, owner: KeyOwner, status: 200 | 422 = 200) {
  c.status(status);
  if (wantsFragment(c)) return c.html(<ClientKeysSection {...props} />, status);
  return c.render(<ClientKeysPage {...props} registrationHref={registrationHref(c, owner)} />, {
    title: `Public keys · ${owner.name}`,
    breadcrumbs: crumbs(c, owner, "Public keys"),
  });
}

type Expiry = { ok: true; expiresAt: number | null; date: string | null } | { ok: false; message: string };

/** An optional calendar date in the Site's zone; the key stops working at its 00:00 (like §3 expiry). */
function readExpiry(value: string, timeZone: string, now: number): Expiry {
  const date = value.trim();
  if (!date) return { ok: true, expiresAt: null, date: null };
  if (!parseCalendarDate(date)) return { ok: false, message: "Enter the expiry as a date (YYYY-MM-DD)." };
  const expiresAt = startOfDayInZone(date, timeZone);
  if (expiresAt <= now) return { ok: false, message: "The expiry date must be in the future." };
  return { ok: true, expiresAt, date };
}

const REFUSALS = {
  duplicate_kid: (kid: string) => ({ kid: `This registration already has a key with the kid "${kid}".` }),
  too_many_keys: () => ({
    form: `A registration holds at most ${MAX_KEYS_PER_REGISTRATION} public keys. Remove one before adding another.`,
  }),
} as const;

/**
 * Public keys of one App registration (§9), mounted at
 * `/sites/:site/settings/iam/app-registrations/:id/keys`. Site Administrators and Global Administrators only (the
 * IAM guard in app.ts); every query is scoped by the Site and the registration id.
 */
export const clientKeyRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const owner = await loadOwner(c);
    const notice = NOTICES[c.req.query("notice") ?? ""];
    return respond(c, await sectionProps(c, owner, { notice }), owner);
  })
  .post(
    "/",
    validForm(addKeyForm, async (c, _sent, errors) => {
      const owner = await loadOwner(c);
      const body = await c.req.parseBody();
      const form: KeyFormState = { values: {}, errors: {} };
      for (const field of KEY_FORM_FIELDS) {
        const value = body[field];
        if (typeof value === "string") form.values[field] = value;
        if (errors[field]) form.errors[field] = errors[field];
      }
      return respond(c, await sectionProps(c, owner, { form }), owner, 422);
    }),
    async (c) => {
      const owner = await loadOwner(c);
      const input = c.req.valid("form");
      const { site } = c.var.siteContext;
      const values = { key: input.key, kid: input.kid, alg: input.alg, expires: input.expires };
      const refused = async (errors: KeyFormState["errors"]) =>
        respond(c, await sectionProps(c, owner, { form: { values, errors } }), owner, 422);

      const parsed = await parseClientKeyUpload({ key: input.key, kid: input.kid, alg: input.alg });
      const expiry = readExpiry(input.expires, site.timeZone, c.var.now);
      if (!parsed.ok || !expiry.ok) {
        return refused({
          ...(parsed.ok ? {} : { [parsed.error.field]: parsed.error.message }),
          ...(expiry.ok ? {} : { expires: expiry.message }),
        });
      }
      const result = await addClientKey(
        createDb(c.env.DB),
        {
          siteId: site.id,
          registrationId: owner.id,
          key: parsed.key,
          expiresAt: expiry.expiresAt,
          expiryDate: expiry.date,
          actor: actorOf(c),
        },
        c.var.now,
      );
      if (!result.ok) {
        if (result.reason === "registration_not_found") {
          throw new HTTPException(404, { message: "No such App registration" });
        }
        return refused(REFUSALS[result.reason](parsed.key.kid));
      }
      if (!wantsFragment(c)) return c.redirect(`${clientKeysUrl(site.slug, owner.id)}?notice=added`, 303);
      const notice = `The key "${result.key.kid}" was added (fingerprint ${result.key.fingerprint}).`;
      return respond(c, await sectionProps(c, owner, { notice }), owner);
    },
  )
  .get("/:keyId/delete", async (c) => {
    const owner = await loadOwner(c);
    const { site } = c.var.siteContext;
    const key = await findClientKey(createDb(c.env.DB), site.id, owner.id, keyIdParam(c));
    if (!key) throw new HTTPException(404, { message: "No such key" });
    return c.render(
      <RemoveKeyConfirmation
        site={site}
        registration={{ id: owner.id, name: owner.name }}
        keyRow={key}
        csrfToken={c.var.session?.csrfToken ?? ""}
      />,
      { title: `Remove key · ${owner.name}`, breadcrumbs: crumbs(c, owner, "Remove key") },
    );
  })
  .post("/:keyId/delete", async (c) => {
    const owner = await loadOwner(c);
    const { site } = c.var.siteContext;
    const removed = await removeClientKey(
      createDb(c.env.DB),
      { siteId: site.id, registrationId: owner.id, keyId: keyIdParam(c), actor: actorOf(c) },
      c.var.now,
    );
    if (!removed) throw new HTTPException(404, { message: "No such key" });
    if (!wantsFragment(c)) return c.redirect(`${clientKeysUrl(site.slug, owner.id)}?notice=removed`, 303);
    return respond(c, await sectionProps(c, owner, { notice: NOTICES.removed }), owner);
  });
