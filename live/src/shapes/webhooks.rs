//! Webhooks: `POST /api/v1/webhooks` (with the secret, once), `GET /api/v1/webhooks`, the
//! delivery log, and the body every delivery POSTs (docs/webhooks.md).

use chrono::{DateTime, Utc};
use serde::Serialize;
use taskpulse_actors::{Page, PendingEvent, Webhook, WebhookDelivery};
use uuid::Uuid;

use super::time::{rfc3339, rfc3339_or_null};

/// A webhook, as the people who manage it see it (never its secret).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "Webhook", example))]
pub struct WebhookView {
    /// The webhook's id (UUIDv7); `DELETE /api/v1/webhooks/{id}` deletes it.
    pub id: Uuid,
    /// Where events are POSTed.
    pub url: String,
    /// The events it hears: `task.created`, `task.updated`, `task.completed`, `task.deleted`,
    /// `task.shared`, `task.unshared`, `team.member_added`, `team.member_removed`.
    pub events: Vec<String>,
    /// The team whose events it hears; `null`: its creator's own (what their `feed:user`
    /// shows).
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub team_id: Option<Uuid>,
    /// When it was created.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it was disabled after failing for a day (its creator was notified); `null`: it
    /// works.
    #[serde(serialize_with = "rfc3339_or_null")]
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub disabled_at: Option<DateTime<Utc>>,
}

impl From<Webhook> for WebhookView {
    fn from(hook: Webhook) -> Self {
        Self {
            id: hook.id,
            url: hook.url,
            events: hook.events.iter().map(|e| e.as_str().to_owned()).collect(),
            team_id: hook.team_id.map(|t| t.0),
            created_at: hook.created_at,
            disabled_at: hook.disabled_at,
        }
    }
}

/// A webhook just created: its fields and, this once, its signing secret.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "CreatedWebhook", example))]
pub struct CreatedWebhookView {
    /// The webhook's fields, as the listing shows them.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", oai(flatten))]
    pub fields: WebhookView,
    /// The secret (`whsec_…`) every request is signed with, as Standard Webhooks sign:
    /// verify `webhook-signature` with any Standard Webhooks library. Shown only now.
    pub secret: String,
}

/// One page of the webhooks the caller manages, newest first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "WebhookPage", example))]
pub struct WebhookPage {
    /// The webhooks.
    pub items: Vec<WebhookView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub next_cursor: Option<String>,
}

impl From<Page<Webhook>> for WebhookPage {
    fn from(page: Page<Webhook>) -> Self {
        Self {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// One attempt to deliver an event.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "WebhookDelivery", example))]
pub struct WebhookDeliveryView {
    /// The attempt's id.
    pub id: Uuid,
    /// The event: the body's `id` and the `webhook-id` header, the same on every attempt.
    pub event_id: Uuid,
    /// The event's name, e.g. `task.created`.
    pub event: String,
    /// 1 for the first attempt.
    pub attempt: i32,
    /// When it was made.
    #[serde(serialize_with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// `delivered` (a 2xx answer), `failed` (tried again at `next_attempt_at`) or `abandoned`
    /// (the webhook failed for a day and was disabled).
    pub status: String,
    /// The receiver's status code; `null`: no answer within 10 s, or no connection.
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub response_status: Option<i32>,
    /// When the event is tried again; `null`: it is not.
    #[serde(serialize_with = "rfc3339_or_null")]
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl From<WebhookDelivery> for WebhookDeliveryView {
    fn from(d: WebhookDelivery) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            event: d.event,
            attempt: d.attempt,
            at: d.at,
            status: d.status,
            response_status: d.response_status,
            next_attempt_at: d.next_attempt_at,
        }
    }
}

/// One page of a webhook's delivery log, newest first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "WebhookDeliveryPage", example))]
pub struct WebhookDeliveryPage {
    /// The attempts.
    pub items: Vec<WebhookDeliveryView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub next_cursor: Option<String>,
}

impl From<Page<WebhookDelivery>> for WebhookDeliveryPage {
    fn from(page: Page<WebhookDelivery>) -> Self {
        Self {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// The body of every webhook request: `{id, type, at, data}`.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookBody<'a> {
    /// The event's id (its audit entry's), also the `webhook-id` header.
    pub id: Uuid,
    /// The event, e.g. `task.completed`.
    #[serde(rename = "type")]
    pub event_type: &'a str,
    /// When the change committed.
    #[serde(serialize_with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// `actor_id`, the task's or member's id (`task_id`, `user_id`), `team_id`, and what the
    /// audit log records of the change (`title`, `changed`, `status`, `permission`, `role`).
    pub data: &'a serde_json::Value,
}

impl<'a> From<&'a PendingEvent> for WebhookBody<'a> {
    fn from(event: &'a PendingEvent) -> Self {
        Self {
            id: event.event_id,
            event_type: &event.event,
            at: event.at,
            data: &event.data,
        }
    }
}

#[cfg(feature = "openapi")]
mod examples {
    use poem_openapi::types::Example;

    use super::*;
    use crate::shapes::examples::time;

    impl Example for WebhookView {
        fn example() -> Self {
            Self {
                id: Uuid::from_u128(0x0193_4f74_0000_7000_8000_0000_0000_0009),
                url: "https://hooks.example.com/taskpulse".to_owned(),
                events: vec!["task.created".to_owned(), "task.completed".to_owned()],
                team_id: None,
                created_at: time(0),
                disabled_at: None,
            }
        }
    }

    impl Example for CreatedWebhookView {
        fn example() -> Self {
            Self {
                fields: WebhookView::example(),
                secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
            }
        }
    }

    impl Example for WebhookPage {
        fn example() -> Self {
            Self {
                items: vec![WebhookView::example()],
                next_cursor: None,
            }
        }
    }

    impl Example for WebhookDeliveryView {
        fn example() -> Self {
            Self {
                id: Uuid::from_u128(0x0193_4f74_0000_7000_8000_0000_0000_000a),
                event_id: Uuid::from_u128(0x0193_4f74_0000_7000_8000_0000_0000_000b),
                event: "task.created".to_owned(),
                attempt: 1,
                at: time(60),
                status: "failed".to_owned(),
                response_status: Some(503),
                next_attempt_at: Some(time(61)),
            }
        }
    }

    impl Example for WebhookDeliveryPage {
        fn example() -> Self {
            Self {
                items: vec![WebhookDeliveryView::example()],
                next_cursor: None,
            }
        }
    }
}
