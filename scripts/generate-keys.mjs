// `npm run keys:generate`: prints a JWK set with one fresh ES256 private signing key, for `wrangler secret put
// SIGNING_KEYS`. With `--add-to <file>` it prints that file's set with the new key added as the second key
// (published but not yet signing: the first step of a rotation).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { generateSigningKeys } from "./local.mjs";

const { values } = parseArgs({ options: { "add-to": { type: "string" } } });
const fresh = JSON.parse(await generateSigningKeys());
if (values["add-to"]) {
  const current = JSON.parse(readFileSync(values["add-to"], "utf8"));
  if (!Array.isArray(current.keys) || current.keys.length === 0) {
    console.error("That file holds no JWK set with keys.");
    process.exit(2);
  }
  const [first, ...rest] = current.keys;
  console.log(JSON.stringify({ keys: [first, ...fresh.keys, ...rest] }));
} else {
  console.log(JSON.stringify(fresh));
}
