import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import type { ActionErrorProps, Errors, Values } from "../../views/components/form";
import {
  AccountSection,
  DeleteUserSection,
  MembershipsSection,
  NewUserPage,
  UserPage,
  type UserPageFeedback,
  UserRow,
  UsersPage,
  usersCrumbs,
} from "../../views/users/pages";
import { type AuditActor, deletedUserEmail, listAuditTrail } from "../audit/admin-audit";
import { actorOf, csrfOf } from "../auth/guards";
import { clearSignInFailures } from "../auth/throttle";
import { createDb, type Db } from "../db/client";
import { type Site, sites } from "../db/schema";
import type { AppEnv } from "../env";
import { hashPassword } from "../lib/crypto";
import { type AdminContext, type toggleForm, typedValues, validated, validForm, validToggle } from "../lib/forms";
import { isHtmx } from "../lib/htmx";
import { adminUsersUrl } from "../paths";
import {
  createUser,
  deleteUser,
  findUser,
  listUsers,
  setGlobalAdmin,
  setUserDisabled,
  type UserChangeResult,
  type UserSummary,
  type UserWithMemberships,
} from "../users/accounts";
import { type MembershipChangeResult, removeMembership, setMembership } from "../users/memberships";
import { resetPassword, setPasswordForm } from "../users/passwords";
import { membershipForm, newUserForm } from "../users/validation";

type Ctx = AdminContext;

export const USERS_PAGE_SIZE = 50;

const NOTICES: Record<string, string> = {
  created:
    "User created. They sign in with this email and the initial password you set: give it to them yourself, it is not shown or sent anywhere.",
  disabled: "User disabled. Every session of theirs has ended.",
  enabled: "User enabled. They can sign in again.",
  granted: "The user is now a Global Administrator.",
  revoked: "The user is no longer a Global Administrator.",
  "membership-added": "Membership added.",
  "role-changed": "Role changed.",
  "membership-removed": "Membership removed.",
  "password-set":
    "Password set. Every session of theirs has ended: give them the new password yourself, it is not shown or sent anywhere.",
  unchanged: "Nothing changed: it was already like that.",
};
const notice = (c: Ctx) => NOTICES[c.req.query("notice") ?? ""];

/**
 * The list's notice after a delete names the user from the delete's audit row (`?deleted=<its id>`), so a crafted
 * link cannot make the page announce a deletion that did not happen.
 */
async function deletionNotice(db: Db, auditId: string | undefined): Promise<string | undefined> {
  if (!/^\d{1,12}$/.test(auditId ?? "")) return undefined;
  const email = await deletedUserEmail(db, Number(auditId));
  return email === undefined ? undefined : `User ${email} deleted.`;
}

const ERRORS: Record<string, (email: string) => ActionErrorProps> = {
  SelfDisable: () => ({
    code: "SelfDisable",
    message: "You cannot disable your own account. Another Global Administrator can.",
  }),
  LastGlobalAdmin: (email) => ({
    code: "LastGlobalAdmin",
    message: `${email} is the last active Global Administrator, so this would leave nobody to manage Sites and users. Make another user a Global Administrator first.`,
  }),
  OwnPassword: () => ({
    code: "OwnPassword",
    message: "Change your own password on your account page: it asks for your current password.",
  }),
  SelfDelete: () => ({
    code: "SelfDelete",
    message: "You cannot delete your own account. Another Global Administrator can, once it is disabled.",
  }),
  NotDisabled: (email) => ({
    code: "NotDisabled",
    message: `${email} is enabled. Only a disabled user can be deleted: disable them first, which ends their sessions, then delete them.`,
  }),
  Conflict: () => ({
    code: "Conflict",
    message: "Someone else changed this membership at the same time. Nothing was saved: review it and try again.",
  }),
};

const allSites = (db: Db) => db.select().from(sites).orderBy(sites.name, sites.slug).all();

async function loadUser(db: Db, id: string | undefined): Promise<UserWithMemberships> {
  const entry = /^\d{1,12}$/.test(id ?? "") ? await findUser(db, Number(id)) : undefined;
  if (!entry) throw new HTTPException(404, { message: "There is no such user." });
  return entry;
}

async function renderUserPage(
  c: Ctx,
  entry: UserWithMemberships,
  options: UserPageFeedback & { status?: 200 | 404 | 409 | 422 } = {},
) {
  const { status, ...feedback } = options;
  const db = createDb(c.env.DB);
  const [siteList, trail] = await Promise.all([
    allSites(db),
    listAuditTrail(db, { type: "user", email: entry.user.email }),
  ]);
  c.status(status ?? 200);
  return c.render(
    <UserPage
      entry={entry}
      sites={siteList}
      trail={trail}
      csrf={csrfOf(c)}
      isSelf={entry.user.id === c.var.session?.user.id}
      notice={status ? undefined : notice(c)}
      {...feedback}
    />,
    { title: `${entry.user.email} · Users`, breadcrumbs: usersCrumbs(entry.user.email) },
  );
}

async function renderNewUser(c: Ctx, typed: Values, errors: Errors, status: 200 | 422) {
  // The password is never put back into a page, not even the form it was typed in.
  const { password: _password, ...values } = typed;
  c.status(status);
  return c.render(
    <NewUserPage values={values} errors={errors} csrf={csrfOf(c)} sites={await allSites(createDb(c.env.DB))} />,
    { title: "New user", breadcrumbs: usersCrumbs("New user") },
  );
}

/**
 * Answers a toggle (disable/enable, Global Administrator): htmx gets the row or the account section it changed,
 * a plain form post is redirected back (or shown the page with the error).
 */
async function answerToggle(
  c: Ctx,
  entry: UserWithMemberships,
  result: UserChangeResult,
  view: "row" | "page",
  noticeKey: string,
) {
  const db = createDb(c.env.DB);
  if (!result.ok && result.code === "NotFound") throw new HTTPException(404, { message: "There is no such user." });
  const error = result.ok ? undefined : ERRORS[result.code]?.(entry.user.email);
  const self = c.var.session?.user;
  // Giving up one's own Global Administrator flag ends one's access to these pages at once.
  if (result.ok && self && entry.user.id === self.id && !result.user.isGlobalAdmin) {
    if (isHtmx(c)) {
      c.header("HX-Redirect", "/");
      return c.body(null, 200);
    }
    return c.redirect("/", 303);
  }
  if (!isHtmx(c)) {
    if (error) return renderUserPage(c, await loadUser(db, String(entry.user.id)), { status: 409, account: { error } });
    const key = result.ok && !result.changed ? "unchanged" : noticeKey;
    return c.redirect(
      view === "row" ? `${adminUsersUrl()}?notice=${key}` : `${adminUsersUrl(entry.user.id)}?notice=${key}`,
      303,
    );
  }
  const after = await loadUser(db, String(entry.user.id));
  const status = error ? 409 : 200;
  if (view === "row") {
    return c.html(<UserRow entry={after} csrf={csrfOf(c)} selfId={self?.id ?? 0} error={error} />, status);
  }
  const isSelf = after.user.id === self?.id;
  // Disabling is the first step of deleting: the delete section below changes with it.
  return c.html(
    <>
      <AccountSection user={after.user} csrf={csrfOf(c)} isSelf={isSelf} error={error} />
      <DeleteUserSection user={after.user} csrf={csrfOf(c)} isSelf={isSelf} oob />
    </>,
    status,
  );
}

/** Loads the user of the path, applies a toggle's value to them and answers it; `notices` name the notice per value. */
async function toggleUser(
  c: Ctx,
  form: z.output<typeof toggleForm>,
  apply: (db: Db, target: UserSummary, value: boolean, actor: AuditActor, now: number) => Promise<UserChangeResult>,
  notices: { true: string; false: string },
) {
  const db = createDb(c.env.DB);
  const entry = await loadUser(db, c.req.param("id"));
  const result = await apply(db, entry.user, form.value, actorOf(c), c.var.now);
  return answerToggle(c, entry, result, form.view, form.value ? notices.true : notices.false);
}

type MembershipOutcome =
  | { ok: true; noticeKey: string }
  | { ok: false; status: 404 | 409 | 422; values?: Values; errors?: Errors; error?: ActionErrorProps };

const MEMBERSHIP_NOTICES = {
  add_membership: "membership-added",
  change_role: "role-changed",
  remove_membership: "membership-removed",
} as const;

function membershipOutcome(result: MembershipChangeResult, email: string, site: Site): MembershipOutcome {
  if (result.ok) return { ok: true, noticeKey: result.action ? MEMBERSHIP_NOTICES[result.action] : "unchanged" };
  if (result.code === "NotMember") {
    return { ok: false, status: 404, error: { code: "NotMember", message: "The user is not a member of that Site." } };
  }
  if (result.code === "LastSiteAdmin") {
    return {
      ok: false,
      status: 409,
      error: {
        code: "LastSiteAdmin",
        message: `${email} is the last Site Administrator of ${site.name}, so nobody else could manage its App registrations or would get its expiry notices. Make another member a Site Administrator first.`,
      },
    };
  }
  return { ok: false, status: 409, error: ERRORS.Conflict?.(email) };
}

/** Answers a membership change: htmx gets the memberships section, a plain post the user's page (or a redirect). */
async function answerMembership(c: Ctx, userId: number, outcome: MembershipOutcome) {
  const db = createDb(c.env.DB);
  if (outcome.ok && !isHtmx(c)) return c.redirect(`${adminUsersUrl(userId)}?notice=${outcome.noticeKey}`, 303);
  const after = await loadUser(db, String(userId));
  if (!isHtmx(c) && !outcome.ok) {
    return renderUserPage(c, after, {
      status: outcome.status,
      membership: { values: outcome.values, errors: outcome.errors, error: outcome.error },
    });
  }
  return c.html(
    <MembershipsSection
      user={after.user}
      memberships={after.memberships}
      sites={await allSites(db)}
      csrf={csrfOf(c)}
      notice={outcome.ok ? NOTICES[outcome.noticeKey] : undefined}
      values={outcome.ok ? undefined : outcome.values}
      errors={outcome.ok ? undefined : outcome.errors}
      error={outcome.ok ? undefined : outcome.error}
    />,
    outcome.ok ? 200 : outcome.status,
  );
}

async function siteById(db: Db, id: number): Promise<Site | undefined> {
  return db.select().from(sites).where(eq(sites.id, id)).get();
}

/** The typed confirmation of a delete; what it must equal is checked against the user in the route. */
const deleteUserForm = z.object({ confirmEmail: z.string().trim().toLowerCase().max(254).prefault("") });

/** Why the user of the page cannot be deleted as read (yourself, or still enabled), answered with 409. */
function refuseDelete(c: Ctx, entry: UserWithMemberships) {
  const code =
    entry.user.id === c.var.session?.user.id ? "SelfDelete" : entry.user.disabled ? undefined : "NotDisabled";
  if (!code) return undefined;
  return renderUserPage(c, entry, { status: 409, delete: { error: ERRORS[code]?.(entry.user.email) } });
}

const CONFIRM_EMAIL_MISSING = "Type the user's email to confirm.";
const notTheEmail = (email: string) => `This is not the user's email. Type ${email} exactly.`;

const listQuery = z.object({
  q: z.string().trim().max(254).catch(""),
  page: z.coerce.number().int().min(1).max(1_000_000).catch(1),
});

/**
 * Users: list, create, disable/enable, Global Administrator flag, a new password, memberships and roles, delete (§4,
 * Global Administrator).
 */
export const userAdminRoutes = new Hono<AppEnv>()
  .get(
    "/",
    // Every field falls back with .catch(), so no query fails; a schema change that could must answer here.
    validated("query", listQuery, () => {
      throw new HTTPException(400, { message: "Check the search." });
    }),
    async (c) => {
      const { q, page } = c.req.valid("query");
      const db = createDb(c.env.DB);
      const [{ rows, total }, deleted] = await Promise.all([
        listUsers(db, { q, page, pageSize: USERS_PAGE_SIZE }),
        deletionNotice(db, c.req.query("deleted")),
      ]);
      return c.render(
        <UsersPage
          rows={rows}
          total={total}
          page={page}
          pageSize={USERS_PAGE_SIZE}
          q={q}
          csrf={csrfOf(c)}
          selfId={c.var.session?.user.id ?? 0}
          notice={deleted ?? notice(c)}
        />,
        { title: "Users", breadcrumbs: usersCrumbs() },
      );
    },
  )
  .get("/new", (c) => renderNewUser(c, { role: "site_user" }, {}, 200))
  .post(
    "/",
    validForm(newUserForm, (c, typed, errors) => renderNewUser(c, typedValues(typed), errors, 422)),
    async (c) => {
      const input = c.req.valid("form");
      const db = createDb(c.env.DB);
      const typed = typedValues(await c.req.parseBody());
      const site = input.siteId === null ? null : await siteById(db, input.siteId);
      if (site === undefined) return renderNewUser(c, typed, { siteId: "Choose a Site from the list." }, 422);
      const result = await createUser(
        db,
        {
          email: input.email,
          name: input.name,
          passwordHash: await hashPassword(input.password),
          isGlobalAdmin: input.isGlobalAdmin,
          membership: site ? { site, role: input.role } : null,
        },
        actorOf(c),
        c.var.now,
      );
      if (!result.ok) return renderNewUser(c, typed, { email: "A user with this email address already exists." }, 422);
      return c.redirect(`${adminUsersUrl(result.user.id)}?notice=created`, 303);
    },
  )
  .get("/:id{[0-9]+}", async (c) => renderUserPage(c, await loadUser(createDb(c.env.DB), c.req.param("id"))))
  .post("/:id{[0-9]+}/disabled", validToggle, (c) =>
    toggleUser(c, c.req.valid("form"), setUserDisabled, { true: "disabled", false: "enabled" }),
  )
  .post("/:id{[0-9]+}/global-admin", validToggle, (c) =>
    toggleUser(c, c.req.valid("form"), setGlobalAdmin, { true: "granted", false: "revoked" }),
  )
  .post(
    "/:id{[0-9]+}/password",
    validForm(setPasswordForm, async (c, _typed, errors) => {
      const entry = await loadUser(createDb(c.env.DB), c.req.param("id"));
      // One's own page has no such form to put the errors next to: the refusal says where to go instead.
      if (entry.user.id === c.var.session?.user.id) {
        return renderUserPage(c, entry, { status: 409, password: { error: ERRORS.OwnPassword?.(entry.user.email) } });
      }
      return renderUserPage(c, entry, { status: 422, password: { errors } });
    }),
    async (c) => {
      const db = createDb(c.env.DB);
      const entry = await loadUser(db, c.req.param("id"));
      const { newPassword } = c.req.valid("form");
      const result = await resetPassword(db, entry.user, await hashPassword(newPassword), actorOf(c), c.var.now);
      if (!result.ok && result.code === "NotFound") throw new HTTPException(404, { message: "There is no such user." });
      if (!result.ok) {
        return renderUserPage(c, entry, { status: 409, password: { error: ERRORS[result.code]?.(entry.user.email) } });
      }
      // The person may have locked the account out trying to remember the old password.
      await clearSignInFailures(db, entry.user.email, c.var.now);
      return c.redirect(`${adminUsersUrl(entry.user.id)}?notice=password-set`, 303);
    },
  )
  .post(
    "/:id{[0-9]+}/delete",
    validForm(deleteUserForm, async (c) => {
      const entry = await loadUser(createDb(c.env.DB), c.req.param("id"));
      return (
        (await refuseDelete(c, entry)) ??
        renderUserPage(c, entry, { status: 422, delete: { errors: { confirmEmail: notTheEmail(entry.user.email) } } })
      );
    }),
    async (c) => {
      const db = createDb(c.env.DB);
      const entry = await loadUser(db, c.req.param("id"));
      const refused = await refuseDelete(c, entry);
      if (refused) return refused;
      const { confirmEmail } = c.req.valid("form");
      if (confirmEmail !== entry.user.email) {
        const message = confirmEmail ? notTheEmail(entry.user.email) : CONFIRM_EMAIL_MISSING;
        return renderUserPage(c, entry, { status: 422, delete: { errors: { confirmEmail: message } } });
      }
      const result = await deleteUser(db, entry.user, actorOf(c), c.var.now);
      if (!result.ok && result.code === "NotFound") throw new HTTPException(404, { message: "There is no such user." });
      if (!result.ok) {
        // Enabled again meanwhile: show the page as it is now.
        const now = await loadUser(db, String(entry.user.id));
        return renderUserPage(c, now, { status: 409, delete: { error: ERRORS[result.code]?.(entry.user.email) } });
      }
      const target = `${adminUsersUrl()}?deleted=${result.auditId}`;
      if (isHtmx(c)) {
        c.header("HX-Redirect", target);
        return c.body(null, 204);
      }
      return c.redirect(target, 303);
    },
  )
  .post(
    "/:id{[0-9]+}/memberships",
    validForm(membershipForm, async (c, typed, errors) => {
      const entry = await loadUser(createDb(c.env.DB), c.req.param("id"));
      return answerMembership(c, entry.user.id, { ok: false, status: 422, values: typedValues(typed), errors });
    }),
    async (c) => {
      const db = createDb(c.env.DB);
      const entry = await loadUser(db, c.req.param("id"));
      const { siteId, role } = c.req.valid("form");
      const site = await siteById(db, siteId);
      if (!site) {
        return answerMembership(c, entry.user.id, {
          ok: false,
          status: 422,
          values: typedValues(await c.req.parseBody()),
          errors: { siteId: "Choose a Site from the list." },
        });
      }
      const result = await setMembership(db, entry.user, site, role, actorOf(c), c.var.now);
      return answerMembership(c, entry.user.id, membershipOutcome(result, entry.user.email, site));
    },
  )
  .post("/:id{[0-9]+}/memberships/:siteId{[0-9]+}/remove", async (c) => {
    const db = createDb(c.env.DB);
    const entry = await loadUser(db, c.req.param("id"));
    const site = await siteById(db, Number(c.req.param("siteId")));
    if (!site) throw new HTTPException(404, { message: "There is no such Site." });
    const result = await removeMembership(db, entry.user, site, actorOf(c), c.var.now);
    return answerMembership(c, entry.user.id, membershipOutcome(result, entry.user.email, site));
  });
