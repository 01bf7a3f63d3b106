//! The aggregate rows: deltas applied inside the writing transaction (each bumping its row's
//! version by exactly one), and hydration of an actor from its rows in one snapshot.

use std::collections::BTreeMap;
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
use crate::stats::{
    ACTIVITY_WINDOW_DAYS, Aggregate, Counts, DayCounts, Delta, DeltaSet, MemberCounts, Scope,
};

/// A delta as committed: its aggregate's new version and when it changed.
#[derive(Debug, Clone)]
pub struct Published {
    /// The aggregate.
    pub scope: Scope,
    /// The version this delta brings the aggregate to.
    pub version: i64,
    /// When the change was committed (the row's `updated_at`).
    pub as_of: DateTime<Utc>,
    /// The change.
    pub delta: Arc<Delta>,
}

/// Applies every delta of a command to its rows, in `DeltaSet` (= lock) order, so that
/// concurrent commands never deadlock. Answers what to publish once committed.
pub(crate) async fn apply_deltas(
    conn: &mut AsyncPgConnection,
    set: DeltaSet,
) -> Result<Vec<Published>> {
    let mut published = Vec::with_capacity(set.len());
    for (scope, delta) in set {
        let (version, as_of) = match scope {
            Scope::User(user) => bump_user_row(conn, user.0, &delta.counts).await?,
            Scope::Team(team) => bump_team_row(conn, team.0, &delta.counts).await?,
        };
        apply_days(conn, scope, &delta.days).await?;
        if let Scope::Team(team) = scope {
            apply_members(conn, team.0, &delta.members).await?;
        }
        published.push(Published {
            scope,
            version,
            as_of,
            delta: Arc::new(delta),
        });
    }
    Ok(published)
}

async fn bump_user_row(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    d: &Counts,
) -> Result<(i64, DateTime<Utc>)> {
    use user_stats::dsl as s;
    // A row missing (an account made outside the engine) starts at zero.
    diesel::insert_into(s::user_stats)
        .values(s::user_id.eq(id))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(diesel::update(s::user_stats.find(id))
        .set((
            s::pending.eq(s::pending + d.pending),
            s::in_progress.eq(s::in_progress + d.in_progress),
            s::completed.eq(s::completed + d.completed),
            s::low.eq(s::low + d.low),
            s::medium.eq(s::medium + d.medium),
            s::high.eq(s::high + d.high),
            s::urgent.eq(s::urgent + d.urgent),
            s::shared_with_me.eq(s::shared_with_me + d.shared_with_me),
            s::shared_by_me.eq(s::shared_by_me + d.shared_by_me),
            s::version.eq(s::version + 1),
            s::updated_at.eq(diesel::dsl::now),
        ))
        .returning((s::version, s::updated_at))
        .get_result(conn)
        .await?)
}

async fn bump_team_row(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    d: &Counts,
) -> Result<(i64, DateTime<Utc>)> {
    use team_stats::dsl as s;
    diesel::insert_into(s::team_stats)
        .values(s::team_id.eq(id))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(diesel::update(s::team_stats.find(id))
        .set((
            s::pending.eq(s::pending + d.pending),
            s::in_progress.eq(s::in_progress + d.in_progress),
            s::completed.eq(s::completed + d.completed),
            s::low.eq(s::low + d.low),
            s::medium.eq(s::medium + d.medium),
            s::high.eq(s::high + d.high),
            s::urgent.eq(s::urgent + d.urgent),
            s::version.eq(s::version + 1),
            s::updated_at.eq(diesel::dsl::now),
        ))
        .returning((s::version, s::updated_at))
        .get_result(conn)
        .await?)
}

/// Adds to the day rows. Update first, insert when missing: an insert candidate carrying a
/// negative change would trip the rows' CHECKs even when it only meant to update. The scope's
/// stats row, locked above, serialises these writes.
async fn apply_days(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    days: &BTreeMap<NaiveDate, DayCounts>,
) -> Result<()> {
    for (day, c) in days {
        match scope {
            Scope::User(user) => {
                use user_activity::dsl as a;
                let updated = diesel::update(a::user_activity.find((user.0, day)))
                    .set((
                        a::created.eq(a::created + c.created),
                        a::completed.eq(a::completed + c.completed),
                    ))
                    .execute(conn)
                    .await?;
                if updated == 0 {
                    diesel::insert_into(a::user_activity)
                        .values((
                            a::user_id.eq(user.0),
                            a::day.eq(day),
                            a::created.eq(c.created),
                            a::completed.eq(c.completed),
                        ))
                        .execute(conn)
                        .await?;
                }
            }
            Scope::Team(team) => {
                use team_activity::dsl as a;
                let updated = diesel::update(a::team_activity.find((team.0, day)))
                    .set((
                        a::created.eq(a::created + c.created),
                        a::completed.eq(a::completed + c.completed),
                    ))
                    .execute(conn)
                    .await?;
                if updated == 0 {
                    diesel::insert_into(a::team_activity)
                        .values((
                            a::team_id.eq(team.0),
                            a::day.eq(day),
                            a::created.eq(c.created),
                            a::completed.eq(c.completed),
                        ))
                        .execute(conn)
                        .await?;
                }
            }
        }
    }
    Ok(())
}

/// Adds to the per-owner rows of a team (update first, as for the day rows).
async fn apply_members(
    conn: &mut AsyncPgConnection,
    team: Uuid,
    members: &BTreeMap<UserId, MemberCounts>,
) -> Result<()> {
    use team_member_stats::dsl as m;
    for (user, c) in members {
        let updated = diesel::update(m::team_member_stats.find((team, user.0)))
            .set((
                m::total.eq(m::total + c.total),
                m::completed.eq(m::completed + c.completed),
            ))
            .execute(conn)
            .await?;
        if updated == 0 {
            diesel::insert_into(m::team_member_stats)
                .values((
                    m::team_id.eq(team),
                    m::user_id.eq(user.0),
                    m::total.eq(c.total),
                    m::completed.eq(c.completed),
                ))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

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
