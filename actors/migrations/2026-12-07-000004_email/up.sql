-- Email notifications (docs/notifications.md, "Email").
--
-- Each user chooses: `off`, `instant` (one mail per notification) or `daily` (one digest at
-- 08:00 in their `time_zone`, an IANA name the API checks).
ALTER TABLE users ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';
ALTER TABLE users ADD COLUMN email_notifications text NOT NULL DEFAULT 'off'
    CHECK (email_notifications IN ('off', 'instant', 'daily'));

-- Mails are outbox rows of channel `email`, one recipient each (`recipients[1]`):
-- kind `notification` (an instant mail, made with the notification, whose id it shares) or
-- `digest` (a user's next digest: `due_at` is the next 08:00 in their zone, re-armed when
-- sent; `details.after` is the last notification the previous digest listed). A failing mail
-- is retried at a later `due_at`; `failing_since` is when its first attempt failed.
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check
    CHECK (channel IN ('in_app', 'webhook', 'email'));
ALTER TABLE outbox ADD COLUMN failing_since timestamptz;
-- At most one armed digest per user.
CREATE UNIQUE INDEX outbox_digest_idx ON outbox ((recipients[1]))
    WHERE channel = 'email' AND kind = 'digest';
