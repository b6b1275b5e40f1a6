// Every process and temporary directory the bench starts, and the guarantee that they go away: each server runs in
// its own process group (a Worker's Node process and its workerd child die together), and the groups and directories are
// removed on a normal finish, on failure, on Ctrl-C and on SIGTERM.
import { spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { childEnv, ROOT } from "../../scripts/local.mjs";

const running = new Set();
const tempDirs = new Set();
const OUTPUT_LIMIT = 64 * 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal colour codes in wrangler's output
const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;

/**
 * Where the bench keeps its files, the local D1 included: memory (/dev/shm) where the machine has it, so that the
 * local D1's per-transaction flush to disk (a simulator cost production D1 does not have on reads) does not decide
 * the numbers; BENCH_D1_ON_DISK=1 uses the system temporary directory instead.
 */
function benchTempRoot() {
  if (process.env.BENCH_D1_ON_DISK !== "1") {
    try {
      accessSync("/dev/shm", constants.W_OK);
      return "/dev/shm";
    } catch {}
  }
  return tmpdir();
}

export function makeTempDir(prefix) {
  const dir = mkdtempSync(join(benchTempRoot(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The environment of every server: the project's Node and binaries first, no outbound calls by wrangler itself. */
export function serverEnv(extra = {}) {
  return childEnv({
    CI: "true",
    // wrangler would otherwise fetch Request.cf from workers.cloudflare.com and check npm for updates.
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
    WRANGLER_SEND_METRICS: "false",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    ...extra,
  });
}

/** Starts a long-running server in its own process group and keeps the tail of its output for error messages. */
export function startProcess(name, command, args, { cwd = ROOT, env = serverEnv() } = {}) {
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk).slice(-OUTPUT_LIMIT);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const handle = {
    name,
    child,
    output: () => output.replace(ANSI_ESCAPE, ""),
    exited: new Promise((resolve) => child.once("exit", resolve)),
  };
  running.add(handle);
  handle.exited.then(() => running.delete(handle));
  return handle;
}

/**
 * One Worker under local workerd (bench/lib/serve-worker.mjs: the deploy build, wrangler.toml's bindings, Miniflare
 * without wrangler dev's inspector, proxy Worker or reloads). `ready` resolves to `{ entry, direct }` once it serves:
 * `direct` is the socket that reaches the Worker itself, `entry` is Miniflare's entry Worker (cron trigger).
 */
export function startWorker(name, { cwd = ROOT, ...options }) {
  const handle = startProcess(
    name,
    process.execPath,
    [join(ROOT, "bench/lib/serve-worker.mjs"), JSON.stringify({ cwd, ...options })],
    { cwd },
  );
  handle.ready = new Promise((resolve, reject) => {
    let buffered = "";
    handle.child.stdout.on("data", (chunk) => {
      buffered += chunk;
      for (const line of buffered.split("\n")) {
        if (!line.startsWith("{")) continue;
        try {
          resolve(JSON.parse(line));
        } catch {}
      }
    });
    handle.exited.then(() => reject(new Error(`${name} exited before it served:\n${handle.output()}`)));
  });
  return handle;
}

/** Waits until `url` answers anything below 500; fails with the server's output when it exits or takes too long. */
export async function waitForHttp(handle, url, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (handle.child.exitCode !== null || handle.child.signalCode !== null) {
      throw new Error(`${handle.name} exited before it answered:\n${handle.output()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {}
    await sleep(250);
  }
  throw new Error(`${handle.name} did not answer ${url} within ${timeoutMs / 1000} s:\n${handle.output()}`);
}

function signalGroup(handle, signal) {
  try {
    process.kill(-handle.child.pid, signal);
  } catch {}
}

/** Stops one server: SIGTERM to its whole process group, SIGKILL after a grace period. */
export async function stopProcess(handle, graceMs = 3_000) {
  if (!running.has(handle)) return;
  signalGroup(handle, "SIGTERM");
  const exited = await Promise.race([handle.exited.then(() => true), sleep(graceMs).then(() => false)]);
  // wrangler may exit before its workerd children do: the group is killed either way.
  signalGroup(handle, "SIGKILL");
  if (!exited) await Promise.race([handle.exited, sleep(1_000)]);
  running.delete(handle);
}

export async function stopAll() {
  await Promise.all([...running].map((handle) => stopProcess(handle)));
  removeTempDirs();
}

function removeTempDirs() {
  for (const dir of tempDirs) {
    rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  }
}

/** Last-resort cleanup that must be synchronous (process "exit"): kill every group, remove every directory. */
function killEverythingNow() {
  for (const handle of running) signalGroup(handle, "SIGKILL");
  running.clear();
  removeTempDirs();
}

let installed = false;
export function installCleanup() {
  if (installed) return;
  installed = true;
  process.on("exit", killEverythingNow);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal} received, stopping everything it started…`);
      stopAll().finally(() => process.exit(130));
    });
  }
}

/** Fields of /proc/<pid>/stat after "(comm) ": state, ppid, pgrp, …, utime (11), stime (12). */
function statFields(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

function groupPids(pgid) {
  let entries = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  return entries.filter((entry) => /^\d+$/.test(entry) && Number(statFields(entry)?.[2]) === pgid);
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) used so far by the live processes of a server's process group (Linux: /proc). */
export function cpuSeconds(handle) {
  const pids = groupPids(handle.child.pid);
  if (pids.length === 0) return Number.NaN;
  let ticks = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}
