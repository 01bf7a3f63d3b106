//! Task and share rows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{task_shares, tasks, users};
use crate::error::{Error, Result};
use crate::model::{Permission, Task, TaskId, TeamId, UserId};
use crate::stats::TaskFacts;

/// A stored value outside its closed set can only come from outside the engine.
pub(crate) fn parse_stored<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T> {
    text.parse()
        .map_err(|err: String| Error::Database(err.into()))
}

/// A `tasks` row as read (its `shares_version` is the writers' business, read by
/// [`task_context`]).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tasks, check_for_backend(diesel::pg::Pg))]
pub(crate) struct TaskRecord {
    id: Uuid,
    title: String,
    description: String,
    status: String,
    priority: String,
    due_at: Option<DateTime<Utc>>,
    owner_id: Uuid,
    team_id: Option<Uuid>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
}

impl TaskRecord {
    pub(crate) fn into_task(self) -> Result<Task> {
        Ok(Task {
            id: TaskId(self.id),
            title: self.title,
            description: self.description,
            status: parse_stored(&self.status)?,
            priority: parse_stored(&self.priority)?,
            due_at: self.due_at,
            owner_id: UserId(self.owner_id),
            team_id: self.team_id.map(TeamId),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            completed_at: self.completed_at,
        })
    }
}

/// The task, unlocked.
pub(crate) async fn find_task(conn: &mut AsyncPgConnection, id: TaskId) -> Result<Option<Task>> {
    tasks::table
        .find(id.0)
        .select(TaskRecord::as_select())
        .first(conn)
        .await
        .optional()?
        .map(TaskRecord::into_task)
        .transpose()
}

/// Who the task is shared with.
pub(crate) async fn shared_with(conn: &mut AsyncPgConnection, id: TaskId) -> Result<Vec<UserId>> {
    let users: Vec<Uuid> = task_shares::table
        .filter(task_shares::task_id.eq(id.0))
        .select(task_shares::user_id)
        .order(task_shares::user_id)
        .load(conn)
        .await?;
    Ok(users.into_iter().map(UserId).collect())
}

/// The facts the aggregates depend on.
pub(crate) fn facts(task: &Task, shared_with: Vec<UserId>) -> TaskFacts {
    TaskFacts {
        id: task.id,
        owner: task.owner_id,
        team: task.team_id,
        status: task.status,
        priority: task.priority,
        due_at: task.due_at,
        created_at: task.created_at,
        completed_at: task.completed_at,
        shared_with,
    }
}

/// A share of a task with one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The user it is shared with.
    pub user_id: UserId,
    /// Their email.
    pub email: String,
    /// What they may do.
    pub permission: Permission,
    /// When it was (first) shared.
    pub created_at: DateTime<Utc>,
}

/// A task's shares, oldest first.
pub(crate) async fn list_shares(conn: &mut AsyncPgConnection, task: TaskId) -> Result<Vec<Share>> {
    let rows: Vec<(Uuid, String, String, DateTime<Utc>)> = task_shares::table
        .inner_join(users::table)
        .filter(task_shares::task_id.eq(task.0))
        .select((
            task_shares::user_id,
            users::email,
            task_shares::permission,
            task_shares::created_at,
        ))
        .order((task_shares::created_at, task_shares::user_id))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(user, email, permission, created_at)| {
            Ok(Share {
                user_id: UserId(user),
                email,
                permission: parse_stored(&permission)?,
                created_at,
            })
        })
        .collect()
}
