//! Sharing a task with other users.

use diesel_async::AsyncConnection;
use serde_json::json;

use super::access::task_access;
use super::tasks::audit;
use super::{Engine, UserRef};
use crate::error::{Error, FieldError, Result};
use crate::model::{Permission, TaskId, UserId};
use crate::stats::task_deltas;
use crate::store::tasks::{self as store, Share};
use crate::store::{teams, write_audit};

impl Engine {
    /// Shares a task (owner only); sharing again changes the permission.
    pub async fn share_task(
        &self,
        actor: UserId,
        id: TaskId,
        with: UserRef,
        permission: Permission,
    ) -> Result<Share> {
        let mut conn = self.conn().await?;
        let (share, published) = conn
            .transaction::<_, Error, _>(async |conn| {
                let task = store::lock_task(conn, id)
                    .await?
                    .ok_or(Error::NotFound("task"))?;
                if !task_access(conn, &task, actor).await?.owner {
                    return Err(Error::Forbidden(
                        "only the task's owner may share it".to_owned(),
                    ));
                }
                let user = match &with {
                    UserRef::Id(user) => teams::user_exists(conn, *user).await?.then_some(*user),
                    UserRef::Email(email) => teams::user_by_email(conn, email).await?,
                }
                .ok_or(Error::NotFound("user"))?;
                if user == task.owner_id {
                    let field = if matches!(with, UserRef::Id(_)) {
                        "user_id"
                    } else {
                        "email"
                    };
                    return Err(Error::Validation(vec![FieldError::new(
                        field,
                        "a task cannot be shared with its owner",
                    )]));
                }
                let before = store::shared_with(conn, id).await?;
                store::upsert_share(conn, id, user, permission).await?;
                let after = store::shared_with(conn, id).await?;
                let deltas = task_deltas(
                    Some(&store::facts(&task, before)),
                    Some(&store::facts(&task, after)),
                );
                write_audit(
                    conn,
                    audit(
                        actor,
                        "task.share",
                        &task,
                        json!({ "user_id": user, "permission": permission }),
                    ),
                )
                .await?;
                let share = store::list_shares(conn, id)
                    .await?
                    .into_iter()
                    .find(|s| s.user_id == user)
                    .ok_or(Error::NotFound("share"))?;
                Ok((share, self.finish(conn, deltas).await?))
            })
            .await?;
        drop(conn);
        self.publish(published).await;
        Ok(share)
    }

    /// Stops sharing a task with `user`: the owner, or the user giving up their share.
    pub async fn unshare_task(&self, actor: UserId, id: TaskId, user: UserId) -> Result<()> {
        let mut conn = self.conn().await?;
        let published = conn
            .transaction::<_, Error, _>(async |conn| {
                let task = store::lock_task(conn, id)
                    .await?
                    .ok_or(Error::NotFound("task"))?;
                let access = task_access(conn, &task, actor).await?;
                if !access.owner && actor != user {
                    return Err(Error::Forbidden(
                        "only the task's owner may remove its shares".to_owned(),
                    ));
                }
                let before = store::shared_with(conn, id).await?;
                if !store::delete_share(conn, id, user).await? {
                    return Err(Error::NotFound("share"));
                }
                let after = store::shared_with(conn, id).await?;
                let deltas = task_deltas(
                    Some(&store::facts(&task, before)),
                    Some(&store::facts(&task, after)),
                );
                write_audit(
                    conn,
                    audit(actor, "task.unshare", &task, json!({ "user_id": user })),
                )
                .await?;
                self.finish(conn, deltas).await
            })
            .await?;
        drop(conn);
        self.publish(published).await;
        Ok(())
    }

    /// A task's shares, for anyone who may see the task.
    pub async fn list_shares(&self, actor: UserId, id: TaskId) -> Result<Vec<Share>> {
        let mut conn = self.conn().await?;
        let task = store::find_task(&mut conn, id)
            .await?
            .ok_or(Error::NotFound("task"))?;
        task_access(&mut conn, &task, actor).await?;
        store::list_shares(&mut conn, id).await
    }
}
