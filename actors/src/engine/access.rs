//! Who may see and change a task (API.md, "Tasks"): its owner; users it is shared with (view
//! or edit); members of its team (any role sees, member and above change, admin and above
//! delete).

use diesel_async::AsyncPgConnection;

use crate::error::{Error, Result};
use crate::model::{Permission, Task, UserId};
use crate::store::{tasks, teams};

/// What one user may do with one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskAccess {
    pub owner: bool,
    pub write: bool,
    pub delete: bool,
}

/// The user's access, or `NotFound` when they may not even see the task (invisible and
/// missing tasks are not told apart).
pub(crate) async fn task_access(
    conn: &mut AsyncPgConnection,
    task: &Task,
    user: UserId,
) -> Result<TaskAccess> {
    if task.owner_id == user {
        return Ok(TaskAccess {
            owner: true,
            write: true,
            delete: true,
        });
    }
    let role = match task.team_id {
        Some(team) => teams::role_of(conn, team, user).await?,
        None => None,
    };
    let share = tasks::share_permission(conn, task.id, user).await?;
    if role.is_none() && share.is_none() {
        return Err(Error::NotFound("task"));
    }
    Ok(TaskAccess {
        owner: false,
        write: role.is_some_and(|r| r.can_write()) || share == Some(Permission::Edit),
        delete: role.is_some_and(|r| r.can_manage()),
    })
}
