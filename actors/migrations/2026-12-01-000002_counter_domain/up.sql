-- Counters as a domain. PostgreSQL prepares a table's CHECK constraints anew, from their stored
-- text, in every statement that writes the table, but keeps a domain's checks prepared for the
-- whole connection. One task creation bumps up to five counter tables in its one statement:
-- their nineteen `>= 0` CHECKs were about a sixth of PostgreSQL's time per write (BENCHMARKS.md,
-- "Write path"). The rule itself is unchanged: no counter is ever negative.
CREATE DOMAIN counter AS bigint CHECK (VALUE >= 0);

ALTER TABLE user_stats
    DROP CONSTRAINT user_stats_version_check,
    DROP CONSTRAINT user_stats_pending_check,
    DROP CONSTRAINT user_stats_in_progress_check,
    DROP CONSTRAINT user_stats_completed_check,
    DROP CONSTRAINT user_stats_low_check,
    DROP CONSTRAINT user_stats_medium_check,
    DROP CONSTRAINT user_stats_high_check,
    DROP CONSTRAINT user_stats_urgent_check,
    DROP CONSTRAINT user_stats_shared_with_me_check,
    DROP CONSTRAINT user_stats_shared_by_me_check,
    ALTER COLUMN version TYPE counter,
    ALTER COLUMN pending TYPE counter,
    ALTER COLUMN in_progress TYPE counter,
    ALTER COLUMN completed TYPE counter,
    ALTER COLUMN low TYPE counter,
    ALTER COLUMN medium TYPE counter,
    ALTER COLUMN high TYPE counter,
    ALTER COLUMN urgent TYPE counter,
    ALTER COLUMN shared_with_me TYPE counter,
    ALTER COLUMN shared_by_me TYPE counter;

ALTER TABLE team_stats
    DROP CONSTRAINT team_stats_version_check,
    DROP CONSTRAINT team_stats_pending_check,
    DROP CONSTRAINT team_stats_in_progress_check,
    DROP CONSTRAINT team_stats_completed_check,
    DROP CONSTRAINT team_stats_low_check,
    DROP CONSTRAINT team_stats_medium_check,
    DROP CONSTRAINT team_stats_high_check,
    DROP CONSTRAINT team_stats_urgent_check,
    ALTER COLUMN version TYPE counter,
    ALTER COLUMN pending TYPE counter,
    ALTER COLUMN in_progress TYPE counter,
    ALTER COLUMN completed TYPE counter,
    ALTER COLUMN low TYPE counter,
    ALTER COLUMN medium TYPE counter,
    ALTER COLUMN high TYPE counter,
    ALTER COLUMN urgent TYPE counter;

ALTER TABLE user_activity
    DROP CONSTRAINT user_activity_created_check,
    DROP CONSTRAINT user_activity_completed_check,
    ALTER COLUMN created TYPE counter,
    ALTER COLUMN completed TYPE counter;

ALTER TABLE team_activity
    DROP CONSTRAINT team_activity_created_check,
    DROP CONSTRAINT team_activity_completed_check,
    ALTER COLUMN created TYPE counter,
    ALTER COLUMN completed TYPE counter;

-- `completed <= total` stays a table CHECK: a domain sees one value.
ALTER TABLE team_member_stats
    DROP CONSTRAINT team_member_stats_total_check,
    ALTER COLUMN total TYPE counter;
