//! Who may see and change a task (docs/architecture.md, "Rules and limits"): its owner; users
//! it is shared with (view or edit); members of its team (any role sees, member and above
//! change, admin and above delete).

use crate::error::{Entity, Error, Result};
use crate::model::{Permission, UserId};
use crate::store::task_context::TaskContext;

/// What one user may do with one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskAccess {
    pub owner: bool,
    pub write: bool,
    pub delete: bool,
}

/// The access of `user`, whose role and share `context` was read for, or `NotFound` when they
/// may not even see the task (invisible and missing tasks are not told apart).
pub(crate) fn task_access(context: &TaskContext, user: UserId) -> Result<TaskAccess> {
    if context.task.owner_id == user {
        return Ok(TaskAccess {
            owner: true,
            write: true,
            delete: true,
        });
    }
    let (role, share) = (context.role, context.permission);
    if role.is_none() && share.is_none() {
        return Err(Error::NotFound(Entity::Task));
    }
    Ok(TaskAccess {
        owner: false,
        write: role.is_some_and(|r| r.can_write()) || share == Some(Permission::Edit),
        delete: role.is_some_and(|r| r.can_manage()),
    })
}
