//! Hydration: an aggregate actor's state read from its rows, at one exact version. A user's
//! rows and a team's have the same shape in tables of their own (`user_stats` and
//! `user_activity`, `team_stats` and `team_activity`), so one read serves both: a team's
//! statistics row has no sharing counters, and a team has its owners' counts besides
//! (`team_member_stats`).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::sql::Sql;
use crate::error::Result;
use crate::model::{TaskId, TaskStatus, UserId};
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
/// when asked, its history. `None` when the user or team does not exist.
///
/// It is one statement: a statement sees one snapshot, so the parts agree without a
/// transaction, and a cold load is one round trip rather than six (a storm of resumes on a
/// busy node waited on each of them).
pub(crate) async fn hydrate(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    today: NaiveDate,
    with_history: WithHistory,
) -> Result<Option<Hydrated>> {
    let oldest = today - chrono::Duration::days(ACTIVITY_WINDOW_DAYS);
    let sql = Rows::of(scope).statement(oldest, with_history);
    let state: Option<StateRow> = sql.get_result(conn).await.optional()?;
    Ok(state.map(|state| hydrated(state, with_history)))
}

/// Where a scope's rows are.
struct Rows {
    stats: &'static str,
    activity: &'static str,
    /// The column the statistics and activity tables are keyed by.
    key: &'static str,
    /// The tasks' column that puts a task in the scope.
    task_key: &'static str,
    /// The sharing counters, as the statistics row gives them.
    sharing: &'static str,
    /// The owners' counts (a team's), as three arrays.
    members: &'static str,
    id: Uuid,
}

impl Rows {
    fn of(scope: Scope) -> Self {
        match scope {
            Scope::User(user) => Self {
                stats: "user_stats",
                activity: "user_activity",
                key: "user_id",
                task_key: "owner_id",
                sharing: "s.shared_with_me, s.shared_by_me",
                members: "SELECT '{}'::uuid[] AS users, '{}'::bigint[] AS totals, \
                          '{}'::bigint[] AS done",
                id: user.0,
            },
            Scope::Team(team) => Self {
                stats: "team_stats",
                activity: "team_activity",
                key: "team_id",
                task_key: "team_id",
                sharing: "0::bigint, 0::bigint",
                members: "SELECT coalesce(array_agg(m.user_id), '{}') AS users, \
                          coalesce(array_agg(m.total), '{}') AS totals, \
                          coalesce(array_agg(m.completed), '{}') AS done \
                          FROM team_member_stats m WHERE m.team_id = s.team_id AND m.total > 0",
                id: team.0,
            },
        }
    }

    /// The statement. An aggregate over the scope's rows gives one row whatever their number,
    /// so the statistics row comes back once, or not at all when the scope does not exist.
    /// The open tasks' condition is the due-date indexes' own, written out so that the
    /// prepared statement's generic plan can still use them.
    fn statement(&self, oldest: NaiveDate, with_history: WithHistory) -> Sql<StateSql> {
        let Self {
            stats,
            activity,
            key,
            task_key,
            sharing,
            members,
            id,
        } = self;
        let completed = TaskStatus::Completed.as_str();
        let mut sql = Sql::new();
        sql.generated(format!(
            "SELECT s.version, s.updated_at, s.pending, s.in_progress, s.completed, s.low, \
             s.medium, s.high, s.urgent, {sharing}, \
             d.due_at, d.ids, a.days, a.created, a.completed, m.users, m.totals, m.done, \
             h.owners, h.created, h.started, h.completed \
             FROM {stats} s \
             CROSS JOIN LATERAL (SELECT coalesce(array_agg(t.due_at), '{{}}') AS due_at, \
             coalesce(array_agg(t.id), '{{}}') AS ids FROM tasks t \
             WHERE t.{task_key} = s.{key} AND t.status <> '{completed}' \
             AND t.due_at IS NOT NULL) d \
             CROSS JOIN LATERAL (SELECT coalesce(array_agg(y.day), '{{}}') AS days, \
             coalesce(array_agg(y.created), '{{}}') AS created, \
             coalesce(array_agg(y.completed), '{{}}') AS completed \
             FROM {activity} y WHERE y.{key} = s.{key} AND y.day >= "
        ))
        .bind(oldest)
        .generated(format!(
            ") a \
             CROSS JOIN LATERAL ({members}) m \
             CROSS JOIN LATERAL (SELECT coalesce(array_agg(t.owner_id), '{{}}') AS owners, \
             coalesce(array_agg(t.created_at), '{{}}') AS created, \
             coalesce(array_agg(t.started_at), '{{}}') AS started, \
             coalesce(array_agg(t.completed_at), '{{}}') AS completed \
             FROM tasks t WHERE t.{task_key} = s.{key} AND "
        ))
        .bind(with_history == WithHistory::Yes)
        .generated(format!(") h WHERE s.{key} = "))
        .bind(*id);
        sql
    }
}

type StateSql = (
    (
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
    ),
    (Array<Timestamptz>, Array<SqlUuid>),
    (Array<Date>, Array<BigInt>, Array<BigInt>),
    (Array<SqlUuid>, Array<BigInt>, Array<BigInt>),
    (
        Array<SqlUuid>,
        Array<Timestamptz>,
        Array<Nullable<Timestamptz>>,
        Array<Nullable<Timestamptz>>,
    ),
);

/// A scope's whole state, as [`hydrate`] reads it.
#[derive(Queryable)]
struct StateRow {
    stats: StatsRow,
    due: DueRows,
    days: DayRows,
    members: MemberRows,
    history: HistoryRows,
}

/// A `user_stats` or `team_stats` row.
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

/// The open tasks' due dates and ids, in the same order.
#[derive(Queryable)]
struct DueRows {
    due_at: Vec<DateTime<Utc>>,
    ids: Vec<TaskId>,
}

/// The activity rows' days and counts, in the same order.
#[derive(Queryable)]
struct DayRows {
    days: Vec<NaiveDate>,
    created: Vec<i64>,
    completed: Vec<i64>,
}

/// A team's owners and their counts, in the same order.
#[derive(Queryable)]
struct MemberRows {
    users: Vec<UserId>,
    totals: Vec<i64>,
    completed: Vec<i64>,
}

/// The scope's tasks' milestones, in the same order (empty unless the history was asked).
#[derive(Queryable)]
struct HistoryRows {
    owners: Vec<UserId>,
    created: Vec<DateTime<Utc>>,
    started: Vec<Option<DateTime<Utc>>>,
    completed: Vec<Option<DateTime<Utc>>>,
}

/// The state from its rows: due dates soonest first, active days oldest first.
fn hydrated(state: StateRow, with_history: WithHistory) -> Hydrated {
    let StateRow {
        stats,
        due,
        days,
        members,
        history,
    } = state;
    let mut open_due: Vec<(DateTime<Utc>, TaskId)> = due.due_at.into_iter().zip(due.ids).collect();
    open_due.sort_unstable();
    let mut days: Vec<(NaiveDate, DayCounts)> = days
        .days
        .into_iter()
        .zip(days.created.into_iter().zip(days.completed))
        .filter(|(_, (created, completed))| *created != 0 || *completed != 0)
        .map(|(day, (created, completed))| (day, DayCounts { created, completed }))
        .collect();
    days.sort_unstable_by_key(|(day, _)| *day);
    let members = members
        .users
        .into_iter()
        .zip(members.totals.into_iter().zip(members.completed))
        .map(|(user, (total, completed))| (user, MemberCounts { total, completed }));
    let history = match with_history {
        WithHistory::Yes => Some(Arc::new(History::of(
            history
                .owners
                .into_iter()
                .zip(history.created)
                .zip(history.started.into_iter().zip(history.completed))
                .map(|((owner, created), (started, completed))| {
                    Milestones::of(created, started, completed, owner)
                }),
        ))),
        WithHistory::No => None,
    };
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
            members: Arc::new(members.collect()),
            history,
        },
    }
}
