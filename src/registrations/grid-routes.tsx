import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import type { Crumb } from "../../views/layout";
import {
  type GridModel,
  GridQueryError,
  RegistrationGrid,
  RegistrationGridErrorPage,
  RegistrationGridPage,
} from "../../views/registrations/grid";
import { createDb } from "../db/client";
import type { AppEnv } from "../env";
import { validated, validForm } from "../lib/forms";
import { wantsFragment } from "../lib/htmx";
import { bulkNotice } from "./bulk-routes";
import {
  deleteGridView,
  type GridSource,
  loadGridPage,
  loadGridPersonalisation,
  saveGridSettings,
  saveGridView,
} from "./grid";
import {
  BUILT_IN_VIEWS,
  DEFAULT_QUERY,
  type GridQuery,
  type GridScope,
  gridHref,
  gridQueryProblems,
  gridQuerySchema,
  gridSettingsForm,
  matchingView,
  parseQueryString,
  saveViewForm,
  serializeGridQuery,
} from "./grid-query";

/** How one grid (per Site, or all Sites) is placed: its source of rows, its path and its page chrome. */
export interface GridPlacement {
  source: GridSource;
  base: string;
  title: string;
  heading: string;
  breadcrumbs: Crumb[];
  intro: string;
  newHref?: string;
  timeZone?: string;
  sites?: { slug: string; name: string }[];
}

const NOTICES: Record<string, string> = {
  deleted: "The App registration was deleted. Its Client ID no longer works.",
};

function signedInUser(c: Context<AppEnv>) {
  const session = c.var.session;
  if (!session) throw new HTTPException(401);
  return session;
}

async function gridModel(
  c: Context<AppEnv>,
  scope: GridScope,
  placement: GridPlacement,
  query: GridQuery,
): Promise<GridModel> {
  const session = signedInUser(c);
  const db = createDb(c.env.DB);
  const { settings, views } = await loadGridPersonalisation(db, scope, session.user.id);
  const page = await loadGridPage(db, placement.source, query, settings.pageSize, c.var.now);
  return {
    scope,
    base: placement.base,
    query: { ...query, page: page.page },
    page,
    columns: query.cols ?? settings.columns,
    settings,
    builtInViews: BUILT_IN_VIEWS,
    savedViews: views,
    currentView: matchingView([...BUILT_IN_VIEWS, ...views], query),
    csrfToken: session.csrfToken,
    now: c.var.now,
    sites: placement.sites,
    newHref: placement.newHref,
    timeZone: placement.timeZone,
    bulk: scope === "site",
  };
}

/** The grid as a full page, or as the fragment htmx swaps in (with the canonical URL to push). */
async function respondWithGrid(
  c: Context<AppEnv>,
  scope: GridScope,
  placement: GridPlacement,
  query: GridQuery,
  status: 200 | 400 = 200,
) {
  const model = await gridModel(c, scope, placement, query);
  if (wantsFragment(c)) {
    c.header("HX-Push-Url", gridHref(placement.base, model.query));
    return c.html(<RegistrationGrid model={model} />, status);
  }
  c.status(status);
  return c.render(
    <RegistrationGridPage
      heading={placement.heading}
      intro={placement.intro}
      notice={NOTICES[c.req.query("notice") ?? ""] ?? bulkNotice(c.req.query("notice"), c.req.query("count"))}
      model={model}
    />,
    { title: placement.title, breadcrumbs: placement.breadcrumbs },
  );
}

function refuse(
  c: Context<AppEnv>,
  placement: GridPlacement,
  problems: string[],
  options: { status?: 400 | 409; lead?: string } = {},
) {
  const status = options.status ?? 400;
  const error = <GridQueryError base={placement.base} problems={problems} lead={options.lead} />;
  if (wantsFragment(c)) return c.html(error, status);
  c.status(status);
  return c.render(<RegistrationGridErrorPage heading={placement.heading}>{error}</RegistrationGridErrorPage>, {
    title: placement.title,
    breadcrumbs: placement.breadcrumbs,
  });
}

const viewIdParam = z.object({ viewId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
const returnToForm = z.object({ returnTo: z.string().max(2000).default("") });

/** The query a form asked to return to, or the Default View when it cannot be read. */
function returnQuery(scope: GridScope, qs: string): GridQuery {
  const parsed = parseQueryString(scope, qs);
  return parsed.ok ? parsed.query : DEFAULT_QUERY;
}

/**
 * The grid's routes: the grid itself (GET, every parameter checked by zod), ⚙️ settings, saved views. Shared by
 * the per-Site grid and the Global Administrator's all-Sites grid.
 */
export function gridRoutes(scope: GridScope, place: (c: Context<AppEnv>) => GridPlacement) {
  return new Hono<AppEnv>()
    .get(
      "/",
      validated("query", gridQuerySchema(scope), (c, _sent, _errors, error) =>
        refuse(c, place(c), gridQueryProblems(error)),
      ),
      (c) => respondWithGrid(c, scope, place(c), c.req.valid("query")),
    )
    .post(
      "/settings",
      validForm(gridSettingsForm(scope), (c, _sent, _errors, error) =>
        refuse(c, place(c), gridQueryProblems(error), { lead: "These settings cannot be saved:" }),
      ),
      async (c) => {
        const placement = place(c);
        const form = c.req.valid("form");
        const user = signedInUser(c).user;
        await saveGridSettings(createDb(c.env.DB), scope, user.id, {
          columns: form.columns,
          pageSize: form.pageSize,
        });
        // The settings' columns now apply: a view's column choice is dropped from the URL.
        const query = { ...returnQuery(scope, form.returnTo ?? ""), cols: undefined };
        if (wantsFragment(c)) return respondWithGrid(c, scope, placement, query);
        return c.redirect(gridHref(placement.base, query), 303);
      },
    )
    .post(
      "/views",
      validForm(saveViewForm, (c, _sent, _errors, error) =>
        refuse(c, place(c), gridQueryProblems(error), { lead: "This view cannot be saved:" }),
      ),
      async (c) => {
        const placement = place(c);
        const form = c.req.valid("form");
        const parsed = parseQueryString(scope, form.query);
        if (!parsed.ok) return refuse(c, placement, parsed.problems, { lead: "This view cannot be saved:" });
        const query = serializeGridQuery(parsed.query, { page: false });
        const user = signedInUser(c).user;
        const saved = await saveGridView(createDb(c.env.DB), scope, user.id, { name: form.name, query }, c.var.now);
        if (saved === "limit") {
          return refuse(c, placement, ["You have the most saved views allowed. Delete one before saving another."], {
            status: 409,
            lead: "This view cannot be saved:",
          });
        }
        return c.redirect(query ? `${placement.base}?${query}` : placement.base, 303);
      },
    )
    .post(
      "/views/:viewId{[0-9]+}/delete",
      validated("param", viewIdParam, () => {
        throw new HTTPException(404, { message: "No such view." });
      }),
      validForm(returnToForm, () => {
        throw new HTTPException(400, { message: "The page to return to is too long." });
      }),
      async (c) => {
        const placement = place(c);
        const user = signedInUser(c).user;
        const deleted = await deleteGridView(createDb(c.env.DB), scope, user.id, c.req.valid("param").viewId);
        if (!deleted) throw new HTTPException(404, { message: "No such view." });
        return c.redirect(gridHref(placement.base, returnQuery(scope, c.req.valid("form").returnTo)), 303);
      },
    );
}
