import type { Bindings } from "../env";

/** The Cron Trigger (every 15 minutes, §5): evaluates expiry milestones and purges what has a retention. */
export async function handleScheduled(_controller: ScheduledController, _env: Bindings, _ctx: ExecutionContext) {}
