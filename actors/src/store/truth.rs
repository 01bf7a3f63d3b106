//! What the aggregates must equal, computed from scratch with `COUNT(*)` over `tasks` and
//! `task_shares`. Used to rebuild the aggregate rows (after bulk loads) and to check them.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::error::{Error, Result};

/// Per user: the tasks they own by status and priority, and the sharing counters.
pub(crate) const USER_TRUTH: &str = "
    SELECT u.id AS user_id,
           coalesce(o.pending, 0) AS pending, coalesce(o.in_progress, 0) AS in_progress,
           coalesce(o.completed, 0) AS completed,
           coalesce(o.low, 0) AS low, coalesce(o.medium, 0) AS medium,
           coalesce(o.high, 0) AS high, coalesce(o.urgent, 0) AS urgent,
           coalesce(w.n, 0) AS shared_with_me, coalesce(b.n, 0) AS shared_by_me
    FROM users u
    LEFT JOIN (SELECT owner_id,
                      count(*) FILTER (WHERE status = 'pending') AS pending,
                      count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
                      count(*) FILTER (WHERE status = 'completed') AS completed,
                      count(*) FILTER (WHERE priority = 'low') AS low,
                      count(*) FILTER (WHERE priority = 'medium') AS medium,
                      count(*) FILTER (WHERE priority = 'high') AS high,
                      count(*) FILTER (WHERE priority = 'urgent') AS urgent
               FROM tasks GROUP BY owner_id) o ON o.owner_id = u.id
    LEFT JOIN (SELECT user_id, count(*) AS n FROM task_shares GROUP BY user_id) w
           ON w.user_id = u.id
    LEFT JOIN (SELECT t.owner_id, count(DISTINCT s.task_id) AS n
               FROM task_shares s JOIN tasks t ON t.id = s.task_id GROUP BY t.owner_id) b
           ON b.owner_id = u.id";

/// Per team: its tasks by status and priority.
pub(crate) const TEAM_TRUTH: &str = "
    SELECT g.id AS team_id,
           count(t.id) FILTER (WHERE t.status = 'pending') AS pending,
           count(t.id) FILTER (WHERE t.status = 'in_progress') AS in_progress,
           count(t.id) FILTER (WHERE t.status = 'completed') AS completed,
           count(t.id) FILTER (WHERE t.priority = 'low') AS low,
           count(t.id) FILTER (WHERE t.priority = 'medium') AS medium,
           count(t.id) FILTER (WHERE t.priority = 'high') AS high,
           count(t.id) FILTER (WHERE t.priority = 'urgent') AS urgent
    FROM teams g LEFT JOIN tasks t ON t.team_id = g.id
    GROUP BY g.id";

/// Per team and task owner: how many team tasks they own, and how many of those are done.
pub(crate) const TEAM_MEMBER_TRUTH: &str = "
    SELECT team_id, owner_id AS user_id, count(*) AS total,
           count(*) FILTER (WHERE status = 'completed') AS completed
    FROM tasks WHERE team_id IS NOT NULL
    GROUP BY team_id, owner_id";

/// Per scope (`kind` column 'user' by owner, 'team' by team) and UTC day: tasks created that
/// day, and tasks completed that day, among the tasks that exist now.
pub(crate) const ACTIVITY_TRUTH: &str = "
    SELECT kind, scope_id, day, sum(created)::bigint AS created, sum(completed)::bigint AS completed
    FROM (
        SELECT 'user' AS kind, owner_id AS scope_id, (created_at AT TIME ZONE 'UTC')::date AS day,
               1 AS created, 0 AS completed FROM tasks
        UNION ALL
        SELECT 'user', owner_id, (completed_at AT TIME ZONE 'UTC')::date, 0, 1
        FROM tasks WHERE completed_at IS NOT NULL
        UNION ALL
        SELECT 'team', team_id, (created_at AT TIME ZONE 'UTC')::date, 1, 0
        FROM tasks WHERE team_id IS NOT NULL
        UNION ALL
        SELECT 'team', team_id, (completed_at AT TIME ZONE 'UTC')::date, 0, 1
        FROM tasks WHERE team_id IS NOT NULL AND completed_at IS NOT NULL
    ) x
    GROUP BY kind, scope_id, day";

/// Recomputes every aggregate row from the truth, in one transaction, and bumps every
/// version. For bulk loads (`taskpulse seed`) done while no engine serves the database: live
/// actors elsewhere see the version jump and re-read their rows.
pub async fn rebuild_aggregates(conn: &mut AsyncPgConnection) -> Result<()> {
    conn.transaction::<_, Error, _>(async |conn| {
        for statement in rebuild_statements() {
            diesel::sql_query(statement).execute(conn).await?;
        }
        Ok(())
    })
    .await
}

fn rebuild_statements() -> Vec<String> {
    vec![
        "INSERT INTO user_stats (user_id) SELECT id FROM users ON CONFLICT DO NOTHING".to_owned(),
        "INSERT INTO team_stats (team_id) SELECT id FROM teams ON CONFLICT DO NOTHING".to_owned(),
        format!(
            "UPDATE user_stats s SET pending = t.pending, in_progress = t.in_progress,
                 completed = t.completed, low = t.low, medium = t.medium, high = t.high,
                 urgent = t.urgent, shared_with_me = t.shared_with_me,
                 shared_by_me = t.shared_by_me, version = s.version + 1, updated_at = now()
             FROM ({USER_TRUTH}) t WHERE s.user_id = t.user_id"
        ),
        format!(
            "UPDATE team_stats s SET pending = t.pending, in_progress = t.in_progress,
                 completed = t.completed, low = t.low, medium = t.medium, high = t.high,
                 urgent = t.urgent, version = s.version + 1, updated_at = now()
             FROM ({TEAM_TRUTH}) t WHERE s.team_id = t.team_id"
        ),
        "DELETE FROM team_member_stats".to_owned(),
        format!(
            "INSERT INTO team_member_stats (team_id, user_id, total, completed) {TEAM_MEMBER_TRUTH}"
        ),
        "DELETE FROM user_activity".to_owned(),
        "DELETE FROM team_activity".to_owned(),
        format!(
            "INSERT INTO user_activity (user_id, day, created, completed)
             SELECT scope_id, day, created, completed FROM ({ACTIVITY_TRUTH}) a WHERE kind = 'user'"
        ),
        format!(
            "INSERT INTO team_activity (team_id, day, created, completed)
             SELECT scope_id, day, created, completed FROM ({ACTIVITY_TRUTH}) a WHERE kind = 'team'"
        ),
    ]
}
