ALTER TABLE tasks DROP COLUMN shares_version;
