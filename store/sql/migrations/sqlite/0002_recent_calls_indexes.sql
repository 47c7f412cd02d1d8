-- Version 2 of cdrs and alerts: the indexes that REST RecentCalls and Alerts
-- page through (one account, newest first). Version 1 had only the primary
-- key, so listing an account's calls scanned the whole table.

-- +goose Up
CREATE INDEX `cdrs_account_attempted_idx` ON `cdrs` (`account_sid`, `attempted_at`);
CREATE INDEX `alerts_account_created_idx` ON `alerts` (`account_sid`, `created_at`);
UPDATE `tableversions` SET `table_version` = 2 WHERE `table_name` IN ('cdrs', 'alerts');

-- +goose Down
DROP INDEX `cdrs_account_attempted_idx`;
DROP INDEX `alerts_account_created_idx`;
UPDATE `tableversions` SET `table_version` = 1 WHERE `table_name` IN ('cdrs', 'alerts');
