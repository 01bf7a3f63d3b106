//! Team commands: create, membership, delete. Membership changes of one team are serialised
//! on its row.

use serde_json::json;

use super::paging::{Page, PageRequest};
use super::transaction::Committed;
use super::validate::{Checks, TEAM_NAME};
use super::{Engine, UserRef};
use crate::audit_action::AuditAction;
use crate::error::{ConflictCode, Entity, Error, Result};
use crate::model::{Role, TeamId, UserId};
use crate::notice::Notice;
use crate::stats::{DeltaSet, Scope, merge_into, task_deltas};
use crate::store::durable_outbox;
use crate::store::tasks::{delete_team_tasks, lock_team_tasks};
use crate::store::teams::{self as store, Member, TeamMembership};
use crate::store::{AuditEntry, write_audit};

/// A team with its members, as a member sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamDetail {
    /// The team and the caller's role in it.
    pub team: TeamMembership,
    /// Everyone in it.
    pub members: Vec<Member>,
}

/// The entry of a change to `team`; a membership change is in its member's feed too.
fn audit(
    actor: UserId,
    action: AuditAction,
    team: TeamId,
    member: Option<UserId>,
    details: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor_id: Some(actor),
        action,
        target_type: "team",
        target_id: Some(team.0),
        team_id: Some(team),
        details,
        audience: member.into_iter().collect(),
    }
}

/// Locks the team's row, on which its membership changes are serialised, and answers the
/// caller's role there: `NotFound` for a missing team and for non-members alike (a team is
/// invisible to outsiders).
async fn lock_team_for(
    conn: &mut diesel_async::AsyncPgConnection,
    team: TeamId,
    actor: UserId,
) -> Result<Role> {
    if !store::lock_team(conn, team).await? {
        return Err(Error::NotFound(Entity::Team));
    }
    store::role_of(conn, team, actor)
        .await?
        .ok_or(Error::NotFound(Entity::Team))
}

/// Whether `actor` (with `role`) may give `target_role` to, or take it from, someone.
fn may_manage(role: Role, target_role: Role) -> Result<()> {
    if !role.can_manage() {
        return Err(Error::Forbidden(
            "only a team admin or owner may manage members".to_owned(),
        ));
    }
    if target_role.can_manage() && role != Role::Owner {
        return Err(Error::Forbidden(
            "only an owner may grant, change or remove owner and admin roles".to_owned(),
        ));
    }
    Ok(())
}

impl Engine {
    /// Creates a team with `actor` as its owner.
    pub async fn create_team(&self, actor: UserId, name: &str) -> Result<TeamMembership> {
        let mut checks = Checks::default();
        checks.length("name", name, TEAM_NAME.0, TEAM_NAME.1);
        checks.not_blank("name", name);
        checks.finish()?;
        self.transaction(async |conn| {
            let team = store::insert_team(conn, TeamId::new(), name, actor).await?;
            write_audit(
                conn,
                audit(
                    actor,
                    AuditAction::TeamCreate,
                    team.id,
                    None,
                    json!({ "name": name }),
                ),
            )
            .await?;
            Ok(Committed::answer(team))
        })
        .await
    }

    /// A page of the caller's teams, by id.
    pub async fn list_teams(
        &self,
        actor: UserId,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<Page<TeamMembership>> {
        let request = PageRequest::parse(limit, cursor)?;
        let after = request.cursor.map(TeamId);
        let mut conn = self.conn().await?;
        let rows = store::memberships(&mut conn, actor, after, request.rows()).await?;
        Ok(request.page(rows, |team| team.id.0))
    }

    /// A team and its members; `NotFound` for non-members.
    pub async fn get_team(&self, actor: UserId, team: TeamId) -> Result<TeamDetail> {
        let mut conn = self.conn().await?;
        let membership = store::membership(&mut conn, team, actor)
            .await?
            .ok_or(Error::NotFound(Entity::Team))?;
        let members = store::members(&mut conn, team).await?;
        Ok(TeamDetail {
            team: membership,
            members,
        })
    }

    /// Adds a member (admin or owner; only an owner grants owner or admin).
    pub async fn add_member(
        &self,
        actor: UserId,
        team: TeamId,
        who: UserRef,
        role: Role,
    ) -> Result<Member> {
        self.transaction(async |conn| {
            may_manage(lock_team_for(conn, team, actor).await?, role)?;
            let user = match &who {
                UserRef::Id(user) => store::user_exists(conn, *user).await?.then_some(*user),
                UserRef::Email(email) => store::user_by_email(conn, email).await?,
            }
            .ok_or(Error::NotFound(Entity::User))?;
            if store::role_of(conn, team, user).await?.is_some() {
                return Err(Error::Conflict {
                    code: ConflictCode::AlreadyMember,
                    message: "the user is already a member of this team".to_owned(),
                });
            }
            store::insert_member(conn, team, user, role).await?;
            write_audit(
                conn,
                audit(
                    actor,
                    AuditAction::TeamMemberAdd,
                    team,
                    Some(user),
                    json!({ "user_id": user, "role": role }),
                ),
            )
            .await?;
            Ok(Committed::answer(member(conn, team, user).await?))
        })
        .await
    }

    /// Changes a member's role (same rules; the last owner cannot be demoted).
    pub async fn change_role(
        &self,
        actor: UserId,
        team: TeamId,
        user: UserId,
        role: Role,
    ) -> Result<Member> {
        self.transaction(async |conn| {
            let caller = lock_team_for(conn, team, actor).await?;
            let current = store::role_of(conn, team, user)
                .await?
                .ok_or(Error::NotFound(Entity::Member))?;
            may_manage(caller, current)?;
            may_manage(caller, role)?;
            if current == Role::Owner
                && role != Role::Owner
                && store::owner_count(conn, team).await? <= 1
            {
                return Err(Error::Conflict {
                    code: ConflictCode::LastOwner,
                    message: "the team's last owner cannot be demoted".to_owned(),
                });
            }
            store::set_role(conn, team, user, role).await?;
            write_audit(
                conn,
                audit(
                    actor,
                    AuditAction::TeamMemberRole,
                    team,
                    Some(user),
                    json!({ "user_id": user, "from": current, "to": role }),
                ),
            )
            .await?;
            Ok(Committed::answer(member(conn, team, user).await?))
        })
        .await
    }

    /// Removes a member (admin or owner, or the member leaving; the last owner cannot leave).
    /// Their live subscriptions to the team end with a revocation.
    pub async fn remove_member(&self, actor: UserId, team: TeamId, user: UserId) -> Result<()> {
        self.transaction(async |conn| {
            let caller = lock_team_for(conn, team, actor).await?;
            let current = store::role_of(conn, team, user)
                .await?
                .ok_or(Error::NotFound(Entity::Member))?;
            if actor != user {
                may_manage(caller, current)?;
            }
            if current == Role::Owner && store::owner_count(conn, team).await? <= 1 {
                return Err(Error::Conflict {
                    code: ConflictCode::LastOwner,
                    message: "the team's last owner cannot leave or be removed".to_owned(),
                });
            }
            store::delete_member(conn, team, user).await?;
            let action = if actor == user {
                AuditAction::TeamMemberLeave
            } else {
                AuditAction::TeamMemberRemove
            };
            let entry = audit(actor, action, team, Some(user), json!({ "user_id": user }));
            write_audit(conn, entry).await?;
            Ok(Committed::answer(()))
        })
        .await?;
        self.revoke(team, Some(user));
        Ok(())
    }

    /// Deletes a team and its tasks (owner only). The tasks' owners and sharees see them go.
    pub async fn delete_team(&self, actor: UserId, team: TeamId) -> Result<()> {
        self.transaction(async |conn| {
            if lock_team_for(conn, team, actor).await? != Role::Owner {
                return Err(Error::Forbidden(
                    "only an owner may delete the team".to_owned(),
                ));
            }
            // Everyone else in the team hears that it is gone (its name, too: the row goes).
            let members = store::members(conn, team).await?;
            let name = store::membership(conn, team, actor)
                .await?
                .map(|m| m.name)
                .unwrap_or_default();
            let others = members.iter().map(|m| m.user_id);
            if let Some(notice) = Notice::team_deleted(actor, team, &name, others) {
                durable_outbox::insert_notice(conn, &notice).await?;
            }
            let mut deltas = DeltaSet::new();
            for task in lock_team_tasks(conn, team).await? {
                for (scope, delta) in task_deltas(Some(&task), None) {
                    merge_into(&mut deltas, scope, delta);
                }
            }
            // The team's own rows go with it.
            deltas.remove(&Scope::Team(team));
            deltas.retain(|_, d| !d.is_empty());
            delete_team_tasks(conn, team).await?;
            let published = self.apply_deltas(conn, deltas).await?;
            store::delete_team(conn, team).await?;
            write_audit(
                conn,
                audit(actor, AuditAction::TeamDelete, team, None, json!({})),
            )
            .await?;
            Ok(Committed {
                answer: (),
                published,
            })
        })
        .await?;
        self.revoke(team, None);
        Ok(())
    }
}

async fn member(
    conn: &mut diesel_async::AsyncPgConnection,
    team: TeamId,
    user: UserId,
) -> Result<Member> {
    store::members(conn, team)
        .await?
        .into_iter()
        .find(|m| m.user_id == user)
        .ok_or(Error::NotFound(Entity::Member))
}
