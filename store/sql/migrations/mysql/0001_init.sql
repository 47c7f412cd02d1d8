-- voxrun provisioning schema, version 1 (MySQL / MariaDB).
-- Table and column names follow jambonz's db/jambones-sql.sql. Every table's
-- schema version is recorded in tableversions (seed 001); a migration that
-- changes a table bumps its row there.

-- +goose Up
CREATE TABLE `tableversions` (
  `table_name` VARCHAR(64) NOT NULL PRIMARY KEY,
  `table_version` INT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `webhooks` (
  `webhook_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `url` VARCHAR(1024) NOT NULL,
  `method` VARCHAR(16) NOT NULL DEFAULT 'POST',
  `username` VARCHAR(255) NULL,
  `password` TEXT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `service_providers` (
  `service_provider_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `name` VARCHAR(64) NOT NULL,
  `description` VARCHAR(255) NULL,
  `root_domain` VARCHAR(128) NULL,
  `registration_hook_sid` CHAR(36) NULL,
  `ms_teams_fqdn` VARCHAR(255) NULL,
  `lcr_sid` CHAR(36) NULL,
  UNIQUE KEY `service_providers_name_uq` (`name`),
  UNIQUE KEY `service_providers_root_domain_uq` (`root_domain`),
  CONSTRAINT `service_providers_registration_hook_fk` FOREIGN KEY (`registration_hook_sid`) REFERENCES `webhooks` (`webhook_sid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `accounts` (
  `account_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `name` VARCHAR(64) NOT NULL,
  `sip_realm` VARCHAR(132) NULL,
  `service_provider_sid` CHAR(36) NOT NULL,
  `registration_hook_sid` CHAR(36) NULL,
  `queue_event_hook_sid` CHAR(36) NULL,
  `device_calling_application_sid` CHAR(36) NULL,
  `is_active` TINYINT(1) NOT NULL DEFAULT 1,
  `webhook_secret` TEXT NOT NULL,
  `disable_cdrs` TINYINT(1) NOT NULL DEFAULT 0,
  `record_all_calls` TINYINT(1) NOT NULL DEFAULT 0,
  `lcr_sid` CHAR(36) NULL,
  `created_at` DATETIME(3) NOT NULL,
  UNIQUE KEY `accounts_sip_realm_uq` (`sip_realm`),
  KEY `accounts_service_provider_idx` (`service_provider_sid`),
  CONSTRAINT `accounts_service_provider_fk` FOREIGN KEY (`service_provider_sid`) REFERENCES `service_providers` (`service_provider_sid`),
  CONSTRAINT `accounts_registration_hook_fk` FOREIGN KEY (`registration_hook_sid`) REFERENCES `webhooks` (`webhook_sid`),
  CONSTRAINT `accounts_queue_event_hook_fk` FOREIGN KEY (`queue_event_hook_sid`) REFERENCES `webhooks` (`webhook_sid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `account_limits` (
  `account_limits_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `account_sid` CHAR(36) NOT NULL,
  `category` VARCHAR(32) NOT NULL,
  `quantity` INT NOT NULL,
  UNIQUE KEY `account_limits_category_uq` (`account_sid`, `category`),
  CONSTRAINT `account_limits_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `js_apps` (
  `js_app_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `account_sid` CHAR(36) NOT NULL,
  `name` VARCHAR(64) NOT NULL,
  `description` VARCHAR(255) NULL,
  `current_version` INT NOT NULL DEFAULT 0,
  `env_vars` TEXT NULL,
  `created_at` DATETIME(3) NOT NULL,
  `updated_at` DATETIME(3) NOT NULL,
  UNIQUE KEY `js_apps_name_uq` (`account_sid`, `name`),
  CONSTRAINT `js_apps_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `js_app_versions` (
  `js_app_version_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `js_app_sid` CHAR(36) NOT NULL,
  `version` INT NOT NULL,
  `source` MEDIUMTEXT NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  UNIQUE KEY `js_app_versions_version_uq` (`js_app_sid`, `version`),
  CONSTRAINT `js_app_versions_js_app_fk` FOREIGN KEY (`js_app_sid`) REFERENCES `js_apps` (`js_app_sid`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `applications` (
  `application_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `name` VARCHAR(64) NOT NULL,
  `service_provider_sid` CHAR(36) NULL,
  `account_sid` CHAR(36) NULL,
  `call_hook_sid` CHAR(36) NULL,
  `call_status_hook_sid` CHAR(36) NULL,
  `messaging_hook_sid` CHAR(36) NULL,
  `fallback_hook_sid` CHAR(36) NULL,
  `js_app_sid` CHAR(36) NULL,
  `app_json` MEDIUMTEXT NULL,
  `speech_synthesis_vendor` VARCHAR(64) NOT NULL DEFAULT '',
  `speech_synthesis_language` VARCHAR(12) NOT NULL DEFAULT '',
  `speech_synthesis_voice` VARCHAR(256) NULL,
  `speech_recognizer_vendor` VARCHAR(64) NOT NULL DEFAULT '',
  `speech_recognizer_language` VARCHAR(64) NOT NULL DEFAULT '',
  `record_all_calls` TINYINT(1) NOT NULL DEFAULT 0,
  `strict_verbs` TINYINT(1) NOT NULL DEFAULT 0,
  `env_vars` TEXT NULL,
  `created_at` DATETIME(3) NOT NULL,
  UNIQUE KEY `applications_name_uq` (`account_sid`, `name`),
  KEY `applications_service_provider_idx` (`service_provider_sid`),
  CONSTRAINT `applications_service_provider_fk` FOREIGN KEY (`service_provider_sid`) REFERENCES `service_providers` (`service_provider_sid`),
  CONSTRAINT `applications_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`),
  CONSTRAINT `applications_call_hook_fk` FOREIGN KEY (`call_hook_sid`) REFERENCES `webhooks` (`webhook_sid`),
  CONSTRAINT `applications_call_status_hook_fk` FOREIGN KEY (`call_status_hook_sid`) REFERENCES `webhooks` (`webhook_sid`),
  CONSTRAINT `applications_messaging_hook_fk` FOREIGN KEY (`messaging_hook_sid`) REFERENCES `webhooks` (`webhook_sid`),
  CONSTRAINT `applications_fallback_hook_fk` FOREIGN KEY (`fallback_hook_sid`) REFERENCES `webhooks` (`webhook_sid`),
  CONSTRAINT `applications_js_app_fk` FOREIGN KEY (`js_app_sid`) REFERENCES `js_apps` (`js_app_sid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE `accounts` ADD CONSTRAINT `accounts_device_calling_application_fk`
  FOREIGN KEY (`device_calling_application_sid`) REFERENCES `applications` (`application_sid`);

CREATE TABLE `voip_carriers` (
  `voip_carrier_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `name` VARCHAR(64) NOT NULL,
  `description` VARCHAR(255) NULL,
  `account_sid` CHAR(36) NULL,
  `service_provider_sid` CHAR(36) NULL,
  `application_sid` CHAR(36) NULL,
  `e164_leading_plus` TINYINT(1) NOT NULL DEFAULT 0,
  `requires_register` TINYINT(1) NOT NULL DEFAULT 0,
  `register_username` VARCHAR(64) NULL,
  `register_sip_realm` VARCHAR(64) NULL,
  `register_password` TEXT NULL,
  `tech_prefix` VARCHAR(16) NULL,
  `inbound_auth_username` VARCHAR(64) NULL,
  `inbound_auth_password` TEXT NULL,
  `diversion` VARCHAR(32) NULL,
  `is_active` TINYINT(1) NOT NULL DEFAULT 1,
  `register_from_user` VARCHAR(128) NULL,
  `register_from_domain` VARCHAR(255) NULL,
  `register_public_ip_in_contact` TINYINT(1) NOT NULL DEFAULT 0,
  `register_status` VARCHAR(4096) NULL,
  `created_at` DATETIME(3) NOT NULL,
  KEY `voip_carriers_account_idx` (`account_sid`),
  KEY `voip_carriers_service_provider_idx` (`service_provider_sid`),
  CONSTRAINT `voip_carriers_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`),
  CONSTRAINT `voip_carriers_service_provider_fk` FOREIGN KEY (`service_provider_sid`) REFERENCES `service_providers` (`service_provider_sid`),
  CONSTRAINT `voip_carriers_application_fk` FOREIGN KEY (`application_sid`) REFERENCES `applications` (`application_sid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `sip_gateways` (
  `sip_gateway_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `ipv4` VARCHAR(128) NOT NULL,
  `netmask` INT NOT NULL DEFAULT 32,
  `port` INT NULL,
  `protocol` VARCHAR(16) NULL,
  `inbound` TINYINT(1) NOT NULL DEFAULT 1,
  `outbound` TINYINT(1) NOT NULL DEFAULT 0,
  `voip_carrier_sid` CHAR(36) NOT NULL,
  `is_active` TINYINT(1) NOT NULL DEFAULT 1,
  KEY `sip_gateways_ipv4_idx` (`ipv4`),
  KEY `sip_gateways_voip_carrier_idx` (`voip_carrier_sid`),
  CONSTRAINT `sip_gateways_voip_carrier_fk` FOREIGN KEY (`voip_carrier_sid`) REFERENCES `voip_carriers` (`voip_carrier_sid`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `phone_numbers` (
  `phone_number_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `number` VARCHAR(132) NOT NULL,
  `voip_carrier_sid` CHAR(36) NULL,
  `account_sid` CHAR(36) NULL,
  `application_sid` CHAR(36) NULL,
  `service_provider_sid` CHAR(36) NULL,
  UNIQUE KEY `phone_numbers_number_uq` (`number`),
  KEY `phone_numbers_account_idx` (`account_sid`),
  KEY `phone_numbers_service_provider_idx` (`service_provider_sid`),
  CONSTRAINT `phone_numbers_voip_carrier_fk` FOREIGN KEY (`voip_carrier_sid`) REFERENCES `voip_carriers` (`voip_carrier_sid`),
  CONSTRAINT `phone_numbers_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`),
  CONSTRAINT `phone_numbers_application_fk` FOREIGN KEY (`application_sid`) REFERENCES `applications` (`application_sid`),
  CONSTRAINT `phone_numbers_service_provider_fk` FOREIGN KEY (`service_provider_sid`) REFERENCES `service_providers` (`service_provider_sid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- lcr.default_carrier_set_entry_sid has no foreign key: lcr → lcr_routes →
-- lcr_carrier_set_entry → lcr would be a cycle that blocks cascading deletes.
CREATE TABLE `lcr` (
  `lcr_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `name` VARCHAR(64) NULL,
  `is_active` TINYINT(1) NOT NULL DEFAULT 1,
  `default_carrier_set_entry_sid` CHAR(36) NULL,
  `service_provider_sid` CHAR(36) NULL,
  `account_sid` CHAR(36) NULL,
  KEY `lcr_service_provider_idx` (`service_provider_sid`),
  KEY `lcr_account_idx` (`account_sid`),
  CONSTRAINT `lcr_service_provider_fk` FOREIGN KEY (`service_provider_sid`) REFERENCES `service_providers` (`service_provider_sid`),
  CONSTRAINT `lcr_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE `service_providers` ADD CONSTRAINT `service_providers_lcr_fk`
  FOREIGN KEY (`lcr_sid`) REFERENCES `lcr` (`lcr_sid`);
ALTER TABLE `accounts` ADD CONSTRAINT `accounts_lcr_fk`
  FOREIGN KEY (`lcr_sid`) REFERENCES `lcr` (`lcr_sid`);

CREATE TABLE `lcr_routes` (
  `lcr_route_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `lcr_sid` CHAR(36) NOT NULL,
  `regex` VARCHAR(32) NOT NULL,
  `description` VARCHAR(1024) NULL,
  `priority` INT NOT NULL,
  KEY `lcr_routes_lcr_idx` (`lcr_sid`),
  CONSTRAINT `lcr_routes_lcr_fk` FOREIGN KEY (`lcr_sid`) REFERENCES `lcr` (`lcr_sid`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `lcr_carrier_set_entry` (
  `lcr_carrier_set_entry_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `workload` INT NOT NULL DEFAULT 1,
  `lcr_route_sid` CHAR(36) NOT NULL,
  `voip_carrier_sid` CHAR(36) NOT NULL,
  `priority` INT NOT NULL DEFAULT 0,
  KEY `lcr_carrier_set_entry_route_idx` (`lcr_route_sid`),
  CONSTRAINT `lcr_carrier_set_entry_route_fk` FOREIGN KEY (`lcr_route_sid`) REFERENCES `lcr_routes` (`lcr_route_sid`) ON DELETE CASCADE,
  CONSTRAINT `lcr_carrier_set_entry_carrier_fk` FOREIGN KEY (`voip_carrier_sid`) REFERENCES `voip_carriers` (`voip_carrier_sid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `clients` (
  `client_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `account_sid` CHAR(36) NOT NULL,
  `is_active` TINYINT(1) NOT NULL DEFAULT 1,
  `username` VARCHAR(64) NOT NULL,
  `password` TEXT NULL,
  `allow_direct_app_calling` TINYINT(1) NOT NULL DEFAULT 1,
  `allow_direct_queue_calling` TINYINT(1) NOT NULL DEFAULT 1,
  `allow_direct_user_calling` TINYINT(1) NOT NULL DEFAULT 1,
  UNIQUE KEY `clients_username_uq` (`account_sid`, `username`),
  CONSTRAINT `clients_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `api_keys` (
  `api_key_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `token_hash` CHAR(64) NOT NULL,
  `account_sid` CHAR(36) NULL,
  `service_provider_sid` CHAR(36) NULL,
  `expires_at` DATETIME(3) NULL,
  `last_used` DATETIME(3) NULL,
  `created_at` DATETIME(3) NOT NULL,
  UNIQUE KEY `api_keys_token_hash_uq` (`token_hash`),
  KEY `api_keys_account_idx` (`account_sid`),
  KEY `api_keys_service_provider_idx` (`service_provider_sid`),
  CONSTRAINT `api_keys_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`),
  CONSTRAINT `api_keys_service_provider_fk` FOREIGN KEY (`service_provider_sid`) REFERENCES `service_providers` (`service_provider_sid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `speech_credentials` (
  `speech_credential_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `service_provider_sid` CHAR(36) NULL,
  `account_sid` CHAR(36) NULL,
  `vendor` VARCHAR(32) NOT NULL,
  `label` VARCHAR(64) NULL,
  `credential` TEXT NOT NULL,
  `use_for_tts` TINYINT(1) NOT NULL DEFAULT 1,
  `use_for_stt` TINYINT(1) NOT NULL DEFAULT 1,
  `last_used` DATETIME(3) NULL,
  `last_tested` DATETIME(3) NULL,
  `created_at` DATETIME(3) NOT NULL,
  KEY `speech_credentials_account_idx` (`account_sid`),
  KEY `speech_credentials_service_provider_idx` (`service_provider_sid`),
  CONSTRAINT `speech_credentials_account_fk` FOREIGN KEY (`account_sid`) REFERENCES `accounts` (`account_sid`),
  CONSTRAINT `speech_credentials_service_provider_fk` FOREIGN KEY (`service_provider_sid`) REFERENCES `service_providers` (`service_provider_sid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- CDRs and alerts carry no foreign keys: a call record outlives the tenant
-- rows it names, and records replayed from the local spool must always land.
CREATE TABLE `cdrs` (
  `call_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `account_sid` CHAR(36) NOT NULL,
  `service_provider_sid` CHAR(36) NULL,
  `application_sid` CHAR(36) NULL,
  `parent_call_sid` CHAR(36) NULL,
  `direction` VARCHAR(16) NOT NULL,
  `from` VARCHAR(255) NOT NULL,
  `to` VARCHAR(255) NOT NULL,
  `sip_callid` VARCHAR(255) NOT NULL,
  `sip_status` INT NOT NULL,
  `duration` INT NOT NULL,
  `attempted_at` DATETIME(3) NOT NULL,
  `answered_at` DATETIME(3) NULL,
  `terminated_at` DATETIME(3) NOT NULL,
  `answered` TINYINT(1) NOT NULL,
  `termination_reason` VARCHAR(255) NULL,
  `trunk` VARCHAR(255) NULL,
  `host` VARCHAR(255) NULL,
  `remote_host` VARCHAR(255) NULL,
  `trace_id` VARCHAR(64) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `alerts` (
  `alert_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `account_sid` CHAR(36) NOT NULL,
  `alert_type` VARCHAR(64) NOT NULL,
  `message` TEXT NOT NULL,
  `detail` TEXT NULL,
  `target_sid` CHAR(36) NULL,
  `vendor` VARCHAR(64) NULL,
  `created_at` DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO `tableversions` (`table_name`, `table_version`) VALUES
  ('tableversions', 1), ('webhooks', 1), ('service_providers', 1), ('accounts', 1),
  ('account_limits', 1), ('js_apps', 1), ('js_app_versions', 1), ('applications', 1),
  ('voip_carriers', 1), ('sip_gateways', 1), ('phone_numbers', 1), ('lcr', 1),
  ('lcr_routes', 1), ('lcr_carrier_set_entry', 1), ('clients', 1), ('api_keys', 1),
  ('speech_credentials', 1), ('cdrs', 1), ('alerts', 1);

-- +goose Down
SET FOREIGN_KEY_CHECKS = 0;
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
SET FOREIGN_KEY_CHECKS = 1;
