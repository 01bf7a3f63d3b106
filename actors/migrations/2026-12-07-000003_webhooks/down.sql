DROP TABLE webhook_deliveries;
DELETE FROM outbox WHERE channel = 'webhook';
DROP INDEX outbox_webhook_idx;
ALTER TABLE outbox DROP CONSTRAINT outbox_webhook_check;
ALTER TABLE outbox DROP COLUMN event_id;
ALTER TABLE outbox DROP COLUMN webhook_id;
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('in_app'));
DROP TABLE webhooks;
