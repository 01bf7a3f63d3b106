DROP INDEX outbox_digest_idx;
DELETE FROM outbox WHERE channel = 'email';
ALTER TABLE outbox DROP COLUMN failing_since;
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('in_app', 'webhook'));
ALTER TABLE users DROP COLUMN email_notifications;
ALTER TABLE users DROP COLUMN time_zone;
