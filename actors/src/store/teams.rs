//! Team and membership rows, and looking users up for them.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{tasks, team_members, team_stats, teams, users};
use crate::error::Result;
use crate::model::{Role, TeamId, UserId};

/// A team as one of its members sees it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = teams, check_for_backend(Pg))]
pub struct TeamMembership {
    /// The team.
    pub id: TeamId,
    /// Its name.
    pub name: String,
    /// The member's role in it.
    #[diesel(select_expression = team_members::role)]
    pub role: Role,
    /// When the team was made.
    pub created_at: DateTime<Utc>,
}

/// One member of a team.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = team_members, check_for_backend(Pg))]
pub struct Member {
    /// The member.
    pub user_id: UserId,
    /// Their email.
    #[diesel(select_expression = users::email)]
    pub email: String,
    /// Their display name.
    #[diesel(select_expression = users::display_name)]
    pub display_name: String,
    /// Their role.
    pub role: Role,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

/// `user`'s role in `team`, if they are a member.
pub(crate) async fn role_of(
    conn: &mut AsyncPgConnection,
    team: TeamId,
    user: UserId,
) -> Result<Option<Role>> {
    Ok(team_members::table
        .find((team, user))
        .select(team_members::role)
        .first(conn)
        .await
        .optional()?)
}

/// Locks the team row (membership changes of one team are serialised on it); answers whether
/// the team exists.
pub(crate) async fn lock_team(conn: &mut AsyncPgConnection, team: TeamId) -> Result<bool> {
    let found: Option<Uuid> = teams::table
        .find(team.0)
        .select(teams::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

/// Locks, in id order, every team `user` is a member of or owns a task in (as `lock_team`
/// does); answers the user's role in each (none where they only own tasks).
pub(crate) async fn lock_teams_of(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<Vec<(TeamId, Option<Role>)>> {
    let member_of = team_members::table
        .filter(team_members::user_id.eq(user))
        .select(team_members::team_id);
    let task_teams = tasks::table
        .filter(tasks::owner_id.eq(user))
        .filter(tasks::team_id.is_not_null())
        .select(tasks::team_id.assume_not_null());
    let ids: Vec<TeamId> = teams::table
        .filter(teams::id.eq_any(member_of).or(teams::id.eq_any(task_teams)))
        .select(teams::id)
        .order(teams::id)
        .for_update()
        .load(conn)
        .await?;
    let mut found = Vec::with_capacity(ids.len());
    for team in ids {
        found.push((team, role_of(conn, team, user).await?));
    }
    Ok(found)
}

/// Creates a team with its aggregate row and its creator as owner.
pub(crate) async fn insert_team(
    conn: &mut AsyncPgConnection,
    id: TeamId,
    name: &str,
    creator: UserId,
) -> Result<TeamMembership> {
    let created_at: DateTime<Utc> = diesel::insert_into(teams::table)
        .values((
            teams::id.eq(id.0),
            teams::name.eq(name),
            teams::created_by.eq(creator.0),
        ))
        .returning(teams::created_at)
        .get_result(conn)
        .await?;
    diesel::insert_into(team_stats::table)
        .values(team_stats::team_id.eq(id.0))
        .execute(conn)
        .await?;
    insert_member(conn, id, creator, Role::Owner).await?;
    Ok(TeamMembership {
        id,
        name: name.to_owned(),
        role: Role::Owner,
        created_at,
    })
}

/// Adds a member.
pub(crate) async fn insert_member(
    conn: &mut AsyncPgConnection,
    team: TeamId,
    user: UserId,
    role: Role,
) -> Result<()> {
    diesel::insert_into(team_members::table)
        .values((
            team_members::team_id.eq(team.0),
            team_members::user_id.eq(user.0),
            team_members::role.eq(role),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Changes a member's role.
pub(crate) async fn set_role(
    conn: &mut AsyncPgConnection,
    team: TeamId,
    user: UserId,
    role: Role,
) -> Result<()> {
    diesel::update(team_members::table.find((team.0, user.0)))
        .set(team_members::role.eq(role))
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes a member.
pub(crate) async fn delete_member(
    conn: &mut AsyncPgConnection,
    team: TeamId,
    user: UserId,
) -> Result<()> {
    diesel::delete(team_members::table.find((team.0, user.0)))
        .execute(conn)
        .await?;
    Ok(())
}

/// How many owners the team has.
pub(crate) async fn owner_count(conn: &mut AsyncPgConnection, team: TeamId) -> Result<i64> {
    Ok(team_members::table
        .filter(
            team_members::team_id
                .eq(team.0)
                .and(team_members::role.eq(Role::Owner)),
        )
        .count()
        .get_result(conn)
        .await?)
}

/// The team's members, by join time.
pub(crate) async fn members(conn: &mut AsyncPgConnection, team: TeamId) -> Result<Vec<Member>> {
    Ok(team_members::table
        .inner_join(users::table)
        .filter(team_members::team_id.eq(team))
        .select(Member::as_select())
        .order((team_members::joined_at, team_members::user_id))
        .load(conn)
        .await?)
}

/// The team as `user` sees it, if they are a member.
pub(crate) async fn membership(
    conn: &mut AsyncPgConnection,
    team: TeamId,
    user: UserId,
) -> Result<Option<TeamMembership>> {
    Ok(teams::table
        .inner_join(team_members::table)
        .filter(teams::id.eq(team).and(team_members::user_id.eq(user)))
        .select(TeamMembership::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// A page of `user`'s teams, by team id, after `after`.
pub(crate) async fn memberships(
    conn: &mut AsyncPgConnection,
    user: UserId,
    after: Option<TeamId>,
    limit: i64,
) -> Result<Vec<TeamMembership>> {
    let mut query = teams::table
        .inner_join(team_members::table)
        .filter(team_members::user_id.eq(user))
        .select(TeamMembership::as_select())
        .order(teams::id)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(teams::id.gt(after));
    }
    Ok(query.load(conn).await?)
}

/// Deletes the team (members, aggregate rows and activity go with it).
pub(crate) async fn delete_team(conn: &mut AsyncPgConnection, team: TeamId) -> Result<()> {
    diesel::delete(teams::table.find(team.0))
        .execute(conn)
        .await?;
    Ok(())
}

/// A user's id by email, case-insensitively.
pub(crate) async fn user_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> Result<Option<UserId>> {
    // PostgreSQL text cannot hold NUL: no stored email has one.
    if email.contains('\0') {
        return Ok(None);
    }
    let id: Option<Uuid> = users::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = lower(")
                .bind::<diesel::sql_types::Text, _>(email)
                .sql(")"),
        )
        .select(users::id)
        .first(conn)
        .await
        .optional()?;
    Ok(id.map(UserId))
}

/// Whether a user exists.
pub(crate) async fn user_exists(conn: &mut AsyncPgConnection, user: UserId) -> Result<bool> {
    let found: Option<Uuid> = users::table
        .find(user.0)
        .select(users::id)
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

/// Who belongs to each of `wanted` that still exists: (team, member) pairs, and (team, `None`)
/// for a team without members. Teams that are gone are absent.
pub(crate) async fn members_of_teams(
    conn: &mut AsyncPgConnection,
    wanted: &[TeamId],
) -> Result<Vec<(TeamId, Option<UserId>)>> {
    let ids: Vec<Uuid> = wanted.iter().map(|t| t.0).collect();
    let rows: Vec<(Uuid, Option<Uuid>)> = teams::table
        .left_join(team_members::table)
        .filter(teams::id.eq_any(ids))
        .select((teams::id, team_members::user_id.nullable()))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(team, user)| (TeamId(team), user.map(UserId)))
        .collect())
}
