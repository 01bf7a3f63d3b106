-- Webhooks (docs/webhooks.md).
--
-- `webhooks`: a user's (`owner_id`) or a team's (`team_id`) subscription to events, with the
-- secret that signs its requests (kept: signing needs it). Its delivery state lives on the row:
-- one worker at a time holds a webhook (`leased_until`), so its events go out one after the
-- other in commit order; a failure holds them all back until `retry_at`.
CREATE TABLE webhooks (
    id            uuid        PRIMARY KEY,
    owner_id      uuid        REFERENCES users (id) ON DELETE CASCADE,
    team_id       uuid        REFERENCES teams (id) ON DELETE CASCADE,
    created_by    uuid        REFERENCES users (id) ON DELETE SET NULL,
    url           text        NOT NULL,
    events        text[]      NOT NULL CHECK (cardinality(events) > 0),
    secret        text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    leased_until  timestamptz,
    retry_at      timestamptz,
    failing_since timestamptz,
    disabled_at   timestamptz,
    CHECK ((owner_id IS NULL) <> (team_id IS NULL))
);

-- The write path's lookup: a change's webhooks, by the users whose feed shows it and by its team.
CREATE INDEX webhooks_owner_idx ON webhooks (owner_id) WHERE disabled_at IS NULL;
CREATE INDEX webhooks_team_idx ON webhooks (team_id) WHERE disabled_at IS NULL;

-- A webhook's pending events are outbox rows of channel `webhook`, one per (event, webhook),
-- written in the change's statement or transaction like every outbox row. `event_id` is the
-- change's audit entry, the same for every webhook it reaches: the body's `id` and the
-- `webhook-id` header, unchanged over retries.
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('in_app', 'webhook'));
ALTER TABLE outbox ADD COLUMN webhook_id uuid REFERENCES webhooks (id) ON DELETE CASCADE;
ALTER TABLE outbox ADD COLUMN event_id uuid;
ALTER TABLE outbox ADD CONSTRAINT outbox_webhook_check
    CHECK ((channel = 'webhook') = (webhook_id IS NOT NULL AND event_id IS NOT NULL));
-- A webhook's events in commit order (`tx`, then the event's UUIDv7).
CREATE INDEX outbox_webhook_idx ON outbox (webhook_id, tx, event_id) WHERE webhook_id IS NOT NULL;

-- Every attempt, as GET /api/v1/webhooks/{id}/deliveries lists them (kept for a week).
CREATE TABLE webhook_deliveries (
    id              uuid        PRIMARY KEY,
    webhook_id      uuid        NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        uuid        NOT NULL,
    event           text        NOT NULL,
    attempt         integer     NOT NULL CHECK (attempt > 0),
    at              timestamptz NOT NULL,
    status          text        NOT NULL CHECK (status IN ('delivered', 'failed', 'abandoned')),
    response_status integer,
    next_attempt_at timestamptz
);
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_age_idx ON webhook_deliveries (at);
