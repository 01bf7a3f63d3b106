CREATE TABLE tasks (
    id           uuid        PRIMARY KEY,
    title        text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description  text        NOT NULL DEFAULT '' CHECK (char_length(description) <= 10000),
    status       text        NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'in_progress', 'completed')),
    priority     text        NOT NULL DEFAULT 'medium'
                             CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    due_at       timestamptz,
    owner_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The engine deletes a team's tasks itself (their owners' aggregates must change too);
    -- the cascade only guarantees that no task outlives its team.
    team_id      uuid        REFERENCES teams (id) ON DELETE CASCADE,
    version      bigint      NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);

-- Keyset pages of a user's own tasks and of a team's tasks (ids are UUIDv7: they sort by time).
CREATE INDEX tasks_owner_idx ON tasks (owner_id, id);
CREATE INDEX tasks_team_idx ON tasks (team_id, id) WHERE team_id IS NOT NULL;
-- Hydration reads the due dates of open tasks to count overdue ones against the clock.
CREATE INDEX tasks_owner_open_due_idx ON tasks (owner_id, due_at)
    WHERE status <> 'completed' AND due_at IS NOT NULL;
CREATE INDEX tasks_team_open_due_idx ON tasks (team_id, due_at)
    WHERE status <> 'completed' AND due_at IS NOT NULL AND team_id IS NOT NULL;

CREATE TABLE task_shares (
    task_id    uuid        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission text        NOT NULL CHECK (permission IN ('view', 'edit')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, user_id)
);

-- "Shared with me", paged by task id.
CREATE INDEX task_shares_user_idx ON task_shares (user_id, task_id);
