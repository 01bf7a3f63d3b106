//! Task and share rows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{task_shares, tasks, users};
use crate::error::{Error, Result};
use crate::model::{Permission, Task, TaskId, TeamId, UserId};
use crate::stats::TaskFacts;

/// The columns of `tasks`, in schema order.
pub(crate) type TaskRow = (
    Uuid,
    String,
    String,
    String,
    String,
    Option<DateTime<Utc>>,
    Uuid,
    Option<Uuid>,
    i64,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// A stored value outside its closed set can only come from outside the engine.
pub(crate) fn parse_stored<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T> {
    text.parse().map_err(|err: String| {
        Error::Database(diesel::result::Error::DeserializationError(err.into()))
    })
}

pub(crate) fn task_from_row(row: TaskRow) -> Result<Task> {
    let (
        id,
        title,
        description,
        status,
        priority,
        due_at,
        owner_id,
        team_id,
        version,
        created_at,
        updated_at,
        completed_at,
    ) = row;
    Ok(Task {
        id: TaskId(id),
        title,
        description,
        status: parse_stored(&status)?,
        priority: parse_stored(&priority)?,
        due_at,
        owner_id: UserId(owner_id),
        team_id: team_id.map(TeamId),
        version,
        created_at,
        updated_at,
        completed_at,
    })
}

/// The task, locked for the rest of the transaction.
pub(crate) async fn lock_task(conn: &mut AsyncPgConnection, id: TaskId) -> Result<Option<Task>> {
    tasks::table
        .find(id.0)
        .for_update()
        .first::<TaskRow>(conn)
        .await
        .optional()?
        .map(task_from_row)
        .transpose()
}

/// The task, unlocked.
pub(crate) async fn find_task(conn: &mut AsyncPgConnection, id: TaskId) -> Result<Option<Task>> {
    tasks::table
        .find(id.0)
        .first::<TaskRow>(conn)
        .await
        .optional()?
        .map(task_from_row)
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

/// The permission `user` holds on the task through a share, if any.
pub(crate) async fn share_permission(
    conn: &mut AsyncPgConnection,
    id: TaskId,
    user: UserId,
) -> Result<Option<Permission>> {
    let permission: Option<String> = task_shares::table
        .find((id.0, user.0))
        .select(task_shares::permission)
        .first(conn)
        .await
        .optional()?;
    permission.as_deref().map(parse_stored).transpose()
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

/// Writes a new task.
pub(crate) async fn insert_task(conn: &mut AsyncPgConnection, task: &Task) -> Result<Task> {
    let row: TaskRow = diesel::insert_into(tasks::table)
        .values((
            tasks::id.eq(task.id.0),
            tasks::title.eq(&task.title),
            tasks::description.eq(&task.description),
            tasks::status.eq(task.status.as_str()),
            tasks::priority.eq(task.priority.as_str()),
            tasks::due_at.eq(task.due_at),
            tasks::owner_id.eq(task.owner_id.0),
            tasks::team_id.eq(task.team_id.map(|t| t.0)),
            tasks::version.eq(1),
            tasks::created_at.eq(task.created_at),
            tasks::updated_at.eq(task.updated_at),
            tasks::completed_at.eq(task.completed_at),
        ))
        .get_result(conn)
        .await?;
    task_from_row(row)
}

/// Writes a changed task, bumping its version.
pub(crate) async fn update_task(conn: &mut AsyncPgConnection, task: &Task) -> Result<Task> {
    let row: TaskRow = diesel::update(tasks::table.find(task.id.0))
        .set((
            tasks::title.eq(&task.title),
            tasks::description.eq(&task.description),
            tasks::status.eq(task.status.as_str()),
            tasks::priority.eq(task.priority.as_str()),
            tasks::due_at.eq(task.due_at),
            tasks::completed_at.eq(task.completed_at),
            tasks::version.eq(tasks::version + 1),
            tasks::updated_at.eq(diesel::dsl::now),
        ))
        .get_result(conn)
        .await?;
    task_from_row(row)
}

/// Deletes a task (its shares go with it).
pub(crate) async fn delete_task(conn: &mut AsyncPgConnection, id: TaskId) -> Result<()> {
    diesel::delete(tasks::table.find(id.0))
        .execute(conn)
        .await?;
    Ok(())
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

/// Creates the share or changes its permission.
pub(crate) async fn upsert_share(
    conn: &mut AsyncPgConnection,
    task: TaskId,
    user: UserId,
    permission: Permission,
) -> Result<()> {
    diesel::insert_into(task_shares::table)
        .values((
            task_shares::task_id.eq(task.0),
            task_shares::user_id.eq(user.0),
            task_shares::permission.eq(permission.as_str()),
        ))
        .on_conflict((task_shares::task_id, task_shares::user_id))
        .do_update()
        .set(task_shares::permission.eq(permission.as_str()))
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes a share; answers whether there was one.
pub(crate) async fn delete_share(
    conn: &mut AsyncPgConnection,
    task: TaskId,
    user: UserId,
) -> Result<bool> {
    let removed = diesel::delete(task_shares::table.find((task.0, user.0)))
        .execute(conn)
        .await?;
    Ok(removed > 0)
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
