CREATE TABLE `api_idempotency_keys` (
	`caller_client_id` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`client_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`caller_client_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `api_idempotency_keys_created_idx` ON `api_idempotency_keys` (`created_at`);