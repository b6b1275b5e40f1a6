CREATE TABLE `site_usage_daily` (
	`site_id` integer NOT NULL,
	`day` integer NOT NULL,
	`tokens` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`site_id`, `day`),
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `site_usage_daily_day_idx` ON `site_usage_daily` (`day`);--> statement-breakpoint
CREATE TABLE `site_usage_hourly` (
	`site_id` integer NOT NULL,
	`hour` integer NOT NULL,
	`tokens` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`site_id`, `hour`),
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `site_usage_hourly_hour_idx` ON `site_usage_hourly` (`hour`);--> statement-breakpoint
CREATE TABLE `usage_daily` (
	`registration_id` integer NOT NULL,
	`day` integer NOT NULL,
	`tokens` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`registration_id`, `day`),
	FOREIGN KEY (`registration_id`) REFERENCES `app_registrations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `usage_daily_day_idx` ON `usage_daily` (`day`);--> statement-breakpoint
CREATE TABLE `usage_hourly` (
	`registration_id` integer NOT NULL,
	`hour` integer NOT NULL,
	`tokens` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`registration_id`, `hour`),
	FOREIGN KEY (`registration_id`) REFERENCES `app_registrations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `usage_hourly_hour_idx` ON `usage_hourly` (`hour`);--> statement-breakpoint
CREATE INDEX `app_registrations_site_state_idx` ON `app_registrations` (`site_id`,`enabled`,`expires_at`);--> statement-breakpoint
CREATE INDEX `app_registrations_state_idx` ON `app_registrations` (`enabled`,`expires_at`);