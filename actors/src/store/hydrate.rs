//! Hydration: an aggregate actor's state read from its rows, at one exact version. A user's
//! rows and a team's have the same shape in tables of their own (`user_stats` and
//! `user_activity`, `team_stats` and `team_activity`), so one read serves both: a team's
//! statistics row has no sharing counters, and a team has its owners' counts besides
//! (`team_member_stats`).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{tasks, team_member_stats};
use super::sql::Sql;
use crate::error::Result;
use crate::model::{TaskId, TaskStatus, TeamId, UserId};
use crate::stats::history::{History, Milestones};
use crate::stats::{ACTIVITY_WINDOW_DAYS, Aggregate, Counts, DayCounts, MemberCounts, Scope};

/// An aggregate read from its rows at one exact version.
#[derive(Debug, Clone)]
pub(crate) struct Hydrated {
    /// The row's version.
    pub version: i64,
    /// The row's `updated_at`.
    pub as_of: DateTime<Utc>,
    /// The state.
    pub aggregate: Aggregate,
}

/// Whether a hydration reads the scope's history too (someone follows its trends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WithHistory {
    Yes,
    No,
}

/// Reads an aggregate's row, its open due dates, recent activity, (teams) member counts and,
/// when asked, its history, in one repeatable-read snapshot. `None` when the user or team does
/// not exist.
pub(crate) async fn hydrate(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    today: NaiveDate,
    with_history: WithHistory,
) -> Result<Option<Hydrated>> {
    let oldest = today - chrono::Duration::days(ACTIVITY_WINDOW_DAYS);
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run(async |conn| {
            let rows = Rows::of(scope);
            let stats = stats_row(conn, &rows).await?;
            let due = open_due(conn, scope).await?;
            let days = day_rows(conn, &rows, oldest).await?;
            let members = match scope {
                Scope::User(_) => Vec::new(),
                Scope::Team(team) => member_counts(conn, team).await?,
            };
            let history = match with_history {
                WithHistory::Yes => Some(Arc::new(history(conn, scope).await?)),
                WithHistory::No => None,
            };
            Ok(stats.map(|stats| hydrated(stats, due, days, members, history)))
        })
        .await
}

/// One task's milestones.
#[derive(Queryable, Selectable)]
#[diesel(table_name = tasks, check_for_backend(Pg))]
struct MilestoneRow {
    owner_id: UserId,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
}

/// The scope's history from its tasks (owned by the user, or the team's).
pub(crate) async fn history(conn: &mut AsyncPgConnection, scope: Scope) -> Result<History> {
    let query = tasks::table.select(MilestoneRow::as_select()).into_boxed();
    let query = match scope {
        Scope::User(user) => query.filter(tasks::owner_id.eq(user)),
        Scope::Team(team) => query.filter(tasks::team_id.eq(team)),
    };
    let rows: Vec<MilestoneRow> = query.load(conn).await?;
    Ok(History::of(rows.into_iter().map(|row| {
        Milestones::of(
            row.created_at,
            row.started_at,
            row.completed_at,
            row.owner_id,
        )
    })))
}

/// Where a scope's rows are.
struct Rows {
    stats: &'static str,
    activity: &'static str,
    /// The column both tables are keyed by.
    key: &'static str,
    /// The sharing counters, as the statistics row gives them.
    sharing: &'static str,
    id: Uuid,
}

impl Rows {
    fn of(scope: Scope) -> Self {
        match scope {
            Scope::User(user) => Self {
                stats: "user_stats",
                activity: "user_activity",
                key: "user_id",
                sharing: "shared_with_me, shared_by_me",
                id: user.0,
            },
            Scope::Team(team) => Self {
                stats: "team_stats",
                activity: "team_activity",
                key: "team_id",
                sharing: "0::bigint, 0::bigint",
                id: team.0,
            },
        }
    }
}

type StatsSql = (
    BigInt,
    Timestamptz,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
);

/// A `user_stats` or `team_stats` row, as [`stats_row`] reads it.
#[derive(Queryable)]
struct StatsRow {
    version: i64,
    updated_at: DateTime<Utc>,
    pending: i64,
    in_progress: i64,
    completed: i64,
    low: i64,
    medium: i64,
    high: i64,
    urgent: i64,
    shared_with_me: i64,
    shared_by_me: i64,
}

/// The scope's statistics row, if the user or team exists.
async fn stats_row(conn: &mut AsyncPgConnection, rows: &Rows) -> Result<Option<StatsRow>> {
    let mut sql = Sql::<StatsSql>::new();
    sql.generated(format!(
        "SELECT version, updated_at, pending, in_progress, completed, low, medium, high, urgent, \
         {} FROM {} WHERE {} = ",
        rows.sharing, rows.stats, rows.key
    ))
    .bind(rows.id);
    Ok(sql.get_result(conn).await.optional()?)
}

/// One open task's due date.
#[derive(Queryable, Selectable)]
#[diesel(table_name = tasks, check_for_backend(Pg))]
struct DueRow {
    due_at: Option<DateTime<Utc>>,
    id: TaskId,
}

/// The due dates of the scope's open tasks (owned by the user, or the team's).
async fn open_due(conn: &mut AsyncPgConnection, scope: Scope) -> Result<Vec<DueRow>> {
    let open = tasks::status
        .ne(TaskStatus::Completed)
        .and(tasks::due_at.is_not_null());
    let query = tasks::table.select(DueRow::as_select()).into_boxed();
    let query = match scope {
        Scope::User(user) => query.filter(tasks::owner_id.eq(user).and(open)),
        Scope::Team(team) => query.filter(tasks::team_id.eq(team).and(open)),
    };
    Ok(query.load(conn).await?)
}

/// One day of a `user_activity` or `team_activity` row.
#[derive(Queryable)]
struct DayRow {
    day: NaiveDate,
    created: i64,
    completed: i64,
}

/// The scope's days from `oldest` on.
async fn day_rows(
    conn: &mut AsyncPgConnection,
    rows: &Rows,
    oldest: NaiveDate,
) -> Result<Vec<DayRow>> {
    let mut sql = Sql::<(Date, BigInt, BigInt)>::new();
    sql.generated(format!(
        "SELECT day, created, completed FROM {} WHERE {} = ",
        rows.activity, rows.key
    ))
    .bind(rows.id)
    .sql(" AND day >= ")
    .bind(oldest);
    Ok(sql.load(conn).await?)
}

/// One owner's `team_member_stats` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = team_member_stats, check_for_backend(Pg))]
struct MemberRow {
    user_id: UserId,
    total: i64,
    completed: i64,
}

/// The counts of the team's task owners (those who still own any).
async fn member_counts(
    conn: &mut AsyncPgConnection,
    team: TeamId,
) -> Result<Vec<(UserId, MemberCounts)>> {
    let rows: Vec<MemberRow> = team_member_stats::table
        .filter(
            team_member_stats::team_id
                .eq(team)
                .and(team_member_stats::total.gt(0)),
        )
        .select(MemberRow::as_select())
        .load(conn)
        .await?;
    let counts = |row: MemberRow| {
        let counts = MemberCounts {
            total: row.total,
            completed: row.completed,
        };
        (row.user_id, counts)
    };
    Ok(rows.into_iter().map(counts).collect())
}

/// The state from its rows: due dates soonest first, active days oldest first.
fn hydrated(
    stats: StatsRow,
    due: Vec<DueRow>,
    days: Vec<DayRow>,
    members: Vec<(UserId, MemberCounts)>,
    history: Option<Arc<History>>,
) -> Hydrated {
    let mut open_due: Vec<(DateTime<Utc>, TaskId)> = due
        .into_iter()
        .filter_map(|row| row.due_at.map(|at| (at, row.id)))
        .collect();
    open_due.sort_unstable();
    let mut days: Vec<(NaiveDate, DayCounts)> = days
        .into_iter()
        .filter(|row| row.created != 0 || row.completed != 0)
        .map(|row| {
            let counts = DayCounts {
                created: row.created,
                completed: row.completed,
            };
            (row.day, counts)
        })
        .collect();
    days.sort_unstable_by_key(|(day, _)| *day);
    Hydrated {
        version: stats.version,
        as_of: stats.updated_at,
        aggregate: Aggregate {
            counts: Counts {
                pending: stats.pending,
                in_progress: stats.in_progress,
                completed: stats.completed,
                low: stats.low,
                medium: stats.medium,
                high: stats.high,
                urgent: stats.urgent,
                shared_with_me: stats.shared_with_me,
                shared_by_me: stats.shared_by_me,
            },
            open_due: Arc::new(open_due),
            days: Arc::new(days),
            members: Arc::new(members.into_iter().collect()),
            history,
        },
    }
}
