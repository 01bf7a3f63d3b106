-- The live aggregates' durable rows. Every change to a row bumps its version by one inside the
-- writing transaction, so the row lock orders the changes and versions have no gaps
-- (DESIGN.md, "The write path"). Overdue is not stored: it moves with the clock.

CREATE TABLE user_stats (
    user_id        uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    version        bigint      NOT NULL DEFAULT 0 CHECK (version >= 0),
    pending        bigint      NOT NULL DEFAULT 0 CHECK (pending >= 0),
    in_progress    bigint      NOT NULL DEFAULT 0 CHECK (in_progress >= 0),
    completed      bigint      NOT NULL DEFAULT 0 CHECK (completed >= 0),
    low            bigint      NOT NULL DEFAULT 0 CHECK (low >= 0),
    medium         bigint      NOT NULL DEFAULT 0 CHECK (medium >= 0),
    high           bigint      NOT NULL DEFAULT 0 CHECK (high >= 0),
    urgent         bigint      NOT NULL DEFAULT 0 CHECK (urgent >= 0),
    shared_with_me bigint      NOT NULL DEFAULT 0 CHECK (shared_with_me >= 0),
    shared_by_me   bigint      NOT NULL DEFAULT 0 CHECK (shared_by_me >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE team_stats (
    team_id     uuid        PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
    version     bigint      NOT NULL DEFAULT 0 CHECK (version >= 0),
    pending     bigint      NOT NULL DEFAULT 0 CHECK (pending >= 0),
    in_progress bigint      NOT NULL DEFAULT 0 CHECK (in_progress >= 0),
    completed   bigint      NOT NULL DEFAULT 0 CHECK (completed >= 0),
    low         bigint      NOT NULL DEFAULT 0 CHECK (low >= 0),
    medium      bigint      NOT NULL DEFAULT 0 CHECK (medium >= 0),
    high        bigint      NOT NULL DEFAULT 0 CHECK (high >= 0),
    urgent      bigint      NOT NULL DEFAULT 0 CHECK (urgent >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A team's counts by task owner. Owners who left the team keep their row while they own tasks.
CREATE TABLE team_member_stats (
    team_id   uuid   NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id   uuid   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    total     bigint NOT NULL DEFAULT 0 CHECK (total >= 0),
    completed bigint NOT NULL DEFAULT 0 CHECK (completed >= 0 AND completed <= total),
    PRIMARY KEY (team_id, user_id)
);

-- Tasks created and completed per UTC day, per user (as owner) and per team.
CREATE TABLE user_activity (
    user_id   uuid   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day       date   NOT NULL,
    created   bigint NOT NULL DEFAULT 0 CHECK (created >= 0),
    completed bigint NOT NULL DEFAULT 0 CHECK (completed >= 0),
    PRIMARY KEY (user_id, day)
);

CREATE TABLE team_activity (
    team_id   uuid   NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    day       date   NOT NULL,
    created   bigint NOT NULL DEFAULT 0 CHECK (created >= 0),
    completed bigint NOT NULL DEFAULT 0 CHECK (completed >= 0),
    PRIMARY KEY (team_id, day)
);
