//! A team's aggregate: `team_stats`, its open tasks' due dates, `team_activity`, and the
//! per-owner counts of `team_member_stats`.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{Counters, DayRow, Hydrated, hydrated, open_due};
use crate::error::Result;
use crate::model::{TeamId, UserId};
use crate::stats::{Counts, MemberCounts, Scope};
use crate::store::schema::{team_activity, team_member_stats, team_stats};

/// The team's row, its tasks' due dates, its recent days and its owners' counts.
pub(super) async fn hydrate(
    conn: &mut AsyncPgConnection,
    team: TeamId,
    oldest: NaiveDate,
) -> Result<Option<Hydrated>> {
    let row: Option<TeamStatsRow> = team_stats::table
        .find(team)
        .select(TeamStatsRow::as_select())
        .first(conn)
        .await
        .optional()?;
    let due = open_due(conn, Scope::Team(team)).await?;
    let days: Vec<DayRow> = team_activity::table
        .filter(
            team_activity::team_id
                .eq(team)
                .and(team_activity::day.ge(oldest)),
        )
        .select((
            team_activity::day,
            team_activity::created,
            team_activity::completed,
        ))
        .load(conn)
        .await?;
    let members: Vec<MemberRow> = team_member_stats::table
        .filter(
            team_member_stats::team_id
                .eq(team)
                .and(team_member_stats::total.gt(0)),
        )
        .select(MemberRow::as_select())
        .load(conn)
        .await?;
    let members = members.into_iter().map(MemberRow::into_counts).collect();
    Ok(row.map(|row| hydrated(row.into(), due, days, members)))
}

/// A `team_stats` row: a user's counters without the sharing ones.
#[derive(Queryable, Selectable)]
#[diesel(table_name = team_stats, check_for_backend(Pg))]
struct TeamStatsRow {
    version: i64,
    updated_at: DateTime<Utc>,
    pending: i64,
    in_progress: i64,
    completed: i64,
    low: i64,
    medium: i64,
    high: i64,
    urgent: i64,
}

impl From<TeamStatsRow> for Counters {
    fn from(row: TeamStatsRow) -> Self {
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
                shared_with_me: 0,
                shared_by_me: 0,
            },
        }
    }
}

/// One owner's `team_member_stats` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = team_member_stats, check_for_backend(Pg))]
struct MemberRow {
    user_id: UserId,
    total: i64,
    completed: i64,
}

impl MemberRow {
    fn into_counts(self) -> (UserId, MemberCounts) {
        let counts = MemberCounts {
            total: self.total,
            completed: self.completed,
        };
        (self.user_id, counts)
    }
}
