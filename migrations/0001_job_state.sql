CREATE TABLE `job_state` (
	`name` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `admin_audit_target_idx` ON `admin_audit_events` (`target_type`,`target_label`,`at`);