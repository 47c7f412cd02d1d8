-- Version 2 of js_apps, js_app_versions and applications, version 1 of
-- js_app_invocations: what JS apps need to be provisioned over REST.
--
-- js_apps: the active version is named by its sid (it was a number); the
-- variables are split into plain ones (env_vars) and secret ones
-- (secret_env_vars, sealed). The old env_vars column was sealed, so its
-- values become the secret variables. No foreign key on active_version_sid:
-- with the versions' ON DELETE CASCADE it would cycle, and InnoDB would then
-- refuse to delete an app with an active version; the store checks it.
-- js_app_versions: a label and the SHA-256 of the source.
-- applications: a JS app to fall back on when the webhook fails.
-- js_app_invocations: each app's recent invocations with their log lines,
-- bounded by the store.

-- +goose Up
ALTER TABLE `js_apps`
  CHANGE COLUMN `env_vars` `secret_env_vars` MEDIUMTEXT NULL,
  ADD COLUMN `env_vars` MEDIUMTEXT NULL,
  ADD COLUMN `active_version_sid` CHAR(36) NULL;
UPDATE `js_apps` SET `active_version_sid` = (SELECT `v`.`js_app_version_sid` FROM `js_app_versions` `v`
  WHERE `v`.`js_app_sid` = `js_apps`.`js_app_sid` AND `v`.`version` = `js_apps`.`current_version`);
ALTER TABLE `js_apps` DROP COLUMN `current_version`;

ALTER TABLE `js_app_versions`
  ADD COLUMN `label` VARCHAR(255) NULL,
  ADD COLUMN `sha256` CHAR(64) NOT NULL DEFAULT '';
UPDATE `js_app_versions` SET `sha256` = SHA2(`source`, 256);

ALTER TABLE `applications`
  ADD COLUMN `fallback_js_app_sid` CHAR(36) NULL,
  ADD CONSTRAINT `applications_fallback_js_app_fk` FOREIGN KEY (`fallback_js_app_sid`) REFERENCES `js_apps` (`js_app_sid`);

CREATE TABLE `js_app_invocations` (
  `js_app_invocation_sid` CHAR(36) NOT NULL PRIMARY KEY,
  `js_app_sid` CHAR(36) NOT NULL,
  `account_sid` CHAR(36) NOT NULL,
  `js_app_version_sid` CHAR(36) NULL,
  `call_sid` VARCHAR(64) NULL,
  `hook` VARCHAR(255) NOT NULL,
  `outcome` VARCHAR(16) NOT NULL,
  `error` VARCHAR(1024) NULL,
  `duration_us` BIGINT NOT NULL,
  `logs` MEDIUMTEXT NULL,
  `created_at` DATETIME(3) NOT NULL,
  KEY `js_app_invocations_app_created_idx` (`js_app_sid`, `created_at`),
  CONSTRAINT `js_app_invocations_js_app_fk` FOREIGN KEY (`js_app_sid`) REFERENCES `js_apps` (`js_app_sid`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

UPDATE `tableversions` SET `table_version` = 2 WHERE `table_name` IN ('js_apps', 'js_app_versions', 'applications');
INSERT INTO `tableversions` (`table_name`, `table_version`) VALUES ('js_app_invocations', 1);

-- +goose Down
DELETE FROM `tableversions` WHERE `table_name` = 'js_app_invocations';
UPDATE `tableversions` SET `table_version` = 1 WHERE `table_name` IN ('js_apps', 'js_app_versions', 'applications');
DROP TABLE `js_app_invocations`;
ALTER TABLE `applications` DROP FOREIGN KEY `applications_fallback_js_app_fk`;
ALTER TABLE `applications` DROP COLUMN `fallback_js_app_sid`;
ALTER TABLE `js_app_versions` DROP COLUMN `sha256`, DROP COLUMN `label`;
ALTER TABLE `js_apps` ADD COLUMN `current_version` INT NOT NULL DEFAULT 0;
UPDATE `js_apps` SET `current_version` = COALESCE((SELECT `v`.`version` FROM `js_app_versions` `v`
  WHERE `v`.`js_app_version_sid` = `js_apps`.`active_version_sid`), 0);
-- The plain variables cannot go back into a sealed column from SQL: they are dropped.
ALTER TABLE `js_apps` DROP COLUMN `active_version_sid`, DROP COLUMN `env_vars`;
ALTER TABLE `js_apps` CHANGE COLUMN `secret_env_vars` `env_vars` TEXT NULL;
