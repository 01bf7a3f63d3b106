//! Task commands and queries.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::json;

use super::Engine;
use super::access::task_access;
use super::paging::{Page, PageRequest};
use super::task_write::Decision;
use super::validate::{Checks, DESCRIPTION_MAX, TITLE};
use crate::audit_action::AuditAction;
use crate::error::{Entity, Error, Result};
use crate::model::{Priority, Role, Task, TaskId, TaskStatus, TeamId, UserId};
use crate::stats::task_deltas;
use crate::store::AuditEntry;
use crate::store::tasks::{TaskFilter, TaskListing, facts, list_tasks};
use crate::store::teams;

/// A task to create.
#[derive(Debug, Clone, Default)]
pub struct NewTask {
    /// 1..=200 characters.
    pub title: String,
    /// At most 10 000 characters; empty when absent.
    pub description: Option<String>,
    /// `pending` when absent.
    pub status: Option<TaskStatus>,
    /// `medium` when absent.
    pub priority: Option<Priority>,
    /// When it is due.
    pub due_at: Option<DateTime<Utc>>,
    /// The team it belongs to (the caller must be a member, role member or above).
    pub team_id: Option<TeamId>,
}

/// Changes to a task; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct TaskPatch {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New status (completing sets `completed_at`, reopening clears it).
    pub status: Option<TaskStatus>,
    /// New priority.
    pub priority: Option<Priority>,
    /// New due date; `Some(None)` removes it.
    pub due_at: Option<Option<DateTime<Utc>>>,
}

/// Which tasks a listing covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TaskScope {
    /// Tasks the caller owns.
    Own,
    /// Tasks shared with the caller.
    Shared,
    /// Tasks of the caller's teams (or of one team).
    Team,
    /// Everything the caller may see.
    #[default]
    All,
}

/// A task listing request.
#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    /// Which tasks.
    pub scope: TaskScope,
    /// Only this team's tasks.
    pub team_id: Option<TeamId>,
    /// Only tasks with this status.
    pub status: Option<TaskStatus>,
    /// Only tasks with this priority.
    pub priority: Option<Priority>,
    /// Page size, 1..=200 (50 when absent).
    pub limit: Option<i64>,
    /// Where the previous page ended.
    pub cursor: Option<String>,
}

pub(super) fn check_title(checks: &mut Checks, title: &str) {
    checks.length("title", title, TITLE.0, TITLE.1);
    checks.not_blank("title", title);
}

impl Engine {
    /// Creates a task owned by `actor`: one statement, which also checks the caller's role when
    /// the task is a team's.
    pub async fn create_task(&self, actor: UserId, new: NewTask) -> Result<Task> {
        let mut checks = Checks::default();
        check_title(&mut checks, &new.title);
        if let Some(d) = &new.description {
            checks.length("description", d, 0, DESCRIPTION_MAX);
        }
        checks.finish()?;
        let now = stored_now();
        let status = new.status.unwrap_or(TaskStatus::Pending);
        let task = Task {
            id: TaskId::new(),
            title: new.title,
            description: new.description.unwrap_or_default(),
            status,
            priority: new.priority.unwrap_or(Priority::Medium),
            due_at: new.due_at.map(stored_time),
            owner_id: actor,
            team_id: new.team_id,
            version: 1,
            created_at: now,
            updated_at: now,
            started_at: (status == TaskStatus::InProgress).then_some(now),
            completed_at: (status == TaskStatus::Completed).then_some(now),
        };
        let mut write = self.write();
        if let Some(team) = task.team_id {
            write.lock_team_for(team, actor, &[Role::Owner, Role::Admin, Role::Member]);
        }
        write
            .insert_task(&task)
            .reminders(None, Some(&task))
            .audit(audit(
                actor,
                AuditAction::TaskCreate,
                &task,
                &[],
                json!({ "title": task.title }),
            ))
            .deltas(task_deltas(None, Some(&facts(&task, Vec::new()))))?;
        let written = self.commit(write).await?;
        if !written.applied {
            return Err(match written.role {
                None => Error::NotFound(Entity::Team),
                Some(_) => Error::Forbidden("viewers cannot create team tasks".to_owned()),
            });
        }
        self.publish(written.published).await;
        Ok(task)
    }

    /// A task the caller may see.
    pub async fn get_task(&self, actor: UserId, id: TaskId) -> Result<Task> {
        let (task, _) = self
            .on_task(id, actor, None, |context| {
                task_access(context, actor)?;
                Ok(Decision::Answer(context.task.clone()))
            })
            .await?;
        Ok(task)
    }

    /// Changes a task. With `if_version`, only when the task is still at that version.
    pub async fn update_task(
        &self,
        actor: UserId,
        id: TaskId,
        patch: TaskPatch,
        if_version: Option<i64>,
    ) -> Result<Task> {
        let mut checks = Checks::default();
        if let Some(title) = &patch.title {
            check_title(&mut checks, title);
        }
        if let Some(d) = &patch.description {
            checks.length("description", d, 0, DESCRIPTION_MAX);
        }
        checks.finish()?;
        let (task, _) = self
            .on_task(id, actor, None, |context| {
                let old = &context.task;
                if !task_access(context, actor)?.write {
                    return Err(Error::Forbidden("you may only view this task".to_owned()));
                }
                if if_version.is_some_and(|v| v != old.version) {
                    return Err(Error::VersionMismatch {
                        current: old.version,
                    });
                }
                let now = stored_now();
                let mut new = patched(old, &patch, now);
                if new == *old {
                    return Ok(Decision::Answer(new));
                }
                new.version = old.version + 1;
                new.updated_at = now;
                // Sharees' counters do not depend on anything a patch changes.
                let deltas = task_deltas(
                    Some(&facts(old, Vec::new())),
                    Some(&facts(&new, Vec::new())),
                );
                let mut write = self.write();
                if let Some(team) = old.team_id {
                    write.lock_team(team);
                }
                write
                    .update_task(&new, old.version)
                    .reminders(Some(old), Some(&new))
                    .audit(audit(
                        actor,
                        AuditAction::TaskUpdate,
                        &new,
                        &context.shared_with,
                        changes(old, &new),
                    ))
                    .deltas(deltas)?;
                Ok(Decision::Write(Box::new(write), new))
            })
            .await?;
        Ok(task)
    }

    /// Deletes a task: its owner, or an admin or owner of its team.
    pub async fn delete_task(&self, actor: UserId, id: TaskId) -> Result<()> {
        self.on_task(id, actor, None, |context| {
            let old = &context.task;
            if !task_access(context, actor)?.delete {
                return Err(Error::Forbidden(
                    "only the owner or a team admin may delete this task".to_owned(),
                ));
            }
            let deltas = task_deltas(Some(&facts(old, context.shared_with.clone())), None);
            let mut write = self.write();
            if let Some(team) = old.team_id {
                write.lock_team(team);
            }
            write
                .delete_task(old.id, old.version, context.shares_version)
                .reminders(Some(old), None)
                .audit(audit(
                    actor,
                    AuditAction::TaskDelete,
                    old,
                    &context.shared_with,
                    json!({ "title": old.title }),
                ))
                .deltas(deltas)?;
            Ok(Decision::Write(Box::new(write), ()))
        })
        .await?;
        Ok(())
    }

    /// A page of the tasks the caller may see, newest first.
    pub async fn list_tasks(&self, actor: UserId, query: TaskQuery) -> Result<Page<Task>> {
        let request = PageRequest::parse(query.limit, query.cursor.as_deref())?;
        let mut conn = self.conn().await?;
        let listing = TaskListing {
            filter: visible_filter(&mut conn, actor, &query).await?,
            after: request.cursor.map(TaskId),
            limit: request.rows(),
        };
        let rows = list_tasks(&mut conn, &listing).await?;
        Ok(request.page(rows, |task| task.id.0))
    }
}

/// The tasks `query` names among those `actor` may see (listing and export alike); a
/// `team_id` the caller is not a member of is `NotFound`.
pub(super) async fn visible_filter(
    conn: &mut AsyncPgConnection,
    actor: UserId,
    query: &TaskQuery,
) -> Result<TaskFilter> {
    if let Some(team) = query.team_id
        && teams::role_of(conn, team, actor).await?.is_none()
    {
        return Err(Error::NotFound(Entity::Team));
    }
    Ok(TaskFilter {
        viewer: actor,
        scope: query.scope,
        team: query.team_id,
        status: query.status,
        priority: query.priority,
    })
}

/// The task after the patch; `completed_at` follows the status, `started_at` is set the first
/// time the task enters `in_progress` and kept from then on.
fn patched(old: &Task, patch: &TaskPatch, now: DateTime<Utc>) -> Task {
    let mut new = old.clone();
    if let Some(title) = &patch.title {
        new.title.clone_from(title);
    }
    if let Some(description) = &patch.description {
        new.description.clone_from(description);
    }
    if let Some(priority) = patch.priority {
        new.priority = priority;
    }
    if let Some(due_at) = patch.due_at {
        new.due_at = due_at.map(stored_time);
    }
    if let Some(status) = patch.status.filter(|s| *s != old.status) {
        new.status = status;
        new.completed_at = (status == TaskStatus::Completed).then_some(now);
        if status == TaskStatus::InProgress && new.started_at.is_none() {
            new.started_at = Some(now);
        }
    }
    new
}

/// Now, as PostgreSQL stores it: the engine computes a write's deltas from the times it
/// writes, so they must be exactly the times read back later.
pub(super) fn stored_now() -> DateTime<Utc> {
    stored_time(Utc::now())
}

/// A time cut to PostgreSQL's precision (microseconds).
pub(super) fn stored_time(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(time.timestamp_micros()).unwrap_or(time)
}

fn changes(old: &Task, new: &Task) -> serde_json::Value {
    let mut changed = Vec::new();
    if old.title != new.title {
        changed.push("title");
    }
    if old.description != new.description {
        changed.push("description");
    }
    if old.status != new.status {
        changed.push("status");
    }
    if old.priority != new.priority {
        changed.push("priority");
    }
    if old.due_at != new.due_at {
        changed.push("due_at");
    }
    // The title too, so that a feed reads "Ann completed 'Ship v2'" without another request.
    json!({
        "changed": changed, "title": new.title, "status": new.status, "version": new.version,
    })
}

/// The entry of a change to `task`, for the actor's, the owner's and `sharees`' feeds.
pub(crate) fn audit(
    actor: UserId,
    action: AuditAction,
    task: &Task,
    sharees: &[UserId],
    details: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor_id: Some(actor),
        action,
        target_type: "task",
        target_id: Some(task.id.0),
        team_id: task.team_id,
        details,
        audience: std::iter::once(task.owner_id)
            .chain(sharees.iter().copied())
            .collect(),
    }
}
