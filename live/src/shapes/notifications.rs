//! In-app notifications: `GET /api/v1/notifications` and the `notifications` topic's
//! `notification` messages send the same object.

use chrono::{DateTime, Utc};
use serde::Serialize;
use taskpulse_actors::{NotificationRecord, Page};
use uuid::Uuid;

use super::time::{rfc3339, rfc3339_or_null};

/// One notification of the caller's.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "Notification", example))]
pub struct NotificationView {
    /// Its id (UUIDv7); `POST /api/v1/notifications/{id}/read` marks it read.
    pub id: Uuid,
    /// When the change it tells of happened.
    #[serde(serialize_with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// What it tells: `task_shared`, `task_changed`, `task_completed`, `task_deleted`,
    /// `team_member_added`, `team_role_changed`, `team_member_removed`, `team_deleted`,
    /// `task_due_soon`, `task_overdue` or `webhook_disabled`.
    pub kind: String,
    /// The task it is about; absent for a team's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<Uuid>,
    /// The team it is about (a team task's too); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Uuid>,
    /// Who made the change; absent when it is not known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<Uuid>,
    /// What it says, e.g. `Ann completed “Ship v2”`.
    pub text: String,
    /// When the caller marked it read; `null`: unread.
    #[serde(serialize_with = "rfc3339_or_null")]
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub read_at: Option<DateTime<Utc>>,
}

impl From<NotificationRecord> for NotificationView {
    fn from(n: NotificationRecord) -> Self {
        Self {
            id: n.id,
            at: n.at,
            kind: n.kind,
            task_id: n.task_id,
            team_id: n.team_id,
            actor_id: n.actor_id,
            text: n.text,
            read_at: n.read_at,
        }
    }
}

/// One page of the caller's notifications, newest first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "NotificationPage", example))]
pub struct NotificationPage {
    /// The notifications.
    pub items: Vec<NotificationView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub next_cursor: Option<String>,
}

impl From<Page<NotificationRecord>> for NotificationPage {
    fn from(page: Page<NotificationRecord>) -> Self {
        Self {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

#[cfg(feature = "openapi")]
mod examples {
    use poem_openapi::types::Example;

    use super::*;
    use crate::shapes::examples::time;

    impl Example for NotificationView {
        fn example() -> Self {
            Self {
                id: Uuid::from_u128(0x0193_4f74_0000_7000_8000_0000_0000_0028),
                at: time(0),
                kind: "task_completed".to_owned(),
                task_id: Some(Uuid::from_u128(0x0193_4f74_0000_7000_8000_0000_0000_0001)),
                team_id: None,
                actor_id: Some(Uuid::from_u128(0x0193_4f74_0000_7000_8000_0000_0000_0002)),
                text: "Ann completed “Ship v2”".to_owned(),
                read_at: None,
            }
        }
    }

    impl Example for NotificationPage {
        fn example() -> Self {
            Self {
                items: vec![NotificationView::example()],
                next_cursor: None,
            }
        }
    }
}
