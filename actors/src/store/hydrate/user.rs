//! A user's aggregate: `user_stats`, their open tasks' due dates, `user_activity`.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{Counters, DayRow, Hydrated, hydrated, open_due};
use crate::error::Result;
use crate::model::UserId;
use crate::stats::{Counts, Scope};
use crate::store::schema::{user_activity, user_stats};

/// The user's row, the due dates of the tasks they own, and their recent days.
pub(super) async fn hydrate(
    conn: &mut AsyncPgConnection,
    user: UserId,
    oldest: NaiveDate,
) -> Result<Option<Hydrated>> {
    let row: Option<UserStatsRow> = user_stats::table
        .find(user)
        .select(UserStatsRow::as_select())
        .first(conn)
        .await
        .optional()?;
    let due = open_due(conn, Scope::User(user)).await?;
    let days: Vec<DayRow> = user_activity::table
        .filter(
            user_activity::user_id
                .eq(user)
                .and(user_activity::day.ge(oldest)),
        )
        .select((
            user_activity::day,
            user_activity::created,
            user_activity::completed,
        ))
        .load(conn)
        .await?;
    Ok(row.map(|row| hydrated(row.into(), due, days, Vec::new())))
}

/// A `user_stats` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = user_stats, check_for_backend(Pg))]
struct UserStatsRow {
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

impl From<UserStatsRow> for Counters {
    fn from(row: UserStatsRow) -> Self {
        Self {
            version: row.version,
            as_of: row.updated_at,
            counts: Counts {
                pending: row.pending,
                in_progress: row.in_progress,
                completed: row.completed,
                low: row.low,
                medium: row.medium,
                high: row.high,
                urgent: row.urgent,
                shared_with_me: row.shared_with_me,
                shared_by_me: row.shared_by_me,
            },
        }
    }
}
