//! A user's in-app notifications: the inbox and its read state (docs/notifications.md).

use uuid::Uuid;

use super::Engine;
use super::paging::{Page, PageRequest};
use crate::error::{Entity, Error, Result};
use crate::model::UserId;
use crate::notify::NotificationSubscription;
use crate::store::notifications::{self, NotificationRecord};

impl Engine {
    /// A page of the caller's notifications, newest first; only the unread ones with
    /// `unread_only`.
    pub async fn notifications(
        &self,
        actor: UserId,
        unread_only: bool,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<Page<NotificationRecord>> {
        let request = PageRequest::parse(limit, cursor)?;
        let mut conn = self.conn().await?;
        let rows = notifications::inbox_page(
            &mut conn,
            actor,
            unread_only,
            request.cursor,
            request.rows(),
        )
        .await?;
        Ok(request.page(rows, |n| n.id))
    }

    /// Marks one of the caller's notifications read; `NotFound` when it has none with that id.
    pub async fn mark_notification_read(&self, actor: UserId, id: Uuid) -> Result<()> {
        let mut conn = self.conn().await?;
        if notifications::mark_read(&mut conn, actor, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound(Entity::Notification))
        }
    }

    /// Marks every notification of the caller read.
    pub async fn mark_all_notifications_read(&self, actor: UserId) -> Result<()> {
        let mut conn = self.conn().await?;
        notifications::mark_all_read(&mut conn, actor).await
    }

    /// Follows the caller's notifications as they are made, on whichever node: from the one
    /// after `since` (one of the caller's; otherwise a validation error) when given, else from
    /// now on.
    pub async fn subscribe_notifications(
        &self,
        actor: UserId,
        since: Option<Uuid>,
    ) -> Result<NotificationSubscription> {
        self.inner.inboxes.subscribe(actor, since).await
    }

    /// How many of the caller's notifications are unread.
    pub async fn unread_notifications(&self, actor: UserId) -> Result<i64> {
        let mut conn = self.conn().await?;
        notifications::unread_count(&mut conn, actor).await
    }
}
