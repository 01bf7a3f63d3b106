//! Which changes notify whom, and what the notification says: pure functions of the audit entry
//! a change writes (the entry already knows the actor, the task's owner and sharees, the member
//! a membership change is about). The write puts the notice in the outbox in the same statement
//! or transaction as the entry (`store/write/`, `store/audit.rs`); a worker turns it into
//! notifications later (`notify/`).

use serde_json::Value;

use crate::audit_action::AuditAction;
use crate::model::{NotificationKind, TaskId, TeamId, UserId};
use crate::store::AuditEntry;

/// What one change tells the users it concerns (never its actor).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Notice {
    pub kind: NotificationKind,
    pub actor: UserId,
    pub task: Option<TaskId>,
    pub team: Option<TeamId>,
    /// Each once, the actor never.
    pub recipients: Vec<UserId>,
    /// The entry's details: the task's title, the role given.
    pub details: Value,
}

impl Notice {
    /// The notice of a team's deletion by `actor`, to its other `members`; `None` when there
    /// are none.
    pub(crate) fn team_deleted(
        actor: UserId,
        team: TeamId,
        name: &str,
        members: impl IntoIterator<Item = UserId>,
    ) -> Option<Notice> {
        let recipients: Vec<UserId> = members.into_iter().filter(|m| *m != actor).collect();
        (!recipients.is_empty()).then(|| Notice {
            kind: NotificationKind::TeamDeleted,
            actor,
            task: None,
            team: Some(team),
            recipients,
            details: serde_json::json!({ "team_name": name }),
        })
    }

    /// The notice of the change `entry` describes; `None` when it notifies nobody.
    pub(crate) fn of(entry: &AuditEntry) -> Option<Notice> {
        let actor = entry.actor_id?;
        let named_user = || {
            (entry.details.get("user_id"))
                .and_then(Value::as_str)
                .and_then(|id| id.parse().ok())
                .map(UserId)
        };
        let (kind, recipients): (NotificationKind, Vec<UserId>) = match entry.action {
            AuditAction::TaskShare => (NotificationKind::TaskShared, vec![named_user()?]),
            AuditAction::TaskUpdate if completes(&entry.details) => {
                (NotificationKind::TaskCompleted, entry.audience.clone())
            }
            AuditAction::TaskUpdate => (NotificationKind::TaskChanged, entry.audience.clone()),
            AuditAction::TaskDelete => (NotificationKind::TaskDeleted, entry.audience.clone()),
            AuditAction::TeamMemberAdd => (NotificationKind::TeamMemberAdded, vec![named_user()?]),
            AuditAction::TeamMemberRole => (NotificationKind::TeamRoleChanged, vec![named_user()?]),
            AuditAction::TeamMemberRemove => {
                (NotificationKind::TeamMemberRemoved, vec![named_user()?])
            }
            _ => return None,
        };
        let mut unique: Vec<UserId> = Vec::with_capacity(recipients.len());
        for user in recipients {
            if user != actor && !unique.contains(&user) {
                unique.push(user);
            }
        }
        if unique.is_empty() {
            return None;
        }
        let task = (entry.target_type == "task")
            .then_some(entry.target_id)
            .flatten()
            .map(TaskId);
        Some(Notice {
            kind,
            actor,
            task,
            team: entry.team_id,
            recipients: unique,
            details: entry.details.clone(),
        })
    }
}

/// Whether a task update's details say it completed the task.
pub(crate) fn completes(details: &Value) -> bool {
    let status_changed = (details.get("changed").and_then(Value::as_array))
        .is_some_and(|changed| changed.iter().any(|c| c == "status"));
    status_changed && details.get("status").and_then(Value::as_str) == Some("completed")
}

/// The sentence a notification shows, e.g. `Ann completed “Ship v2”`.
pub(crate) fn notification_text(
    kind: NotificationKind,
    actor: &str,
    details: &Value,
    team: Option<&str>,
) -> String {
    let title = details
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or("a task");
    // A deleted team is named by the notice itself.
    let named = details.get("team_name").and_then(Value::as_str);
    let team = team.or(named).unwrap_or("a team");
    let role = (details.get("to").or_else(|| details.get("role")))
        .and_then(Value::as_str)
        .unwrap_or("member");
    match kind {
        NotificationKind::TaskShared => format!("{actor} shared “{title}” with you"),
        NotificationKind::TaskChanged => format!("{actor} changed “{title}”"),
        NotificationKind::TaskCompleted => format!("{actor} completed “{title}”"),
        NotificationKind::TaskDeleted => format!("{actor} deleted “{title}”"),
        NotificationKind::TeamMemberAdded => format!("{actor} added you to {team} as {role}"),
        NotificationKind::TeamRoleChanged => format!("{actor} made you {role} in {team}"),
        NotificationKind::TeamMemberRemoved => format!("{actor} removed you from {team}"),
        NotificationKind::TeamDeleted => format!("{actor} deleted the team {team}"),
        NotificationKind::TaskDueSoon => format!("“{title}” is due within a day"),
        NotificationKind::TaskOverdue => format!("“{title}” is overdue"),
        NotificationKind::WebhookDisabled => {
            let url = details.get("url").and_then(Value::as_str).unwrap_or("?");
            format!("Your webhook to {url} failed for a day and was disabled")
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn entry(
        action: AuditAction,
        actor: UserId,
        audience: &[UserId],
        details: Value,
    ) -> AuditEntry {
        AuditEntry {
            actor_id: Some(actor),
            action,
            target_type: "task",
            target_id: Some(Uuid::now_v7()),
            team_id: None,
            details,
            audience: audience.to_vec(),
        }
    }

    #[test]
    fn an_update_notifies_the_owner_and_sharees_but_never_the_actor() {
        let (owner, sharee, actor) = (UserId::new(), UserId::new(), UserId::new());
        let details = json!({"changed": ["title"], "title": "t", "status": "pending"});
        let update = entry(
            AuditAction::TaskUpdate,
            actor,
            &[owner, sharee, actor],
            details,
        );

        let notice = Notice::of(&update).expect("a notice");

        assert_eq!(notice.kind, NotificationKind::TaskChanged);
        assert_eq!(notice.recipients, vec![owner, sharee]);
    }

    #[test]
    fn an_owner_changing_an_unshared_task_notifies_nobody() {
        let owner = UserId::new();
        let details = json!({"changed": ["title"], "title": "t", "status": "pending"});

        assert_eq!(
            Notice::of(&entry(AuditAction::TaskUpdate, owner, &[owner], details)),
            None
        );
    }

    #[test]
    fn a_status_change_to_completed_is_a_completion() {
        let (owner, actor) = (UserId::new(), UserId::new());
        let done = json!({"changed": ["status"], "title": "t", "status": "completed"});
        let retitled = json!({"changed": ["title"], "title": "t", "status": "completed"});

        let kind = |details| Notice::of(&entry(AuditAction::TaskUpdate, actor, &[owner], details));

        assert_eq!(
            kind(done).map(|n| n.kind),
            Some(NotificationKind::TaskCompleted)
        );
        assert_eq!(
            kind(retitled).map(|n| n.kind),
            Some(NotificationKind::TaskChanged)
        );
    }

    #[test]
    fn a_share_notifies_only_the_user_shared_with() {
        let (owner, sharee, other) = (UserId::new(), UserId::new(), UserId::new());
        let details = json!({"user_id": sharee, "permission": "view", "title": "t"});
        let share = entry(
            AuditAction::TaskShare,
            owner,
            &[owner, other, sharee],
            details,
        );

        let notice = Notice::of(&share).expect("a notice");

        assert_eq!(notice.kind, NotificationKind::TaskShared);
        assert_eq!(notice.recipients, vec![sharee]);
    }

    #[test]
    fn leaving_a_team_and_creating_a_task_notify_nobody() {
        let user = UserId::new();
        let leave = entry(
            AuditAction::TeamMemberLeave,
            user,
            &[user],
            json!({"user_id": user}),
        );
        let create = entry(
            AuditAction::TaskCreate,
            user,
            &[user],
            json!({"title": "t"}),
        );

        assert_eq!(Notice::of(&leave), None);
        assert_eq!(Notice::of(&create), None);
    }

    #[test]
    fn texts_name_the_actor_the_task_and_the_team() {
        let added = json!({"user_id": Uuid::nil(), "role": "admin"});
        let title = json!({"title": "Ship v2"});
        let text = notification_text;

        assert_eq!(
            text(NotificationKind::TaskCompleted, "Ann", &title, None),
            "Ann completed “Ship v2”"
        );
        assert_eq!(
            text(
                NotificationKind::TeamMemberAdded,
                "Ann",
                &added,
                Some("Core")
            ),
            "Ann added you to Core as admin"
        );
    }
}
