//! The request bodies of `/api/v1/tasks` and its shares (the answers are
//! `taskpulse_live::shapes::tasks`).

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use poem_openapi::types::{Example, MaybeUndefined};
use taskpulse_actors::{
    Error as EngineError, FieldError, NewTask, Permission, TaskPatch, UserId, UserRef,
};
use taskpulse_live::shapes::examples::time as example_time;
use taskpulse_live::shapes::values::{PermissionView, PriorityView, StatusView};
use uuid::Uuid;

use crate::routes::choice::{Choice, Choices};
use crate::routes::strict::StrictString;

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
