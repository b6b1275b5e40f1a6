// A Worker bundle under raw `workerd serve`: the same workerd binary the harness runs, with a hand-written config of
// one service and one socket and nothing else (no Miniflare process, no entry Worker, no loopback, cache or outbound
// services). It shows how much the harness itself costs a Worker. Only Workers whose measured path needs no
// Miniflare-provided binding can run here: the floor's token route needs only text bindings; our Worker needs D1,
// which exists locally only as Miniflare's simulator.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { startProcess } from "./processes.mjs";

const WRANGLER_PACKAGE = join(import.meta.dirname, "../../node_modules/wrangler/package.json");
// The workerd of the project's wrangler (through its Miniflare): the very binary the harness runs.
const WORKERD = createRequire(createRequire(WRANGLER_PACKAGE).resolve("miniflare")).resolve("workerd/bin/workerd");

/** A capnp string literal. */
const capnpText = (value) => JSON.stringify(String(value));

/**
 * Serves `main` of `bundleDir` (a `wrangler deploy --dry-run --outdir` bundle) on 127.0.0.1:`port` under raw workerd,
 * with `vars` as text bindings. Resolves to the handle once it answers.
 */
export function startRawWorkerd(
  name,
  { bundleDir, main = "index.js", vars = {}, compatibilityDate, flags = [], port },
) {
  const config = join(bundleDir, "raw-workerd.capnp");
  writeFileSync(
    config,
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = ${capnpText(`127.0.0.1:${port}`)}, http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = ${capnpText(main)}, esModule = embed ${capnpText(main)}) ],
  compatibilityDate = ${capnpText(compatibilityDate)},
  compatibilityFlags = [ ${flags.map(capnpText).join(", ")} ],
  bindings = [ ${Object.entries(vars)
    .map(([key, value]) => `(name = ${capnpText(key)}, text = ${capnpText(value)})`)
    .join(", ")} ],
);
`,
  );
  const handle = startProcess(name, WORKERD, ["serve", config], { cwd: bundleDir });
  handle.base = `http://127.0.0.1:${port}`;
  return handle;
}
