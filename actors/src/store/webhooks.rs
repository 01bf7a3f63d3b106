//! Webhooks and their pending events (docs/webhooks.md). A change's events are outbox rows of
//! channel `webhook`, one per subscribed webhook, written by one `INSERT … SELECT` from
//! `webhooks` in the change's own statement (`store/write/`) or transaction (`write_audit`): a
//! change no webhook hears writes nothing, and no write ever reads a webhook in a round trip of
//! its own.

use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{webhook_deliveries as deliveries, webhooks};
use super::sql::Sql;
use crate::error::Result;
use crate::model::{Role, TeamId, UserId};
use crate::webhook_notice::WebhookNotice;

/// A stored webhook, as the API shows it (never its secret, shown once at creation).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = webhooks, check_for_backend(diesel::pg::Pg))]
pub struct WebhookRow {
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A webhook to store.
pub struct NewWebhookRow<'a> {
    pub id: Uuid,
    pub owner: Option<UserId>,
    pub team: Option<TeamId>,
    pub created_by: UserId,
    pub url: &'a str,
    pub events: &'a [&'a str],
    pub secret: &'a str,
}

/// One attempt to deliver, as `GET /api/v1/webhooks/{id}/deliveries` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = deliveries, check_for_backend(diesel::pg::Pg))]
pub struct DeliveryRow {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_id: Uuid,
    pub event: String,
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub status: String,
    pub response_status: Option<i32>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Appends the `INSERT … SELECT` of a change's events, one row per live webhook subscribed to
/// it, up to its `WHERE` clause (the caller may add ` AND …` and `RETURNING`).
pub(crate) fn push_events<ST>(sql: &mut Sql<ST>, notice: &WebhookNotice) {
    sql.sql(
        "INSERT INTO outbox (id, channel, kind, at, actor_id, task_id, team_id, recipients, \
         details, webhook_id, event_id) SELECT gen_random_uuid(), 'webhook', ",
    )
    .bind(notice.event.as_str())
    .sql(", now(), NULL, NULL, ")
    .bind(notice.team.map(|t| t.0))
    .sql(", '{}', ")
    .bind(notice.data.to_string())
    .sql("::jsonb, w.id, ")
    .bind(notice.event_id)
    .sql(" FROM webhooks w WHERE w.disabled_at IS NULL AND ")
    .bind(notice.event.as_str())
    .sql(" = ANY (w.events) AND (w.owner_id = ANY (")
    .bind(notice.users.clone())
    .sql(") OR w.team_id = ")
    .bind(notice.team.map(|t| t.0))
    .sql(")");
}

/// Writes a change's events inside the caller's transaction; answers whether any webhook
/// hears it.
pub(crate) async fn insert_events(
    conn: &mut AsyncPgConnection,
    notice: &WebhookNotice,
) -> Result<bool> {
    let mut sql = Sql::<diesel::sql_types::Integer>::new();
    push_events(&mut sql, notice);
    Ok(sql.execute(conn).await? > 0)
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewWebhookRow<'_>) -> Result<WebhookRow> {
    Ok(diesel::insert_into(webhooks::table)
        .values((
            webhooks::id.eq(new.id),
            webhooks::owner_id.eq(new.owner.map(|u| u.0)),
            webhooks::team_id.eq(new.team.map(|t| t.0)),
            webhooks::created_by.eq(new.created_by.0),
            webhooks::url.eq(new.url),
            webhooks::events.eq(new.events),
            webhooks::secret.eq(new.secret),
        ))
        .returning(WebhookRow::as_returning())
        .get_result(conn)
        .await?)
}

/// How many webhooks a user (or a team) has.
pub async fn count(
    conn: &mut AsyncPgConnection,
    owner: Option<UserId>,
    team: Option<TeamId>,
) -> Result<i64> {
    let mut query = webhooks::table.select(count_star()).into_boxed();
    query = match (owner, team) {
        (_, Some(team)) => query.filter(webhooks::team_id.eq(team.0)),
        (Some(owner), None) => query.filter(webhooks::owner_id.eq(owner.0)),
        (None, None) => return Ok(0),
    };
    Ok(query.first(conn).await?)
}

/// A page of the webhooks `user` manages: their own and those of the teams in `teams`, newest
/// first, after `before` (a cursor).
pub async fn list(
    conn: &mut AsyncPgConnection,
    user: UserId,
    teams: &[Uuid],
    before: Option<Uuid>,
    rows: i64,
) -> Result<Vec<WebhookRow>> {
    let mut query = webhooks::table
        .filter(
            webhooks::owner_id
                .eq(user.0)
                .or(webhooks::team_id.eq_any(teams)),
        )
        .select(WebhookRow::as_select())
        .order(webhooks::id.desc())
        .limit(rows)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(webhooks::id.lt(before));
    }
    Ok(query.load(conn).await?)
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<WebhookRow>> {
    Ok(webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Deletes a webhook with its pending events and its delivery log.
pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid) -> Result<bool> {
    Ok(diesel::delete(webhooks::table.find(id))
        .execute(conn)
        .await?
        > 0)
}

/// A page of a webhook's delivery log, newest first.
pub async fn deliveries(
    conn: &mut AsyncPgConnection,
    webhook: Uuid,
    before: Option<Uuid>,
    rows: i64,
) -> Result<Vec<DeliveryRow>> {
    let mut query = deliveries::table
        .filter(deliveries::webhook_id.eq(webhook))
        .select(DeliveryRow::as_select())
        .order(deliveries::id.desc())
        .limit(rows)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(deliveries::id.lt(before));
    }
    Ok(query.load(conn).await?)
}

/// The teams whose webhooks `user` manages: those they are an admin or owner of.
pub async fn managed_teams(conn: &mut AsyncPgConnection, user: UserId) -> Result<Vec<Uuid>> {
    use super::schema::team_members;
    Ok(team_members::table
        .filter(team_members::user_id.eq(user.0))
        .filter(team_members::role.eq_any([Role::Owner.as_str(), Role::Admin.as_str()]))
        .select(team_members::team_id)
        .load(conn)
        .await?)
}
