import type { Bindings } from "../env";
import { type RequeueSummary, requeueStuckDeliveries } from "./deliveries";
import { type ExpiryRunSummary, evaluateExpiry } from "./evaluate";
import { type PurgeSummary, purgeExpired } from "./purge";

export interface CronSummary {
  now: number;
  expiry?: ExpiryRunSummary;
  requeue?: RequeueSummary;
  purge?: PurgeSummary;
  errors: string[];
}

/**
 * One cron run at `now`: expiry notices, re-enqueue of stuck deliveries, retention purge. Each step runs even when
 * an earlier one failed; a failure is logged and fails the invocation at the end, so it shows as an error.
 */
export async function runCron(env: Bindings, now: number, options: { sweep?: boolean } = {}): Promise<CronSummary> {
  const summary: CronSummary = { now, errors: [] };
  const step = async <K extends "expiry" | "requeue" | "purge">(name: K, run: () => Promise<CronSummary[K]>) => {
    try {
      summary[name] = await run();
    } catch (error) {
      summary.errors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  await step("expiry", () => evaluateExpiry(env, now, { sweep: options.sweep }));
  await step("requeue", () => requeueStuckDeliveries(env, now));
  await step("purge", () => purgeExpired(env.DB, now));
  // Nothing is lost when the Queue refuses (the cursors stay), but the run must show as failed.
  if (summary.expiry?.enqueueError) summary.errors.push(`expiry: enqueue failed: ${summary.expiry.enqueueError}`);
  if (summary.requeue?.enqueueError) summary.errors.push(`requeue: enqueue failed: ${summary.requeue.enqueueError}`);
  return summary;
}

/**
 * The Cron Trigger (every 15 minutes, §5). `scheduledTime` is "now", so any instant can be replayed. A Cron Trigger
 * always names its cron expression; an event without one was triggered by hand (`curl …/cdn-cgi/local/scheduled`
 * under `wrangler dev`) and evaluates every expiry that can be due, whatever the previous run saw.
 */
export async function handleScheduled(controller: ScheduledController, env: Bindings, _ctx: ExecutionContext) {
  // Epoch milliseconds; `Number` also accepts the Date some local dispatchers hand over.
  const summary = await runCron(env, Number(controller.scheduledTime), { sweep: !controller.cron });
  console.log(JSON.stringify({ event: "cron", cron: controller.cron, ...summary }));
  if (summary.errors.length > 0) throw new Error(`cron run failed: ${summary.errors.join("; ")}`);
}
