ALTER TABLE `client_secrets` ADD `hint` text;--> statement-breakpoint
ALTER TABLE `client_secrets` ADD `created_by` text;--> statement-breakpoint
ALTER TABLE `client_secrets` ADD `expiry_set_at` integer;--> statement-breakpoint
ALTER TABLE `client_secrets` ADD `last_used_at` integer;--> statement-breakpoint
CREATE INDEX `client_secrets_expires_idx` ON `client_secrets` (`expires_at`);--> statement-breakpoint
CREATE INDEX `client_secrets_revoked_idx` ON `client_secrets` (`revoked_at`);--> statement-breakpoint
ALTER TABLE `notifications` ADD `secret_hint` text;--> statement-breakpoint
-- Secrets issued before rotation: their creator is the registration's creator, and any expiry they have was set at issue.
UPDATE client_secrets SET
  created_by = (SELECT u.email FROM app_registrations r JOIN users u ON u.id = r.created_by WHERE r.id = client_secrets.registration_id),
  expiry_set_at = CASE WHEN expires_at IS NULL THEN NULL ELSE created_at END;
