//! Everything a task command decides on, read in one round trip: the task, what the caller may
//! do with it (their role in its team, their share), who it is shared with, and the user a share
//! command names.

use diesel::OptionalExtension;
use diesel::Queryable;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::sql::Sql;
use super::tasks::{TaskRecord, TaskRecordSql};
use crate::error::Result;
use crate::model::{Permission, Role, Task, TaskId, UserId};

/// How a share command names the user it shares with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target<'a> {
    Id(UserId),
    Email(&'a str),
}

/// A task and its surroundings, as of one snapshot.
#[derive(Debug, Clone)]
pub(crate) struct TaskContext {
    pub task: Task,
    /// Grows with every change to the task's shares (see the migration that adds it).
    pub shares_version: i64,
    /// The caller's role in the task's team.
    pub role: Option<Role>,
    /// The caller's share of the task.
    pub permission: Option<Permission>,
    /// Who the task is shared with, by id.
    pub shared_with: Vec<UserId>,
    /// The user a share command names, with their email, if they exist.
    pub target: Option<(UserId, String)>,
}

/// `tasks`' columns as [`TaskRecord`] reads them, then [`Surroundings`].
type ContextSql = (
    TaskRecordSql,
    (
        BigInt,
        Nullable<Text>,
        Nullable<Text>,
        Array<SqlUuid>,
        Nullable<SqlUuid>,
        Nullable<Text>,
    ),
);

#[derive(Queryable)]
struct Surroundings {
    shares_version: i64,
    role: Option<Role>,
    permission: Option<Permission>,
    shared_with: Vec<UserId>,
    target_id: Option<UserId>,
    target_email: Option<String>,
}

/// The task `id` as `actor` would act on it; `None` when it does not exist.
pub(crate) async fn task_context(
    conn: &mut AsyncPgConnection,
    id: TaskId,
    actor: UserId,
    target: Option<Target<'_>>,
) -> Result<Option<TaskContext>> {
    let mut sql = Sql::<ContextSql>::new();
    sql.sql(
        "SELECT t.id, t.title, t.description, t.status, t.priority, t.due_at, t.owner_id, \
         t.team_id, t.version, t.created_at, t.updated_at, t.started_at, t.completed_at, \
         t.shares_version, \
         (SELECT m.role FROM team_members m WHERE m.team_id = t.team_id AND m.user_id = ",
    )
    .bind(actor.0)
    .sql("), (SELECT s.permission FROM task_shares s WHERE s.task_id = t.id AND s.user_id = ")
    .bind(actor.0)
    .sql(
        "), ARRAY(SELECT s.user_id FROM task_shares s WHERE s.task_id = t.id ORDER BY s.user_id), \
         target.id, target.email FROM tasks t LEFT JOIN LATERAL (SELECT u.id, u.email FROM users u \
         WHERE ",
    );
    match target {
        None => sql.sql("FALSE"),
        Some(Target::Id(user)) => sql.sql("u.id = ").bind(user.0),
        // PostgreSQL text cannot hold NUL: no stored email has one, and binding it would fail.
        Some(Target::Email(email)) if email.contains('\0') => sql.sql("FALSE"),
        Some(Target::Email(email)) => sql
            .sql("lower(u.email) = lower(")
            .bind(email.to_owned())
            .sql(")"),
    };
    sql.sql(") target ON TRUE WHERE t.id = ").bind(id.0);
    let Some((task, around)) = sql
        .get_result::<(TaskRecord, Surroundings)>(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    Ok(Some(TaskContext {
        task: task.into(),
        shares_version: around.shares_version,
        role: around.role,
        permission: around.permission,
        shared_with: around.shared_with,
        target: around.target_id.zip(around.target_email),
    }))
}

/// Locks the task row until the caller's transaction ends, taking the key-share lock on its
/// team's row first (the order a team's deletion locks them in; see `store/write/mod.rs`). Read the
/// context after this, in a statement of its own: a locking read that waited returns the
/// task's newest row, but the rest of that statement would still see the older snapshot.
pub(crate) async fn lock_task(conn: &mut AsyncPgConnection, id: TaskId) -> Result<()> {
    let mut team = Sql::<BigInt>::new();
    team.sql("SELECT count(*) FROM (SELECT id FROM teams WHERE id = (SELECT team_id FROM tasks ")
        .sql("WHERE id = ")
        .bind(id.0)
        .sql(") FOR KEY SHARE) locked");
    team.get_result::<i64>(conn).await?;
    let mut task = Sql::<BigInt>::new();
    task.sql("SELECT count(*) FROM (SELECT id FROM tasks WHERE id = ")
        .bind(id.0)
        .sql(" FOR UPDATE) locked");
    task.get_result::<i64>(conn).await?;
    Ok(())
}
