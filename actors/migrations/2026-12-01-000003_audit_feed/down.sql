DROP INDEX audit_log_feed_idx;
ALTER TABLE audit_log DROP COLUMN audience, DROP COLUMN tx;
