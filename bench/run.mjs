// `npm run bench`: the token endpoint against node-oidc-provider and a no-database floor Worker on this machine, and
// the costs that must stay flat (docs/performance.md explains every number). Starts everything it measures on
// 127.0.0.1, stops all of it at the end, on failure and on Ctrl-C, and exits 1 when a target is missed.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  applyLocalMigrations,
  DATABASE,
  ensureDevVars,
  executeSql,
  LOCAL_PASSWORD,
  ROOT,
  readDevVars,
  seedLocal,
  wrangler,
} from "../scripts/local.mjs";
import { compareUnderLoad, median, percentile, runAutocannon, timeRequest } from "./lib/load.mjs";
import {
  cpuSeconds,
  freePort,
  installCleanup,
  makeTempDir,
  serverEnv,
  startProcess,
  startWorker,
  stopAll,
  stopProcess,
  waitForHttp,
} from "./lib/processes.mjs";
import { startRawWorkerd } from "./lib/raw-workerd.mjs";
import {
  fmt,
  fmtInt,
  LOAD_HEADERS,
  loadRows,
  markdownTable,
  TARGET_HEADERS,
  table,
  target,
  targetRows,
} from "./lib/report.mjs";
import { BENCH_ADMIN, generateClientSecret, hashClientSecret, planSeed, SITES, seedSql } from "./lib/seed.mjs";
import { describeSource, snapshotFixture, snapshotWorker } from "./lib/snapshot.mjs";
import { d1Counter, probeToken, publicKeySet, signIn, tokenRequest } from "./lib/targets.mjs";

const int = (name, fallback) => {
  const value = Number.parseInt(process.env[name] ?? "", 10);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

const CONFIG = {
  connections: int("BENCH_CONNECTIONS", 32),
  duration: int("BENCH_DURATION", 8),
  rounds: int("BENCH_ROUNDS", 3),
  /**
   * Seconds of load before each target is measured. V8 grows a Worker's young generation step by step under load
   * (traced at this load: about 3, 6, 12, then 24 MB collected per scavenge, steady after about 7 s); a round
   * measured before that counts collections a warm isolate no longer makes.
   */
  warmup: int("BENCH_WARMUP", 8),
  /** Token requests counted for D1 reads/writes. */
  countedTokens: int("BENCH_COUNTED_TOKENS", 500),
  /** The simulated distant D1 primary: every D1 call of our Worker waits this long (ms). */
  distantD1Ms: int("BENCH_DISTANT_D1_MS", 40),
  /** Right/wrong secret pairs timed one after the other. */
  latencyPairs: int("BENCH_LATENCY_PAIRS", 200),
  gridSamples: int("BENCH_GRID_SAMPLES", 20),
};
const CRON = "*/15 * * * *";
const VIA_ENTRY = process.env.BENCH_VIA_ENTRY === "1";
const GRID_PATH = (site) => `/sites/${site}/settings/iam/app-registrations`;
const FIFTEEN_MINUTES = 15 * 60_000;
const packageVersion = (name) => JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"))).version;
const STARTED = performance.now();
/** Progress lines carry the seconds since the start, so a slow phase is easy to spot. */
const log = (message) => {
  const seconds = ((performance.now() - STARTED) / 1000).toFixed(0).padStart(3);
  console.log(message.startsWith("\n") || message === "" ? message : `[${seconds} s] ${message}`);
};
const origin = (port) => `http://127.0.0.1:${port}`;

function parseDevVars(text) {
  const vars = {};
  for (const line of text.split("\n")) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/.exec(line);
    if (!match) continue;
    let value = match[2];
    if ((value.startsWith("'") && value.endsWith("'")) || (value.startsWith('"') && value.endsWith('"'))) {
      value = value.slice(1, -1);
    }
    vars[match[1]] = value;
  }
  return vars;
}

/** A `name = "value"` line of a wrangler.toml ([vars] or top level). */
function wranglerVar(dir, name) {
  const match = new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, "m").exec(readFileSync(join(dir, "wrangler.toml"), "utf8"));
  if (!match) throw new Error(`wrangler.toml has no ${name}`);
  return match[1];
}

function sqlCount(persistTo, sql) {
  const output = wrangler(["d1", "execute", DATABASE, "--local", "--command", sql, "--json"], { persistTo });
  const [first] = JSON.parse(output);
  return Number(Object.values(first.results[0])[0]);
}

/**
 * Our Worker under local workerd (bench/lib/serve-worker.mjs), served through bench/instrumented-entry.ts. `exact`
 * adds the d1_binding_jsrpc compatibility flag so the D1 counter can read rows read/written for every statement (used
 * for the cron only; the load runs use the production configuration).
 */
async function startOurWorker({ workerDir, persistTo, work }, { exact = false } = {}) {
  return startWorkerAt(exact ? "our Worker (exact D1 meter)" : "our Worker", {
    cwd: workerDir,
    script: "bench/instrumented-entry.ts",
    outDir: join(work, exact ? "build-ours-exact" : "build-ours"),
    persistTo,
    vars: { ENVIRONMENT: "bench", ...(exact ? { BENCH_D1_METER: "query" } : {}) },
    compatibilityFlags: exact ? ["d1_binding_jsrpc"] : [],
  });
}

/**
 * Starts a Worker and waits until it serves. `base` is where the load goes: by default the Worker's own socket;
 * BENCH_VIA_ENTRY=1 sends it through Miniflare's entry Worker instead (a local-only hop production does not have).
 */
async function startWorkerAt(name, options) {
  const handle = startWorker(name, { ...options, port: await freePort(), directPort: await freePort() });
  let timer;
  const sockets = await Promise.race([
    handle.ready,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} did not start within 120 s:\n${handle.output()}`)), 120_000);
    }),
  ]).finally(() => clearTimeout(timer));
  handle.entry = sockets.entry;
  handle.base = VIA_ENTRY ? sockets.entry : sockets.direct;
  return handle;
}

/** Sets everything up, starts the four servers, returns what the measurements need. */
async function setUp() {
  if (await ensureDevVars()) log("Wrote .dev.vars with a fresh signing key set and secret pepper.");
  const secrets = parseDevVars(readDevVars());
  if (!secrets.SIGNING_KEYS || !secrets.SECRET_PEPPER) throw new Error(".dev.vars lacks SIGNING_KEYS or SECRET_PEPPER");
  const work = makeTempDir("app-registrations-bench-");
  const persistTo = join(work, "d1");
  const fromHead = process.env.BENCH_SOURCE === "HEAD";
  const source = describeSource(fromHead);
  const workerDir = snapshotWorker(join(work, "worker"), { fromHead });
  log(`Measuring ${source} (a snapshot: edits during the run do not reach the running Worker).`);
  log(
    VIA_ENTRY
      ? "Workers are loaded through Miniflare's entry Worker (BENCH_VIA_ENTRY=1)."
      : "Workers are loaded at their own workerd socket.",
  );
  const audience = wranglerVar(workerDir, "AUDIENCE");

  log("Local D1: migrations, §11 seed, bench data (100,000 registrations)…");
  const seedStart = performance.now();
  applyLocalMigrations(persistTo);
  seedLocal(persistTo);
  const plan = planSeed({ now: Date.now(), pepper: secrets.SECRET_PEPPER });
  executeSql(seedSql(plan), { persistTo });
  log(`  seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

  const [loadClient] = plan.clients;
  const floorVars = {
    SIGNING_KEYS: secrets.SIGNING_KEYS,
    SECRET_PEPPER: secrets.SECRET_PEPPER,
    AUDIENCE: audience,
    FLOOR_CLIENT_ID: loadClient.clientId,
    FLOOR_CLIENT_SECRET_HASH: hashClientSecret(secrets.SECRET_PEPPER, loadClient.clientSecret),
    FLOOR_SCOPES: "devices:read devices:write",
    FLOOR_SITE: SITES.api,
  };

  const oidcPort = await freePort();
  log("Starting our Worker, the floor Worker, the hello-world Worker (local workerd) and node-oidc-provider…");
  const oidc = startProcess("node-oidc-provider", process.execPath, ["bench/oidc-provider/server.mjs"], {
    env: serverEnv({
      PORT: String(oidcPort),
      CLIENT_ID: loadClient.clientId,
      CLIENT_SECRET: loadClient.clientSecret,
      AUDIENCE: audience,
      NODE_ENV: "production",
    }),
  });
  const floorDir = snapshotFixture(work, "floor-worker");
  const [ours, floor, hello] = await Promise.all([
    startOurWorker({ workerDir, persistTo, work }),
    startWorkerAt("floor Worker", {
      cwd: floorDir,
      outDir: join(work, "build-floor"),
      persistTo: join(work, "floor-state"),
      vars: floorVars,
    }),
    startWorkerAt("hello-world Worker", {
      cwd: snapshotFixture(work, "hello-worker"),
      outDir: join(work, "build-hello"),
    }),
    waitForHttp(oidc, `${origin(oidcPort)}/.well-known/openid-configuration`),
  ]);
  // The floor's own bundle again, under raw `workerd serve`: what the harness costs a Worker.
  const floorRaw = startRawWorkerd("floor Worker (raw workerd serve)", {
    bundleDir: join(work, "build-floor"),
    vars: floorVars,
    compatibilityDate: wranglerVar(floorDir, "compatibility_date"),
    flags: ["nodejs_compat"],
    port: await freePort(),
  });
  await waitForHttp(floorRaw, `${floorRaw.base}/`);
  const servers = { ours, floor, floorRaw, hello, oidc };
  const bases = {
    ours: ours.base,
    floor: floor.base,
    floorRaw: floorRaw.base,
    hello: hello.base,
    oidc: origin(oidcPort),
  };
  return { secrets, audience, plan, persistTo, workerDir, work, source, bases, servers };
}

/** Token endpoint throughput and latency: ours, node-oidc-provider, floor, the same requests and load. */
async function measureTokens(ctx) {
  const { plan, bases, audience, secrets } = ctx;
  const [client] = plan.clients;
  const targets = [
    {
      key: "ours",
      name: "ours (Worker + D1, local workerd)",
      request: tokenRequest(bases.ours, client.clientId, client.clientSecret),
      keys: `${bases.ours}/.well-known/jwks.json`,
    },
    {
      key: "oidc",
      name: `node-oidc-provider ${packageVersion("oidc-provider")} (Node ${process.versions.node})`,
      request: tokenRequest(bases.oidc, client.clientId, client.clientSecret),
      keys: `${bases.oidc}/.well-known/jwks.json`,
    },
    {
      key: "floor",
      name: "floor Worker (no D1, local workerd)",
      request: tokenRequest(bases.floor, client.clientId, client.clientSecret),
      keys: publicKeySet(secrets.SIGNING_KEYS),
    },
    {
      key: "floorRaw",
      name: "floor Worker (raw workerd serve)",
      request: tokenRequest(bases.floorRaw, client.clientId, client.clientSecret),
      keys: publicKeySet(secrets.SIGNING_KEYS),
    },
    {
      key: "floorD1",
      name: "floor + 1 D1 read (for reference)",
      request: {
        ...tokenRequest(bases.floor, client.clientId, client.clientSecret),
        url: `${bases.floor}/oauth/token-d1`,
      },
      keys: publicKeySet(secrets.SIGNING_KEYS),
      server: "floor",
    },
  ];
  const setup = await fetch(`${bases.floor}/__bench/setup`, { method: "POST" });
  if (setup.status !== 204) throw new Error(`floor Worker set-up answered ${setup.status}`);
  for (const t of targets) t.cpu = () => cpuSeconds(ctx.servers[t.server ?? t.key]);
  const available = [];
  const unavailable = {};
  for (const t of targets) {
    const probe = await probeToken({ request: t.request, keys: t.keys, audience });
    if (probe.ok) {
      available.push(t);
      t.probe = probe;
    } else {
      unavailable[t.key] = probe.reason;
      log(`  ${t.name}: not measured, ${probe.reason}`);
    }
  }
  log(
    `Token endpoint load: ${CONFIG.connections} keep-alive connections, warm-up ${CONFIG.warmup} s, ${CONFIG.rounds} × ${CONFIG.duration} s per target…`,
  );
  const results = await compareUnderLoad(available, { ...CONFIG, log });
  const byKey = Object.fromEntries(available.map((t, i) => [t.key, results[i]]));
  return { byKey, results, unavailable, oursProbe: targets[0].probe };
}

/**
 * D1 statements per token request, counted inside our Worker by the instrumented entry. Warm: one client from one
 * IP, after one request has filled the isolate's cache (§7: a warm token makes no D1 read; the cache is re-read when
 * its entries are 5 s old). Cold: each request from a new caller IP, so the cache cannot answer (exactly one read).
 */
async function measureTokenD1(ctx) {
  const base = ctx.bases.ours;
  const [client] = ctx.plan.clients;
  const bucketName = "POST /oauth/token";
  const warmUp = tokenRequest(base, client.clientId, client.clientSecret);
  await fetch(warmUp.url, { method: "POST", headers: warmUp.headers, body: warmUp.body });
  const counted = async (run) => {
    await d1Counter.start(base);
    try {
      await run();
      const buckets = await d1Counter.settle(base, (b) => b[bucketName]);
      const bucket = buckets[bucketName];
      if (!bucket) throw new Error("the D1 counter saw no token request");
      return bucket;
    } finally {
      await d1Counter.stop(base);
    }
  };
  const warm = await counted(() =>
    runAutocannon({
      ...tokenRequest(base, client.clientId, client.clientSecret),
      connections: 8,
      amount: CONFIG.countedTokens,
    }),
  );
  const cold = await counted(async () => {
    for (let i = 0; i < 50; i++) {
      const request = tokenRequest(base, client.clientId, client.clientSecret, {
        "CF-Connecting-IP": `198.19.0.${i + 1}`,
      });
      await fetch(request.url, { method: "POST", headers: request.headers, body: request.body });
    }
  });
  return {
    requests: warm.events,
    statuses: warm.statuses,
    readsPerToken: warm.readStatements / warm.events,
    writesPerToken: warm.writeStatements / warm.events,
    roundTripsPerToken: warm.roundTrips / warm.events,
    statements: warm.statements,
    cold: { requests: cold.events, readsPerToken: cold.readStatements / cold.events },
  };
}

/**
 * Timing tells nothing the status does not (§7): an unknown Client ID and a known one with a wrong secret, both
 * `401 invalid_client`, one request at a time, alternating. Warm: the known Client ID and the caller's IP were just
 * used (a right secret from that IP, not timed), so the wrong secret is refused on cached data and confirmed on the
 * primary. Cold: every request from a new IP, so nothing is cached. Each pair uses the next of the bench's token
 * clients and new IPs, so the failure throttle (20 per minute per Client ID and per IP) never triggers. The right
 * secret's time (warm) is printed beside them.
 */
async function measureSecretTiming(ctx) {
  const base = ctx.bases.ours;
  const clients = ctx.plan.clients;
  const samples = { right: [], warmWrong: [], warmUnknown: [], coldWrong: [], coldUnknown: [] };
  const statuses = {};
  let ip = 0;
  const nextIp = () => {
    ip += 1;
    return `198.18.${(ip >> 8) & 255}.${ip & 255}`;
  };
  const once = async (clientId, secret, callerIp) => {
    const request = tokenRequest(base, clientId, secret, { "CF-Connecting-IP": callerIp });
    return timeRequest(request.url, { method: "POST", headers: request.headers, body: request.body });
  };
  const warmupPairs = 20;
  for (let i = 0; i < warmupPairs + CONFIG.latencyPairs; i++) {
    const client = clients[i % clients.length];
    const warmIp = nextIp();
    const right = await once(client.clientId, client.clientSecret, warmIp);
    const runs = [
      ["warmWrong", () => once(client.clientId, generateClientSecret(), warmIp)],
      ["warmUnknown", () => once(crypto.randomUUID(), generateClientSecret(), warmIp)],
      ["coldWrong", () => once(client.clientId, generateClientSecret(), nextIp())],
      ["coldUnknown", () => once(crypto.randomUUID(), generateClientSecret(), nextIp())],
    ];
    if (i % 2) runs.reverse();
    const timed = [["right", right]];
    for (const [kind, run] of runs) timed.push([kind, await run()]);
    if (i < warmupPairs) continue;
    for (const [kind, sample] of timed) {
      statuses[kind] ??= {};
      statuses[kind][sample.status] = (statuses[kind][sample.status] ?? 0) + 1;
      samples[kind].push(sample.ms);
    }
  }
  const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  const valid =
    statuses.right?.[200] === samples.right.length &&
    ["warmWrong", "warmUnknown", "coldWrong", "coldUnknown"].every((k) => statuses[k]?.[401] === samples[k].length);
  return {
    medians: m,
    warmRatio: m.warmUnknown / m.warmWrong,
    coldRatio: m.coldUnknown / m.coldWrong,
    samples: samples.right.length,
    statuses,
    valid,
  };
}

/**
 * What an edge consumer feels with a distant D1 primary (every D1 call delayed by BENCH_DISTANT_D1_MS): warm token
 * requests under the same load as the main comparison, and cold ones (each from a new caller IP, one at a time),
 * beside the floor (no D1) measured the same ways.
 */
async function measureDistantD1(ctx) {
  const base = ctx.bases.ours;
  const [client] = ctx.plan.clients;
  const delay = CONFIG.distantD1Ms;
  const setDelay = async (ms) => {
    const res = await fetch(`${base}/__bench/d1/delay`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ms }),
    });
    if (!res.ok) throw new Error(`the bench entry refused the D1 delay: ${res.status}`);
  };
  const sequential = async (make, count) => {
    const times = [];
    const statuses = {};
    for (let i = 0; i < count; i++) {
      const request = make(i);
      const sample = await timeRequest(request.url, { method: "POST", headers: request.headers, body: request.body });
      statuses[sample.status] = (statuses[sample.status] ?? 0) + 1;
      times.push(sample.ms);
    }
    return { p50: median(times), p99: percentile(times, 99), statuses };
  };
  await setDelay(delay);
  try {
    log(`Distant D1 (every D1 call of our Worker delayed ${delay} ms): warm under load, cold one at a time…`);
    const warmRequest = tokenRequest(base, client.clientId, client.clientSecret);
    await fetch(warmRequest.url, { method: "POST", headers: warmRequest.headers, body: warmRequest.body });
    const [warm] = await compareUnderLoad(
      [{ name: `ours, D1 ${delay} ms away (warm)`, request: warmRequest, cpu: () => cpuSeconds(ctx.servers.ours) }],
      { ...CONFIG, rounds: 1, log },
    );
    const cold = await sequential(
      (i) =>
        tokenRequest(base, client.clientId, client.clientSecret, { "CF-Connecting-IP": `198.20.${i >> 8}.${i & 255}` }),
      100,
    );
    const floorOneAtATime = await sequential(
      () => tokenRequest(ctx.bases.floor, client.clientId, client.clientSecret),
      100,
    );
    return { delay, warm, cold, floorOneAtATime };
  } finally {
    await setDelay(0);
  }
}

/** REST API (GET devices with a Bearer token) against the hello-world Worker, same load. */
async function measureRest(ctx, accessToken) {
  const base = ctx.bases.ours;
  const url = `${base}/api/v1/sites/${SITES.api}/devices`;
  const headers = { Authorization: `Bearer ${accessToken}` };
  const probe = await timeRequest(url, { headers });
  if (probe.status !== 200 || !probe.body.includes("scanner-01")) {
    return { unavailable: `GET ${new URL(url).pathname} answered ${probe.status}: ${probe.body.slice(0, 200)}` };
  }
  log(
    `REST API vs hello world and vs the same query unauthenticated: same load (${CONFIG.rounds} × ${CONFIG.duration} s)…`,
  );
  const [rest, hello, query] = await compareUnderLoad(
    [
      { name: "REST API GET devices (Bearer)", request: { url, headers }, cpu: () => cpuSeconds(ctx.servers.ours) },
      {
        name: "hello-world Worker",
        request: { url: `${ctx.bases.hello}/` },
        cpu: () => cpuSeconds(ctx.servers.hello),
      },
      {
        name: "the same devices query, no authentication",
        request: { url: `${base}/__bench/devices?site=${SITES.api}` },
        cpu: () => cpuSeconds(ctx.servers.ours),
      },
    ],
    { ...CONFIG, log },
  );
  // D1 per REST request, for the record.
  const bucketName = `GET /api/v1/sites/${SITES.api}/devices`;
  await d1Counter.start(base);
  let d1;
  try {
    await runAutocannon({ url, headers, connections: 8, amount: 500 });
    const bucket = (await d1Counter.settle(base, (b) => b[bucketName]))[bucketName];
    d1 = bucket && {
      readsPerRequest: bucket.readStatements / bucket.events,
      writesPerRequest: bucket.writeStatements / bucket.events,
    };
  } finally {
    await d1Counter.stop(base);
  }
  // The target compares the REST API with the same query served bare (hello world + the query): the bearer check,
  // routing and middleware are what we own. The ratio to hello world alone is kept for the record.
  return { rest, hello, query, ratio: rest.rps / hello.rps, ownRatio: rest.rps / query.rps, d1 };
}

/** Full grid page render time, signed in as a Site Administrator: 10 vs 10,000 registrations in the Site. */
/**
 * A signed-in admin page at 10 and at 10,000 registrations, the same number of samples each, alternating: the medians
 * and their ratio. `probe` is text the page must hold (so a refusal or an empty page is never timed).
 */
async function comparePages(ctx, pathOf, probe) {
  const base = ctx.bases.ours;
  let cookie;
  try {
    cookie = await signIn(base, BENCH_ADMIN, LOCAL_PASSWORD);
  } catch (error) {
    return { unavailable: error.message };
  }
  const pages = { small: `${base}${pathOf(SITES.grid10)}`, large: `${base}${pathOf(SITES.grid10k)}` };
  for (const [key, url] of Object.entries(pages)) {
    const answer = await timeRequest(url, { headers: { Cookie: cookie } });
    if (answer.status !== 200 || !answer.body.includes(probe)) {
      return {
        unavailable: `the ${key === "small" ? "10" : "10,000"}-registration page (${new URL(url).pathname}) answered ${answer.status} without "${probe}"`,
      };
    }
  }
  const samples = { small: [], large: [] };
  const bytes = {};
  for (let i = 0; i < 5 + CONFIG.gridSamples; i++) {
    const order = i % 2 ? ["small", "large"] : ["large", "small"];
    for (const key of order) {
      const sample = await timeRequest(pages[key], { headers: { Cookie: cookie } });
      if (sample.status !== 200)
        throw new Error(`${new URL(pages[key]).pathname} answered ${sample.status} during timing`);
      bytes[key] = sample.body.length;
      if (i >= 5) samples[key].push(sample.ms);
    }
  }
  const small = median(samples.small);
  const large = median(samples.large);
  return { small, large, ratio: large / small, bytes, samples: CONFIG.gridSamples };
}

/** The registrations grid, first page. */
const measureGrid = (ctx) => comparePages(ctx, GRID_PATH, "Bench app 00001");

/** The Admin Center overview: state counts, usage, failing registrations and next expiries. */
const measureOverview = (ctx) => comparePages(ctx, (site) => `/sites/${site}`, "App registrations by state");

/**
 * One cron evaluation over 100,000 registrations with 1 % due, counted with exact rows read; then a repeat 15
 * minutes later. Runs on a fresh start of our Worker with the exact D1 meter, on the same D1.
 */
async function measureCron(ctx) {
  const server = await startOurWorker(ctx, { exact: true });
  ctx.servers.exact = server;
  const base = server.base;
  const meter = (await d1Counter.read(base)).meter;
  if (meter !== "query") throw new Error(`the exact D1 meter is not active (meter: ${meter})`);
  // Rows read per token request, for the record (statement counts come from the load-time Worker).
  const [client] = ctx.plan.clients;
  await d1Counter.start(base);
  await runAutocannon({ ...tokenRequest(base, client.clientId, client.clientSecret), connections: 4, amount: 200 });
  const tokenBucket = (await d1Counter.settle(base, (b) => b["POST /oauth/token"]))["POST /oauth/token"];
  const pick = (b) => Object.entries(b).filter(([name]) => name.startsWith("scheduled "));
  const trigger = async (time) => {
    // Miniflare's trigger endpoint on its entry Worker; the answer says whether the handler finished without throwing.
    const url = `${server.entry}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(CRON)}&time=${time}&format=json`;
    const res = await timeRequest(url);
    if (res.status !== 200) throw new Error(`scheduled handler answered ${res.status}: ${res.body.slice(0, 300)}`);
    const buckets = await d1Counter.settle(base, pick, { quietMs: 1500, timeoutMs: 120_000 });
    const bucket = buckets[`scheduled ${CRON}`];
    return { ms: res.ms, bucket };
  };
  await d1Counter.start(base);
  let first;
  let repeat;
  try {
    first = await trigger(ctx.plan.now);
    await d1Counter.start(base);
    repeat = await trigger(ctx.plan.now + FIFTEEN_MINUTES);
  } finally {
    await d1Counter.stop(base).catch(() => {});
  }
  const tokenRows = tokenBucket && {
    rowsReadPerToken: tokenBucket.rowsRead / tokenBucket.events,
    rowsWrittenPerToken: tokenBucket.rowsWritten / tokenBucket.events,
  };
  return { first, repeat, tokenRows };
}

function cronFired(ctx) {
  return sqlCount(
    ctx.persistTo,
    `SELECT count(*) AS fired FROM notifications WHERE site_id = (SELECT id FROM sites WHERE slug = '${SITES.cron}')`,
  );
}

/** A measurement that fails is reported as not measured (its targets miss); the others still run. */
async function attempt(measure) {
  try {
    return await measure();
  } catch (error) {
    console.error(`  measurement failed: ${error.message}`);
    return { unavailable: error.message.split("\n")[0] };
  }
}

async function main() {
  installCleanup();
  const started = performance.now();
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  log(
    `App registrations benchmark — ${machine}, Node ${process.versions.node}, wrangler ${packageVersion("wrangler")}`,
  );
  const [load1] = loadavg();
  if (load1 > 0.5) {
    log(
      `Note: load average is ${load1.toFixed(2)} before the bench starts; other work on this machine skews the numbers.`,
    );
  }
  const ctx = await setUp();
  const { plan } = ctx;

  const tokens = await measureTokens(ctx);
  const oursOk = Boolean(tokens.byKey.ours);
  const tokenD1 = oursOk ? await attempt(() => measureTokenD1(ctx)) : undefined;
  if (oursOk)
    log(`Unknown Client ID vs wrong secret, warm and cold: ${CONFIG.latencyPairs} rounds, one request at a time…`);
  const timing = oursOk ? await attempt(() => measureSecretTiming(ctx)) : undefined;
  const distant = oursOk ? await attempt(() => measureDistantD1(ctx)) : { unavailable: "no token from ours" };
  const rest = oursOk
    ? await attempt(() => measureRest(ctx, tokens.oursProbe.accessToken))
    : { unavailable: "no token from ours" };
  log(`Admin grid: 10 vs 10,000 registrations, ${CONFIG.gridSamples} samples each…`);
  const grid = await attempt(() => measureGrid(ctx));
  log(`Admin Center overview: 10 vs 10,000 registrations, ${CONFIG.gridSamples} samples each…`);
  const overview = await attempt(() => measureOverview(ctx));
  // The load-time servers stop here: the cron runs on a fresh Worker with the exact D1 meter.
  await Promise.all(Object.values(ctx.servers).map((s) => stopProcess(s)));
  log(`Cron: ${plan.total.toLocaleString("en-US")} registrations, ${plan.due.toLocaleString("en-US")} due…`);
  const cron = await attempt(() => measureCron(ctx));
  await Promise.all(Object.values(ctx.servers).map((s) => stopProcess(s)));
  const firedCount = cron.unavailable ? undefined : await attempt(() => cronFired(ctx));
  const fired = typeof firedCount === "number" ? firedCount : Number.NaN;

  // Tables.
  const loadTable = tokens.results;
  const ours = tokens.byKey.ours;
  const oidc = tokens.byKey.oidc;
  const floor = tokens.byKey.floor;
  const notMeasured = (why) => ({ note: why });
  const oursWhy = tokens.unavailable.ours && `token endpoint: ${tokens.unavailable.ours}`;
  const cronReads = cron.first?.bucket?.rowsRead ?? Number.NaN;
  const cronValid = fired === plan.due;
  const targets = [
    // The ratio that gates: ours and the floor run under the same harness (docs/performance.md).
    target("token req/s (warm): ours ÷ floor", ours?.rps / floor?.rps, "≥ 0.8", (v) => v >= 0.8, notMeasured(oursWhy)),
    target("token p99 (warm): ours ÷ node-oidc-provider", ours?.p99 / oidc?.p99, "≤ 1.2", (v) => v <= 1.2, {
      ...notMeasured(oursWhy),
    }),
    target(
      "token errors under load (all three)",
      oursOk ? (ours?.errors ?? 0) + (oidc?.errors ?? 0) + (floor?.errors ?? 0) : Number.NaN,
      "= 0",
      (v) => v === 0,
      { digits: 0, ...notMeasured(oursWhy) },
    ),
    ...[
      ["warm", timing?.warmRatio],
      ["cold", timing?.coldRatio],
    ].map(([kind, ratio]) =>
      target(`unknown Client ID ÷ wrong secret latency (${kind})`, ratio, "0.9 – 1.1", (v) => v >= 0.9 && v <= 1.1, {
        valid: timing?.valid ?? false,
        note:
          timing?.unavailable ??
          (timing && !timing.valid ? `unexpected statuses ${JSON.stringify(timing.statuses)}` : oursWhy),
      }),
    ),
    target(
      `distant D1 (${CONFIG.distantD1Ms} ms): warm p50 − floor p50, ms`,
      distant.warm?.p50 - floor?.p50,
      "≤ 3",
      (v) => v <= 3,
      { valid: !distant.unavailable && distant.warm?.errors === 0, note: distant.unavailable },
    ),
    target(
      `distant D1 (${CONFIG.distantD1Ms} ms): cold p50 − floor p50 − ${CONFIG.distantD1Ms}, ms`,
      distant.cold?.p50 - distant.floorOneAtATime?.p50 - CONFIG.distantD1Ms,
      "≤ 5",
      (v) => v <= 5,
      { valid: !distant.unavailable && distant.cold?.statuses?.[200] === 100, note: distant.unavailable },
    ),
    // §7 (revised): warm token requests are served from the isolate's cache of the client lookup.
    target("D1 reads per token (warm)", tokenD1?.readsPerToken, "≤ 0.01", (v) => v <= 0.01, {
      digits: 3,
      ...notMeasured(tokenD1?.unavailable ?? oursWhy),
    }),
    target("D1 reads per token (cold)", tokenD1?.cold?.readsPerToken, "= 1", (v) => v === 1, {
      digits: 3,
      ...notMeasured(tokenD1?.unavailable ?? oursWhy),
    }),
    target("D1 writes per token", tokenD1?.writesPerToken, "≤ 0.05", (v) => v <= 0.05, {
      digits: 3,
      ...notMeasured(tokenD1?.unavailable ?? oursWhy),
    }),
    target("REST API ÷ (the same query, unauthenticated) req/s", rest.ownRatio, "≥ 0.8", (v) => v >= 0.8, {
      valid: !rest.unavailable && rest.rest?.errors === 0 && rest.query?.errors === 0,
      note: rest.unavailable ?? (rest.rest?.errors ? `${rest.rest.errors} errors under load` : undefined),
    }),
    target("grid render: 10,000 ÷ 10 registrations", grid.ratio, "≤ 2", (v) => v <= 2, notMeasured(grid.unavailable)),
    target(
      "overview render: 10,000 ÷ 10 registrations",
      overview.ratio,
      "≤ 2",
      (v) => v <= 2,
      notMeasured(overview.unavailable),
    ),
    target("cron rows read ÷ rows due", cronReads / plan.due, "≤ 1.1", (v) => v <= 1.1, {
      valid: cronValid,
      note:
        cron.unavailable ??
        (cronValid ? "" : `the run fired ${fired} of ${plan.due} due notifications, so the ratio proves nothing`),
    }),
  ];

  const elapsed = (performance.now() - started) / 1000;
  const out = [];
  out.push(
    "",
    `Token endpoint — POST /oauth/token, client_secret_basic, scope devices:read; ${CONFIG.connections} connections, ${CONFIG.rounds} × ${CONFIG.duration} s, medians`,
  );
  out.push(table(LOAD_HEADERS, loadRows(loadTable)));
  if (oursOk && oidc)
    out.push(`ours ÷ node-oidc-provider: ${fmt(ours.rps / oidc.rps)} × req/s, p99 ${fmt(ours.p99 / oidc.p99)} ×`);
  if (oursOk && floor) out.push(`ours ÷ floor: ${fmt(ours.rps / floor.rps)} × req/s`);
  const details = [];
  if (floor && oidc) {
    details.push(
      `floor ÷ node-oidc-provider: ${fmt(floor.rps / oidc.rps)} × req/s (the floor does the least work, written as a Worker plainly would: URL and URLSearchParams objects, SignJWT)`,
    );
  }
  const floorD1 = tokens.byKey.floorD1;
  const floorRaw = tokens.byKey.floorRaw;
  if (floor && floorRaw && oidc) {
    details.push(
      `the harness's own cost: the floor's bundle under raw \`workerd serve\` (one service, one socket) runs at ${fmt(floorRaw.rps / floor.rps)} × the floor's req/s under the harness, p99 ${fmt(floorRaw.p99 / floor.p99)} ×; raw floor ÷ node-oidc-provider: ${fmt(floorRaw.rps / oidc.rps)} × req/s, p99 ${fmt(floorRaw.p99 / oidc.p99)} × (our Worker needs D1, which exists locally only inside the harness)`,
    );
  }
  if (oursOk && floor) {
    details.push(
      fmt(ours.cpuMs) === fmt(floor.cpuMs)
        ? `CPU per token request: ours ${fmt(ours.cpuMs)} ms, the same as the floor's (a warm request reads no D1)`
        : ours.cpuMs > floor.cpuMs
          ? `CPU per token request: ours ${fmt(ours.cpuMs)} ms = floor ${fmt(floor.cpuMs)} ms + ${fmt(ours.cpuMs - floor.cpuMs)} ms (the pipeline, security rules, the cache look-up, Last used; a warm request reads no D1)`
          : `CPU per token request: ours ${fmt(ours.cpuMs)} ms, ${fmt(floor.cpuMs - ours.cpuMs)} ms less than the floor's ${fmt(floor.cpuMs)} ms (the floor builds URL and URLSearchParams objects, hex-encodes through an array and signs through SignJWT; ours reads no D1 on a warm request)`,
      `token p99: floor ÷ node-oidc-provider ${fmt(floor.p99 / (oidc?.p99 ?? Number.NaN))}, ours ÷ floor ${fmt(ours.p99 / floor.p99)}`,
    );
  }
  if (floor && floorD1) {
    details.push(
      `one D1 read through the local D1 costs the floor ${fmt(floorD1.cpuMs - floor.cpuMs)} CPU ms per request: floor + 1 D1 read ÷ floor = ${fmt(floorD1.rps / floor.rps)} × req/s`,
    );
  }
  if (oursOk && floorD1) {
    details.push(`ours ÷ (floor + 1 D1 read): ${fmt(ours.rps / floorD1.rps)} × req/s`);
  }
  if (rest.rest) {
    details.push(
      `CPU per REST request: ${fmt(rest.rest.cpuMs)} ms = hello world ${fmt(rest.hello.cpuMs)} ms + ${fmt(rest.rest.cpuMs - rest.hello.cpuMs)} ms (Bearer verification, the D1 read, JSON)`,
    );
    if (rest.d1) {
      details.push(
        `D1 per REST request: ${fmt(rest.d1.readsPerRequest, 3)} reads, ${fmt(rest.d1.writesPerRequest, 3)} writes`,
      );
    }
  }
  for (const [key, reason] of Object.entries(tokens.unavailable)) out.push(`${key}: not measured — ${reason}`);
  if (rest.rest) {
    out.push("", "REST API vs hello world (same load)");
    out.push(table(LOAD_HEADERS, loadRows([rest.rest, rest.query, rest.hello].filter(Boolean))));
  }
  if (tokenD1 && !tokenD1.unavailable) {
    details.push(
      `D1 per token request (${fmtInt(tokenD1.requests)} requests counted in the Worker): ${fmt(tokenD1.readsPerToken, 3)} reads, ${fmt(tokenD1.writesPerToken, 3)} writes, ${fmt(tokenD1.roundTripsPerToken, 3)} round trips` +
        (cron.tokenRows
          ? `; ${fmt(cron.tokenRows.rowsReadPerToken, 2)} rows read, ${fmt(cron.tokenRows.rowsWrittenPerToken, 3)} rows written (exact meter)`
          : ""),
    );
    for (const [sql, s] of Object.entries(tokenD1.statements)) {
      details.push(`  ${fmtInt(s.count)} × ${sql.slice(0, 150)}${sql.length > 150 ? "…" : ""}`);
    }
  }
  if (ours && oidc) {
    details.push(
      `Token req/s, ours ÷ node-oidc-provider: ${fmt(ours.rps / oidc.rps)} (goal ≥ 1.3; it gates nothing: under this harness the floor itself runs at ${fmt(floor ? floor.rps / oidc.rps : Number.NaN)} × node-oidc-provider)`,
    );
  }
  if (timing && !timing.unavailable) {
    const t = timing.medians;
    details.push(
      `Refusal timing (${timing.samples} rounds, one request at a time, medians): right secret (warm) ${fmt(t.right)} ms; warm: wrong secret ${fmt(t.warmWrong)} ms, unknown Client ID ${fmt(t.warmUnknown)} ms; cold: wrong secret ${fmt(t.coldWrong)} ms, unknown Client ID ${fmt(t.coldUnknown)} ms`,
    );
  }
  if (distant && !distant.unavailable) {
    details.push(
      `Distant D1 (${distant.delay} ms per D1 call): warm under load ${fmtInt(distant.warm.rps)} req/s, p50 ${fmt(distant.warm.p50)} ms, p99 ${fmt(distant.warm.p99)} ms (floor p50 ${fmt(floor?.p50)} ms); cold one at a time p50 ${fmt(distant.cold.p50)} ms, p99 ${fmt(distant.cold.p99)} ms (floor one at a time p50 ${fmt(distant.floorOneAtATime.p50)} ms)`,
    );
  }
  if (tokenD1?.cold) {
    details.push(
      `D1 reads per cold token request (${tokenD1.cold.requests} requests, each from a new IP): ${fmt(tokenD1.cold.readsPerToken, 3)}`,
    );
  }
  if (!grid.unavailable) {
    details.push(
      `Admin grid page (signed in, ${grid.samples} samples each): 10 registrations ${fmt(grid.small)} ms, 10,000 registrations ${fmt(grid.large)} ms (${fmtInt(grid.bytes.small)} / ${fmtInt(grid.bytes.large)} bytes)`,
    );
  }
  if (!overview.unavailable) {
    details.push(
      `Admin Center overview (signed in, ${overview.samples} samples each): 10 registrations ${fmt(overview.small)} ms, 10,000 registrations ${fmt(overview.large)} ms`,
    );
  }
  if (cron.first) {
    details.push(
      `Cron at the seeded instant: ${fmtInt(cronReads)} rows read, ${fmtInt(cron.first.bucket?.rowsWritten)} rows written, ${fmtInt(cron.first.bucket?.readStatements)} reads + ${fmtInt(cron.first.bucket?.writeStatements)} writes in ${fmtInt(cron.first.bucket?.roundTrips)} round trips; fired ${fmtInt(fired)} of ${fmtInt(plan.due)} due (${fmt(cron.first.ms, 0)} ms)`,
      `Cron again 15 minutes later (nothing new due): ${fmtInt(cron.repeat.bucket?.rowsRead)} rows read in ${fmtInt(cron.repeat.bucket?.roundTrips)} round trips`,
    );
  }
  out.push("", ...details, "", "Targets");
  out.push(table(TARGET_HEADERS, targetRows(targets)));
  out.push("", `Finished in ${elapsed.toFixed(0)} s.`);
  log(out.join("\n"));

  const missed = targets.filter((t) => !t.pass);
  const dir = join(ROOT, ".bench");
  mkdirSync(dir, { recursive: true });
  const markdown = [
    `Run ${new Date().toISOString()} of ${ctx.source} on ${machine}; Workers under local workerd, loaded ${VIA_ENTRY ? "through Miniflare's entry Worker" : "at their own socket"}; Node ${process.versions.node}, wrangler ${packageVersion("wrangler")}, oidc-provider ${packageVersion("oidc-provider")}, autocannon ${packageVersion("autocannon")}; ${CONFIG.connections} connections, ${CONFIG.rounds} × ${CONFIG.duration} s after ${CONFIG.warmup} s warm-up, medians.`,
    "",
    markdownTable(
      LOAD_HEADERS,
      loadRows([...loadTable, ...(rest.rest ? [rest.rest, rest.query, rest.hello].filter(Boolean) : [])]),
    ),
    "",
    ...details.map((line) => (line.startsWith("  ") ? `  - \`${line.trim()}\`` : `- ${line}`)),
    "",
    markdownTable(TARGET_HEADERS, targetRows(targets)),
    "",
  ].join("\n");
  writeFileSync(join(dir, "last-run.md"), markdown);
  writeFileSync(
    join(dir, "last-run.json"),
    JSON.stringify(
      { config: CONFIG, machine, tokens, tokenD1, timing, distant, rest, grid, overview, cron, fired, targets },
      null,
      2,
    ),
  );
  await stopAll();
  if (elapsed > 300) log(`Warning: the run took ${elapsed.toFixed(0)} s, over the 5-minute budget.`);
  if (missed.length > 0) {
    console.error(`\nbench: ${missed.length} target(s) missed:`);
    for (const t of missed) console.error(`  - ${t.name}: ${fmt(t.value, t.digits)} (target ${t.goal}) ${t.note}`);
    process.exitCode = 1;
  } else {
    log("\nbench: every target holds.");
  }
}

main().catch(async (error) => {
  console.error(`\nbench failed: ${error.stack ?? error}`);
  await stopAll();
  process.exit(2);
});
