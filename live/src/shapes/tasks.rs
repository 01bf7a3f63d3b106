//! Tasks and their shares: `/api/v1/tasks` and `/api/v1/tasks/{id}/shares`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use taskpulse_actors::{Page, Share, Task};
use uuid::Uuid;

use super::time::{rfc3339, rfc3339_or_null};
use super::values::{PermissionView, PriorityView, StatusView};

/// A task.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "Task", example))]
pub struct TaskView {
    /// Its id.
    pub id: Uuid,
    /// 1..=200 characters.
    pub title: String,
    /// At most 10 000 characters (empty when none was given).
    pub description: String,
    /// Where it stands.
    pub status: StatusView,
    /// How much it matters.
    pub priority: PriorityView,
    /// When it is due; `null` when never.
    #[serde(serialize_with = "rfc3339_or_null")]
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub due_at: Option<DateTime<Utc>>,
    /// Who owns it.
    pub owner_id: Uuid,
    /// The team it belongs to; `null` for a personal task.
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub team_id: Option<Uuid>,
    /// 1 at creation, one more with every change; send it back as `If-Match`.
    pub version: i64,
    /// When it was created.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// When it first entered `in_progress` (kept when the status moves on); `null` if it
    /// never did.
    #[serde(serialize_with = "rfc3339_or_null")]
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub started_at: Option<DateTime<Utc>>,
    /// When it was completed, while it is; otherwise `null`.
    #[serde(serialize_with = "rfc3339_or_null")]
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<Task> for TaskView {
    fn from(task: Task) -> Self {
        Self {
            id: task.id.0,
            title: task.title,
            description: task.description,
            status: task.status.into(),
            priority: task.priority.into(),
            due_at: task.due_at,
            owner_id: task.owner_id.0,
            team_id: task.team_id.map(|t| t.0),
            version: task.version,
            created_at: task.created_at,
            updated_at: task.updated_at,
            started_at: task.started_at,
            completed_at: task.completed_at,
        }
    }
}

/// One page of tasks, newest first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example))]
pub struct TaskPage {
    /// The tasks.
    pub items: Vec<TaskView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub next_cursor: Option<String>,
}

impl From<Page<Task>> for TaskPage {
    fn from(page: Page<Task>) -> Self {
        Self {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// A share of a task with one user.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "Share", example))]
pub struct ShareView {
    /// The user it is shared with.
    pub user_id: Uuid,
    /// Their email.
    pub email: String,
    /// What they may do.
    pub permission: PermissionView,
    /// When it was first shared.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl From<Share> for ShareView {
    fn from(share: Share) -> Self {
        Self {
            user_id: share.user_id.0,
            email: share.email,
            permission: share.permission.into(),
            created_at: share.created_at,
        }
    }
}

/// Everyone a task is shared with.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example))]
pub struct ShareList {
    /// The shares.
    pub items: Vec<ShareView>,
}

#[cfg(feature = "openapi")]
mod examples {
    use poem_openapi::types::Example;

    use super::*;
    use crate::shapes::examples::{OTHER_USER_ID, TASK_ID, USER_ID, time};

    impl Example for TaskView {
        fn example() -> Self {
            Self {
                id: TASK_ID,
                title: "Write the quarterly report".to_owned(),
                description: "Numbers from the dashboard, two pages at most.".to_owned(),
                status: StatusView::Pending,
                priority: PriorityView::High,
                due_at: Some(time(7 * 86_400)),
                owner_id: USER_ID,
                team_id: None,
                version: 1,
                created_at: time(0),
                updated_at: time(0),
                started_at: None,
                completed_at: None,
            }
        }
    }

    impl Example for TaskPage {
        fn example() -> Self {
            Self {
                items: vec![TaskView::example()],
                next_cursor: Some(TASK_ID.simple().to_string()),
            }
        }
    }

    impl Example for ShareView {
        fn example() -> Self {
            Self {
                user_id: OTHER_USER_ID,
                email: "grace@example.com".to_owned(),
                permission: PermissionView::Edit,
                created_at: time(60),
            }
        }
    }

    impl Example for ShareList {
        fn example() -> Self {
            Self {
                items: vec![ShareView::example()],
            }
        }
    }
}
