-- Grows by one with every change to a task's shares. A write that read the shares to count
-- the sharees (deleting the task) applies only while it is unchanged, and a share or unshare
-- bumps it in the same statement, so no write counts sharees that are no longer there.
ALTER TABLE tasks ADD COLUMN shares_version bigint NOT NULL DEFAULT 0;
