//! Hydration: an aggregate actor's state read from its rows, at one exact version.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{
    tasks, team_activity, team_member_stats, team_stats, user_activity, user_stats,
};
use crate::error::Result;
use crate::model::{TaskId, UserId};
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

/// What hydration reads, before it is shaped: counters row, open due dates, days, owners.
type RawAggregate = (
    Option<CountsRow>,
    Vec<(Option<DateTime<Utc>>, Uuid)>,
    Vec<(NaiveDate, i64, i64)>,
    Vec<(Uuid, i64, i64)>,
);

type CountsRow = (
    i64,
    DateTime<Utc>,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

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
        .run(async |conn| {
            let open = tasks::status
                .ne("completed")
                .and(tasks::due_at.is_not_null());
            let (row, due, days, members): RawAggregate = match scope {
                Scope::User(user) => {
                    use user_stats::dsl as s;
                    let row = s::user_stats
                        .find(user.0)
                        .select((
                            s::version,
                            s::updated_at,
                            s::pending,
                            s::in_progress,
                            s::completed,
                            s::low,
                            s::medium,
                            s::high,
                            s::urgent,
                            s::shared_with_me,
                            s::shared_by_me,
                        ))
                        .first(conn)
                        .await
                        .optional()?;
                    let due = tasks::table
                        .filter(tasks::owner_id.eq(user.0).and(open))
                        .select((tasks::due_at, tasks::id))
                        .load(conn)
                        .await?;
                    let days = user_activity::table
                        .filter(
                            user_activity::user_id
                                .eq(user.0)
                                .and(user_activity::day.ge(oldest)),
                        )
                        .select((
                            user_activity::day,
                            user_activity::created,
                            user_activity::completed,
                        ))
                        .load(conn)
                        .await?;
                    (row, due, days, Vec::new())
                }
                Scope::Team(team) => {
                    use team_stats::dsl as s;
                    let row = s::team_stats
                        .find(team.0)
                        .select((
                            s::version,
                            s::updated_at,
                            s::pending,
                            s::in_progress,
                            s::completed,
                            s::low,
                            s::medium,
                            s::high,
                            s::urgent,
                            0i64.into_sql::<diesel::sql_types::BigInt>(),
                            0i64.into_sql::<diesel::sql_types::BigInt>(),
                        ))
                        .first(conn)
                        .await
                        .optional()?;
                    let due = tasks::table
                        .filter(tasks::team_id.eq(team.0).and(open))
                        .select((tasks::due_at, tasks::id))
                        .load(conn)
                        .await?;
                    let days = team_activity::table
                        .filter(
                            team_activity::team_id
                                .eq(team.0)
                                .and(team_activity::day.ge(oldest)),
                        )
                        .select((
                            team_activity::day,
                            team_activity::created,
                            team_activity::completed,
                        ))
                        .load(conn)
                        .await?;
                    let members = team_member_stats::table
                        .filter(
                            team_member_stats::team_id
                                .eq(team.0)
                                .and(team_member_stats::total.gt(0)),
                        )
                        .select((
                            team_member_stats::user_id,
                            team_member_stats::total,
                            team_member_stats::completed,
                        ))
                        .load(conn)
                        .await?;
                    (row, due, days, members)
                }
            };
            let Some((
                version,
                as_of,
                pending,
                in_progress,
                completed,
                low,
                medium,
                high,
                urgent,
                shared_with_me,
                shared_by_me,
            )) = row
            else {
                return Ok(None);
            };
            let mut open_due: Vec<(DateTime<Utc>, TaskId)> = due
                .into_iter()
                .filter_map(|(at, id)| at.map(|at| (at, TaskId(id))))
                .collect();
            open_due.sort_unstable();
            let mut days: Vec<(NaiveDate, DayCounts)> = days
                .into_iter()
                .filter(|(_, created, completed)| *created != 0 || *completed != 0)
                .map(|(day, created, completed)| (day, DayCounts { created, completed }))
                .collect();
            days.sort_unstable_by_key(|(day, _)| *day);
            let members = members
                .into_iter()
                .map(|(user, total, completed)| (UserId(user), MemberCounts { total, completed }))
                .collect();
            Ok(Some(Hydrated {
                version,
                as_of,
                aggregate: Aggregate {
                    counts: Counts {
                        pending,
                        in_progress,
                        completed,
                        low,
                        medium,
                        high,
                        urgent,
                        shared_with_me,
                        shared_by_me,
                    },
                    open_due: Arc::new(open_due),
                    days: Arc::new(days),
                    members: Arc::new(members),
                },
            }))
        })
        .await
}
