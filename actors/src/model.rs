//! Domain types: ids, closed sets and the records the engine hands out.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Text, Uuid as SqlUuid};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            AsExpression, FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = SqlUuid)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new id: UUIDv7, so ids sort by creation time.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl ToSql<SqlUuid, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <Uuid as ToSql<SqlUuid, Pg>>::to_sql(&self.0, out)
            }
        }

        impl FromSql<SqlUuid, Pg> for $name {
            fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
                <Uuid as FromSql<SqlUuid, Pg>>::from_sql(value).map(Self)
            }
        }
    };
}

id_type!(
    /// A user's id.
    UserId
);
id_type!(
    /// A team's id.
    TeamId
);
id_type!(
    /// A task's id.
    TaskId
);

macro_rules! closed_set {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            AsExpression, FromSqlRow,
        )]
        #[serde(rename_all = "snake_case")]
        #[diesel(sql_type = Text)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as stored and as spelled in the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "{other:?} is not one of {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
            }
        }

        // A stored value outside the set can only come from outside the engine: an error,
        // as any other value the column's type does not hold.
        impl FromSql<Text, Pg> for $name {
            fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
                Ok(std::str::from_utf8(value.as_bytes())?.parse()?)
            }
        }
    };
}

closed_set!(
    /// Where a task stands.
    TaskStatus {
        /// Not started.
        Pending => "pending",
        /// Started, not done.
        InProgress => "in_progress",
        /// Done.
        Completed => "completed",
    }
);

closed_set!(
    /// How much a task matters.
    Priority {
        /// Whenever.
        Low => "low",
        /// The default.
        Medium => "medium",
        /// Soon.
        High => "high",
        /// Now.
        Urgent => "urgent",
    }
);

closed_set!(
    /// A member's role in a team, strongest first.
    Role {
        /// Everything, including deleting the team and granting owner or admin.
        Owner => "owner",
        /// Manages members (up to member and viewer) and every team task.
        Admin => "admin",
        /// Creates and changes team tasks.
        Member => "member",
        /// Reads team tasks.
        Viewer => "viewer",
    }
);

closed_set!(
    /// What a share lets its recipient do with a task.
    Permission {
        /// Read it.
        View => "view",
        /// Read and change it.
        Edit => "edit",
    }
);

closed_set!(
    /// What an in-app notification tells its user.
    NotificationKind {
        /// A task was shared with the user.
        TaskShared => "task_shared",
        /// Someone else changed a task the user owns or that is shared with them.
        TaskChanged => "task_changed",
        /// Someone else completed such a task.
        TaskCompleted => "task_completed",
        /// Someone else deleted such a task.
        TaskDeleted => "task_deleted",
        /// The user was added to a team.
        TeamMemberAdded => "team_member_added",
        /// The user's role in a team changed.
        TeamRoleChanged => "team_role_changed",
        /// The user was removed from a team.
        TeamMemberRemoved => "team_member_removed",
        /// A team the user was in was deleted (by someone else).
        TeamDeleted => "team_deleted",
        /// A webhook the user made kept failing for a day and was disabled.
        WebhookDisabled => "webhook_disabled",
        /// A task the user owns is due within a day (a reminder).
        TaskDueSoon => "task_due_soon",
        /// A task the user owns is past its due time and not completed (a reminder).
        TaskOverdue => "task_overdue",
    }
);

closed_set!(
    /// How a user wants to be mailed their notifications (docs/notifications.md, "Email").
    EmailChoice {
        /// Not at all (the default).
        Off => "off",
        /// One mail per notification, as it is made.
        Instant => "instant",
        /// One digest a day, at 08:00 in the user's time zone, when there is anything new.
        Daily => "daily",
    }
);

closed_set!(
    /// What a webhook may subscribe to (docs/webhooks.md): one per change, named after it.
    WebhookEvent {
        /// A task was created.
        TaskCreated => "task.created",
        /// A task was changed, other than completed.
        TaskUpdated => "task.updated",
        /// A task's status became `completed`.
        TaskCompleted => "task.completed",
        /// A task was deleted.
        TaskDeleted => "task.deleted",
        /// A task was shared with someone (or the share's permission changed).
        TaskShared => "task.shared",
        /// A share was removed.
        TaskUnshared => "task.unshared",
        /// A member was added to a team.
        TeamMemberAdded => "team.member_added",
        /// A member left a team or was removed from it.
        TeamMemberRemoved => "team.member_removed",
    }
);

impl Role {
    /// Whether this role may create and change the team's tasks.
    pub fn can_write(self) -> bool {
        self <= Role::Member
    }

    /// Whether this role may manage members and delete any team task.
    pub fn can_manage(self) -> bool {
        self <= Role::Admin
    }
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Its id.
    pub id: TaskId,
    /// 1..=200 characters.
    pub title: String,
    /// At most 10 000 characters.
    pub description: String,
    /// Where it stands.
    pub status: TaskStatus,
    /// How much it matters.
    pub priority: Priority,
    /// When it is due, if ever.
    pub due_at: Option<DateTime<Utc>>,
    /// Who owns it.
    pub owner_id: UserId,
    /// The team it belongs to, if any.
    pub team_id: Option<TeamId>,
    /// 1 at creation, one more with every change.
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it first entered `in_progress`, if it ever did (kept when the status moves on).
    pub started_at: Option<DateTime<Utc>>,
    /// When it was completed, while it is.
    pub completed_at: Option<DateTime<Utc>>,
}

/// A user account (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// The sign-in email, as the user spelled it.
    pub email: String,
    /// The name shown to others.
    pub display_name: String,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_sets_round_trip_through_text() {
        for status in TaskStatus::ALL {
            assert_eq!(status.as_str().parse::<TaskStatus>(), Ok(*status));
        }
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
        assert!("done".parse::<TaskStatus>().is_err());
    }

    #[test]
    fn roles_are_ordered_strongest_first() {
        assert!(Role::Owner.can_manage() && Role::Admin.can_manage());
        assert!(!Role::Member.can_manage() && Role::Member.can_write());
        assert!(!Role::Viewer.can_write());
    }
}
