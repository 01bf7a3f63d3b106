//! The aggregate rows: deltas applied inside the writing transaction, each bumping its row's
//! version by exactly one. Reading them back is `hydrate.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::change_log;
use super::schema::{team_activity, team_member_stats, team_stats, user_activity, user_stats};
use crate::error::{Error, Result};
use crate::model::UserId;
use crate::stats::{Counts, DayCounts, Delta, DeltaSet, MemberCounts, Scope};

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

/// Whether each change is also appended to the change log (several nodes may share the
/// database) or not (a node alone for good).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeLog {
    Append,
    Skip,
}

/// Applies every delta of a command to its rows, in `DeltaSet` (= lock) order, so that
/// concurrent commands never deadlock. Answers what to publish once committed.
pub(crate) async fn apply_deltas(
    conn: &mut AsyncPgConnection,
    set: DeltaSet,
    log: ChangeLog,
) -> Result<Vec<Published>> {
    let mut published = Vec::with_capacity(set.len());
    for (scope, delta) in set {
        let (version, as_of) = match log {
            ChangeLog::Append => bump_logged_row(conn, scope, &delta).await?,
            ChangeLog::Skip => bump_row(conn, scope, &delta.counts).await?,
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

/// Adds `d` to the scope's statistics row and bumps its version. One statement when the row
/// exists, as it does for every account and team the engine made; a missing row starts at zero.
async fn bump_row(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    d: &Counts,
) -> Result<(i64, DateTime<Utc>)> {
    if let Some(bumped) = update_row(conn, scope, d).await? {
        return Ok(bumped);
    }
    insert_zero_row(conn, scope).await?;
    // The row exists now, whoever inserted it.
    update_row(conn, scope, d)
        .await?
        .ok_or(Error::NotFound("statistics row"))
}

/// [`bump_row`] and the change's log row, in one statement (one round trip).
async fn bump_logged_row(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    delta: &Delta,
) -> Result<(i64, DateTime<Utc>)> {
    if let Some(bumped) = change_log::bump_and_append(conn, scope, delta).await? {
        return Ok(bumped);
    }
    insert_zero_row(conn, scope).await?;
    change_log::bump_and_append(conn, scope, delta)
        .await?
        .ok_or(Error::NotFound("statistics row"))
}

async fn update_row(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    d: &Counts,
) -> Result<Option<(i64, DateTime<Utc>)>> {
    Ok(match scope {
        Scope::User(user) => {
            use user_stats::dsl as s;
            diesel::update(s::user_stats.find(user.0))
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
                .await
                .optional()?
        }
        Scope::Team(team) => {
            use team_stats::dsl as s;
            diesel::update(s::team_stats.find(team.0))
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
                .await
                .optional()?
        }
    })
}

async fn insert_zero_row(conn: &mut AsyncPgConnection, scope: Scope) -> Result<()> {
    match scope {
        Scope::User(user) => {
            use user_stats::dsl as s;
            diesel::insert_into(s::user_stats)
                .values(s::user_id.eq(user.0))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?
        }
        Scope::Team(team) => {
            use team_stats::dsl as s;
            diesel::insert_into(s::team_stats)
                .values(s::team_id.eq(team.0))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?
        }
    };
    Ok(())
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
