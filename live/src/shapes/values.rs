//! The closed sets (status, priority, role, permission, scope kinds) as the wire writes them,
//! converted to and from the engine's types.

use serde::{Deserialize, Serialize};
use taskpulse_actors::{EmailChoice, Permission, Priority, Role, Scope, TaskScope, TaskStatus};
use uuid::Uuid;

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(
    feature = "openapi",
    oai(rename = "TaskStatus", rename_all = "snake_case")
)]
pub enum StatusView {
    /// Not started.
    Pending,
    /// Started, not done.
    InProgress,
    /// Done.
    Completed,
}

/// How much a task matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(
    feature = "openapi",
    oai(rename = "Priority", rename_all = "snake_case")
)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename = "Role", rename_all = "snake_case"))]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(
    feature = "openapi",
    oai(rename = "Permission", rename_all = "snake_case")
)]
pub enum PermissionView {
    /// Read it.
    View,
    /// Read and change it.
    Edit,
}

/// How a user's notifications are mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(
    feature = "openapi",
    oai(rename = "EmailNotifications", rename_all = "snake_case")
)]
pub enum EmailChoiceView {
    /// Not at all.
    Off,
    /// One mail per notification, as it is made.
    Instant,
    /// One digest a day at 08:00 in the user's time zone, when there is anything new.
    Daily,
}

/// Which tasks a listing covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(
    feature = "openapi",
    oai(rename = "TaskScope", rename_all = "snake_case")
)]
pub enum TaskScopeView {
    /// Tasks the caller owns.
    Own,
    /// Tasks shared with the caller.
    Shared,
    /// Tasks of the caller's teams.
    Team,
    /// Everything the caller may see.
    All,
}

/// Whose tasks an answer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(
    feature = "openapi",
    oai(rename = "ScopeKind", rename_all = "snake_case")
)]
pub enum ScopeKind {
    /// The tasks the user owns, and their sharing counters.
    User,
    /// A team's tasks.
    Team,
}

impl ScopeKind {
    /// A scope's kind and id, as the dashboard objects carry them.
    pub fn of(scope: Scope) -> (Self, Uuid) {
        match scope {
            Scope::User(user) => (Self::User, user.0),
            Scope::Team(team) => (Self::Team, team.0),
        }
    }
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
both_ways!(TaskScope <=> TaskScopeView { Own, Shared, Team, All });
both_ways!(EmailChoice <=> EmailChoiceView { Off, Instant, Daily });
