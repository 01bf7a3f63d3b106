//! `/api/v1/tasks` and `/api/v1/tasks/{id}/shares` (docs/architecture.md, "Rules and
//! limits"): thin over the engine, which validates and authorises every call itself.

mod export;
mod import;
mod schemas;
mod transfer;

pub(crate) use schemas::user_ref;
pub(crate) use schemas::{CreateTaskRequest, ShareRequest, UpdateTaskRequest};
pub use transfer::TransferApi;

use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use taskpulse_actors::{TaskId, TaskQuery, UserId};
use taskpulse_live::shapes::tasks::{ShareList, ShareView, TaskPage, TaskView};
use taskpulse_live::shapes::values::{PriorityView, StatusView, TaskScopeView};
use uuid::Uuid;

use crate::auth::BearerAuth;
use crate::error::ApiError;
use crate::routes::ApiTags;
use crate::routes::choice::{Choice, Choices};
use crate::routes::problem::{
    Failure, MALFORMED, NOT_JSON, TOO_LARGE, UNAUTHENTICATED, UNAVAILABLE, VALIDATION, problems,
    read_scope_refused,
};
use crate::state::AppState;
use crate::wire::Wire;

/// Tasks and their shares.
pub struct TasksApi {
    state: AppState,
}

impl TasksApi {
    /// The tasks API over the shared state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[derive(ApiResponse)]
enum CreatedTask {
    /// The task, as stored.
    #[oai(status = 201)]
    Created(Wire<TaskView>),
}

#[derive(ApiResponse)]
enum OneTask {
    /// The task.
    #[oai(status = 200)]
    Ok(Wire<TaskView>),
}

#[derive(ApiResponse)]
enum ManyTasks {
    /// A page of tasks, newest first.
    #[oai(status = 200)]
    Ok(Wire<TaskPage>),
}

#[derive(ApiResponse)]
enum Deleted {
    /// Done; there is nothing to answer.
    #[oai(status = 204)]
    NoContent,
}

#[derive(ApiResponse)]
enum CreatedShare {
    /// The share, created or with its permission changed.
    #[oai(status = 201)]
    Created(Wire<ShareView>),
}

#[derive(ApiResponse)]
enum ManyShares {
    /// Everyone the task is shared with.
    #[oai(status = 200)]
    Ok(Wire<ShareList>),
}

const TASK_NOT_FOUND: (u16, &str) = (
    404,
    "`not_found`: the task does not exist or the caller may not see it",
);

problems!(
    /// The problems `create_task` documents.
    CreateProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        (403, concat!("`forbidden`: viewers cannot create team tasks; ", read_scope_refused!())),
        (404, "`not_found`: the team does not exist or the caller is not a member"),
        VALIDATION,
        TOO_LARGE,
        NOT_JSON,
        UNAVAILABLE,
    ]
);
problems!(
    /// The problems `list_tasks` documents.
    ListProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        (404, "`not_found`: `team_id` names a team the caller is not a member of"),
        VALIDATION,
        UNAVAILABLE,
    ]
);
problems!(
    /// The problems `get_task` and `list_shares` document.
    ReadProblems: [MALFORMED, UNAUTHENTICATED, TASK_NOT_FOUND, UNAVAILABLE]
);
problems!(
    /// The problems `update_task` documents.
    UpdateProblems: [
        (400, "`malformed_request`: the body is not JSON of the documented shape, the id is \
               not a UUID, or `If-Match` is not a version number"),
        UNAUTHENTICATED,
        (403, concat!("`forbidden`: the caller may only view this task; ", read_scope_refused!())),
        TASK_NOT_FOUND,
        (412, "`version_mismatch`: `If-Match` names a version that is no longer current"),
        VALIDATION,
        TOO_LARGE,
        NOT_JSON,
        UNAVAILABLE,
    ]
);
problems!(
    /// The problems `delete_task` documents.
    DeleteProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        (403, concat!(
            "`forbidden`: only the owner, or a team admin or owner for a team task, may delete it; ",
            read_scope_refused!()
        )),
        TASK_NOT_FOUND,
        UNAVAILABLE,
    ]
);
problems!(
    /// The problems `share_task` documents.
    ShareProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        (403, concat!("`forbidden`: only the task's owner may share it; ", read_scope_refused!())),
        (404, "`not_found`: the task is not visible to the caller, or the user does not exist"),
        VALIDATION,
        TOO_LARGE,
        NOT_JSON,
        UNAVAILABLE,
    ]
);
problems!(
    /// The problems `unshare_task` documents.
    UnshareProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        (403, concat!("`forbidden`: only the task's owner may remove shares; ", read_scope_refused!())),
        (404, "`not_found`: the task is not visible to the caller, or is not shared with that user"),
        UNAVAILABLE,
    ]
);

/// The version an `If-Match` header names: `"7"` or `7`; `*` (or no header) means any.
fn expected_version(if_match: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(raw) = if_match.map(str::trim) else {
        return Ok(None);
    };
    if raw == "*" {
        return Ok(None);
    }
    let bare = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    bare.parse::<i64>().map(Some).map_err(|_| {
        ApiError::Malformed(format!(
            "If-Match must be a task version such as \"3\", not {raw:?}"
        ))
    })
}

#[OpenApi(tag = "ApiTags::Tasks")]
impl TasksApi {
    /// Create a task
    ///
    /// A new task is `pending` and `medium` unless the request says otherwise. With
    /// `team_id` it is a team task, which needs role `member` or above in that team.
    #[oai(path = "/api/v1/tasks", method = "post", operation_id = "createTask")]
    async fn create_task(
        &self,
        auth: BearerAuth,
        body: Json<CreateTaskRequest>,
    ) -> Result<CreatedTask, Failure<CreateProblems>> {
        let new = body.0.into_new_task()?;
        let task = self.state.engine.create_task(auth.0, new).await?;
        Ok(CreatedTask::Created(Wire(task.into())))
    }

    /// List tasks
    ///
    /// A page of the tasks the caller may see, newest first, keyset-paginated.
    #[oai(path = "/api/v1/tasks", method = "get", operation_id = "listTasks")]
    #[allow(clippy::too_many_arguments)]
    async fn list_tasks(
        &self,
        auth: BearerAuth,
        /// `own`, `shared`, `team` or `all` (the default).
        scope: Query<Option<Choice<TaskScopeView>>>,
        /// Only this team's tasks.
        team_id: Query<Option<Uuid>>,
        /// Only tasks with this status.
        status: Query<Option<Choice<StatusView>>>,
        /// Only tasks with this priority.
        priority: Query<Option<Choice<PriorityView>>>,
        /// Page size, 1..=200 (default 50).
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> Result<ManyTasks, Failure<ListProblems>> {
        let mut choices = Choices::default();
        let scope = choices.optional("scope", scope.0);
        let status = choices.optional("status", status.0);
        let priority = choices.optional("priority", priority.0);
        choices.finish()?;
        let query = TaskQuery {
            scope: scope.unwrap_or_default(),
            team_id: team_id.0.map(Into::into),
            status,
            priority,
            limit: limit.0,
            cursor: cursor.0,
        };
        let page = self.state.engine.list_tasks(auth.0, query).await?;
        Ok(ManyTasks::Ok(Wire(page.into())))
    }

    /// Get a task
    #[oai(path = "/api/v1/tasks/:id", method = "get", operation_id = "getTask")]
    async fn get_task(
        &self,
        auth: BearerAuth,
        /// The task's id.
        id: Path<Uuid>,
    ) -> Result<OneTask, Failure<ReadProblems>> {
        let task = self.state.engine.get_task(auth.0, TaskId(id.0)).await?;
        Ok(OneTask::Ok(Wire(task.into())))
    }

    /// Change a task
    ///
    /// Absent fields stay as they are; `due_at: null` removes the due date. With
    /// `If-Match: "<version>"` the change applies only while the task is at that version.
    /// The owner, `edit` shares and team members with role `member` or above may change it.
    #[oai(
        path = "/api/v1/tasks/:id",
        method = "patch",
        operation_id = "updateTask"
    )]
    async fn update_task(
        &self,
        auth: BearerAuth,
        /// The task's id.
        id: Path<Uuid>,
        /// The version the change expects, e.g. `"3"` (quoted or bare).
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: Json<UpdateTaskRequest>,
    ) -> Result<OneTask, Failure<UpdateProblems>> {
        let expected = expected_version(if_match.0.as_deref())?;
        let patch = body.0.into_patch()?;
        let task = self
            .state
            .engine
            .update_task(auth.0, TaskId(id.0), patch, expected)
            .await?;
        Ok(OneTask::Ok(Wire(task.into())))
    }

    /// Delete a task
    ///
    /// Its owner may, and for a team task a team admin or owner.
    #[oai(
        path = "/api/v1/tasks/:id",
        method = "delete",
        operation_id = "deleteTask"
    )]
    async fn delete_task(
        &self,
        auth: BearerAuth,
        /// The task's id.
        id: Path<Uuid>,
    ) -> Result<Deleted, Failure<DeleteProblems>> {
        self.state.engine.delete_task(auth.0, TaskId(id.0)).await?;
        Ok(Deleted::NoContent)
    }

    /// Share a task
    ///
    /// Owner only. Names the user by `user_id` or by `email` (exactly one); sharing again
    /// changes the permission.
    #[oai(
        path = "/api/v1/tasks/:id/shares",
        method = "post",
        operation_id = "shareTask"
    )]
    async fn share_task(
        &self,
        auth: BearerAuth,
        /// The task's id.
        id: Path<Uuid>,
        body: Json<ShareRequest>,
    ) -> Result<CreatedShare, Failure<ShareProblems>> {
        let (user, permission) = body.0.into_parts()?;
        let share = self
            .state
            .engine
            .share_task(auth.0, TaskId(id.0), user, permission)
            .await?;
        Ok(CreatedShare::Created(Wire(share.into())))
    }

    /// List a task's shares
    ///
    /// Everyone who may see the task may see whom it is shared with.
    #[oai(
        path = "/api/v1/tasks/:id/shares",
        method = "get",
        operation_id = "listShares"
    )]
    async fn list_shares(
        &self,
        auth: BearerAuth,
        /// The task's id.
        id: Path<Uuid>,
    ) -> Result<ManyShares, Failure<ReadProblems>> {
        let shares = self.state.engine.list_shares(auth.0, TaskId(id.0)).await?;
        Ok(ManyShares::Ok(Wire(ShareList {
            items: shares.into_iter().map(Into::into).collect(),
        })))
    }

    /// Stop sharing a task
    #[oai(
        path = "/api/v1/tasks/:id/shares/:user_id",
        method = "delete",
        operation_id = "unshareTask"
    )]
    async fn unshare_task(
        &self,
        auth: BearerAuth,
        /// The task's id.
        id: Path<Uuid>,
        /// The user it is shared with.
        user_id: Path<Uuid>,
    ) -> Result<Deleted, Failure<UnshareProblems>> {
        self.state
            .engine
            .unshare_task(auth.0, TaskId(id.0), UserId(user_id.0))
            .await?;
        Ok(Deleted::NoContent)
    }
}

#[cfg(test)]
mod tests {
    use super::expected_version;

    #[test]
    fn if_match_takes_quoted_or_bare_versions() {
        assert_eq!(expected_version(None).ok(), Some(None));
        assert_eq!(expected_version(Some("\"7\"")).ok(), Some(Some(7)));
        assert_eq!(expected_version(Some("7")).ok(), Some(Some(7)));
        assert_eq!(expected_version(Some("*")).ok(), Some(None));
        assert!(expected_version(Some("\"seven\"")).is_err());
        assert!(expected_version(Some("W/\"7\"")).is_err());
    }
}
