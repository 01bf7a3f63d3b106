//! The API's closed sets (status, priority, role, permission) as OpenAPI enums, converted to
//! and from the engine's types.

use poem_openapi::Enum;
use taskpulse_actors::{Permission, Priority, Role, TaskStatus};

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "TaskStatus", rename_all = "snake_case")]
pub enum StatusView {
    /// Not started.
    Pending,
    /// Started, not done.
    InProgress,
    /// Done.
    Completed,
}

/// How much a task matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "Priority", rename_all = "snake_case")]
pub enum PriorityView {
    /// Whenever.
    Low,
    /// The default.
    Medium,
    /// Soon.
    High,
    /// Now.
    Urgent,
}

/// A member's role in a team, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "Role", rename_all = "snake_case")]
pub enum RoleView {
    /// Everything, including deleting the team and granting owner or admin.
    Owner,
    /// Manages members (up to member and viewer) and every team task.
    Admin,
    /// Creates and changes team tasks.
    Member,
    /// Reads team tasks.
    Viewer,
}

/// What a share lets its recipient do with a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "Permission", rename_all = "snake_case")]
pub enum PermissionView {
    /// Read it.
    View,
    /// Read and change it.
    Edit,
}

/// Both ways between an engine enum and its view, variant by variant.
macro_rules! both_ways {
    ($engine:ident <=> $view:ident { $($variant:ident),+ $(,)? }) => {
        impl From<$engine> for $view {
            fn from(value: $engine) -> Self {
                match value {
                    $($engine::$variant => $view::$variant),+
                }
            }
        }

        impl From<$view> for $engine {
            fn from(value: $view) -> Self {
                match value {
                    $($view::$variant => $engine::$variant),+
                }
            }
        }
    };
}

both_ways!(TaskStatus <=> StatusView { Pending, InProgress, Completed });
both_ways!(Priority <=> PriorityView { Low, Medium, High, Urgent });
both_ways!(Role <=> RoleView { Owner, Admin, Member, Viewer });
both_ways!(Permission <=> PermissionView { View, Edit });
