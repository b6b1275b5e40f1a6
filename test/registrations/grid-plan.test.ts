import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gridStatements, loadGridPage } from "../../src/registrations/grid";
import { DEFAULT_QUERY, type GridQuery } from "../../src/registrations/grid-query";
import { createSite, db } from "../helpers/app";
import { NOW } from "../helpers/registration-pages";

/**
 * SQLite's plan for a statement drizzle built, as its detail lines, without the lines of the page's usage columns
 * (Tokens (30 d) and the sparkline): correlated subqueries that read each shown row's 30 days by primary key,
 * checked once below.
 */
async function planOf(statement: { toSQL(): { sql: string; params: unknown[] } }): Promise<string[]> {
  return (await fullPlanOf(statement)).filter((line) => !USAGE_LINE.test(line));
}

const USAGE_LINE =
  /^(CORRELATED SCALAR SUBQUERY \d+|SEARCH u USING INDEX sqlite_autoindex_usage_daily_1 \(registration_id=\? AND day>\?\))$/;

async function fullPlanOf(statement: { toSQL(): { sql: string; params: unknown[] } }): Promise<string[]> {
  const { sql, params } = statement.toSQL();
  const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return plan.results.map((r) => r.detail);
}

const site = { id: 1, slug: "plan", name: "Plan", timeZone: "UTC" };
const query = (overrides: Partial<GridQuery>): GridQuery => ({ ...DEFAULT_QUERY, ...overrides });

describe("the grid's queries read indexes, so a page costs the same at 10 or 10,000 registrations", () => {
  it("reads the default page (name order) straight from the (site, lower(name)) index: no sort, no scan", async () => {
    const { rows, total } = gridStatements(db(), { scope: "site", site }, DEFAULT_QUERY, 25, NOW);
    expect(await planOf(rows(1))).toEqual([
      "SEARCH app_registrations USING INDEX app_registrations_site_name_idx (site_id=?)",
    ]);
    expect(await planOf(rows(3))).toEqual([
      "SEARCH app_registrations USING INDEX app_registrations_site_name_idx (site_id=?)",
    ]);
    const desc = gridStatements(db(), { scope: "site", site }, query({ dir: "desc" }), 25, NOW);
    expect(await planOf(desc.rows(1))).toEqual([
      "SEARCH app_registrations USING INDEX app_registrations_site_name_idx (site_id=?)",
    ]);
    // The total is counted from an index alone, never from the table.
    const [countPlan, ...rest] = await planOf(total);
    expect(rest).toEqual([]);
    expect(countPlan).toMatch(
      /^SEARCH app_registrations USING COVERING INDEX app_registrations_site_\w+_idx \(site_id=\?\)$/,
    );
  });

  it("reads each shown row's usage (30 daily rows) by primary key", async () => {
    const { rows } = gridStatements(db(), { scope: "site", site }, DEFAULT_QUERY, 25, NOW);
    const usage = (await fullPlanOf(rows(1))).slice(1);
    expect(usage).toHaveLength(4);
    for (const line of usage) expect(line).toMatch(USAGE_LINE);
  });

  it("sorts by Registration date from the (site, created_at) index", async () => {
    for (const dir of ["asc", "desc"] as const) {
      const { rows } = gridStatements(db(), { scope: "site", site }, query({ sort: "created", dir }), 25, NOW);
      expect(await planOf(rows(1)), dir).toEqual([
        "SEARCH app_registrations USING INDEX app_registrations_site_created_idx (site_id=?)",
      ]);
    }
  });

  it("narrows the state filters and the Expires order by the (site, expires_at) index", async () => {
    for (const state of ["expired", "expiring_7", "expiring_30", "active"] as const) {
      const { rows } = gridStatements(db(), { scope: "site", site }, query({ state, sort: "expires" }), 25, NOW);
      const plan = await planOf(rows(1));
      expect(plan[0], state).toMatch(
        /^SEARCH app_registrations USING INDEX app_registrations_site_(expires|state)_idx \(site_id=\? AND (enabled=\? AND )?expires_at[<>]/,
      );
    }
  });

  it("pages, counts and filters a Site of 10,050 registrations a page at a time", async () => {
    const big = await createSite();
    // 10,050 rows in one statement: a recursive CTE inside D1, not 10,050 round trips.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10050)
       INSERT INTO app_registrations (site_id, client_id, name, expiration_date, expires_at, created_at, updated_at)
       SELECT ?1, printf('00000000-0000-4000-8000-%012d', i + ?1 * 100000), printf('reg %05d', i), '2031-06-01', ?2, ?3, ?3 FROM n`,
    )
      .bind(big.id, Date.UTC(2031, 5, 1), NOW)
      .run();
    const source = { scope: "site" as const, site: big };
    const first = await loadGridPage(db(), source, DEFAULT_QUERY, 25, NOW);
    expect(first.total).toBe(10_050);
    expect(first.rows).toHaveLength(25);
    expect(first.rows[0]?.name).toBe("reg 00001");
    expect(first.pageCount).toBe(402);
    const last = await loadGridPage(db(), source, query({ page: 402 }), 25, NOW);
    expect(last.rows).toHaveLength(25);
    expect([last.rows[0]?.name, last.rows[24]?.name]).toEqual(["reg 10026", "reg 10050"]);
    const filtered = await loadGridPage(db(), source, query({ q: "reg 0999", sort: "created", dir: "desc" }), 100, NOW);
    expect(filtered.total).toBe(10); // reg 09990 … reg 09999
    expect(filtered.rows.map((r) => r.name)[0]).toBe("reg 09999");
  }, 30_000);
});
