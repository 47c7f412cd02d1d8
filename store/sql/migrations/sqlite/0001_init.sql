-- voxrun provisioning schema, version 1 (SQLite).
-- Table and column names follow jambonz's db/jambones-sql.sql. Every table's
-- schema version is recorded in tableversions (seed 001); a migration that
-- changes a table bumps its row there.

-- +goose Up
CREATE TABLE `tableversions` (
  `table_name` TEXT NOT NULL PRIMARY KEY,
  `table_version` INTEGER NOT NULL
);

CREATE TABLE `webhooks` (
  `webhook_sid` TEXT NOT NULL PRIMARY KEY,
  `url` TEXT NOT NULL,
  `method` TEXT NOT NULL DEFAULT 'POST',
  `username` TEXT NULL,
  `password` TEXT NULL
);

CREATE TABLE `service_providers` (
  `service_provider_sid` TEXT NOT NULL PRIMARY KEY,
  `name` TEXT NOT NULL,
  `description` TEXT NULL,
  `root_domain` TEXT NULL,
  `registration_hook_sid` TEXT NULL,
  `ms_teams_fqdn` TEXT NULL,
  `lcr_sid` TEXT NULL,
  CONSTRAINT `service_providers_registration_hook_fk` FOREIGN KEY (`registration_hook_sid`) REFERENCES `webhooks` (`webhook_sid`),
  CONSTRAINT `service_providers_lcr_fk` FOREIGN KEY (`lcr_sid`) REFERENCES `lcr` (`lcr_sid`)
);

CREATE TABLE `accounts` (
  `account_sid` TEXT NOT NULL PRIMARY KEY,
  `name` TEXT NOT NULL,
  `sip_realm` TEXT NULL,
  `service_provider_sid` TEXT NOT NULL,
  `registration_hook_sid` TEXT NULL,
  `queue_event_hook_sid` TEXT NULL,
  `device_calling_application_sid` TEXT NULL,
  `is_active` INTEGER NOT NULL DEFAULT 1,
  `webhook_secret` TEXT NOT NULL,
  `disable_cdrs` INTEGER NOT NULL DEFAULT 0,
  `record_all_calls` INTEGER NOT NULL DEFAULT 0,
  `lcr_sid` TEXT NULL,
  `created_at` DATETIME NOT NULL,
  CONSTRAINT `accounts_service_provider_fk` FOREIGN KEY (`service_provider_sid`) REFERENCES `service_providers` (`service_provider_sid`),
  CONSTRAINT `accounts_registration_hook_fk` FOREIGN KEY (`registration_hook_sid`) REFERENCES `webhooks` (`webhook_sid`),
  CONSTRAINT `accounts_queue_event_hook_fk` FOREIGN KEY (`queue_event_hook_sid`) REFERENCES `webhooks` (`webhook_sid`),
  CONSTRAINT `accounts_device_calling_application_fk` FOREIGN KEY (`device_calling_application_sid`) REFERENCES `applications` (`application_sid`),
  CONSTRAINT `accounts_lcr_fk` FOREIGN KEY (`lcr_sid`) REFERENCES `lcr` (`lcr_sid`)
);

CREATE TABLE `account_limits` (
  `account_limits_sid` TEXT NOT NULL PRIMARY KEY,
  `account_sid` TEXT NOT NULL,
  `category` TEXT NOT NULL,
  `quantity` INTEGER NOT NULL,
  CONSTRAINT `account_limits_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`) ON DELETE CASCADE
);

CREATE TABLE `js_apps` (
  `js_app_sid` TEXT NOT NULL PRIMARY KEY,
  `account_sid` TEXT NOT NULL,
  `name` TEXT NOT NULL,
  `description` TEXT NULL,
  `current_version` INTEGER NOT NULL DEFAULT 0,
  `env_vars` TEXT NULL,
  `created_at` DATETIME NOT NULL,
  `updated_at` DATETIME NOT NULL,
  CONSTRAINT `js_apps_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`)
);

CREATE TABLE `js_app_versions` (
  `js_app_version_sid` TEXT NOT NULL PRIMARY KEY,
  `js_app_sid` TEXT NOT NULL,
  `version` INTEGER NOT NULL,
  `source` TEXT NOT NULL,
  `created_at` DATETIME NOT NULL,
  CONSTRAINT `js_app_versions_js_app_fk` FOREIGN KEY (`js_app_sid`) REFERENCES `js_apps` (`js_app_sid`) ON DELETE CASCADE
);

CREATE TABLE `applications` (
  `application_sid` TEXT NOT NULL PRIMARY KEY,
  `name` TEXT NOT NULL,
  `service_provider_sid` TEXT NULL,
  `account_sid` TEXT NULL,
  `call_hook_sid` TEXT NULL,
  `call_status_hook_sid` TEXT NULL,
  `messaging_hook_sid` TEXT NULL,
  `fallback_hook_sid` TEXT NULL,
  `js_app_sid` TEXT NULL,
  `app_json` TEXT NULL,
  `speech_synthesis_vendor` TEXT NOT NULL DEFAULT '',
  `speech_synthesis_language` TEXT NOT NULL DEFAULT '',
  `speech_synthesis_voice` TEXT NULL,
  `speech_recognizer_vendor` TEXT NOT NULL DEFAULT '',
  `speech_recognizer_language` TEXT NOT NULL DEFAULT '',
  `record_all_calls` INTEGER NOT NULL DEFAULT 0,
  `strict_verbs` INTEGER NOT NULL DEFAULT 0,
  `env_vars` TEXT NULL,
  `created_at` DATETIME NOT NULL,
  CONSTRAINT `applications_service_provider_fk` FOREIGN KEY (`service_provider_sid`) REFERENCES `service_providers` (`service_provider_sid`),
  CONSTRAINT `applications_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`),
  CONSTRAINT `applications_call_hook_fk` FOREIGN KEY (`call_hook_sid`) REFERENCES `webhooks` (`webhook_sid`),
  CONSTRAINT `applications_call_status_hook_fk` FOREIGN KEY (`call_status_hook_sid`) REFERENCES `webhooks` (`webhook_sid`),
  CONSTRAINT `applications_messaging_hook_fk` FOREIGN KEY (`messaging_hook_sid`) REFERENCES `webhooks` (`webhook_sid`),
  CONSTRAINT `applications_fallback_hook_fk` FOREIGN KEY (`fallback_hook_sid`) REFERENCES `webhooks` (`webhook_sid`),
  CONSTRAINT `applications_js_app_fk` FOREIGN KEY (`js_app_sid`) REFERENCES `js_apps` (`js_app_sid`)
);

CREATE TABLE `voip_carriers` (
  `voip_carrier_sid` TEXT NOT NULL PRIMARY KEY,
  `name` TEXT NOT NULL,
  `description` TEXT NULL,
  `account_sid` TEXT NULL,
  `service_provider_sid` TEXT NULL,
  `application_sid` TEXT NULL,
  `e164_leading_plus` INTEGER NOT NULL DEFAULT 0,
  `requires_register` INTEGER NOT NULL DEFAULT 0,
  `register_username` TEXT NULL,
  `register_sip_realm` TEXT NULL,
  `register_password` TEXT NULL,
  `tech_prefix` TEXT NULL,
  `inbound_auth_username` TEXT NULL,
  `inbound_auth_password` TEXT NULL,
  `diversion` TEXT NULL,
  `is_active` INTEGER NOT NULL DEFAULT 1,
  `register_from_user` TEXT NULL,
  `register_from_domain` TEXT NULL,
  `register_public_ip_in_contact` INTEGER NOT NULL DEFAULT 0,
  `register_status` TEXT NULL,
  `created_at` DATETIME NOT NULL,
  CONSTRAINT `voip_carriers_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`),
  CONSTRAINT `voip_carriers_service_provider_fk` FOREIGN KEY (`service_provider_sid`) REFERENCES `service_providers` (`service_provider_sid`),
  CONSTRAINT `voip_carriers_application_fk` FOREIGN KEY (`application_sid`) REFERENCES `applications` (`application_sid`)
);

CREATE TABLE `sip_gateways` (
  `sip_gateway_sid` TEXT NOT NULL PRIMARY KEY,
  `ipv4` TEXT NOT NULL,
  `netmask` INTEGER NOT NULL DEFAULT 32,
  `port` INTEGER NULL,
  `protocol` TEXT NULL,
  `inbound` INTEGER NOT NULL DEFAULT 1,
  `outbound` INTEGER NOT NULL DEFAULT 0,
  `voip_carrier_sid` TEXT NOT NULL,
  `is_active` INTEGER NOT NULL DEFAULT 1,
  CONSTRAINT `sip_gateways_voip_carrier_fk` FOREIGN KEY (`voip_carrier_sid`) REFERENCES `voip_carriers` (`voip_carrier_sid`) ON DELETE CASCADE
);

CREATE TABLE `phone_numbers` (
  `phone_number_sid` TEXT NOT NULL PRIMARY KEY,
  `number` TEXT NOT NULL,
  `voip_carrier_sid` TEXT NULL,
  `account_sid` TEXT NULL,
  `application_sid` TEXT NULL,
  `service_provider_sid` TEXT NULL,
  CONSTRAINT `phone_numbers_voip_carrier_fk` FOREIGN KEY (`voip_carrier_sid`) REFERENCES `voip_carriers` (`voip_carrier_sid`),
  CONSTRAINT `phone_numbers_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`),
  CONSTRAINT `phone_numbers_application_fk` FOREIGN KEY (`application_sid`) REFERENCES `applications` (`application_sid`),
  CONSTRAINT `phone_numbers_service_provider_fk` FOREIGN KEY (`service_provider_sid`) REFERENCES `service_providers` (`service_provider_sid`)
);

-- lcr.default_carrier_set_entry_sid has no foreign key: lcr → lcr_routes →
-- lcr_carrier_set_entry → lcr would be a cycle that blocks cascading deletes.
CREATE TABLE `lcr` (
  `lcr_sid` TEXT NOT NULL PRIMARY KEY,
  `name` TEXT NULL,
  `is_active` INTEGER NOT NULL DEFAULT 1,
  `default_carrier_set_entry_sid` TEXT NULL,
  `service_provider_sid` TEXT NULL,
  `account_sid` TEXT NULL,
  CONSTRAINT `lcr_service_provider_fk` FOREIGN KEY (`service_provider_sid`) REFERENCES `service_providers` (`service_provider_sid`),
  CONSTRAINT `lcr_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`)
);

CREATE TABLE `lcr_routes` (
  `lcr_route_sid` TEXT NOT NULL PRIMARY KEY,
  `lcr_sid` TEXT NOT NULL,
  `regex` TEXT NOT NULL,
  `description` TEXT NULL,
  `priority` INTEGER NOT NULL,
  CONSTRAINT `lcr_routes_lcr_fk` FOREIGN KEY (`lcr_sid`) REFERENCES `lcr` (`lcr_sid`) ON DELETE CASCADE
);

CREATE TABLE `lcr_carrier_set_entry` (
  `lcr_carrier_set_entry_sid` TEXT NOT NULL PRIMARY KEY,
  `workload` INTEGER NOT NULL DEFAULT 1,
  `lcr_route_sid` TEXT NOT NULL,
  `voip_carrier_sid` TEXT NOT NULL,
  `priority` INTEGER NOT NULL DEFAULT 0,
  CONSTRAINT `lcr_carrier_set_entry_route_fk` FOREIGN KEY (`lcr_route_sid`) REFERENCES `lcr_routes` (`lcr_route_sid`) ON DELETE CASCADE,
  CONSTRAINT `lcr_carrier_set_entry_carrier_fk` FOREIGN KEY (`voip_carrier_sid`) REFERENCES `voip_carriers` (`voip_carrier_sid`)
);

CREATE TABLE `clients` (
  `client_sid` TEXT NOT NULL PRIMARY KEY,
  `account_sid` TEXT NOT NULL,
  `is_active` INTEGER NOT NULL DEFAULT 1,
  `username` TEXT NOT NULL,
  `password` TEXT NULL,
  `allow_direct_app_calling` INTEGER NOT NULL DEFAULT 1,
  `allow_direct_queue_calling` INTEGER NOT NULL DEFAULT 1,
  `allow_direct_user_calling` INTEGER NOT NULL DEFAULT 1,
  CONSTRAINT `clients_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`)
);

CREATE TABLE `api_keys` (
  `api_key_sid` TEXT NOT NULL PRIMARY KEY,
  `token_hash` TEXT NOT NULL,
  `account_sid` TEXT NULL,
  `service_provider_sid` TEXT NULL,
  `expires_at` DATETIME NULL,
  `last_used` DATETIME NULL,
  `created_at` DATETIME NOT NULL,
  CONSTRAINT `api_keys_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`),
  CONSTRAINT `api_keys_service_provider_fk` FOREIGN KEY (`service_provider_sid`) REFERENCES `service_providers` (`service_provider_sid`)
);

CREATE TABLE `speech_credentials` (
  `speech_credential_sid` TEXT NOT NULL PRIMARY KEY,
  `service_provider_sid` TEXT NULL,
  `account_sid` TEXT NULL,
  `vendor` TEXT NOT NULL,
  `label` TEXT NULL,
  `credential` TEXT NOT NULL,
  `use_for_tts` INTEGER NOT NULL DEFAULT 1,
  `use_for_stt` INTEGER NOT NULL DEFAULT 1,
  `last_used` DATETIME NULL,
  `last_tested` DATETIME NULL,
  `created_at` DATETIME NOT NULL,
  CONSTRAINT `speech_credentials_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`),
  CONSTRAINT `speech_credentials_service_provider_fk` FOREIGN KEY (`service_provider_sid`) REFERENCES `service_providers` (`service_provider_sid`)
);

-- CDRs and alerts carry no foreign keys: a call record outlives the tenant
-- rows it names, and records replayed from the local spool must always land.
CREATE TABLE `cdrs` (
  `call_sid` TEXT NOT NULL PRIMARY KEY,
  `account_sid` TEXT NOT NULL,
  `service_provider_sid` TEXT NULL,
  `application_sid` TEXT NULL,
  `parent_call_sid` TEXT NULL,
  `direction` TEXT NOT NULL,
  `from` TEXT NOT NULL,
  `to` TEXT NOT NULL,
  `sip_callid` TEXT NOT NULL,
  `sip_status` INTEGER NOT NULL,
  `duration` INTEGER NOT NULL,
  `attempted_at` DATETIME NOT NULL,
  `answered_at` DATETIME NULL,
  `terminated_at` DATETIME NOT NULL,
  `answered` INTEGER NOT NULL,
  `termination_reason` TEXT NULL,
  `trunk` TEXT NULL,
  `host` TEXT NULL,
  `remote_host` TEXT NULL,
  `trace_id` TEXT NULL
);

CREATE TABLE `alerts` (
  `alert_sid` TEXT NOT NULL PRIMARY KEY,
  `account_sid` TEXT NOT NULL,
  `alert_type` TEXT NOT NULL,
  `message` TEXT NOT NULL,
  `detail` TEXT NULL,
  `target_sid` TEXT NULL,
  `vendor` TEXT NULL,
  `created_at` DATETIME NOT NULL
);

CREATE UNIQUE INDEX `service_providers_name_uq` ON `service_providers` (`name`);
CREATE UNIQUE INDEX `service_providers_root_domain_uq` ON `service_providers` (`root_domain`);
CREATE UNIQUE INDEX `accounts_sip_realm_uq` ON `accounts` (`sip_realm`);
CREATE INDEX `accounts_service_provider_idx` ON `accounts` (`service_provider_sid`);
CREATE UNIQUE INDEX `account_limits_category_uq` ON `account_limits` (`account_sid`, `category`);
CREATE UNIQUE INDEX `js_apps_name_uq` ON `js_apps` (`account_sid`, `name`);
CREATE UNIQUE INDEX `js_app_versions_version_uq` ON `js_app_versions` (`js_app_sid`, `version`);
CREATE UNIQUE INDEX `applications_name_uq` ON `applications` (`account_sid`, `name`);
CREATE INDEX `applications_service_provider_idx` ON `applications` (`service_provider_sid`);
CREATE INDEX `voip_carriers_account_idx` ON `voip_carriers` (`account_sid`);
CREATE INDEX `voip_carriers_service_provider_idx` ON `voip_carriers` (`service_provider_sid`);
CREATE INDEX `sip_gateways_ipv4_idx` ON `sip_gateways` (`ipv4`);
CREATE INDEX `sip_gateways_voip_carrier_idx` ON `sip_gateways` (`voip_carrier_sid`);
CREATE UNIQUE INDEX `phone_numbers_number_uq` ON `phone_numbers` (`number`);
CREATE INDEX `phone_numbers_account_idx` ON `phone_numbers` (`account_sid`);
CREATE INDEX `phone_numbers_service_provider_idx` ON `phone_numbers` (`service_provider_sid`);
CREATE INDEX `lcr_service_provider_idx` ON `lcr` (`service_provider_sid`);
CREATE INDEX `lcr_account_idx` ON `lcr` (`account_sid`);
CREATE INDEX `lcr_routes_lcr_idx` ON `lcr_routes` (`lcr_sid`);
CREATE INDEX `lcr_carrier_set_entry_route_idx` ON `lcr_carrier_set_entry` (`lcr_route_sid`);
CREATE UNIQUE INDEX `clients_username_uq` ON `clients` (`account_sid`, `username`);
CREATE UNIQUE INDEX `api_keys_token_hash_uq` ON `api_keys` (`token_hash`);
CREATE INDEX `api_keys_account_idx` ON `api_keys` (`account_sid`);
CREATE INDEX `api_keys_service_provider_idx` ON `api_keys` (`service_provider_sid`);
CREATE INDEX `speech_credentials_account_idx` ON `speech_credentials` (`account_sid`);
CREATE INDEX `speech_credentials_service_provider_idx` ON `speech_credentials` (`service_provider_sid`);

INSERT INTO `tableversions` (`table_name`, `table_version`) VALUES
  ('tableversions', 1), ('webhooks', 1), ('service_providers', 1), ('accounts', 1),
  ('account_limits', 1), ('js_apps', 1), ('js_app_versions', 1), ('applications', 1),
  ('voip_carriers', 1), ('sip_gateways', 1), ('phone_numbers', 1), ('lcr', 1),
  ('lcr_routes', 1), ('lcr_carrier_set_entry', 1), ('clients', 1), ('api_keys', 1),
  ('speech_credentials', 1), ('cdrs', 1), ('alerts', 1);

-- +goose Down
DROP TABLE `alerts`;
DROP TABLE `cdrs`;
DROP TABLE `speech_credentials`;
DROP TABLE `api_keys`;
DROP TABLE `clients`;
DROP TABLE `lcr_carrier_set_entry`;
DROP TABLE `lcr_routes`;
DROP TABLE `lcr`;
DROP TABLE `phone_numbers`;
DROP TABLE `sip_gateways`;
DROP TABLE `voip_carriers`;
DROP TABLE `applications`;
DROP TABLE `js_app_versions`;
DROP TABLE `js_apps`;
DROP TABLE `account_limits`;
DROP TABLE `accounts`;
DROP TABLE `service_providers`;
DROP TABLE `webhooks`;
DROP TABLE `tableversions`;
