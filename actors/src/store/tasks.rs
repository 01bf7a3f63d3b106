//! Task rows: one task, a page of the tasks a user may see, a team's tasks.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{task_shares, tasks, team_members};
use super::shares::shared_with;
use crate::engine::TaskScope;
use crate::error::Result;
use crate::model::{Priority, Task, TaskId, TaskStatus, TeamId, UserId};
use crate::stats::TaskFacts;

/// A `tasks` row as read (its `shares_version` is the writers' business, read by
/// [`task_context`](super::task_context::task_context)).
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = tasks, check_for_backend(Pg))]
pub(crate) struct TaskRecord {
    id: TaskId,
    title: String,
    description: String,
    status: TaskStatus,
    priority: Priority,
    due_at: Option<DateTime<Utc>>,
    owner_id: UserId,
    team_id: Option<TeamId>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
}

/// The SQL types of a [`TaskRecord`], for hand-written statements that read one.
pub(crate) type TaskRecordSql =
    <<TaskRecord as Selectable<Pg>>::SelectExpression as Expression>::SqlType;

impl From<TaskRecord> for Task {
    fn from(row: TaskRecord) -> Self {
        Task {
            id: row.id,
            title: row.title,
            description: row.description,
            status: row.status,
            priority: row.priority,
            due_at: row.due_at,
            owner_id: row.owner_id,
            team_id: row.team_id,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            started_at: row.started_at,
            completed_at: row.completed_at,
        }
    }
}

/// The task, unlocked.
pub(crate) async fn find_task(conn: &mut AsyncPgConnection, id: TaskId) -> Result<Option<Task>> {
    let row = tasks::table
        .find(id)
        .select(TaskRecord::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Task::from))
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
        started_at: task.started_at,
        completed_at: task.completed_at,
        shared_with,
    }
}

/// Which of the tasks a user may see a listing (or an export) covers.
#[derive(Debug, Clone)]
pub(crate) struct TaskFilter {
    /// Whose view: their own tasks, those shared with them, their teams'.
    pub viewer: UserId,
    pub scope: TaskScope,
    pub team: Option<TeamId>,
    pub status: Option<TaskStatus>,
    pub priority: Option<Priority>,
}

impl TaskFilter {
    /// The tasks the filter covers: the one visibility rule (the viewer's own tasks, those
    /// shared with them, their teams'), narrowed by scope, team, status and priority.
    pub fn visible(&self) -> tasks::BoxedQuery<'static, Pg> {
        let viewer = self.viewer;
        let my_teams = team_members::table
            .filter(team_members::user_id.eq(viewer))
            .select(team_members::team_id.nullable());
        let shared = task_shares::table
            .filter(task_shares::user_id.eq(viewer))
            .select(task_shares::task_id);
        let mut q = tasks::table.into_boxed();
        q = match self.scope {
            TaskScope::Own => q.filter(tasks::owner_id.eq(viewer)),
            TaskScope::Shared => q.filter(tasks::id.eq_any(shared)),
            TaskScope::Team => q.filter(tasks::team_id.eq_any(my_teams)),
            TaskScope::All => q.filter(
                tasks::owner_id
                    .eq(viewer)
                    .or(tasks::id.eq_any(shared))
                    .or(tasks::team_id.eq_any(my_teams)),
            ),
        };
        if let Some(team) = self.team {
            q = q.filter(tasks::team_id.eq(team));
        }
        if let Some(status) = self.status {
            q = q.filter(tasks::status.eq(status));
        }
        if let Some(priority) = self.priority {
            q = q.filter(tasks::priority.eq(priority));
        }
        q
    }
}

/// Which tasks a listing reads.
#[derive(Debug, Clone)]
pub(crate) struct TaskListing {
    /// Which tasks.
    pub filter: TaskFilter,
    /// Where the previous page ended (pages go from the newest task down).
    pub after: Option<TaskId>,
    /// How many rows to read (one more than a page, to know whether another follows).
    pub limit: i64,
}

/// A page of the tasks `listing` names, newest first.
pub(crate) async fn list_tasks(
    conn: &mut AsyncPgConnection,
    listing: &TaskListing,
) -> Result<Vec<Task>> {
    let mut q = listing.filter.visible();
    if let Some(after) = listing.after {
        q = q.filter(tasks::id.lt(after));
    }
    let rows: Vec<TaskRecord> = q
        .select(TaskRecord::as_select())
        .order(tasks::id.desc())
        .limit(listing.limit)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Task::from).collect())
}

/// The facts of every task of `team`, each task locked, in id order (the order every writer
/// locks tasks in).
pub(crate) async fn lock_team_tasks(
    conn: &mut AsyncPgConnection,
    team: TeamId,
) -> Result<Vec<TaskFacts>> {
    let ids: Vec<TaskId> = tasks::table
        .filter(tasks::team_id.eq(team))
        .select(tasks::id)
        .order(tasks::id)
        .for_update()
        .load(conn)
        .await?;
    facts_of(conn, ids).await
}

/// The facts of every task `user` owns or has a share of, each task locked, in id order.
pub(crate) async fn lock_account_tasks(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<Vec<TaskFacts>> {
    let shared = task_shares::table
        .filter(task_shares::user_id.eq(user))
        .select(task_shares::task_id);
    let ids: Vec<TaskId> = tasks::table
        .filter(tasks::owner_id.eq(user).or(tasks::id.eq_any(shared)))
        .select(tasks::id)
        .order(tasks::id)
        .for_update()
        .load(conn)
        .await?;
    facts_of(conn, ids).await
}

async fn facts_of(conn: &mut AsyncPgConnection, ids: Vec<TaskId>) -> Result<Vec<TaskFacts>> {
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(task) = find_task(conn, id).await? {
            found.push(facts(&task, shared_with(conn, id).await?));
        }
    }
    Ok(found)
}

/// Deletes every task `owner` owns (their shares go with them).
pub(crate) async fn delete_owned_tasks(conn: &mut AsyncPgConnection, owner: UserId) -> Result<()> {
    diesel::delete(tasks::table.filter(tasks::owner_id.eq(owner)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the tasks' sharees as changed, so that a writer that read them before fails its
/// compare-and-set and decides again.
pub(crate) async fn bump_shares_version(
    conn: &mut AsyncPgConnection,
    ids: &[TaskId],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(tasks::table.filter(tasks::id.eq_any(ids)))
        .set(tasks::shares_version.eq(tasks::shares_version + 1))
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes every task of `team` (their shares go with them).
pub(crate) async fn delete_team_tasks(conn: &mut AsyncPgConnection, team: TeamId) -> Result<()> {
    diesel::delete(tasks::table.filter(tasks::team_id.eq(team)))
        .execute(conn)
        .await?;
    Ok(())
}
