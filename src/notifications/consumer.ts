import type { Bindings, NotificationMessage } from "../env";

/** The notification Queue consumer (and its dead-letter queue): sends each email once (§5). */
export async function handleQueue(_batch: MessageBatch<NotificationMessage>, _env: Bindings, _ctx: ExecutionContext) {}
