import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import { appRegistrations, securityEvents } from "../../src/db/schema";
import type { Bindings } from "../../src/env";
import worker from "../../src/index";
import { createSite, db, ORIGIN } from "./app";
import { createRegistration } from "./registrations";

export const TOKEN_PATH = "/oauth/token";
export const FORM = "application/x-www-form-urlencoded";

let ipCounter = 0;
/** A fresh caller IP per use (RFC 3849 documentation prefix), so throttling never links unrelated tests. */
export function uniqueIp(): string {
  ipCounter += 1;
  const run = Date.now().toString(16).slice(-4);
  return `2001:db8:${run}::${ipCounter.toString(16)}`;
}

/**
 * Calls the real Worker's fetch handler and waits for the work it left to `waitUntil` (security events, Last used,
 * throttle markers), so tests can read what was recorded. `bindings` replaces bindings of the test environment, for
 * fault injection and key rotation.
 */
export async function callWorker(
  path: string,
  init: RequestInit & { now?: number; ip?: string | null; settle?: boolean } = {},
  bindings: Partial<Bindings> = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.now !== undefined) headers.set("X-Test-Now", String(init.now));
  if (init.ip !== null) headers.set("CF-Connecting-IP", init.ip ?? uniqueIp());
  const request = new Request(new URL(path, ORIGIN), { ...init, headers, redirect: "manual" });
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, { ...env, ...bindings }, ctx);
  if (init.settle !== false) await waitOnExecutionContext(ctx);
  return response;
}

/** RFC 6749 §2.3.1: form-url-encode each part, then Basic. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string) =>
    encodeURIComponent(value).replace(/[!'()*~._-]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `Basic ${btoa(`${encode(clientId)}:${encode(clientSecret)}`)}`;
}

export interface TokenRequestOptions {
  clientId: string;
  clientSecret: string;
  method?: "basic" | "post";
  scope?: string;
  grantType?: string;
  now?: number;
  ip?: string | null;
  userAgent?: string;
  bindings?: Partial<Bindings>;
  /** False: answer without waiting for the work left to waitUntil. */
  settle?: boolean;
}

/** A client_credentials token request as a consumer sends it. */
/**
 * The middle of the current minute: failures that must coalesce into one security-log row (one per minute) are sent
 * at this instant, so a minute boundary between two requests cannot split them.
 */
export const midMinute = () => Math.floor(Date.now() / 60_000) * 60_000 + 30_000;

export function requestToken(options: TokenRequestOptions): Promise<Response> {
  const form = new URLSearchParams({ grant_type: options.grantType ?? "client_credentials" });
  if (options.scope !== undefined) form.set("scope", options.scope);
  const headers: Record<string, string> = { "Content-Type": FORM };
  if (options.userAgent) headers["User-Agent"] = options.userAgent;
  if ((options.method ?? "basic") === "basic") {
    headers.Authorization = basicAuthorization(options.clientId, options.clientSecret);
  } else {
    form.set("client_id", options.clientId);
    form.set("client_secret", options.clientSecret);
  }
  return callWorker(
    TOKEN_PATH,
    { method: "POST", headers, body: form, now: options.now, ip: options.ip, settle: options.settle },
    options.bindings,
  );
}

/** Posts a raw token request body. */
export function postToken(
  body: BodyInit | null,
  headers: Record<string, string> = { "Content-Type": FORM },
  extra: { now?: number; ip?: string | null; bindings?: Partial<Bindings> } = {},
): Promise<Response> {
  return callWorker(TOKEN_PATH, { method: "POST", headers, body, now: extra.now, ip: extra.ip }, extra.bindings);
}

/** A Site with one registration of its own, and the registration's one-time secret. */
export async function createClient(
  options: Parameters<typeof createRegistration>[1] & { site?: Parameters<typeof createSite>[0] } = {},
) {
  const { site: siteOverrides, ...registrationOverrides } = options;
  const site = await createSite(siteOverrides);
  const { registration, clientSecret } = await createRegistration(site.id, registrationOverrides);
  return { site, registration, clientSecret, clientId: registration.clientId };
}

/** The served JWKS, as a verifier would fetch it. */
export async function servedJwks(bindings: Partial<Bindings> = {}) {
  const res = await callWorker("/.well-known/jwks.json", {}, bindings);
  return (await res.json()) as JSONWebKeySet;
}

/** Verifies an access token against the served JWKS with jose, as an independent resource server would. */
export async function verifyWithServedJwks(
  token: string,
  options: { now?: number; bindings?: Partial<Bindings> } = {},
) {
  const jwks = createLocalJWKSet(await servedJwks(options.bindings));
  return jwtVerify(token, jwks, {
    issuer: ORIGIN,
    audience: env.AUDIENCE,
    typ: "at+jwt",
    algorithms: ["ES256", "EdDSA"],
    currentDate: options.now === undefined ? undefined : new Date(options.now),
  });
}

/** Security-log rows recorded for a Client ID as sent. */
export function eventsFor(clientId: string) {
  return db().select().from(securityEvents).where(eq(securityEvents.clientId, clientId)).all();
}

export function eventsFrom(ip: string) {
  return db().select().from(securityEvents).where(eq(securityEvents.ip, ip)).all();
}

export function eventsWithCode(clientId: string, detailCode: string) {
  return db()
    .select()
    .from(securityEvents)
    .where(and(eq(securityEvents.clientId, clientId), eq(securityEvents.detailCode, detailCode)))
    .all();
}

export function registrationRow(id: number) {
  return db().select().from(appRegistrations).where(eq(appRegistrations.id, id)).get();
}

export interface D1Tally {
  /** Round trips made with batch(). */
  batches: number;
  reads: number;
  writes: number;
  /** Rows changed by the writes (D1 `meta.changes`). */
  changes: number;
  statements: string[];
  /** The constraint of every D1 session opened (withSession): "first-primary", "first-unconstrained", … */
  sessions: string[];
}

const WRITE = /^\s*(insert|update|delete|replace)\b/i;

/**
 * The test D1 binding with a tally of the statements the Worker sends through it: pass-through, nothing changed
 * about what runs. Batches count each statement.
 */
export function countingD1(d1: D1Database = env.DB): { binding: D1Database; tally: D1Tally } {
  const tally: D1Tally = { batches: 0, reads: 0, writes: 0, changes: 0, statements: [], sessions: [] };
  const note = (sql: string, meta: D1Meta | undefined) => {
    tally.statements.push(sql.replace(/\s+/g, " ").trim());
    if (WRITE.test(sql)) {
      tally.writes += 1;
      tally.changes += meta?.changes ?? 0;
    } else {
      tally.reads += 1;
    }
  };
  const sqlOf = new WeakMap<object, string>();
  const wrapStatement = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const wrapped = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrapStatement(target.bind(...values), sql);
        if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
          return async (...args: unknown[]) => {
            const result = await (target[prop] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            note(sql, prop === "all" || prop === "run" ? (result as D1Result).meta : undefined);
            return result;
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    sqlOf.set(wrapped, sql);
    return wrapped;
  };
  // The binding and the D1 sessions it opens (withSession) are counted alike.
  const wrapDatabase = <T extends object>(db: T): T =>
    new Proxy(db, {
      get(target, prop) {
        const d = target as unknown as D1Database;
        if (prop === "prepare") return (sql: string) => wrapStatement(d.prepare(sql), sql);
        if (prop === "withSession") {
          return (constraint?: string) => {
            tally.sessions.push(constraint ?? "first-unconstrained");
            return wrapDatabase(d.withSession(constraint));
          };
        }
        if (prop === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            const results = await d.batch(statements);
            tally.batches += 1;
            for (const [i, s] of statements.entries()) note(sqlOf.get(s) ?? "", results[i]?.meta);
            return results;
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const binding = wrapDatabase(d1);
  return { binding, tally };
}

/**
 * The test D1 binding, except that statements matching `pattern` never complete: shows that an answer does not wait
 * for them.
 */
export function stallingD1(pattern: RegExp, d1: D1Database = env.DB): D1Database {
  const stalling: D1Database = new Proxy(d1, {
    get(target, prop) {
      // A D1 session (withSession) stalls the same statements.
      if (prop === "withSession") return () => stalling;
      if (prop === "prepare") {
        return (sql: string) => {
          const statement = target.prepare(sql);
          if (!pattern.test(sql)) return statement;
          const stalled: D1PreparedStatement = new Proxy(statement, {
            get(t, p) {
              if (p === "bind") return () => stalled;
              if (p === "first" || p === "all" || p === "run" || p === "raw") return () => new Promise(() => {});
              const value = Reflect.get(t, p, t);
              return typeof value === "function" ? value.bind(t) : value;
            },
          });
          return stalled;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return stalling;
}

/** A D1 binding whose every statement fails, as D1 does when it is unavailable. */
export function failingD1(): D1Database {
  const fail = () => Promise.reject(new Error("D1_ERROR: Network connection lost."));
  const statement: D1PreparedStatement = {
    bind: () => statement,
    first: fail,
    all: fail,
    run: fail,
    raw: fail,
  } as unknown as D1PreparedStatement;
  return {
    prepare: () => statement,
    batch: fail,
    exec: fail,
    dump: fail,
    withSession: () => {
      throw new Error("D1_ERROR: Network connection lost.");
    },
  } as unknown as D1Database;
}
