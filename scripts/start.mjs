// `npm start`: everything local, idempotently (§11), then `wrangler dev` on http://localhost:8787.
import { spawn } from "node:child_process";
import { childEnv, LOCAL_PASSWORD, prepareLocal, ROOT, WRANGLER } from "./local.mjs";

const port = process.env.PORT ?? "8787";
console.log("Preparing the local D1 (migrations, seed) and .dev.vars…");
const { wroteDevVars } = await prepareLocal();
if (wroteDevVars) console.log("Wrote .dev.vars with a fresh signing key set and secret pepper.");
console.log(`
Local sign-ins (password: ${LOCAL_PASSWORD})
  root@example.test        Global Administrator
  admin@example.test       Site Administrator of main
  user@example.test        Site User of main
  lab-admin@example.test   Site Administrator of lab
Serving on http://localhost:${port}
`);
const [node, wranglerBin] = WRANGLER;
// Links in notification emails point at the origin served here.
const origin = `LOCAL_ORIGIN:http://localhost:${port}`;
const child = spawn(
  node,
  [wranglerBin, "dev", "--port", port, "--ip", "localhost", "--var", origin, ...process.argv.slice(2)],
  {
    cwd: ROOT,
    stdio: "inherit",
    env: childEnv(),
  },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
