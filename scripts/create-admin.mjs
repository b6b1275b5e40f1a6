// `npm run admin:create -- --email you@example.com --name "Your Name" [--remote]`
// Creates (or promotes) a Global Administrator in the local D1, or the remote one with --remote.
// The password is read from ADMIN_PASSWORD or asked for on the terminal.
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { executeSql, hashPassword } from "./local.mjs";

const { values } = parseArgs({
  options: {
    email: { type: "string" },
    name: { type: "string" },
    remote: { type: "boolean", default: false },
    "persist-to": { type: "string" },
  },
});
const email = values.email?.trim().toLowerCase();
if (!email || !/^[^@\s]+@[^@\s]+$/.test(email)) {
  console.error('Give an email address: npm run admin:create -- --email you@example.com --name "Your Name"');
  process.exit(2);
}
let password = process.env.ADMIN_PASSWORD;
if (!password) {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  password = await rl.question("Password (at least 12 characters): ");
  rl.close();
}
if (!password || password.length < 12) {
  console.error("The password must have at least 12 characters.");
  process.exit(2);
}
const q = (v) => `'${String(v).replaceAll("'", "''")}'`;
const sql = `INSERT INTO users (email, name, password_hash, is_global_admin, disabled, created_at)
VALUES (${q(email)}, ${q(values.name ?? email)}, ${q(hashPassword(password))}, 1, 0, ${Date.now()})
ON CONFLICT(email) DO UPDATE SET is_global_admin = 1, disabled = 0, password_hash = excluded.password_hash;`;
executeSql(sql, { remote: values.remote, persistTo: values["persist-to"] });
console.log(`${email} is a Global Administrator in the ${values.remote ? "remote" : "local"} D1.`);
