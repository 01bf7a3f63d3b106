//! The request and response bodies of `/api/v1/tasks` and its shares.

use chrono::{DateTime, Utc};
use poem_openapi::types::{Example, MaybeUndefined};
use poem_openapi::{Enum, Object};
use taskpulse_actors::{
    Error as EngineError, FieldError, NewTask, Page, Permission, Share, Task, TaskPatch, TaskScope,
    UserId, UserRef,
};
use uuid::Uuid;

use crate::routes::choice::{Choice, Choices};
use crate::routes::strict::StrictString;
use crate::routes::values::{PermissionView, PriorityView, StatusView};

pub(crate) const EXAMPLE_TASK_ID: Uuid = Uuid::from_u128(0x0193_4f70_1c2a_7d4e_8f10_2b3c_4d5e_6f70);
pub(crate) const EXAMPLE_USER_ID: Uuid = Uuid::from_u128(0x0193_4f6e_8a10_7c3e_9b2d_5f41_a6c8_e012);
pub(crate) const EXAMPLE_OTHER_USER_ID: Uuid =
    Uuid::from_u128(0x0193_4f6f_02b1_7aa0_8c3d_1e2f_3a4b_5c6d);

pub(crate) fn example_time(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_763_798_400 + seconds, 0).unwrap_or_default()
}

/// Which tasks a listing covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "TaskScope", rename_all = "snake_case")]
pub enum TaskScopeView {
    /// Tasks the caller owns.
    Own,
    /// Tasks shared with the caller.
    Shared,
    /// Tasks of the caller's teams.
    Team,
    /// Everything the caller may see.
    All,
}

impl From<TaskScopeView> for TaskScope {
    fn from(scope: TaskScopeView) -> Self {
        match scope {
            TaskScopeView::Own => TaskScope::Own,
            TaskScopeView::Shared => TaskScope::Shared,
            TaskScopeView::Team => TaskScope::Team,
            TaskScopeView::All => TaskScope::All,
        }
    }
}

/// A task to create.
#[derive(Object)]
#[oai(example)]
pub struct CreateTaskRequest {
    /// 1..=200 characters, not blank.
    pub title: StrictString,
    /// At most 10 000 characters; empty when absent.
    pub description: Option<StrictString>,
    /// `pending` when absent.
    pub status: Option<Choice<StatusView>>,
    /// `medium` when absent.
    pub priority: Option<Choice<PriorityView>>,
    /// When it is due (RFC 3339).
    pub due_at: Option<DateTime<Utc>>,
    /// Makes it a team task (the caller needs role `member` or above in that team).
    pub team_id: Option<Uuid>,
}

impl Example for CreateTaskRequest {
    fn example() -> Self {
        Self {
            title: "Write the quarterly report".into(),
            description: Some("Numbers from the dashboard, two pages at most.".into()),
            status: None,
            priority: Some(Choice::new(PriorityView::High)),
            due_at: Some(example_time(7 * 86_400)),
            team_id: None,
        }
    }
}

impl CreateTaskRequest {
    /// The engine's command; bad enum values are a validation error.
    pub fn into_new_task(self) -> Result<NewTask, EngineError> {
        let mut choices = Choices::default();
        let status = choices.optional("status", self.status);
        let priority = choices.optional("priority", self.priority);
        choices.finish()?;
        Ok(NewTask {
            title: self.title.into_inner(),
            description: self.description.map(StrictString::into_inner),
            status,
            priority,
            due_at: self.due_at,
            team_id: self.team_id.map(Into::into),
        })
    }
}

/// Changes to a task; absent fields stay as they are.
#[derive(Object)]
#[oai(example)]
pub struct UpdateTaskRequest {
    /// New title, 1..=200 characters.
    pub title: Option<StrictString>,
    /// New description, at most 10 000 characters.
    pub description: Option<StrictString>,
    /// New status (completing sets `completed_at`, reopening clears it).
    pub status: Option<Choice<StatusView>>,
    /// New priority.
    pub priority: Option<Choice<PriorityView>>,
    /// New due date; `null` removes it, absent keeps it.
    pub due_at: MaybeUndefined<DateTime<Utc>>,
}

impl Example for UpdateTaskRequest {
    fn example() -> Self {
        Self {
            title: None,
            description: None,
            status: Some(Choice::new(StatusView::InProgress)),
            priority: None,
            due_at: MaybeUndefined::Null,
        }
    }
}

impl UpdateTaskRequest {
    /// The engine's patch; bad enum values are a validation error.
    pub fn into_patch(self) -> Result<TaskPatch, EngineError> {
        let mut choices = Choices::default();
        let status = choices.optional("status", self.status);
        let priority = choices.optional("priority", self.priority);
        choices.finish()?;
        Ok(TaskPatch {
            title: self.title.map(StrictString::into_inner),
            description: self.description.map(StrictString::into_inner),
            status,
            priority,
            due_at: match self.due_at {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(at) => Some(Some(at)),
            },
        })
    }
}

/// A task.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Task", example)]
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
    #[oai(nullable)]
    pub due_at: Option<DateTime<Utc>>,
    /// Who owns it.
    pub owner_id: Uuid,
    /// The team it belongs to; `null` for a personal task.
    #[oai(nullable)]
    pub team_id: Option<Uuid>,
    /// 1 at creation, one more with every change; send it back as `If-Match`.
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was completed, while it is; otherwise `null`.
    #[oai(nullable)]
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
            completed_at: task.completed_at,
        }
    }
}

impl Example for TaskView {
    fn example() -> Self {
        Self {
            id: EXAMPLE_TASK_ID,
            title: "Write the quarterly report".to_owned(),
            description: "Numbers from the dashboard, two pages at most.".to_owned(),
            status: StatusView::Pending,
            priority: PriorityView::High,
            due_at: Some(example_time(7 * 86_400)),
            owner_id: EXAMPLE_USER_ID,
            team_id: None,
            version: 1,
            created_at: example_time(0),
            updated_at: example_time(0),
            completed_at: None,
        }
    }
}

/// One page of tasks, newest first.
#[derive(Debug, Object)]
#[oai(example)]
pub struct TaskPage {
    /// The tasks.
    pub items: Vec<TaskView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[oai(nullable)]
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

impl Example for TaskPage {
    fn example() -> Self {
        Self {
            items: vec![TaskView::example()],
            next_cursor: Some(EXAMPLE_TASK_ID.simple().to_string()),
        }
    }
}

/// Whom to share a task with (exactly one of `user_id` and `email`) and how.
#[derive(Object)]
#[oai(example)]
pub struct ShareRequest {
    /// The user's id.
    pub user_id: Option<Uuid>,
    /// Or the user's email, in any letter case.
    pub email: Option<StrictString>,
    /// What they may do with it.
    pub permission: Choice<PermissionView>,
}

impl Example for ShareRequest {
    fn example() -> Self {
        Self {
            user_id: None,
            email: Some("grace@example.com".into()),
            permission: Choice::new(PermissionView::Edit),
        }
    }
}

/// The user a request names by `user_id` or by `email`: exactly one of them.
pub(crate) fn user_ref(
    user_id: Option<Uuid>,
    email: Option<StrictString>,
) -> Result<UserRef, FieldError> {
    match (user_id, email) {
        (Some(id), None) => Ok(UserRef::Id(UserId(id))),
        (None, Some(email)) => Ok(UserRef::Email(email.into_inner())),
        _ => Err(FieldError::new(
            "user_id",
            "give exactly one of user_id and email",
        )),
    }
}

impl ShareRequest {
    /// The recipient and the permission; both problems are reported at once.
    pub fn into_parts(self) -> Result<(UserRef, Permission), EngineError> {
        let mut choices = Choices::default();
        let user = choices.record(user_ref(self.user_id, self.email));
        let permission = choices.record(self.permission.value("permission"));
        choices.finish()?;
        match (user, permission) {
            (Some(user), Some(permission)) => Ok((user, permission)),
            // `finish` has answered already when either is missing.
            _ => Err(EngineError::Validation(Vec::new())),
        }
    }
}

/// A share of a task with one user.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Share", example)]
pub struct ShareView {
    /// The user it is shared with.
    pub user_id: Uuid,
    /// Their email.
    pub email: String,
    /// What they may do.
    pub permission: PermissionView,
    /// When it was first shared.
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

impl Example for ShareView {
    fn example() -> Self {
        Self {
            user_id: EXAMPLE_OTHER_USER_ID,
            email: "grace@example.com".to_owned(),
            permission: PermissionView::Edit,
            created_at: example_time(60),
        }
    }
}

/// Everyone a task is shared with.
#[derive(Debug, Object)]
#[oai(example)]
pub struct ShareList {
    /// The shares.
    pub items: Vec<ShareView>,
}

impl Example for ShareList {
    fn example() -> Self {
        Self {
            items: vec![ShareView::example()],
        }
    }
}
