-- The change log: every aggregate change, written in the transaction that bumps the aggregate's
-- row (DESIGN.md, "More than one node"). It is the history that nodes share: a node that hears
-- a scope moved reads the versions it lacks from here, and a client resumes from here on any
-- node. Retention is bounded; the engine prunes it in the background.
CREATE TABLE aggregate_changes (
    scope_kind   text        NOT NULL CHECK (scope_kind IN ('user', 'team')),
    scope_id     uuid        NOT NULL,
    version      bigint      NOT NULL CHECK (version >= 1),
    delta        jsonb       NOT NULL,
    committed_at timestamptz NOT NULL,
    PRIMARY KEY (scope_kind, scope_id, version)
);

-- Pruning by age; rows arrive in time order, so a BRIN index costs writes almost nothing.
CREATE INDEX aggregate_changes_committed_idx ON aggregate_changes USING brin (committed_at);
