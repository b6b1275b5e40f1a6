// One Worker under local workerd for the bench, without `wrangler dev`'s development machinery.
//
//   node bench/lib/serve-worker.mjs '<json>'
//   { "cwd", "config", "script"?, "outDir", "persistTo"?, "port", "directPort", "vars"?, "compatibilityFlags"? }
//
// It builds the Worker exactly as `wrangler deploy` would (`wrangler deploy --dry-run --outdir`), takes the bindings
// from the same wrangler.toml through wrangler's own translation (`unstable_getMiniflareWorkerOptions`: D1, queues,
// send_email, rate limiting, vars and .dev.vars), and runs that bundle in workerd through Miniflare, the library
// `wrangler dev` itself runs on. Unlike `wrangler dev` it attaches no inspector, runs no proxy Worker, no dev
// registry and no live reload, and it opens a direct socket to the Worker (`directPort`) that skips Miniflare's
// entry Worker, which is where the load goes. `port` is Miniflare's regular entry (it also serves
// `/cdn-cgi/handler/scheduled` to trigger the cron). D1 state lives under `persistTo` in the layout
// `wrangler d1 … --local --persist-to` uses, so migrations and seeds applied with wrangler are what the Worker sees.
//
// Prints one JSON line `{"entry": url, "direct": url}` when ready; stops workerd on SIGTERM/SIGINT.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

// The Miniflare (and so the workerd) of the project's wrangler, the one `wrangler dev` and `wrangler deploy` use.
const WRANGLER_PACKAGE = join(import.meta.dirname, "../../node_modules/wrangler/package.json");
const { convertV4MiniflareOptions, Miniflare } = await import(
  pathToFileURL(createRequire(WRANGLER_PACKAGE).resolve("miniflare")).href
);

const options = JSON.parse(process.argv[2] ?? "{}");
const cwd = resolve(options.cwd ?? ".");
const config = join(cwd, options.config ?? "wrangler.toml");
const outDir = resolve(options.outDir);

const build = spawnSync(
  process.execPath,
  [
    join(import.meta.dirname, "../../node_modules/wrangler/bin/wrangler.js"),
    "deploy",
    "--dry-run",
    "--outdir",
    outDir,
    "--config",
    config,
    ...(options.script ? [options.script] : []),
  ],
  { cwd, encoding: "utf8", env: process.env },
);
if (build.status !== 0) {
  console.error(`Build failed:\n${build.stdout}\n${build.stderr}`);
  process.exit(1);
}

// The bundle: the entry module plus the text modules it imports (static assets inlined by module rules).
const files = readdirSync(outDir).filter((name) => !name.endsWith(".map") && name !== "README.md");
// wrangler names the bundle after the entry script (the fixtures' wrangler.toml entry is index.ts).
const main = options.script ? basename(options.script).replace(/\.[cm]?[jt]sx?$/, ".js") : "index.js";
if (!files.includes(main)) {
  console.error(`Build failed: no ${main} among ${files.join(", ")}`);
  process.exit(1);
}
const modules = [
  { type: "ESModule", path: join(outDir, main) },
  ...files
    .filter((name) => name !== main)
    .map((name) => ({ type: name.endsWith(".wasm") ? "CompiledWasm" : "Text", path: join(outDir, name) })),
];

const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
const {
  rootPath: _rootPath,
  modulesRules: _modulesRules,
  ...bindingOptions
} = /** @type {Record<string, unknown>} */ (workerOptions);

const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: options.port,
    logRequests: false,
    // The Worker's console output goes to stderr (kept by the bench for error messages).
    handleStructuredLogs: ({ message }) => process.stderr.write(`${message}\n`),
    unsafeTriggerHandlers: true,
    ...(options.persistTo ? { resourcePersistencePath: join(resolve(options.persistTo), "v3") } : {}),
    workers: [
      {
        ...bindingOptions,
        name: "bench-worker",
        modulesRoot: outDir,
        modules,
        compatibilityFlags: [
          ...new Set([...(workerOptions.compatibilityFlags ?? []), ...(options.compatibilityFlags ?? [])]),
        ],
        bindings: { ...workerOptions.bindings, ...(options.vars ?? {}) },
        unsafeDirectSockets: [{ host: "127.0.0.1", port: options.directPort }],
      },
    ],
  }),
);

const entry = await mf.ready;
console.log(JSON.stringify({ entry: entry.origin, direct: `http://127.0.0.1:${options.directPort}` }));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await mf.dispose().catch(() => {});
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
