import type { Bindings } from "../env";
import { recordTokenFailures, type TokenFailure } from "./failure-log";

/**
 * The security-log rows of failed token requests are queued in the isolate and written together, shortly after the
 * answers: a burst of failures becomes one D1 batch instead of work after every single answer (throttle counting is
 * not here: it happens before the answer, throttle.ts). Nothing waits for it (§7: failures are recorded after the answer),
 * and the work never lands on one particular later request: measured locally, per-answer bookkeeping slowed
 * whichever answer it overlapped by about half.
 */
export const FAILURE_FLUSH_DELAY_MS = 100;

export interface QueuedFailure {
  failure: TokenFailure;
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
  env: Pick<Bindings, "DB">,
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

async function flush(env: Pick<Bindings, "DB">, items: QueuedFailure[]) {
  await recordTokenFailures(
    env.DB,
    items.map((item) => ({ failure: item.failure, now: item.now })),
  );
}
