//! Hydration: an aggregate actor's state read from its rows, at one exact version. A user and
//! a team read different tables (`user.rs`, `team.rs`); what they share is here.

mod team;
mod user;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::tasks;
use crate::error::Result;
use crate::model::{TaskId, TaskStatus, UserId};
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

/// Reads an aggregate's row, its open due dates, recent activity and (teams) member counts in
/// one repeatable-read snapshot. `None` when the user or team does not exist.
pub(crate) async fn hydrate(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    today: NaiveDate,
) -> Result<Option<Hydrated>> {
    let oldest = today - chrono::Duration::days(ACTIVITY_WINDOW_DAYS);
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run(async |conn| match scope {
            Scope::User(user) => user::hydrate(conn, user, oldest).await,
            Scope::Team(team) => team::hydrate(conn, team, oldest).await,
        })
        .await
}

/// What a statistics row says, whichever scope's it is.
pub(super) struct Counters {
    version: i64,
    as_of: DateTime<Utc>,
    counts: Counts,
}

/// One open task's due date.
#[derive(Queryable, Selectable)]
#[diesel(table_name = tasks, check_for_backend(Pg))]
pub(super) struct DueRow {
    due_at: Option<DateTime<Utc>>,
    id: TaskId,
}

/// One day of a `user_activity` or `team_activity` row.
#[derive(Queryable)]
pub(super) struct DayRow {
    day: NaiveDate,
    created: i64,
    completed: i64,
}

/// The due dates of the scope's open tasks (owned by the user, or the team's).
pub(super) async fn open_due(conn: &mut AsyncPgConnection, scope: Scope) -> Result<Vec<DueRow>> {
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

/// The state from its rows: due dates soonest first, active days oldest first.
pub(super) fn hydrated(
    counters: Counters,
    due: Vec<DueRow>,
    days: Vec<DayRow>,
    members: Vec<(UserId, MemberCounts)>,
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
        version: counters.version,
        as_of: counters.as_of,
        aggregate: Aggregate {
            counts: counters.counts,
            open_due: Arc::new(open_due),
            days: Arc::new(days),
            members: Arc::new(members.into_iter().collect()),
        },
    }
}
