//! `/api/v1/notifications`: the caller's in-app inbox and its read state. The notifications
//! are made by the engine's outbox workers (docs/notifications.md); the live ones arrive on the
//! WebSocket's `notifications` topic.

use poem_openapi::param::{Path, Query};
use poem_openapi::{ApiResponse, OpenApi};
use taskpulse_live::shapes::notifications::NotificationPage;
use uuid::Uuid;

use crate::auth::BearerAuth;
use crate::routes::ApiTags;
use crate::routes::problem::{
    Failure, INSUFFICIENT_SCOPE, MALFORMED, UNAUTHENTICATED, UNAVAILABLE, VALIDATION, problems,
};
use crate::state::AppState;
use crate::wire::Wire;

/// In-app notifications.
pub struct NotificationsApi {
    state: AppState,
}

impl NotificationsApi {
    /// The notifications API over the shared state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[derive(ApiResponse)]
enum ManyNotifications {
    /// A page of the caller's notifications, newest first.
    #[oai(status = 200)]
    Ok(Wire<NotificationPage>),
}

#[derive(ApiResponse)]
enum MarkedRead {
    /// Marked read (one already read keeps the time it was first read).
    #[oai(status = 204)]
    NoContent,
}

problems!(
    /// The problems `list_notifications` documents.
    ListProblems: [MALFORMED, UNAUTHENTICATED, VALIDATION, UNAVAILABLE]
);
problems!(
    /// The problems `mark_notification_read` documents.
    MarkOneProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        INSUFFICIENT_SCOPE,
        (404, "`not_found`: the caller has no notification with this id"),
        UNAVAILABLE,
    ]
);
problems!(
    /// The problems `mark_all_notifications_read` documents.
    MarkAllProblems: [UNAUTHENTICATED, INSUFFICIENT_SCOPE, UNAVAILABLE]
);

#[OpenApi(tag = "ApiTags::Notifications")]
impl NotificationsApi {
    /// List the caller's notifications
    ///
    /// Newest first, keyset-paginated; with `unread=true` only those not yet read. A task shared
    /// with the caller, a team they were added to or removed from or whose role changed, a task
    /// they own or that is shared with them that someone else changed, completed or deleted.
    #[oai(
        path = "/api/v1/notifications",
        method = "get",
        operation_id = "listNotifications"
    )]
    async fn list_notifications(
        &self,
        auth: BearerAuth,
        /// `true`: only the unread ones.
        unread: Query<Option<bool>>,
        /// Page size, 1..=200 (default 50).
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> Result<ManyNotifications, Failure<ListProblems>> {
        let page = self
            .state
            .engine
            .notifications(
                auth.0,
                unread.0.unwrap_or(false),
                limit.0,
                cursor.0.as_deref(),
            )
            .await?;
        Ok(ManyNotifications::Ok(Wire(page.into())))
    }

    /// Mark one notification read
    #[oai(
        path = "/api/v1/notifications/:id/read",
        method = "post",
        operation_id = "markNotificationRead"
    )]
    async fn mark_notification_read(
        &self,
        auth: BearerAuth,
        /// The notification's id.
        id: Path<Uuid>,
    ) -> Result<MarkedRead, Failure<MarkOneProblems>> {
        self.state
            .engine
            .mark_notification_read(auth.0, id.0)
            .await?;
        Ok(MarkedRead::NoContent)
    }

    /// Mark every notification of the caller read
    #[oai(
        path = "/api/v1/notifications/read",
        method = "post",
        operation_id = "markAllNotificationsRead"
    )]
    async fn mark_all_notifications_read(
        &self,
        auth: BearerAuth,
    ) -> Result<MarkedRead, Failure<MarkAllProblems>> {
        self.state
            .engine
            .mark_all_notifications_read(auth.0)
            .await?;
        Ok(MarkedRead::NoContent)
    }
}
