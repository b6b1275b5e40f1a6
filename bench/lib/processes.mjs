// Every process and temporary directory the bench starts, and the guarantee that they go away: each server runs in
// its own process group (wrangler dev and its workerd children die together), and the groups and directories are
// removed on a normal finish, on failure, on Ctrl-C and on SIGTERM.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { childEnv, ROOT, WRANGLER } from "../../scripts/local.mjs";

const running = new Set();
const tempDirs = new Set();
const OUTPUT_LIMIT = 64 * 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal colour codes in wrangler's output
const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;

export function makeTempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
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

/** `wrangler dev` on 127.0.0.1 with the given arguments (config, entry, persistence, vars), run in `cwd`. */
export function startWranglerDev(name, port, args, { cwd = ROOT } = {}) {
  const [node, bin] = WRANGLER;
  const command = [
    bin,
    "dev",
    ...args,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    ...(args.includes("--inspector-port") ? [] : ["--inspector-port", "0"]),
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
  ];
  return startProcess(name, node, command, { cwd });
}

/** Waits until `url` answers anything below 500; fails with the server's output when it exits or takes too long. */
export async function waitForHttp(handle, url, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (handle.child.exitCode !== null || handle.child.signalCode !== null) {
      throw new Error(`${handle.name} exited before it answered:\n${handle.output()}`);
    }
    // wrangler dev keeps running after a failed build, waiting for a fix: nothing will answer.
    if (/Build failed/.test(handle.output())) throw new Error(`${handle.name} could not build:\n${handle.output()}`);
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

/** Loopback TCP ports on which processes of the process group `pgid` listen (Linux: /proc). */
function listeningPorts(pgid) {
  const pids = groupPids(pgid);
  const inodes = new Set();
  for (const pid of pids) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {}
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]);
      } catch {}
    }
  }
  const ports = new Set();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let lines = [];
    try {
      lines = readFileSync(table, "utf8").trim().split("\n").slice(1);
    } catch {}
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === "0A" && inodes.has(cols[9])) ports.add(Number.parseInt(cols[1].split(":").pop(), 16));
    }
  }
  return [...ports];
}

/**
 * The workerd socket that serves the Worker itself, behind wrangler dev's proxy Worker: the one listening port of
 * the server's process group, other than `publicPort`, for which `isWorker(baseUrl)` says yes.
 */
export async function findWorkerSocket(handle, publicPort, isWorker) {
  for (const port of listeningPorts(handle.child.pid)) {
    if (port === publicPort) continue;
    const base = `http://127.0.0.1:${port}`;
    try {
      if (await isWorker(base)) return base;
    } catch {}
  }
  throw new Error(
    `${handle.name}: no workerd socket of its own answered as the Worker (this needs Linux /proc; BENCH_VIA_PROXY=1 loads wrangler dev's public port instead)`,
  );
}
