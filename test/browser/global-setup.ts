import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
// @ts-expect-error -- plain ESM script shared with `npm start`
import { applyLocalMigrations, childEnv, ensureDevVars, ROOT, seedLocal, WRANGLER } from "../../scripts/local.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    baseURL: string;
    persistTo: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function waitForServer(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${log()}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`wrangler dev did not answer in time:\n${log()}`);
}

/** Starts the real Worker under `wrangler dev` with its own fresh local D1 (migrated and seeded) for the run. */
export default async function setup(project: TestProject) {
  await ensureDevVars();
  const persistTo = mkdtempSync(join(tmpdir(), "app-registrations-browser-"));
  applyLocalMigrations(persistTo);
  seedLocal(persistTo);
  const port = await freePort();
  const baseURL = `http://localhost:${port}`;
  let output = "";
  const [node, wranglerBin] = WRANGLER;
  const child = spawn(
    node,
    [
      wranglerBin,
      "dev",
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--persist-to",
      persistTo,
      "--inspector-port",
      "0",
      // Links in notification emails point at this server, as under `npm start`.
      "--var",
      `LOCAL_ORIGIN:${baseURL}`,
    ],
    { cwd: ROOT, env: childEnv({ CI: "true" }), stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  await waitForServer(`${baseURL}/sign-in`, child, () => output);
  project.provide("baseURL", baseURL);
  project.provide("persistTo", persistTo);
  return async () => {
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(persistTo, { recursive: true, force: true });
  };
}
