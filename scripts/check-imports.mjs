// `npm run lint` runs this: the structure README's Architecture describes, checked on every change.
// - No import circle among src/ and views/ modules.
// - The domain folders src/users/ and src/sites/ never import the HTTP layers built on them (src/auth/, src/admin/).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const LAYERS = [{ from: ["src/users/", "src/sites/"], never: ["src/auth/", "src/admin/"] }];

function modules(dir) {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return modules(path);
    return /\.tsx?$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

function resolveImport(from, specifier) {
  const base = normalize(join(dirname(from), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts")]) {
    try {
      if (statSync(join(root, candidate)).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  return null;
}

const files = [...modules("src"), ...modules("views")];
const imports = new Map(
  files.map((file) => {
    const text = readFileSync(join(root, file), "utf8");
    const targets = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']/g)]
      .map((m) => resolveImport(file, m[1]))
      .filter((target) => target !== null);
    return [file, new Set(targets)];
  }),
);

const problems = [];
for (const [file, targets] of imports) {
  for (const rule of LAYERS) {
    if (!rule.from.some((prefix) => file.startsWith(prefix))) continue;
    for (const target of targets) {
      if (rule.never.some((prefix) => target.startsWith(prefix))) problems.push(`${file} imports ${target}`);
    }
  }
}

// Circles: a depth-first search that reports each back edge's cycle once.
const state = new Map();
const stack = [];
function visit(file) {
  state.set(file, "open");
  stack.push(file);
  for (const target of imports.get(file) ?? []) {
    if (state.get(target) === "open") {
      problems.push(`import circle: ${[...stack.slice(stack.indexOf(target)), target].join(" → ")}`);
    } else if (!state.has(target) && imports.has(target)) {
      visit(target);
    }
  }
  stack.pop();
  state.set(file, "done");
}
for (const file of imports.keys()) if (!state.has(file)) visit(file);

if (problems.length > 0) {
  console.error(`Import structure (scripts/check-imports.mjs):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`Import structure: ${files.length} modules, no circle, layers kept.`);
