//! Deleting an account: its teams are locked first, then its row, then every task it owns or
//! has a share of (the engine's lock order); its tasks go, the tasks shared with it lose the
//! share, and every aggregate that counted them moves by its delta.

use serde_json::json;

use super::Engine;
use super::transaction::Committed;
use crate::audit_action::AuditAction;
use crate::endings::Ending;
use crate::error::{ConflictCode, Entity, Error, Result};
use crate::model::{Role, UserId};
use crate::stats::{DeltaSet, Scope, TaskFacts, merge_into, task_deltas};
use crate::store::audit::{AuditEntry, write_audit};
use crate::store::tasks::{bump_shares_version, delete_owned_tasks, lock_account_tasks};
use crate::store::teams::{lock_teams_of, owner_count};
use crate::store::users::{delete_user, lock_user};

impl Engine {
    /// Deletes the account: its tasks (the aggregates they counted in move), its shares both
    /// ways, its memberships (its team subscriptions are revoked) and its sessions (its
    /// access tokens stop working at once, on every node). The last owner of a team must hand
    /// it over or delete it first (conflict `last_owner`).
    pub async fn delete_account(&self, user: UserId) -> Result<()> {
        let teams = self
            .transaction(async |conn| {
                // The engine's lock order: teams, then rows under them.
                let teams = lock_teams_of(conn, user).await?;
                for (team, role) in &teams {
                    if *role == Some(Role::Owner) && owner_count(conn, *team).await? <= 1 {
                        return Err(Error::Conflict {
                            code: ConflictCode::LastOwner,
                            message: format!(
                                "the account is the last owner of team {}: hand the team \
                                 over or delete it first",
                                team.0
                            ),
                        });
                    }
                }
                if !lock_user(conn, user).await? {
                    return Err(Error::NotFound(Entity::User));
                }
                let mut deltas = DeltaSet::new();
                let mut shared_with_user = Vec::new();
                for task in lock_account_tasks(conn, user).await? {
                    let after = (task.owner != user).then(|| TaskFacts {
                        shared_with: (task.shared_with.iter().copied())
                            .filter(|sharee| *sharee != user)
                            .collect(),
                        ..task.clone()
                    });
                    if after.is_some() {
                        shared_with_user.push(task.id);
                    }
                    for (scope, delta) in task_deltas(Some(&task), after.as_ref()) {
                        merge_into(&mut deltas, scope, delta);
                    }
                }
                // The account's own aggregate rows go with it.
                deltas.remove(&Scope::User(user));
                deltas.retain(|_, delta| !delta.is_empty());
                bump_shares_version(conn, &shared_with_user).await?;
                delete_owned_tasks(conn, user).await?;
                let published = self.apply_deltas(conn, deltas).await?;
                delete_user(conn, user).await?;
                write_audit(
                    conn,
                    AuditEntry {
                        // The account is gone: the entry names it as its target only.
                        actor_id: None,
                        action: AuditAction::UserDelete,
                        target_type: "user",
                        target_id: Some(user.0),
                        team_id: None,
                        details: json!({}),
                        audience: Vec::new(),
                    },
                )
                .await?;
                Ok(Committed {
                    answer: teams,
                    published,
                })
            })
            .await?;
        for (team, role) in teams {
            if role.is_some() {
                self.revoke(team, Some(user));
            }
        }
        self.inner.cluster.end(Ending::Account(user));
        self.inner.known_accounts.forget(user);
        // Nobody may read it any more: free it now rather than when it idles.
        let _ = self.passivate(Scope::User(user)).await;
        Ok(())
    }
}
