//! Share rows: who a task is shared with, and the sharing lists of one user.

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Array, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{task_shares, tasks, users};
use crate::error::Result;
use crate::model::{Permission, TaskId, TaskStatus, UserId};

/// A share of a task with one user.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = task_shares, check_for_backend(Pg))]
pub struct Share {
    /// The user it is shared with.
    pub user_id: UserId,
    /// Their email.
    #[diesel(select_expression = users::email)]
    pub email: String,
    /// What they may do.
    pub permission: Permission,
    /// When it was (first) shared.
    pub created_at: DateTime<Utc>,
}

/// A task shared with the caller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Queryable, Selectable)]
#[diesel(table_name = tasks, check_for_backend(Pg))]
pub struct SharedWithMe {
    /// The task.
    #[diesel(select_expression = tasks::id)]
    pub task_id: TaskId,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: TaskStatus,
    /// Its owner.
    pub owner_id: UserId,
    /// What the caller may do with it.
    #[diesel(select_expression = task_shares::permission)]
    pub permission: Permission,
}

/// One of the caller's tasks and who it is shared with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Queryable, Selectable)]
#[diesel(table_name = tasks, check_for_backend(Pg))]
pub struct SharedByMe {
    /// The task.
    #[diesel(select_expression = tasks::id)]
    pub task_id: TaskId,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: TaskStatus,
    /// The users it is shared with.
    #[diesel(
        select_expression = sql::<Array<SqlUuid>>(
            "array_agg(task_shares.user_id ORDER BY task_shares.user_id)"
        ),
        select_expression_type = SqlLiteral<Array<SqlUuid>>
    )]
    pub shared_with: Vec<UserId>,
}

/// Who the task is shared with.
pub(crate) async fn shared_with(conn: &mut AsyncPgConnection, id: TaskId) -> Result<Vec<UserId>> {
    Ok(task_shares::table
        .filter(task_shares::task_id.eq(id))
        .select(task_shares::user_id)
        .order(task_shares::user_id)
        .load(conn)
        .await?)
}

/// A task's shares, oldest first.
pub(crate) async fn list_shares(conn: &mut AsyncPgConnection, task: TaskId) -> Result<Vec<Share>> {
    Ok(task_shares::table
        .inner_join(users::table)
        .filter(task_shares::task_id.eq(task))
        .select(Share::as_select())
        .order((task_shares::created_at, task_shares::user_id))
        .load(conn)
        .await?)
}

/// The tasks shared with `user`, newest share first, at most `limit`.
pub(crate) async fn shared_with_user(
    conn: &mut AsyncPgConnection,
    user: UserId,
    limit: i64,
) -> Result<Vec<SharedWithMe>> {
    Ok(task_shares::table
        .inner_join(tasks::table)
        .filter(task_shares::user_id.eq(user))
        .select(SharedWithMe::as_select())
        .order((task_shares::created_at.desc(), tasks::id.desc()))
        .limit(limit)
        .load(conn)
        .await?)
}

/// `owner`'s shared tasks with their sharees, newest task first, at most `limit`.
pub(crate) async fn shared_by_owner(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    limit: i64,
) -> Result<Vec<SharedByMe>> {
    Ok(tasks::table
        .inner_join(task_shares::table)
        .filter(tasks::owner_id.eq(owner))
        .group_by((tasks::id, tasks::title, tasks::status))
        .select(SharedByMe::as_select())
        .order(tasks::id.desc())
        .limit(limit)
        .load(conn)
        .await?)
}
