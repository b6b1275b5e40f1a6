// The printed tables, the targets and the files a run leaves in .bench/ (git-ignored).

const fmt = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "—");
const fmtInt = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "—");

export function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join("  ");
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function markdownTable(headers, rows) {
  return [
    `| ${headers.join(" | ")} |`,
    `| ${headers.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

export function loadRows(results) {
  return results.map((r) => [r.name, fmtInt(r.rps), fmt(r.p50, 0), fmt(r.p99, 0), fmtInt(r.errors), fmt(r.cpuMs, 2)]);
}

export const LOAD_HEADERS = ["target", "req/s", "p50 ms", "p99 ms", "errors", "CPU ms/req"];

/**
 * A target: `value` measured (NaN when it could not be measured, with `note` saying why), `holds(value)`, and the
 * text of the goal. `extra` is a condition that must also hold for the number to count (e.g. the cron really fired).
 */
export function target(name, value, goal, holds, { digits = 2, note, valid = true } = {}) {
  const measured = Number.isFinite(value);
  const pass = measured && valid && holds(value);
  return { name, value, goal, pass, digits, note: note ?? (measured ? "" : "not measured") };
}

export function targetRows(targets) {
  return targets.map((t) => [t.name, fmt(t.value, t.digits), t.goal, t.pass ? "PASS" : "MISS", t.note]);
}

export const TARGET_HEADERS = ["measure", "measured", "target", "result", "note"];

export { fmt, fmtInt };
