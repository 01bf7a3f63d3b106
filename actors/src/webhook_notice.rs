//! Which changes reach webhooks, as which event, with what data: pure functions of the audit
//! entry a change writes, as for in-app notices (`notice.rs`). The write puts one outbox row per
//! subscribed webhook in the same statement or transaction as the entry (`store/webhooks.rs`);
//! a delivering worker sends them (docs/webhooks.md).
//!
//! A user's webhook hears what that user's `feed:user` shows (their own actions, changes to
//! tasks they own or that are shared with them, membership changes about them); a team's
//! webhook hears what `feed:team:<id>` shows.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::audit_action::AuditAction;
use crate::model::{TeamId, WebhookEvent};
use crate::notice::completes;
use crate::store::AuditEntry;

/// What one change tells the webhooks subscribed to it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WebhookNotice {
    /// The event: the body's `id` and the `webhook-id` header (the audit entry's id).
    pub event_id: Uuid,
    pub event: WebhookEvent,
    /// The users whose webhooks hear it.
    pub users: Vec<Uuid>,
    /// The team whose webhooks hear it.
    pub team: Option<TeamId>,
    /// The body's `data`.
    pub data: Value,
}

impl WebhookNotice {
    /// The notice of the change `entry` (written with id `event_id`) describes; `None` when
    /// it is no webhook event.
    pub(crate) fn of(event_id: Uuid, entry: &AuditEntry) -> Option<WebhookNotice> {
        let event = match entry.action {
            AuditAction::TaskCreate => WebhookEvent::TaskCreated,
            AuditAction::TaskUpdate if completes(&entry.details) => WebhookEvent::TaskCompleted,
            AuditAction::TaskUpdate => WebhookEvent::TaskUpdated,
            AuditAction::TaskDelete => WebhookEvent::TaskDeleted,
            AuditAction::TaskShare => WebhookEvent::TaskShared,
            AuditAction::TaskUnshare => WebhookEvent::TaskUnshared,
            AuditAction::TeamMemberAdd => WebhookEvent::TeamMemberAdded,
            AuditAction::TeamMemberLeave | AuditAction::TeamMemberRemove => {
                WebhookEvent::TeamMemberRemoved
            }
            _ => return None,
        };
        Some(WebhookNotice {
            event_id,
            event,
            users: entry.feed_users(),
            team: entry.team_id,
            data: data(entry),
        })
    }
}

/// `{actor_id, task_id | team_id, …the entry's details}`: the same facts the audit log keeps.
fn data(entry: &AuditEntry) -> Value {
    let mut data = Map::new();
    data.insert("actor_id".to_owned(), json!(entry.actor_id.map(|a| a.0)));
    if let Some(target) = entry.target_id {
        data.insert(format!("{}_id", entry.target_type), json!(target));
    }
    if let Some(team) = entry.team_id {
        data.insert("team_id".to_owned(), json!(team.0));
    }
    if let Value::Object(details) = &entry.details {
        for (key, value) in details {
            data.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    Value::Object(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UserId;

    fn entry(action: AuditAction, details: Value) -> AuditEntry {
        AuditEntry {
            actor_id: Some(UserId::new()),
            action,
            target_type: "task",
            target_id: Some(Uuid::now_v7()),
            team_id: Some(TeamId::new()),
            details,
            audience: vec![UserId::new()],
        }
    }

    #[test]
    fn a_completion_is_its_own_event_and_other_updates_are_updates() {
        let done = json!({"changed": ["status"], "title": "t", "status": "completed"});
        let retitled = json!({"changed": ["title"], "title": "t", "status": "completed"});
        let event = |details| {
            WebhookNotice::of(Uuid::now_v7(), &entry(AuditAction::TaskUpdate, details))
                .map(|n| n.event)
        };

        assert_eq!(event(done), Some(WebhookEvent::TaskCompleted));
        assert_eq!(event(retitled), Some(WebhookEvent::TaskUpdated));
    }

    #[test]
    fn the_data_names_the_actor_the_task_and_the_team_then_the_details() {
        let create = entry(AuditAction::TaskCreate, json!({"title": "Ship v2"}));

        let notice = WebhookNotice::of(Uuid::now_v7(), &create).expect("an event");

        assert_eq!(notice.users, create.feed_users());
        assert_eq!(notice.team, create.team_id);
        assert_eq!(notice.data["title"], "Ship v2");
        assert_eq!(notice.data["task_id"], json!(create.target_id));
        assert_eq!(notice.data["actor_id"], json!(create.actor_id.map(|a| a.0)));
        assert_eq!(notice.data["team_id"], json!(create.team_id.map(|t| t.0)));
    }

    #[test]
    fn leaving_is_a_removal_and_other_actions_are_no_events() {
        let leave = entry(AuditAction::TeamMemberLeave, json!({}));
        let team = entry(AuditAction::TeamCreate, json!({}));

        assert_eq!(
            WebhookNotice::of(Uuid::now_v7(), &leave).map(|n| n.event),
            Some(WebhookEvent::TeamMemberRemoved)
        );
        assert_eq!(WebhookNotice::of(Uuid::now_v7(), &team), None);
    }
}
