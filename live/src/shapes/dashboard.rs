//! The dashboard objects: `GET /api/v1/dashboard/*`, and inside the WebSocket's `snapshot` and
//! `delta` messages.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use taskpulse_actors::{
    Activity, ActivityDay, Breakdown, MemberStat, SharedByMe, SharedOverview, SharedWithMe,
    Statistics,
};
use uuid::Uuid;

use super::time::rfc3339;
use super::values::{PermissionView, ScopeKind, StatusView};

/// The statistics of a scope.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "Statistics", example))]
pub struct StatisticsView {
    /// `user` or `team`.
    pub scope: ScopeKind,
    /// The user's or the team's id.
    pub scope_id: Uuid,
    /// The aggregate's version: one more with every change to what these endpoints answer.
    pub version: i64,
    /// When the aggregate last changed.
    #[serde(serialize_with = "rfc3339")]
    pub as_of: DateTime<Utc>,
    /// Tasks counted.
    pub total: i64,
    /// Of which pending.
    pub pending: i64,
    /// Of which in progress.
    pub in_progress: i64,
    /// Of which completed.
    pub completed: i64,
    /// Not completed and due before now.
    pub overdue: i64,
    /// User scope only: tasks others shared with the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    pub shared_with_me: Option<i64>,
    /// User scope only: shares the user gave on their tasks.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    pub shared_by_me: Option<i64>,
    /// `completed / total`, 0 when there are no tasks.
    pub completion_rate: f64,
}

impl From<&Statistics> for StatisticsView {
    fn from(s: &Statistics) -> Self {
        let (scope, scope_id) = ScopeKind::of(s.scope);
        Self {
            scope,
            scope_id,
            version: s.version,
            as_of: s.as_of,
            total: s.total,
            pending: s.pending,
            in_progress: s.in_progress,
            completed: s.completed,
            overdue: s.overdue,
            shared_with_me: s.shared_with_me,
            shared_by_me: s.shared_by_me,
            completion_rate: s.completion_rate,
        }
    }
}

/// Tasks by status.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct ByStatus {
    /// Pending tasks.
    pub pending: i64,
    /// Tasks in progress.
    pub in_progress: i64,
    /// Completed tasks.
    pub completed: i64,
}

/// Tasks by priority.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct ByPriority {
    /// Low-priority tasks.
    pub low: i64,
    /// Medium-priority tasks.
    pub medium: i64,
    /// High-priority tasks.
    pub high: i64,
    /// Urgent tasks.
    pub urgent: i64,
}

/// A team member's tasks (by owner).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct MemberStatView {
    /// The member.
    pub user_id: Uuid,
    /// Team tasks they own.
    pub total: i64,
    /// Of which completed.
    pub completed: i64,
}

impl From<&MemberStat> for MemberStatView {
    fn from(m: &MemberStat) -> Self {
        Self {
            user_id: m.user_id.0,
            total: m.total,
            completed: m.completed,
        }
    }
}

/// A scope's tasks by status and priority (and by member, for a team).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "Breakdown", example))]
pub struct BreakdownView {
    /// `user` or `team`.
    pub scope: ScopeKind,
    /// The user's or the team's id.
    pub scope_id: Uuid,
    /// The aggregate's version.
    pub version: i64,
    /// When the aggregate last changed.
    #[serde(serialize_with = "rfc3339")]
    pub as_of: DateTime<Utc>,
    /// Tasks by status.
    pub by_status: ByStatus,
    /// Tasks by priority.
    pub by_priority: ByPriority,
    /// Team scope only: tasks by owner, most first.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    pub by_member: Option<Vec<MemberStatView>>,
}

impl From<&Breakdown> for BreakdownView {
    fn from(b: &Breakdown) -> Self {
        let (scope, scope_id) = ScopeKind::of(b.scope);
        let [pending, in_progress, completed] = b.by_status;
        let [low, medium, high, urgent] = b.by_priority;
        Self {
            scope,
            scope_id,
            version: b.version,
            as_of: b.as_of,
            by_status: ByStatus {
                pending,
                in_progress,
                completed,
            },
            by_priority: ByPriority {
                low,
                medium,
                high,
                urgent,
            },
            by_member: (b.by_member.as_ref())
                .map(|members| members.iter().map(Into::into).collect()),
        }
    }
}

/// One UTC day of activity.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct ActivityDayView {
    /// The day, `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// Tasks created that day.
    pub created: i64,
    /// Tasks completed that day.
    pub completed: i64,
}

impl From<&ActivityDay> for ActivityDayView {
    fn from(d: &ActivityDay) -> Self {
        Self {
            date: d.date,
            created: d.created,
            completed: d.completed,
        }
    }
}

/// A scope's daily activity, oldest day first, one entry per day.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "Activity", example))]
pub struct ActivityView {
    /// `user` or `team`.
    pub scope: ScopeKind,
    /// The user's or the team's id.
    pub scope_id: Uuid,
    /// The aggregate's version.
    pub version: i64,
    /// When the aggregate last changed.
    #[serde(serialize_with = "rfc3339")]
    pub as_of: DateTime<Utc>,
    /// One entry per day, zeros included, ending today.
    pub days: Vec<ActivityDayView>,
}

impl From<&Activity> for ActivityView {
    fn from(a: &Activity) -> Self {
        let (scope, scope_id) = ScopeKind::of(a.scope);
        Self {
            scope,
            scope_id,
            version: a.version,
            as_of: a.as_of,
            days: a.days.iter().map(Into::into).collect(),
        }
    }
}

/// A task someone shared with the caller.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct SharedWithMeView {
    /// The task.
    pub task_id: Uuid,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: StatusView,
    /// Its owner.
    pub owner_id: Uuid,
    /// What the caller may do with it.
    pub permission: PermissionView,
}

impl From<SharedWithMe> for SharedWithMeView {
    fn from(s: SharedWithMe) -> Self {
        Self {
            task_id: s.task_id.0,
            title: s.title,
            status: s.status.into(),
            owner_id: s.owner_id.0,
            permission: s.permission.into(),
        }
    }
}

/// One of the caller's tasks and whom it is shared with.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct SharedByMeView {
    /// The task.
    pub task_id: Uuid,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: StatusView,
    /// The users it is shared with.
    pub shared_with: Vec<Uuid>,
}

impl From<SharedByMe> for SharedByMeView {
    fn from(s: SharedByMe) -> Self {
        Self {
            task_id: s.task_id.0,
            title: s.title,
            status: s.status.into(),
            shared_with: s.shared_with.into_iter().map(|u| u.0).collect(),
        }
    }
}

/// What is shared with the caller and by the caller.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "SharedOverview", example))]
pub struct SharedOverviewView {
    /// Tasks others shared with the caller, newest share first.
    pub shared_with_me: Vec<SharedWithMeView>,
    /// The caller's shared tasks, newest task first.
    pub shared_by_me: Vec<SharedByMeView>,
}

impl From<SharedOverview> for SharedOverviewView {
    fn from(o: SharedOverview) -> Self {
        Self {
            shared_with_me: o.shared_with_me.into_iter().map(Into::into).collect(),
            shared_by_me: o.shared_by_me.into_iter().map(Into::into).collect(),
        }
    }
}

#[cfg(feature = "openapi")]
mod examples {
    use poem_openapi::types::Example;
    use uuid::Uuid;

    use super::*;
    use crate::shapes::examples::{OTHER_USER_ID, TASK_ID, USER_ID, time};

    impl Example for StatisticsView {
        fn example() -> Self {
            Self {
                scope: ScopeKind::User,
                scope_id: USER_ID,
                version: 42,
                as_of: time(3_600),
                total: 12,
                pending: 5,
                in_progress: 4,
                completed: 3,
                overdue: 1,
                shared_with_me: Some(2),
                shared_by_me: Some(1),
                completion_rate: 0.25,
            }
        }
    }

    impl Example for BreakdownView {
        fn example() -> Self {
            Self {
                scope: ScopeKind::User,
                scope_id: USER_ID,
                version: 42,
                as_of: time(3_600),
                by_status: ByStatus {
                    pending: 5,
                    in_progress: 4,
                    completed: 3,
                },
                by_priority: ByPriority {
                    low: 2,
                    medium: 6,
                    high: 3,
                    urgent: 1,
                },
                by_member: None,
            }
        }
    }

    impl Example for ActivityView {
        fn example() -> Self {
            let day = |n: i64, created, completed| ActivityDayView {
                date: time(n * 86_400).date_naive(),
                created,
                completed,
            };
            Self {
                scope: ScopeKind::User,
                scope_id: USER_ID,
                version: 42,
                as_of: time(2 * 86_400),
                days: vec![day(0, 3, 0), day(1, 0, 0), day(2, 1, 2)],
            }
        }
    }

    impl Example for SharedOverviewView {
        fn example() -> Self {
            Self {
                shared_with_me: vec![SharedWithMeView {
                    task_id: TASK_ID,
                    title: "Review the release notes".to_owned(),
                    status: StatusView::InProgress,
                    owner_id: OTHER_USER_ID,
                    permission: PermissionView::Edit,
                }],
                shared_by_me: vec![SharedByMeView {
                    task_id: Uuid::from_u128(0x0193_4f72_0000_7000_8000_0000_0000_0001),
                    title: "Write the quarterly report".to_owned(),
                    status: StatusView::Pending,
                    shared_with: vec![OTHER_USER_ID],
                }],
            }
        }
    }
}
