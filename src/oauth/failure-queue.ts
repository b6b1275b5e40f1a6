import type { Bindings } from "../env";
import { recordTokenFailures, type TokenFailure } from "./failure-log";
import { countTokenFailure } from "./throttle";

/**
 * The bookkeeping of failed token requests (security log rows, throttle counting) is queued in the isolate and
 * done together, shortly after the answers: a burst of failures becomes one D1 batch and one round of limiter calls
 * instead of work after every single answer. Nothing waits for it (§7: failures are recorded after the answer),
 * and the work never lands on one particular later request: measured locally, per-answer bookkeeping slowed
 * whichever answer it overlapped by about half.
 */
export const FAILURE_FLUSH_DELAY_MS = 100;

export interface QueuedFailure {
  failure: TokenFailure;
  /** Throttle keys to count the failure against; empty for answers that are already 429 or 5xx. */
  countAgainst: (string | null)[];
  now: number;
}

interface Queue {
  items: QueuedFailure[];
  scheduled: boolean;
}

/** One queue per set of bindings (a Worker has one; tests run some requests with their own). */
const queues = new WeakMap<object, Queue>();

/**
 * Queues a failure's bookkeeping. The first failure of a batch keeps its request alive (`waitUntil`) until the
 * batch is done, so later failures of the same batch are covered by it.
 */
export function queueTokenFailure(
  env: Pick<Bindings, "DB" | "TOKEN_FAILURE_LIMITER">,
  waitUntil: (promise: Promise<unknown>) => void,
  item: QueuedFailure,
): void {
  let queue = queues.get(env.DB);
  if (!queue) {
    queue = { items: [], scheduled: false };
    queues.set(env.DB, queue);
  }
  queue.items.push(item);
  if (queue.scheduled) return;
  queue.scheduled = true;
  const batch = queue;
  waitUntil(
    new Promise((resolve) => setTimeout(resolve, FAILURE_FLUSH_DELAY_MS))
      .then(() => {
        const items = batch.items;
        batch.items = [];
        batch.scheduled = false;
        return flush(env, items);
      })
      .catch((error: unknown) => console.error("token failure bookkeeping", error)),
  );
}

async function flush(env: Pick<Bindings, "DB" | "TOKEN_FAILURE_LIMITER">, items: QueuedFailure[]) {
  const counting = items.map((item) =>
    item.countAgainst.length > 0 ? countTokenFailure(env, item.countAgainst, item.now) : Promise.resolve([]),
  );
  const [recorded, ...counted] = await Promise.allSettled([
    recordTokenFailures(
      env.DB,
      items.map((item) => ({ failure: item.failure, now: item.now })),
    ),
    ...counting,
  ]);
  for (const outcome of [recorded, ...counted]) {
    if (outcome?.status === "rejected") console.error("token failure bookkeeping", outcome.reason);
  }
}
