//! The audit log: one row per mutation and per authentication event, written by the caller
//! inside the transaction of the change it describes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::audit_log;
use crate::audit_action::AuditAction;
use crate::error::Result;
use crate::model::{TeamId, UserId};
use crate::notice::Notice;
use crate::webhook_notice::WebhookNotice;

/// One audit entry to write.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Who did it (none for an unknown user, e.g. a failed login for an unknown email).
    pub actor_id: Option<UserId>,
    /// What was done.
    pub action: AuditAction,
    /// The kind of thing it was done to, e.g. `task`, `team`, `user`.
    pub target_type: &'static str,
    /// The thing's id.
    pub target_id: Option<Uuid>,
    /// The team it happened in, if any.
    pub team_id: Option<TeamId>,
    /// Anything else worth keeping (never secrets).
    pub details: serde_json::Value,
    /// Who else's `feed:user` shows it, besides the actor's: a task's owner and sharees, the
    /// member a membership change is about.
    pub audience: Vec<UserId>,
}

impl AuditEntry {
    /// Everyone whose `feed:user` shows the entry, the actor first, each once.
    pub(crate) fn feed_users(&self) -> Vec<Uuid> {
        let mut users: Vec<Uuid> = self.actor_id.iter().map(|id| id.0).collect();
        for user in &self.audience {
            if !users.contains(&user.0) {
                users.push(user.0);
            }
        }
        users
    }
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::pg::Pg))]
pub struct AuditRecord {
    /// Its id (UUIDv7: sorts by time).
    pub id: Uuid,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor_id: Option<Uuid>,
    /// What was done: an [`AuditAction`]'s string (kept as the row has it).
    pub action: String,
    /// The kind of thing it was done to.
    pub target_type: String,
    /// The thing's id.
    pub target_id: Option<Uuid>,
    /// The team it happened in.
    pub team_id: Option<Uuid>,
    /// Anything else worth keeping.
    pub details: serde_json::Value,
}

/// Writes one entry on `conn` (inside the caller's transaction), and the notice of the change
/// to the outbox when it notifies anyone.
pub async fn write_audit(conn: &mut AsyncPgConnection, entry: AuditEntry) -> Result<()> {
    let id = Uuid::now_v7();
    if let Some(notice) = Notice::of(&entry) {
        super::durable_outbox::insert_notice(conn, &notice).await?;
    }
    if let Some(notice) = WebhookNotice::of(id, &entry) {
        super::webhooks::insert_events(conn, &notice).await?;
    }
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(id),
            audit_log::actor_id.eq(entry.actor_id.map(|id| id.0)),
            audit_log::action.eq(entry.action.as_str()),
            audit_log::target_type.eq(entry.target_type),
            audit_log::target_id.eq(entry.target_id),
            audit_log::team_id.eq(entry.team_id.map(|id| id.0)),
            audit_log::audience.eq(entry.feed_users()),
            audit_log::details.eq(entry.details),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Whose entries a page of the audit log holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AuditOf {
    /// What this user did.
    Actor(UserId),
    /// What happened in this team.
    Team(TeamId),
}

/// Up to `limit` entries of `of`, newest first, older than the entry `before`.
pub(crate) async fn audit_page(
    conn: &mut AsyncPgConnection,
    of: AuditOf,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<AuditRecord>> {
    let mut q = audit_log::table.into_boxed();
    q = match of {
        AuditOf::Team(team) => q.filter(audit_log::team_id.eq(team)),
        AuditOf::Actor(actor) => q.filter(audit_log::actor_id.eq(actor)),
    };
    if let Some(before) = before {
        q = q.filter(audit_log::id.lt(before));
    }
    Ok(q.select(AuditRecord::as_select())
        .order(audit_log::id.desc())
        .limit(limit)
        .load(conn)
        .await?)
}
