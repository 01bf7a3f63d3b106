//! Audit entries: `GET /api/v1/audit-logs`, and the WebSocket's `feed` messages.

use chrono::{DateTime, Utc};
use serde::Serialize;
use taskpulse_actors::{AuditRecord, Page};
use uuid::Uuid;

use super::time::rfc3339;

/// One audit entry: who did what to which thing, and when.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "AuditEntry", example))]
pub struct AuditEntryView {
    /// The entry's id (UUIDv7: sorts by time).
    pub id: Uuid,
    /// When it happened.
    #[serde(serialize_with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// Who did it; `null` when nobody known did (a failed login for an unknown email).
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub actor_id: Option<Uuid>,
    /// What was done, e.g. `task.create`, `team.member_add`, `auth.login`.
    pub action: String,
    /// The kind of thing it was done to: `task`, `team`, `user`, …
    pub target_type: String,
    /// The thing's id, when it has one.
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub target_id: Option<Uuid>,
    /// The team it happened in, if any.
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub team_id: Option<Uuid>,
    /// Anything else worth keeping about it (never secrets).
    pub details: serde_json::Value,
}

impl From<AuditRecord> for AuditEntryView {
    fn from(record: AuditRecord) -> Self {
        Self {
            id: record.id,
            at: record.at,
            actor_id: record.actor_id,
            action: record.action,
            target_type: record.target_type,
            target_id: record.target_id,
            team_id: record.team_id,
            details: record.details,
        }
    }
}

/// One page of audit entries, newest first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example))]
pub struct AuditPage {
    /// The entries.
    pub items: Vec<AuditEntryView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub next_cursor: Option<String>,
}

impl From<Page<AuditRecord>> for AuditPage {
    fn from(page: Page<AuditRecord>) -> Self {
        Self {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

#[cfg(feature = "openapi")]
mod examples {
    use poem_openapi::types::Example;

    use super::*;
    use crate::shapes::examples::{TASK_ID, USER_ID, time};

    impl Example for AuditEntryView {
        fn example() -> Self {
            Self {
                id: Uuid::from_u128(0x0193_4f73_0000_7000_8000_0000_0000_0042),
                at: time(60),
                actor_id: Some(USER_ID),
                action: "task.create".to_owned(),
                target_type: "task".to_owned(),
                target_id: Some(TASK_ID),
                team_id: None,
                details: serde_json::json!({ "title": "Write the quarterly report" }),
            }
        }
    }

    impl Example for AuditPage {
        fn example() -> Self {
            Self {
                items: vec![AuditEntryView::example()],
                next_cursor: None,
            }
        }
    }
}
