//! What the aggregates must equal, computed from scratch with `COUNT(*)` over `tasks` and
//! `task_shares`. Used to rebuild the aggregate rows (after bulk loads) and to check them.

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Double;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::{tasks, teams, users};
use crate::error::{Error, Result};
use crate::model::{TaskStatus, TeamId, UserId};
use crate::stats::Scope;

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

#[derive(diesel::QueryableByName)]
struct Mismatch {
    #[diesel(sql_type = diesel::sql_types::Text)]
    what: String,
}

/// Every aggregate row (of the given users and teams) that differs from the truth, one line
/// each: counters, per-owner team counts, and daily activity.
pub(crate) async fn row_mismatches(
    conn: &mut AsyncPgConnection,
    users: &[UserId],
    teams: &[TeamId],
) -> Result<Vec<String>> {
    use diesel::sql_types::{Array, Uuid};
    let user_rows = format!(
        "SELECT 'user ' || t.user_id || ': row (pending, in_progress, completed, low, medium, high, urgent, shared_with_me, shared_by_me) = '
                || coalesce(row(s.pending, s.in_progress, s.completed, s.low, s.medium, s.high, s.urgent, s.shared_with_me, s.shared_by_me)::text, 'missing')
                || ', truth = ' || row(t.pending, t.in_progress, t.completed, t.low, t.medium, t.high, t.urgent, t.shared_with_me, t.shared_by_me)::text AS what
         FROM ({USER_TRUTH}) t LEFT JOIN user_stats s ON s.user_id = t.user_id
         WHERE t.user_id = ANY($1)
           AND row(s.pending, s.in_progress, s.completed, s.low, s.medium, s.high, s.urgent, s.shared_with_me, s.shared_by_me)
               IS DISTINCT FROM row(t.pending, t.in_progress, t.completed, t.low, t.medium, t.high, t.urgent, t.shared_with_me, t.shared_by_me)"
    );
    let team_rows = format!(
        "SELECT 'team ' || t.team_id || ': row (pending, in_progress, completed, low, medium, high, urgent) = '
                || coalesce(row(s.pending, s.in_progress, s.completed, s.low, s.medium, s.high, s.urgent)::text, 'missing')
                || ', truth = ' || row(t.pending, t.in_progress, t.completed, t.low, t.medium, t.high, t.urgent)::text AS what
         FROM ({TEAM_TRUTH}) t LEFT JOIN team_stats s ON s.team_id = t.team_id
         WHERE t.team_id = ANY($2)
           AND row(s.pending, s.in_progress, s.completed, s.low, s.medium, s.high, s.urgent)
               IS DISTINCT FROM row(t.pending, t.in_progress, t.completed, t.low, t.medium, t.high, t.urgent)"
    );
    let member_rows = format!(
        "SELECT 'team ' || coalesce(m.team_id, t.team_id) || ' owner ' || coalesce(m.user_id, t.user_id)
                || ': row (total, completed) = ' || coalesce(row(m.total, m.completed)::text, 'missing')
                || ', truth = ' || coalesce(row(t.total, t.completed)::text, 'none') AS what
         FROM (SELECT * FROM team_member_stats WHERE total <> 0 OR completed <> 0) m
         FULL JOIN ({TEAM_MEMBER_TRUTH}) t ON t.team_id = m.team_id AND t.user_id = m.user_id
         WHERE coalesce(m.team_id, t.team_id) = ANY($2)
           AND row(m.total, m.completed) IS DISTINCT FROM row(t.total, t.completed)"
    );
    let activity_rows = format!(
        "SELECT coalesce(a.kind, t.kind) || ' ' || coalesce(a.scope_id, t.scope_id)
                || ' on ' || coalesce(a.day, t.day) || ': row (created, completed) = '
                || coalesce(row(a.created, a.completed)::text, 'missing')
                || ', truth = ' || coalesce(row(t.created, t.completed)::text, 'none') AS what
         FROM (SELECT 'user' AS kind, user_id AS scope_id, day, created, completed FROM user_activity
                 WHERE created <> 0 OR completed <> 0
               UNION ALL
               SELECT 'team', team_id, day, created, completed FROM team_activity
                 WHERE created <> 0 OR completed <> 0) a
         FULL JOIN ({ACTIVITY_TRUTH}) t ON t.kind = a.kind AND t.scope_id = a.scope_id AND t.day = a.day
         WHERE ((coalesce(a.kind, t.kind) = 'user' AND coalesce(a.scope_id, t.scope_id) = ANY($1))
             OR (coalesce(a.kind, t.kind) = 'team' AND coalesce(a.scope_id, t.scope_id) = ANY($2)))
           AND row(a.created, a.completed) IS DISTINCT FROM row(t.created, t.completed)"
    );
    let mut found = Vec::new();
    for sql in [user_rows, team_rows, member_rows, activity_rows] {
        let rows: Vec<Mismatch> = diesel::sql_query(sql)
            .bind::<Array<Uuid>, _>(users)
            .bind::<Array<Uuid>, _>(teams)
            .load(conn)
            .await?;
        found.extend(rows.into_iter().map(|m| m.what));
    }
    Ok(found)
}

/// The users and teams to check: all of them, or `sample` of each chosen at random.
pub(crate) async fn scopes_to_check(
    conn: &mut AsyncPgConnection,
    sample: Option<i64>,
) -> Result<(Vec<UserId>, Vec<TeamId>)> {
    Ok(match sample {
        None => (
            users::table.select(users::id).load(conn).await?,
            teams::table.select(teams::id).load(conn).await?,
        ),
        Some(n) => {
            let random = sql::<Double>("random()");
            (
                users::table
                    .select(users::id)
                    .order(random.clone())
                    .limit(n)
                    .load(conn)
                    .await?,
                teams::table
                    .select(teams::id)
                    .order(random)
                    .limit(n)
                    .load(conn)
                    .await?,
            )
        }
    })
}

/// How many of the scope's tasks are open and due before `now`.
pub(crate) async fn overdue(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    now: DateTime<Utc>,
) -> Result<i64> {
    let open_due = tasks::status
        .ne(TaskStatus::Completed)
        .and(tasks::due_at.lt(now));
    Ok(match scope {
        Scope::User(u) => {
            tasks::table
                .filter(tasks::owner_id.eq(u).and(open_due))
                .count()
                .get_result(conn)
                .await?
        }
        Scope::Team(t) => {
            tasks::table
                .filter(tasks::team_id.eq(t).and(open_due))
                .count()
                .get_result(conn)
                .await?
        }
    })
}
