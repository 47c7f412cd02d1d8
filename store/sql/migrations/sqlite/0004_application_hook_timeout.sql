-- Version 3 of applications: hook_timeout_secs, the application's own bound
-- on each attempt of its hooks, in seconds (0: the node's hook_timeout, 10 s
-- by default; the runtime caps it at 60).

-- +goose Up
ALTER TABLE `applications` ADD COLUMN `hook_timeout_secs` INTEGER NOT NULL DEFAULT 0;
UPDATE `tableversions` SET `table_version` = 3 WHERE `table_name` = 'applications';

-- +goose Down
ALTER TABLE `applications` DROP COLUMN `hook_timeout_secs`;
UPDATE `tableversions` SET `table_version` = 2 WHERE `table_name` = 'applications';
