// Load generation (autocannon, in-process) and the statistics the bench reports.
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values, p) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * One autocannon run. `request` is { url, method, headers, body } or, for a fixed number of requests, add `amount`.
 * Keep-alive connections (autocannon's default), no pipelining.
 */
export function runAutocannon({ url, method = "GET", headers = {}, body, connections, duration, amount }) {
  return new Promise((resolve, reject) => {
    const options = { url, method, headers, body, connections, pipelining: 1, timeout: 10 };
    if (amount) options.amount = amount;
    else options.duration = duration;
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

function summarize(result) {
  const ok = result["2xx"];
  return {
    rps: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    requests: result.requests.total,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
  };
}

/**
 * The same load for every target: a warm-up run per target (discarded), then `rounds` measured runs interleaved
 * target by target (A B C A B C …) so slow drift of the machine affects all alike. Reports per-target medians over
 * the rounds, and the sum of errors (non-2xx responses, socket errors, timeouts).
 */
export async function compareUnderLoad(targets, { connections, duration, rounds, warmup, log = () => {} }) {
  for (const target of targets) {
    log(`  warm-up ${target.name} (${warmup} s)`);
    await runAutocannon({ ...target.request, connections, duration: warmup });
  }
  const perTarget = new Map(targets.map((t) => [t.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const target of targets) {
      const cpuBefore = target.cpu?.();
      const result = await runAutocannon({ ...target.request, connections, duration });
      const cpuAfter = target.cpu?.();
      const summary = summarize(result);
      // CPU the server spent per answered request: unlike req/s, hardly moved by other work on the machine.
      summary.cpuMs = target.cpu ? ((cpuAfter - cpuBefore) * 1000) / Math.max(1, result.requests.total) : Number.NaN;
      perTarget.get(target.name).push(summary);
      log(
        `  round ${round}/${rounds} ${target.name}: ${summary.rps.toFixed(0)} req/s, p50 ${summary.p50} ms, p99 ${summary.p99} ms, errors ${summary.errors}, ${summary.cpuMs.toFixed(2)} CPU ms/request`,
      );
    }
  }
  return targets.map((target) => {
    const runs = perTarget.get(target.name);
    const statusCodes = {};
    for (const run of runs) {
      for (const [code, count] of Object.entries(run.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
    }
    return {
      name: target.name,
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpuMs: median(runs.map((r) => r.cpuMs)),
      errors: runs.reduce((sum, r) => sum + r.errors, 0),
      requests: runs.reduce((sum, r) => sum + r.requests, 0),
      statusCodes,
      rounds: runs,
    };
  });
}

/** Wall-clock time of one request, body included, in milliseconds. */
export async function timeRequest(url, init) {
  const start = performance.now();
  const res = await fetch(url, init);
  const body = await res.text();
  return { ms: performance.now() - start, status: res.status, body, headers: res.headers };
}
