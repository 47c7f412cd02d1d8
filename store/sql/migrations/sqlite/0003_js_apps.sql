-- Version 2 of js_apps, js_app_versions and applications, version 1 of
-- js_app_invocations: what JS apps need to be provisioned over REST.
--
-- js_apps: the active version is named by its sid (it was a number); the
-- variables are split into plain ones (env_vars) and secret ones
-- (secret_env_vars, sealed). The old env_vars column was sealed, so its
-- values become the secret variables.
-- js_app_versions: a label and the SHA-256 of the source (set by the store
-- on upload; versions stored before this migration keep an empty one).
-- applications: a JS app to fall back on when the webhook fails. No foreign
-- key (SQLite cannot drop a column that has one): the store refuses to
-- delete a JS app that an application names.
-- js_app_invocations: each app's recent invocations with their log lines,
-- bounded by the store.

-- +goose Up
ALTER TABLE `js_apps` RENAME COLUMN `env_vars` TO `secret_env_vars`;
ALTER TABLE `js_apps` ADD COLUMN `env_vars` TEXT NULL;
ALTER TABLE `js_apps` ADD COLUMN `active_version_sid` TEXT NULL;
UPDATE `js_apps` SET `active_version_sid` = (SELECT `v`.`js_app_version_sid` FROM `js_app_versions` `v`
  WHERE `v`.`js_app_sid` = `js_apps`.`js_app_sid` AND `v`.`version` = `js_apps`.`current_version`);
ALTER TABLE `js_apps` DROP COLUMN `current_version`;

ALTER TABLE `js_app_versions` ADD COLUMN `label` TEXT NULL;
ALTER TABLE `js_app_versions` ADD COLUMN `sha256` TEXT NOT NULL DEFAULT '';

ALTER TABLE `applications` ADD COLUMN `fallback_js_app_sid` TEXT NULL;

CREATE TABLE `js_app_invocations` (
  `js_app_invocation_sid` TEXT NOT NULL PRIMARY KEY,
  `js_app_sid` TEXT NOT NULL,
  `account_sid` TEXT NOT NULL,
  `js_app_version_sid` TEXT NULL,
  `call_sid` TEXT NULL,
  `hook` TEXT NOT NULL,
  `outcome` TEXT NOT NULL,
  `error` TEXT NULL,
  `duration_us` INTEGER NOT NULL,
  `logs` TEXT NULL,
  `created_at` DATETIME NOT NULL,
  CONSTRAINT `js_app_invocations_js_app_fk` FOREIGN KEY (`js_app_sid`) REFERENCES `js_apps` (`js_app_sid`) ON DELETE CASCADE
);
CREATE INDEX `js_app_invocations_app_created_idx` ON `js_app_invocations` (`js_app_sid`, `created_at`);

UPDATE `tableversions` SET `table_version` = 2 WHERE `table_name` IN ('js_apps', 'js_app_versions', 'applications');
INSERT INTO `tableversions` (`table_name`, `table_version`) VALUES ('js_app_invocations', 1);

-- +goose Down
DELETE FROM `tableversions` WHERE `table_name` = 'js_app_invocations';
UPDATE `tableversions` SET `table_version` = 1 WHERE `table_name` IN ('js_apps', 'js_app_versions', 'applications');
DROP TABLE `js_app_invocations`;
ALTER TABLE `applications` DROP COLUMN `fallback_js_app_sid`;
ALTER TABLE `js_app_versions` DROP COLUMN `sha256`;
ALTER TABLE `js_app_versions` DROP COLUMN `label`;
ALTER TABLE `js_apps` ADD COLUMN `current_version` INTEGER NOT NULL DEFAULT 0;
UPDATE `js_apps` SET `current_version` = COALESCE((SELECT `v`.`version` FROM `js_app_versions` `v`
  WHERE `v`.`js_app_version_sid` = `js_apps`.`active_version_sid`), 0);
ALTER TABLE `js_apps` DROP COLUMN `active_version_sid`;
-- The plain variables cannot go back into a sealed column from SQL: they are dropped.
ALTER TABLE `js_apps` DROP COLUMN `env_vars`;
ALTER TABLE `js_apps` RENAME COLUMN `secret_env_vars` TO `env_vars`;
