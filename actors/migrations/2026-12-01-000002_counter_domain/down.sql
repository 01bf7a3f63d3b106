ALTER TABLE team_member_stats
    ALTER COLUMN total TYPE bigint,
    ADD CONSTRAINT team_member_stats_total_check CHECK (total >= 0);

ALTER TABLE team_activity
    ALTER COLUMN created TYPE bigint,
    ALTER COLUMN completed TYPE bigint,
    ADD CONSTRAINT team_activity_created_check CHECK (created >= 0),
    ADD CONSTRAINT team_activity_completed_check CHECK (completed >= 0);

ALTER TABLE user_activity
    ALTER COLUMN created TYPE bigint,
    ALTER COLUMN completed TYPE bigint,
    ADD CONSTRAINT user_activity_created_check CHECK (created >= 0),
    ADD CONSTRAINT user_activity_completed_check CHECK (completed >= 0);

ALTER TABLE team_stats
    ALTER COLUMN version TYPE bigint,
    ALTER COLUMN pending TYPE bigint,
    ALTER COLUMN in_progress TYPE bigint,
    ALTER COLUMN completed TYPE bigint,
    ALTER COLUMN low TYPE bigint,
    ALTER COLUMN medium TYPE bigint,
    ALTER COLUMN high TYPE bigint,
    ALTER COLUMN urgent TYPE bigint,
    ADD CONSTRAINT team_stats_version_check CHECK (version >= 0),
    ADD CONSTRAINT team_stats_pending_check CHECK (pending >= 0),
    ADD CONSTRAINT team_stats_in_progress_check CHECK (in_progress >= 0),
    ADD CONSTRAINT team_stats_completed_check CHECK (completed >= 0),
    ADD CONSTRAINT team_stats_low_check CHECK (low >= 0),
    ADD CONSTRAINT team_stats_medium_check CHECK (medium >= 0),
    ADD CONSTRAINT team_stats_high_check CHECK (high >= 0),
    ADD CONSTRAINT team_stats_urgent_check CHECK (urgent >= 0);

ALTER TABLE user_stats
    ALTER COLUMN version TYPE bigint,
    ALTER COLUMN pending TYPE bigint,
    ALTER COLUMN in_progress TYPE bigint,
    ALTER COLUMN completed TYPE bigint,
    ALTER COLUMN low TYPE bigint,
    ALTER COLUMN medium TYPE bigint,
    ALTER COLUMN high TYPE bigint,
    ALTER COLUMN urgent TYPE bigint,
    ALTER COLUMN shared_with_me TYPE bigint,
    ALTER COLUMN shared_by_me TYPE bigint,
    ADD CONSTRAINT user_stats_version_check CHECK (version >= 0),
    ADD CONSTRAINT user_stats_pending_check CHECK (pending >= 0),
    ADD CONSTRAINT user_stats_in_progress_check CHECK (in_progress >= 0),
    ADD CONSTRAINT user_stats_completed_check CHECK (completed >= 0),
    ADD CONSTRAINT user_stats_low_check CHECK (low >= 0),
    ADD CONSTRAINT user_stats_medium_check CHECK (medium >= 0),
    ADD CONSTRAINT user_stats_high_check CHECK (high >= 0),
    ADD CONSTRAINT user_stats_urgent_check CHECK (urgent >= 0),
    ADD CONSTRAINT user_stats_shared_with_me_check CHECK (shared_with_me >= 0),
    ADD CONSTRAINT user_stats_shared_by_me_check CHECK (shared_by_me >= 0);

DROP DOMAIN counter;
