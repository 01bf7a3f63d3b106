//! The durable outbox (docs/notifications.md): what must still be delivered, written in the
//! change's own statement or transaction, claimed by the workers of any node with
//! `FOR UPDATE SKIP LOCKED` and a lease, deleted once delivered.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::outbox;
use crate::error::Result;
use crate::notice::Notice;

/// Who works a row. Only in-app rows exist so far; webhook deliveries, reminders and mail
/// join them in the same table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// Becomes its recipients' in-app notifications.
    InApp,
}

impl Channel {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Channel::InApp => "in_app",
        }
    }
}

/// A claimed row: this worker's until its lease ends.
#[derive(Debug, Clone, QueryableByName)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub(crate) struct ClaimedRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    pub actor_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    pub task_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    pub team_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Uuid>)]
    pub recipients: Vec<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub details: serde_json::Value,
    /// The actor's display name, when the account still exists.
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub actor_name: Option<String>,
    /// The team's name, when it still exists.
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub team_name: Option<String>,
    /// The task's title now, when it still exists (a reminder names it as it is when it
    /// fires).
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub task_title: Option<String>,
}

/// Puts a notice in the outbox, inside the caller's transaction (commands that run one; the
/// single-statement writes add it as a step of their statement: `Write::notice`).
pub(crate) async fn insert_notice(conn: &mut AsyncPgConnection, notice: &Notice) -> Result<()> {
    let recipients: Vec<Uuid> = notice.recipients.iter().map(|u| u.0).collect();
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(Uuid::now_v7()),
            outbox::channel.eq(Channel::InApp.as_str()),
            outbox::kind.eq(notice.kind.as_str()),
            outbox::actor_id.eq(notice.actor.0),
            outbox::task_id.eq(notice.task.map(|t| t.0)),
            outbox::team_id.eq(notice.team.map(|t| t.0)),
            outbox::recipients.eq(recipients),
            outbox::details.eq(notice.details.clone()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Claims up to `limit` due rows of `channel` for `lease`: rows another worker holds (locked
/// by its claim now, or leased and not yet expired) are skipped, never waited for. Oldest
/// first, with the names their texts need (one round trip).
pub(crate) async fn claim(
    conn: &mut AsyncPgConnection,
    channel: Channel,
    lease: Duration,
    limit: i64,
) -> Result<Vec<ClaimedRow>> {
    let mut rows: Vec<ClaimedRow> = diesel::sql_query(
        "WITH claimed AS (UPDATE outbox SET leased_until = now() + make_interval(secs => $2), \
           attempts = attempts + 1 \
           WHERE id IN (SELECT id FROM outbox WHERE channel = $1 AND due_at <= now() \
             AND (leased_until IS NULL OR leased_until <= now()) \
             ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
           RETURNING id, at, kind, actor_id, task_id, team_id, recipients, details) \
         SELECT c.*, (SELECT display_name FROM users WHERE users.id = c.actor_id) AS actor_name, \
           (SELECT name FROM teams WHERE teams.id = c.team_id) AS team_name, \
           (SELECT title FROM tasks WHERE tasks.id = c.task_id) AS task_title FROM claimed c",
    )
    .bind::<Text, _>(channel.as_str())
    .bind::<Double, _>(lease.as_secs_f64())
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    rows.sort_by_key(|row| row.id);
    Ok(rows)
}
