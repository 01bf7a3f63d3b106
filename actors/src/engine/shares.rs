//! Sharing a task with other users.

use serde_json::json;

use super::access::task_access;
use super::task_write::Decision;
use super::tasks::audit;
use super::{Engine, UserRef};
use crate::audit_action::AuditAction;
use crate::error::{Entity, Error, FieldError, Result};
use crate::model::{Permission, TaskId, UserId};
use crate::stats::task_deltas;
use crate::store::shares::{Share, list_shares};
use crate::store::task_context::Target;
use crate::store::tasks::facts;

/// The most users one task can be shared with: deleting a task bumps every sharee's
/// aggregate in one statement, which must stay within PostgreSQL's parameter limit.
pub const MAX_SHARES_PER_TASK: usize = 1_000;

impl Engine {
    /// Shares a task (owner only); sharing again changes the permission.
    pub async fn share_task(
        &self,
        actor: UserId,
        id: TaskId,
        with: UserRef,
        permission: Permission,
    ) -> Result<Share> {
        let (target, field) = match &with {
            UserRef::Id(user) => (Target::Id(*user), "user_id"),
            UserRef::Email(email) => (Target::Email(email), "email"),
        };
        let (share, written) = self
            .on_task(id, actor, Some(target), |context| {
                let task = &context.task;
                if !task_access(context, actor)?.owner {
                    return Err(Error::Forbidden(
                        "only the task's owner may share it".to_owned(),
                    ));
                }
                let (user, email) = context
                    .target
                    .clone()
                    .ok_or(Error::NotFound(Entity::User))?;
                if user == task.owner_id {
                    return Err(Error::Validation(vec![FieldError::new(
                        field,
                        "a task cannot be shared with its owner",
                    )]));
                }
                let before = context.shared_with.clone();
                let mut after = before.clone();
                if !after.contains(&user) {
                    if after.len() >= MAX_SHARES_PER_TASK {
                        return Err(Error::Validation(vec![FieldError::new(
                            field,
                            "a task can be shared with at most 1000 users",
                        )]));
                    }
                    after.push(user);
                    after.sort();
                }
                let audit = audit(
                    actor,
                    AuditAction::TaskShare,
                    task,
                    &after,
                    json!({ "user_id": user, "permission": permission, "title": task.title }),
                );
                let deltas = task_deltas(Some(&facts(task, before)), Some(&facts(task, after)));
                let mut write = self.write();
                write
                    .touch_shares(task.id, context.shares_version)
                    .upsert_share(task.id, user, permission)
                    .audit(audit)
                    .deltas(deltas)?;
                let share = Share {
                    user_id: user,
                    email,
                    permission,
                    created_at: task.created_at,
                };
                Ok(Decision::Write(Box::new(write), share))
            })
            .await?;
        let created_at = written
            .and_then(|w| w.share_created_at)
            .ok_or(Error::NotFound(Entity::Share))?;
        Ok(Share {
            created_at,
            ..share
        })
    }

    /// Stops sharing a task with `user`: the owner, or the user giving up their share.
    pub async fn unshare_task(&self, actor: UserId, id: TaskId, user: UserId) -> Result<()> {
        self.on_task(id, actor, None, |context| {
            let task = &context.task;
            if !task_access(context, actor)?.owner && actor != user {
                return Err(Error::Forbidden(
                    "only the task's owner may remove its shares".to_owned(),
                ));
            }
            let before = context.shared_with.clone();
            if !before.contains(&user) {
                return Err(Error::NotFound(Entity::Share));
            }
            let after: Vec<UserId> = before.iter().copied().filter(|u| *u != user).collect();
            // The user losing the share still sees it go.
            let audit = audit(
                actor,
                AuditAction::TaskUnshare,
                task,
                &before,
                json!({ "user_id": user, "title": task.title }),
            );
            let deltas = task_deltas(Some(&facts(task, before)), Some(&facts(task, after)));
            let mut write = self.write();
            write
                .touch_shares(task.id, context.shares_version)
                .delete_share(task.id, user)
                .audit(audit)
                .deltas(deltas)?;
            Ok(Decision::Write(Box::new(write), ()))
        })
        .await?;
        Ok(())
    }

    /// A task's shares, for anyone who may see the task.
    pub async fn list_shares(&self, actor: UserId, id: TaskId) -> Result<Vec<Share>> {
        self.on_task(id, actor, None, |context| {
            task_access(context, actor)?;
            Ok(Decision::Answer(()))
        })
        .await?;
        let mut conn = self.conn().await?;
        list_shares(&mut conn, id).await
    }
}
