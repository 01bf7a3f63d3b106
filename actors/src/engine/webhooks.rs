//! Webhooks (API.md, "Notifications and webhooks"; docs/webhooks.md): a user's or a team's
//! subscription to change events. The engine checks who may do what and stores them; whether a
//! URL may be called (scheme, addresses) and the secret are the caller's (the HTTP layer, which
//! also delivers: `WebhookOutbox`).

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use super::Engine;
use super::paging::{Page, PageRequest};
use crate::audit_action::AuditAction;
use crate::error::{Entity, Error, FieldError, Result};
use crate::model::{Role, TeamId, UserId, WebhookEvent};
use crate::store::audit::{AuditEntry, write_audit};
use crate::store::teams as team_store;
use crate::store::webhooks::{self as store, DeliveryRow, NewWebhookRow, WebhookRow};

/// The longest URL kept.
pub const MAX_WEBHOOK_URL: usize = 2048;
/// Webhooks one user, or one team, may have.
pub const MAX_WEBHOOKS: i64 = 20;

/// A webhook as the people who manage it see it: never its secret, shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Its id (UUIDv7).
    pub id: Uuid,
    /// Where events are POSTed.
    pub url: String,
    /// What it hears.
    pub events: Vec<WebhookEvent>,
    /// The team whose events it hears; `None`: its owner's own.
    pub team_id: Option<TeamId>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was disabled for failing a day long; `None`: it works.
    pub disabled_at: Option<DateTime<Utc>>,
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = Error;

    fn try_from(row: WebhookRow) -> Result<Self> {
        let events = (row.events.iter())
            .map(|event| event.parse::<WebhookEvent>())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| {
                Error::Database(format!("webhook {} has unknown events", row.id).into())
            })?;
        Ok(Self {
            id: row.id,
            url: row.url,
            events,
            team_id: row.team_id.map(TeamId),
            created_at: row.created_at,
            disabled_at: row.disabled_at,
        })
    }
}

/// A webhook to create.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// Checked by the caller (scheme, addresses); at most [`MAX_WEBHOOK_URL`] bytes.
    pub url: String,
    /// Event names, each one of [`WebhookEvent`], at least one.
    pub events: Vec<String>,
    /// A team's webhook (its admins and owners only); `None`: the caller's own.
    pub team_id: Option<TeamId>,
    /// The `whsec_…` secret that signs its requests (the caller shows it once).
    pub secret: String,
}

/// One attempt to deliver an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Its id (UUIDv7).
    pub id: Uuid,
    /// The event (the body's `id`, the `webhook-id` header).
    pub event_id: Uuid,
    /// The event's name.
    pub event: String,
    /// 1 for the first attempt.
    pub attempt: i32,
    /// When it was made.
    pub at: DateTime<Utc>,
    /// `delivered`, `failed` or `abandoned` (the webhook was disabled).
    pub status: String,
    /// The receiver's status code; `None`: no answer.
    pub response_status: Option<i32>,
    /// When the event is tried again; `None`: it is not.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl From<DeliveryRow> for WebhookDelivery {
    fn from(row: DeliveryRow) -> Self {
        Self {
            id: row.id,
            event_id: row.event_id,
            event: row.event,
            attempt: row.attempt,
            at: row.at,
            status: row.status,
            response_status: row.response_status,
            next_attempt_at: row.next_attempt_at,
        }
    }
}

impl Engine {
    /// Creates a webhook (audited `webhook.create`): the caller's own, or with `team_id` a
    /// team's, which only its admins and owners may make. Every broken rule is reported at once
    /// (422): the URL's length, the events, more than [`MAX_WEBHOOKS`].
    pub async fn create_webhook(&self, actor: UserId, new: NewWebhook) -> Result<Webhook> {
        let events = check_events(&new.events)?;
        if new.url.is_empty() || new.url.len() > MAX_WEBHOOK_URL {
            return Err(Error::Validation(vec![FieldError::new(
                "url",
                format!("must be 1..={MAX_WEBHOOK_URL} bytes"),
            )]));
        }
        let mut conn = self.conn().await?;
        conn.transaction::<_, Error, _>(async |conn| {
            let owner = match new.team_id {
                Some(team) => {
                    manage_team(conn, team, actor).await?;
                    None
                }
                None => {
                    if !crate::store::personal_tokens::lock_owner(conn, actor).await? {
                        return Err(Error::NotFound(Entity::User));
                    }
                    Some(actor)
                }
            };
            if store::count(conn, owner, new.team_id).await? >= MAX_WEBHOOKS {
                return Err(Error::Validation(vec![FieldError::new(
                    "webhooks",
                    format!("at most {MAX_WEBHOOKS} webhooks per user and per team"),
                )]));
            }
            let names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
            let row = store::insert(
                conn,
                NewWebhookRow {
                    id: Uuid::now_v7(),
                    owner,
                    team: new.team_id,
                    created_by: actor,
                    url: &new.url,
                    events: &names,
                    secret: &new.secret,
                },
            )
            .await?;
            let details = json!({ "url": row.url, "events": row.events });
            audit_webhook(conn, actor, AuditAction::WebhookCreate, &row, details).await?;
            Webhook::try_from(row)
        })
        .await
    }

    /// A page of the webhooks the caller manages (their own, and those of the teams they are an
    /// admin or owner of), newest first.
    pub async fn webhooks(
        &self,
        actor: UserId,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<Page<Webhook>> {
        let request = PageRequest::parse(limit, cursor)?;
        let mut conn = self.conn().await?;
        let teams = store::managed_teams(&mut conn, actor).await?;
        let rows = store::list(&mut conn, actor, &teams, request.cursor, request.rows()).await?;
        let hooks = rows
            .into_iter()
            .map(Webhook::try_from)
            .collect::<Result<Vec<_>>>()?;
        Ok(request.page(hooks, |hook| hook.id))
    }

    /// Deletes a webhook the caller manages (audited `webhook.delete`), with its pending
    /// events: nothing more is sent. `NotFound` for one they do not manage.
    pub async fn delete_webhook(&self, actor: UserId, id: Uuid) -> Result<()> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, Error, _>(async |conn| {
            let row = managed(conn, actor, id).await?;
            store::delete(conn, id).await?;
            let details = json!({ "url": row.url });
            audit_webhook(conn, actor, AuditAction::WebhookDelete, &row, details).await
        })
        .await
    }

    /// A page of a managed webhook's delivery log, newest first.
    pub async fn webhook_deliveries(
        &self,
        actor: UserId,
        id: Uuid,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<Page<WebhookDelivery>> {
        let request = PageRequest::parse(limit, cursor)?;
        let mut conn = self.conn().await?;
        managed(&mut conn, actor, id).await?;
        let rows = store::deliveries(&mut conn, id, request.cursor, request.rows()).await?;
        let items = rows.into_iter().map(WebhookDelivery::from).collect();
        Ok(request.page(items, |delivery: &WebhookDelivery| delivery.id))
    }
}

/// Each name once, each an event; at least one.
fn check_events(names: &[String]) -> Result<Vec<WebhookEvent>> {
    let mut events = Vec::with_capacity(names.len());
    let mut errors = Vec::new();
    for name in names {
        match name.parse::<WebhookEvent>() {
            Ok(event) if !events.contains(&event) => events.push(event),
            Ok(_) => errors.push(FieldError::new(
                "events",
                format!("`{name}` is listed twice"),
            )),
            Err(_) => {
                let known: Vec<&str> = WebhookEvent::ALL.iter().map(|e| e.as_str()).collect();
                errors.push(FieldError::new(
                    "events",
                    format!("`{name}` is not an event: one of {}", known.join(", ")),
                ));
            }
        }
    }
    if names.is_empty() {
        errors.push(FieldError::new("events", "must name at least one event"));
    }
    if errors.is_empty() {
        Ok(events)
    } else {
        Err(Error::Validation(errors))
    }
}

/// The caller manages the team's webhooks: an admin or owner. `NotFound` for outsiders (a team
/// is invisible to them), `Forbidden` for other members.
async fn manage_team(
    conn: &mut diesel_async::AsyncPgConnection,
    team: TeamId,
    actor: UserId,
) -> Result<()> {
    match team_store::role_of(conn, team, actor).await? {
        None => Err(Error::NotFound(Entity::Team)),
        Some(role) if role.can_manage() => Ok(()),
        Some(_) => Err(Error::Forbidden(
            "only a team admin or owner may manage its webhooks".to_owned(),
        )),
    }
}

/// The webhook, when the caller manages it; `NotFound` otherwise (it is invisible to others).
async fn managed(
    conn: &mut diesel_async::AsyncPgConnection,
    actor: UserId,
    id: Uuid,
) -> Result<WebhookRow> {
    let row = store::find(conn, id)
        .await?
        .ok_or(Error::NotFound(Entity::Webhook))?;
    let allowed = match (row.owner_id, row.team_id) {
        (Some(owner), _) => owner == actor.0,
        (None, Some(team)) => {
            (team_store::role_of(conn, TeamId(team), actor).await?).is_some_and(Role::can_manage)
        }
        (None, None) => false,
    };
    if allowed {
        Ok(row)
    } else {
        Err(Error::NotFound(Entity::Webhook))
    }
}

async fn audit_webhook(
    conn: &mut diesel_async::AsyncPgConnection,
    actor: UserId,
    action: AuditAction,
    webhook: &WebhookRow,
    details: serde_json::Value,
) -> Result<()> {
    write_audit(
        conn,
        AuditEntry {
            actor_id: Some(actor),
            action,
            target_type: "webhook",
            target_id: Some(webhook.id),
            team_id: webhook.team_id.map(TeamId),
            details,
            audience: Vec::new(),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_must_be_known_once_each_and_at_least_one() {
        let names = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();

        assert_eq!(
            check_events(&names(&["task.created", "team.member_added"])).ok(),
            Some(vec![
                WebhookEvent::TaskCreated,
                WebhookEvent::TeamMemberAdded
            ])
        );
        for bad in [
            &[][..],
            &["task.created", "task.created"],
            &["task.exploded"],
        ] {
            assert!(matches!(
                check_events(&names(bad)),
                Err(Error::Validation(_))
            ));
        }
    }
}
