-- One audit vocabulary (src/audit/admin-audit.ts): actions are verbs, field keys are camelCase.
-- Registration rows used past tenses, key rows "add"/"remove", Site and user rows snake_case keys.
UPDATE admin_audit_events SET action = CASE action
  WHEN 'created' THEN 'create'
  WHEN 'updated' THEN 'update'
  WHEN 'deleted' THEN 'delete'
  WHEN 'enabled' THEN 'enable'
  WHEN 'disabled' THEN 'disable'
  END
WHERE target_type = 'app_registration' AND action IN ('created', 'updated', 'deleted', 'enabled', 'disabled');
--> statement-breakpoint
UPDATE admin_audit_events SET action = action || '_key'
WHERE target_type = 'client_key' AND action IN ('add', 'remove');
--> statement-breakpoint
-- Keys are replaced as JSON text: inside a JSON string value a quote is escaped, so `"time_zone":` is only ever a key.
UPDATE admin_audit_events SET changes =
  replace(replace(replace(replace(changes,
    '"time_zone":', '"timeZone":'),
    '"rest_api_enabled":', '"restApiEnabled":'),
    '"max_registration_days":', '"maxRegistrationDays":'),
    '"is_global_admin":', '"isGlobalAdmin":')
WHERE target_type IN ('site', 'user')
  AND (changes LIKE '%"time_zone":%' OR changes LIKE '%"rest_api_enabled":%'
    OR changes LIKE '%"max_registration_days":%' OR changes LIKE '%"is_global_admin":%');
