-- One row per mutation and per authentication event, written in the transaction of the change.
-- No foreign keys to teams or targets: the history outlives what it describes.
CREATE TABLE audit_log (
    id          uuid        PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    uuid        REFERENCES users (id) ON DELETE SET NULL,
    action      text        NOT NULL CHECK (char_length(action) BETWEEN 1 AND 64),
    target_type text        NOT NULL CHECK (char_length(target_type) BETWEEN 1 AND 32),
    target_id   uuid,
    team_id     uuid,
    details     jsonb       NOT NULL DEFAULT '{}'::jsonb
);

-- Keyset pages of "my actions" and "my team's log", newest first (ids are UUIDv7).
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_team_idx ON audit_log (team_id, id) WHERE team_id IS NOT NULL;
