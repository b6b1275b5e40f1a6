import { listSiteDevices, toResource } from "../src/api/devices";
import type { Bindings, NotificationMessage } from "../src/env";
import worker from "../src/index";

/**
 * Benchmark-only entry point: the production Worker (src/index.ts) unchanged, plus a D1 query counter.
 *
 * `npm run bench` builds and serves this file instead of src/index.ts (bench/lib/serve-worker.mjs, with the var
 * `ENVIRONMENT=bench`). Counting is off until the bench turns it on (POST /__bench/d1/start); while it is off every
 * event goes straight to the production handlers with the real bindings. While it is on, each fetch, scheduled and
 * queue event gets a copy of `env` whose `DB` counts every statement it runs into the event's bucket
 * ("POST /oauth/token", "scheduled <cron>", "queue <name>"), including work the event left to waitUntil.
 *
 * Two ways of running the statements:
 * - "observe" (default): through the binding's own first/all/run/raw/batch, counting statements and round trips;
 *   D1's `meta.rows_read`/`rows_written` are summed where the method returns them (all, run, batch).
 * - "query" (`--var BENCH_D1_METER:query` with the `d1_binding_jsrpc` compatibility flag): through the binding's
 *   `query()`, which returns every statement's rows and meta, so rows read and written are exact for every call.
 *   Results are shaped as the binding shapes them on that wire.
 */

interface BenchBindings extends Bindings {
  BENCH_D1_METER?: string;
}

interface StatementTally {
  count: number;
  rowsRead: number;
  rowsWritten: number;
}

interface Bucket {
  events: number;
  statuses: Record<string, number>;
  /** D1 round trips (a batch is one). */
  roundTrips: number;
  readStatements: number;
  writeStatements: number;
  /** Statements whose method returned no meta (observe mode: first, raw, exec). */
  unmeteredStatements: number;
  rowsRead: number;
  rowsWritten: number;
  failures: number;
  statements: Record<string, StatementTally>;
}

interface D1Meta {
  rows_read?: number;
  rows_written?: number;
}

/** The public fields every D1PreparedStatement carries. */
interface BoundStatement extends D1PreparedStatement {
  statement: string;
  params: unknown[];
}

interface QueryResult {
  meta: D1Meta & Record<string, unknown>;
  data: { kind: "raw"; columns: string[]; rows: unknown[][] };
}

interface QueryableD1 {
  query(request: { queries: { sql: string; params: unknown[] }[] }): Promise<{ results: QueryResult[] }>;
}

const MAX_DISTINCT_STATEMENTS = 60;
const WRITE_KEYWORD = /^\s*(insert|update|delete|replace|create|drop|alter)\b/i;
const WRITE_CLAUSE = /\b(insert\s+(or\s+\w+\s+)?into|replace\s+into|update\s+\S+\s+set|delete\s+from)\b/i;

let counting = false;
let buckets = new Map<string, Bucket>();

function bucketFor(name: string): Bucket {
  let bucket = buckets.get(name);
  if (!bucket) {
    bucket = {
      events: 0,
      statuses: {},
      roundTrips: 0,
      readStatements: 0,
      writeStatements: 0,
      unmeteredStatements: 0,
      rowsRead: 0,
      rowsWritten: 0,
      failures: 0,
      statements: {},
    };
    buckets.set(name, bucket);
  }
  return bucket;
}

/** A statement that may change the database; a WITH … is one when its body inserts, updates or deletes. */
function isWrite(sql: string) {
  return WRITE_KEYWORD.test(sql) || (/^\s*with\b/i.test(sql) && WRITE_CLAUSE.test(sql));
}

/** One round trip: its statements, with their meta when the wire returned it. */
function record(bucket: Bucket, sqls: string[], metas: (D1Meta | undefined)[] | undefined) {
  bucket.roundTrips += 1;
  sqls.forEach((sql, i) => {
    const meta = metas?.[i];
    const rowsRead = Number(meta?.rows_read ?? 0);
    const rowsWritten = Number(meta?.rows_written ?? 0);
    if (isWrite(sql)) bucket.writeStatements += 1;
    else bucket.readStatements += 1;
    if (!meta) bucket.unmeteredStatements += 1;
    bucket.rowsRead += rowsRead;
    bucket.rowsWritten += rowsWritten;
    const key = sql.replace(/\s+/g, " ").trim().slice(0, 400);
    let tally = bucket.statements[key];
    if (!tally && Object.keys(bucket.statements).length < MAX_DISTINCT_STATEMENTS) {
      tally = bucket.statements[key] = { count: 0, rowsRead: 0, rowsWritten: 0 };
    }
    if (tally) {
      tally.count += 1;
      tally.rowsRead += rowsRead;
      tally.rowsWritten += rowsWritten;
    }
  });
}

const toObjects = ({ columns, rows }: QueryResult["data"]) =>
  rows.map((row) => Object.fromEntries(row.map((cell, i) => [columns[i], cell])) as Record<string, unknown>);

class CountingDatabase {
  constructor(
    readonly real: D1Database,
    readonly bucket: Bucket,
    readonly exact: boolean,
  ) {}

  prepare(sql: string) {
    return new CountingStatement(this, this.real.prepare(sql) as BoundStatement);
  }

  async batch(statements: CountingStatement[]) {
    const reals = statements.map((s) => s.real);
    if (this.exact) {
      const results = await this.execute(reals);
      return results.map((r) => ({ success: true, meta: r.meta, results: toObjects(r.data) }));
    }
    return this.observe(reals, () => this.real.batch(reals), true);
  }

  async exec(sql: string) {
    const lines = sql.trim().split("\n");
    try {
      return await this.real.exec(sql);
    } finally {
      record(this.bucket, lines, undefined);
    }
  }

  withSession(constraintOrBookmark?: string) {
    const session = this.real.withSession(constraintOrBookmark);
    const counting = new CountingDatabase(session as unknown as D1Database, this.bucket, false);
    return Object.assign(counting, { getBookmark: () => session.getBookmark() });
  }

  dump() {
    return (this.real as unknown as { dump(): Promise<ArrayBuffer> }).dump();
  }

  /** "query" mode: every statement through D1's query(), rows and meta for each. */
  async execute(statements: BoundStatement[]): Promise<QueryResult[]> {
    const sqls = statements.map((s) => s.statement);
    try {
      const { results } = await (this.real as unknown as QueryableD1).query({
        queries: statements.map((s) => ({ sql: s.statement, params: s.params })),
      });
      record(
        this.bucket,
        sqls,
        results.map((r) => r.meta),
      );
      return results;
    } catch (error) {
      this.bucket.failures += 1;
      record(this.bucket, sqls, undefined);
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(message.startsWith("D1_") ? message : `D1_ERROR: ${message}`, { cause: error });
    }
  }

  /** "observe" mode: the binding's own method; meta summed when the result carries it. */
  async observe<T>(statements: BoundStatement[], run: () => Promise<T>, batch = false): Promise<T> {
    const sqls = statements.map((s) => s.statement);
    try {
      const result = await run();
      const list = (batch ? result : [result]) as { meta?: D1Meta }[];
      const metas = list.map((r) => (r && typeof r === "object" && "meta" in r ? r.meta : undefined));
      record(this.bucket, sqls, metas.some(Boolean) ? metas : undefined);
      return result;
    } catch (error) {
      this.bucket.failures += 1;
      record(this.bucket, sqls, undefined);
      throw error;
    }
  }
}

class CountingStatement {
  constructor(
    readonly owner: CountingDatabase,
    readonly real: BoundStatement,
  ) {}

  bind(...values: unknown[]) {
    return new CountingStatement(this.owner, this.real.bind(...values) as BoundStatement);
  }

  private async one() {
    const [result] = await this.owner.execute([this.real]);
    if (!result) throw new Error("D1_ERROR: no result");
    return result;
  }

  async first(column?: string) {
    if (!this.owner.exact) {
      return this.owner.observe([this.real], () =>
        column === undefined ? this.real.first() : this.real.first(column),
      );
    }
    const [row] = toObjects((await this.one()).data);
    if (!row) return null;
    if (column === undefined) return row;
    if (row[column] === undefined) throw new Error(`D1_COLUMN_NOTFOUND: Column not found (${column})`);
    return row[column];
  }

  async all() {
    if (!this.owner.exact) return this.owner.observe([this.real], () => this.real.all());
    const result = await this.one();
    return { success: true, meta: result.meta, results: toObjects(result.data) };
  }

  async run() {
    if (!this.owner.exact) return this.owner.observe([this.real], () => this.real.run());
    const result = await this.one();
    return { success: true, meta: result.meta, results: toObjects(result.data) };
  }

  async raw(options?: { columnNames?: boolean }) {
    if (!this.owner.exact) {
      return this.owner.observe([this.real], () =>
        options?.columnNames ? this.real.raw({ columnNames: true }) : this.real.raw(),
      );
    }
    const { data } = await this.one();
    return [...(options?.columnNames ? [data.columns] : []), ...data.rows];
  }
}

/*
 * A distant D1 primary, simulated: while the bench sets a delay (POST /__bench/d1/delay {"ms": 40}), every D1 call of
 * the Worker (statements, batches, the calls of its D1 sessions) waits that long before it runs, as a round trip to
 * a primary on another continent would. Off (0) unless the bench turns it on.
 */
let d1DelayMs = 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function delayedDatabase<T extends object>(db: T): T {
  return new Proxy(db, {
    get(target, prop) {
      const d = target as unknown as D1Database;
      if (prop === "prepare") return (sql: string) => delayedStatement(d.prepare(sql));
      if (prop === "withSession") return (constraint?: string) => delayedDatabase(d.withSession(constraint));
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          await sleep(d1DelayMs);
          return d.batch(statements);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function delayedStatement(statement: D1PreparedStatement): D1PreparedStatement {
  return new Proxy(statement, {
    get(target, prop) {
      if (prop === "bind") return (...values: unknown[]) => delayedStatement(target.bind(...values));
      if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
        return async (...args: unknown[]) => {
          await sleep(d1DelayMs);
          return (target[prop] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The environment of one event: the distant-D1 delay when it is on. */
const eventEnv = (env: BenchBindings): BenchBindings => (d1DelayMs > 0 ? { ...env, DB: delayedDatabase(env.DB) } : env);

function countedEnv(env: BenchBindings, bucket: Bucket): BenchBindings {
  const exact = env.BENCH_D1_METER === "query";
  return { ...env, DB: new CountingDatabase(env.DB, bucket, exact) as unknown as D1Database };
}

async function control(request: Request, url: URL, env: BenchBindings): Promise<Response> {
  // The REST API's baseline: the same devices query and JSON as GET /api/v1/sites/{site}/devices, with no
  // authentication, routing or middleware (the part of a REST request that is not ours to cut).
  if (url.pathname === "/__bench/devices" && request.method === "GET") {
    const page = await listSiteDevices(env.DB, url.searchParams.get("site") ?? "", 50, null);
    return Response.json({ devices: page.devices.map(toResource), next_cursor: null });
  }
  if (url.pathname === "/__bench/d1/delay" && request.method === "POST") {
    const { ms } = (await request.json()) as { ms?: unknown };
    d1DelayMs = typeof ms === "number" && ms >= 0 ? ms : 0;
    return Response.json({ delayMs: d1DelayMs });
  }
  if (url.pathname === "/__bench/d1" && request.method === "GET") {
    return Response.json({ counting, meter: env.BENCH_D1_METER ?? "observe", buckets: Object.fromEntries(buckets) });
  }
  if (url.pathname === "/__bench/d1/start" && request.method === "POST") {
    buckets = new Map();
    counting = true;
    return Response.json({ counting });
  }
  if (url.pathname === "/__bench/d1/stop" && request.method === "POST") {
    counting = false;
    return Response.json({ counting });
  }
  return new Response("Not found", { status: 404 });
}

async function instrumentedFetch(request: Request, env: BenchBindings, ctx: ExecutionContext): Promise<Response> {
  const url = new URL(request.url);
  if (env.ENVIRONMENT === "bench" && url.pathname.startsWith("/__bench/")) return control(request, url, env);
  if (!counting) return worker.fetch(request, eventEnv(env), ctx);
  const bucket = bucketFor(`${request.method} ${url.pathname}`);
  bucket.events += 1;
  const response = await worker.fetch(request, countedEnv(eventEnv(env), bucket), ctx);
  bucket.statuses[response.status] = (bucket.statuses[response.status] ?? 0) + 1;
  return response;
}

export default {
  fetch(request, env, ctx) {
    // The uncounted path stays as close to production as it can: no URL parsing, no copies, no promise of its own.
    if (!counting && d1DelayMs === 0 && !request.url.includes("/__bench/")) return worker.fetch(request, env, ctx);
    return instrumentedFetch(request, env, ctx);
  },
  async scheduled(controller, env, ctx) {
    if (!counting) return worker.scheduled(controller, env, ctx);
    const bucket = bucketFor(`scheduled ${controller.cron}`);
    bucket.events += 1;
    await worker.scheduled(controller, countedEnv(env, bucket), ctx);
  },
  async queue(batch, env, ctx) {
    if (!counting) return worker.queue(batch, env, ctx);
    const bucket = bucketFor(`queue ${batch.queue}`);
    bucket.events += 1;
    await worker.queue(batch, countedEnv(env, bucket), ctx);
  },
} satisfies ExportedHandler<BenchBindings, NotificationMessage>;
