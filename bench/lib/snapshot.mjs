// The Worker the bench measures is a snapshot taken when the run starts, served from a temporary directory: edits
// made to the working tree during the run cannot reach the build or change what the run measures halfway through.
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { ROOT } from "../../scripts/local.mjs";

/** What our Worker is built from (wrangler bundles src/index.ts through bench/instrumented-entry.ts). */
const WORKER_SOURCES = ["wrangler.toml", "tsconfig.json", "package.json", "src", "views", "static"];
const BENCH_ENTRY = "bench/instrumented-entry.ts";

/** Short description of the measured source: commit, and whether the working tree differs from it. */
export function describeSource(fromHead) {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    if (fromHead) return `commit ${commit}`;
    const changed = execFileSync("git", ["status", "--porcelain", "--", ...WORKER_SOURCES], {
      cwd: ROOT,
      encoding: "utf8",
    }).trim();
    return changed ? `working tree (commit ${commit} with local changes)` : `commit ${commit}`;
  } catch {
    return "working tree (not a git checkout)";
  }
}

/**
 * Copies the Worker's sources into `dir` (from the working tree, or from the last commit when `fromHead`), plus the
 * bench entry, .dev.vars and a link to node_modules. Returns `dir`.
 */
export function snapshotWorker(dir, { fromHead = false } = {}) {
  mkdirSync(dir, { recursive: true });
  if (fromHead) {
    const tar = execFileSync("git", ["archive", "--format=tar", "HEAD", "--", ...WORKER_SOURCES], {
      cwd: ROOT,
      maxBuffer: 512 * 1024 * 1024,
    });
    execFileSync("tar", ["-x", "-C", dir], { input: tar });
  } else {
    for (const path of WORKER_SOURCES) cpSync(join(ROOT, path), join(dir, path), { recursive: true });
  }
  mkdirSync(dirname(join(dir, BENCH_ENTRY)), { recursive: true });
  copyFileSync(join(ROOT, BENCH_ENTRY), join(dir, BENCH_ENTRY));
  if (existsSync(join(ROOT, ".dev.vars"))) copyFileSync(join(ROOT, ".dev.vars"), join(dir, ".dev.vars"));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

/** A copy of a bench fixture Worker (bench/<name>) in `work`, next to a link to node_modules; returns its directory. */
export function snapshotFixture(work, name) {
  const dir = join(work, name);
  cpSync(join(ROOT, "bench", name), dir, { recursive: true, filter: (source) => !source.includes(".wrangler") });
  if (!existsSync(join(work, "node_modules")))
    symlinkSync(join(ROOT, "node_modules"), join(work, "node_modules"), "dir");
  return dir;
}
