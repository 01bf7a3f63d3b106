-- Notifications (docs/notifications.md).
--
-- `outbox`: what must still be delivered, written in the same statement or transaction as the
-- change that causes it, so a write that rolls back leaves none and one that commits cannot
-- lose one. Workers on every node claim due rows with `FOR UPDATE SKIP LOCKED` and a lease
-- (`leased_until`): a node killed mid-delivery leaves its rows to another once the lease ends.
-- A delivered row is deleted. One row per change, however many it reaches: `recipients`.
-- `channel` says who works the row; `in_app` rows become the recipients' notifications.
CREATE TABLE outbox (
    id           uuid        PRIMARY KEY,
    tx           bigint      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    channel      text        NOT NULL CHECK (channel IN ('in_app')),
    due_at       timestamptz NOT NULL DEFAULT now(),
    leased_until timestamptz,
    attempts     integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    at           timestamptz NOT NULL DEFAULT now(),
    kind         text        NOT NULL,
    actor_id     uuid,
    task_id      uuid,
    team_id      uuid,
    recipients   uuid[]      NOT NULL,
    details      jsonb       NOT NULL DEFAULT '{}'
);

-- The workers' claim: due rows of a channel, oldest first.
CREATE INDEX outbox_due_idx ON outbox (channel, due_at, id);

-- A user's in-app notifications. `source_id` is the outbox row it came from: a row delivered
-- twice (its lease ran out mid-delivery) makes each notification once. `tx`, as in the audit
-- log, orders them for the live topic (docs/feeds.md, "positions below the horizon").
CREATE TABLE notifications (
    id        uuid        PRIMARY KEY,
    user_id   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    source_id uuid        NOT NULL,
    at        timestamptz NOT NULL,
    kind      text        NOT NULL,
    task_id   uuid,
    team_id   uuid,
    actor_id  uuid,
    text      text        NOT NULL,
    read_at   timestamptz,
    tx        bigint      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    UNIQUE (source_id, user_id)
);

-- The inbox, newest first, and its unread part.
CREATE INDEX notifications_inbox_idx ON notifications (user_id, id);
CREATE INDEX notifications_unread_idx ON notifications (user_id, id) WHERE read_at IS NULL;
-- The live topic reads forward in (tx, id) order.
CREATE INDEX notifications_tail_idx ON notifications (tx, id);
