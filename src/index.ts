import { createApp } from "./app";
import type { Bindings, NotificationMessage } from "./env";
import { handleQueue } from "./notifications/consumer";
import { handleScheduled } from "./notifications/scheduled";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled: handleScheduled,
  queue: handleQueue,
} satisfies ExportedHandler<Bindings, NotificationMessage>;
