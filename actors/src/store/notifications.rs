//! Users' in-app notifications: made from the outbox's in-app rows, read as an inbox (newest
//! first, the unread ones alone if asked), marked read.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::feed::{HORIZON, Position};
use super::schema::notifications;
use super::sql::Sql;
use crate::error::Result;
use crate::model::UserId;

/// A stored notification.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = notifications, check_for_backend(diesel::pg::Pg))]
pub struct NotificationRecord {
    /// Its id (UUIDv7: sorts by when it was made).
    pub id: Uuid,
    /// Whose it is.
    pub user_id: Uuid,
    /// When the change it tells of happened.
    pub at: DateTime<Utc>,
    /// What it tells: a [`NotificationKind`](crate::NotificationKind)'s string.
    pub kind: String,
    /// The task it is about.
    pub task_id: Option<Uuid>,
    /// The team it is about.
    pub team_id: Option<Uuid>,
    /// Who made the change.
    pub actor_id: Option<Uuid>,
    /// What it says, e.g. `Ann completed “Ship v2”`.
    pub text: String,
    /// When its user read it.
    pub read_at: Option<DateTime<Utc>>,
}

/// A notification to make.
#[derive(Debug, Clone)]
pub(crate) struct NewNotification {
    pub id: Uuid,
    pub user_id: Uuid,
    pub source_id: Uuid,
    pub at: DateTime<Utc>,
    pub kind: &'static str,
    pub task_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub text: String,
}

/// What [`make_and_deliver`] made.
#[derive(Debug, QueryableByName)]
pub(crate) struct Made {
    /// Notifications.
    #[diesel(sql_type = BigInt)]
    pub made: i64,
    /// Instant mails (outbox rows of channel `email`).
    #[diesel(sql_type = BigInt)]
    pub mailed: i64,
}

/// In one statement (atomic on its own): deletes the outbox rows `delivered` and makes the
/// notifications of those it deleted — not of a row gone meanwhile (a reminder its task's change
/// cancelled after the claim) — for recipients whose accounts still exist; one already made
/// from the same outbox row for the same user is not made again. With `email`, each one made
/// for a user who chose `instant` mails also becomes an `email` outbox row (its id the
/// notification's). Answers how many it made.
pub(crate) async fn make_and_deliver(
    conn: &mut AsyncPgConnection,
    new: &[NewNotification],
    delivered: &[Uuid],
    email: bool,
) -> Result<Made> {
    let column = |f: fn(&NewNotification) -> Option<Uuid>| new.iter().map(f).collect::<Vec<_>>();
    let made: Made = diesel::sql_query(
        "WITH gone AS (DELETE FROM outbox WHERE id = ANY($10) RETURNING id), \
         made AS (INSERT INTO notifications \
           (id, user_id, source_id, at, kind, task_id, team_id, actor_id, text) \
           SELECT n.* FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[], \
             $5::text[], $6::uuid[], $7::uuid[], $8::uuid[], $9::text[]) \
             AS n(id, user_id, source_id, at, kind, task_id, team_id, actor_id, text) \
           WHERE EXISTS (SELECT 1 FROM users WHERE users.id = n.user_id) \
             AND n.source_id IN (SELECT id FROM gone) \
           ON CONFLICT (source_id, user_id) DO NOTHING \
           RETURNING id, user_id, at, kind, task_id, team_id, actor_id, text), \
         mailed AS (INSERT INTO outbox \
           (id, channel, kind, recipients, at, actor_id, task_id, team_id, details) \
           SELECT m.id, 'email', 'notification', ARRAY[m.user_id], m.at, m.actor_id, \
             m.task_id, m.team_id, jsonb_build_object('kind', m.kind, 'text', m.text) \
           FROM made m JOIN users u ON u.id = m.user_id \
           WHERE $11 AND u.email_notifications = 'instant' RETURNING 1) \
         SELECT (SELECT count(*) FROM made) AS made, (SELECT count(*) FROM mailed) AS mailed",
    )
    .bind::<Array<SqlUuid>, _>(new.iter().map(|n| n.id).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(new.iter().map(|n| n.user_id).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(new.iter().map(|n| n.source_id).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(new.iter().map(|n| n.at).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(new.iter().map(|n| n.kind).collect::<Vec<_>>())
    .bind::<Array<Nullable<SqlUuid>>, _>(column(|n| n.task_id))
    .bind::<Array<Nullable<SqlUuid>>, _>(column(|n| n.team_id))
    .bind::<Array<Nullable<SqlUuid>>, _>(column(|n| n.actor_id))
    .bind::<Array<Text>, _>(new.iter().map(|n| n.text.as_str()).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(delivered)
    .bind::<diesel::sql_types::Bool, _>(email)
    .get_result(conn)
    .await?;
    Ok(made)
}

/// Up to `limit` of `user`'s notifications older than `before`, newest first; only unread ones
/// with `unread_only`.
pub(crate) async fn inbox_page(
    conn: &mut AsyncPgConnection,
    user: UserId,
    unread_only: bool,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<NotificationRecord>> {
    let mut q = notifications::table
        .filter(notifications::user_id.eq(user.0))
        .into_boxed();
    if unread_only {
        q = q.filter(notifications::read_at.is_null());
    }
    if let Some(before) = before {
        q = q.filter(notifications::id.lt(before));
    }
    Ok(q.select(NotificationRecord::as_select())
        .order(notifications::id.desc())
        .limit(limit)
        .load(conn)
        .await?)
}

/// Marks one of `user`'s notifications read (a read one keeps its first `read_at`); `false`
/// when `user` has no such notification.
pub(crate) async fn mark_read(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: Uuid,
) -> Result<bool> {
    let mine = notifications::table
        .filter(notifications::id.eq(id))
        .filter(notifications::user_id.eq(user.0));
    let found: Option<Option<DateTime<Utc>>> = diesel::update(mine)
        .set(notifications::read_at.eq(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
        >("coalesce(read_at, now())")))
        .returning(notifications::read_at)
        .get_result(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

/// Marks every unread notification of `user` read.
pub(crate) async fn mark_all_read(conn: &mut AsyncPgConnection, user: UserId) -> Result<()> {
    let unread = notifications::table
        .filter(notifications::user_id.eq(user.0))
        .filter(notifications::read_at.is_null());
    diesel::update(unread)
        .set(notifications::read_at.eq(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
        >("now()")))
        .execute(conn)
        .await?;
    Ok(())
}

/// How many unread notifications `user` has.
pub(crate) async fn unread_count(conn: &mut AsyncPgConnection, user: UserId) -> Result<i64> {
    Ok(notifications::table
        .filter(notifications::user_id.eq(user.0))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)
        .await?)
}

/// A notification and its place in the order the live topic delivers them (as feeds do:
/// `store/feed.rs`, positions below the horizon).
#[derive(Debug)]
pub(crate) struct PlacedNotification {
    pub position: Position,
    pub record: Arc<NotificationRecord>,
}

/// What a read found: the notifications, and the position up to which it found all of them.
#[derive(Debug)]
pub(crate) struct InboxRead {
    pub rows: Vec<PlacedNotification>,
    pub done_to: Position,
}

type PlacedRow = (
    BigInt,
    Nullable<BigInt>,
    Nullable<SqlUuid>,
    Nullable<SqlUuid>,
    Nullable<Timestamptz>,
    Nullable<Text>,
    Nullable<SqlUuid>,
    Nullable<SqlUuid>,
    Nullable<SqlUuid>,
    Nullable<Text>,
    Nullable<Timestamptz>,
);

type PlacedValues = (
    i64,
    Option<i64>,
    Option<Uuid>,
    Option<Uuid>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<Uuid>,
    Option<Uuid>,
    Option<Uuid>,
    Option<String>,
    Option<DateTime<Utc>>,
);

/// The notifications of `users` after `after`, in order, at most `limit`.
pub(crate) async fn read_after(
    conn: &mut AsyncPgConnection,
    after: Position,
    users: &[Uuid],
    limit: i64,
) -> Result<InboxRead> {
    let mut sql = Sql::<PlacedRow>::new();
    // The horizon comes back even when no notification does, so that the reader moves on.
    sql.generated(format!(
        "SELECT h.horizon, n.tx, n.id, n.user_id, n.at, n.kind, n.task_id, n.team_id, \
         n.actor_id, n.text, n.read_at FROM (SELECT {HORIZON} AS horizon) h \
         LEFT JOIN LATERAL (SELECT * FROM notifications WHERE (tx, id) > ("
    ))
    .bind(after.tx)
    .sql(", ")
    .bind(after.id)
    .sql(") AND tx < h.horizon AND user_id = ANY(")
    .bind(users.to_vec())
    .sql(") ORDER BY tx, id LIMIT ")
    .bind(limit)
    .sql(") n ON TRUE ORDER BY n.tx, n.id");
    let rows: Vec<PlacedValues> = sql.get_results(conn).await?;
    let horizon = <[_]>::first(&rows).map_or(after.tx, |row| row.0);
    let found: Vec<PlacedNotification> = rows.into_iter().filter_map(placed).collect();
    let done_to = match found.last() {
        Some(last) if found.len() as i64 >= limit => last.position,
        _ => after.max(Position::below(horizon)),
    };
    Ok(InboxRead {
        rows: found,
        done_to,
    })
}

fn placed(row: PlacedValues) -> Option<PlacedNotification> {
    let (_, tx, id, user_id, at, kind, task_id, team_id, actor_id, text, read_at) = row;
    Some(PlacedNotification {
        position: Position { tx: tx?, id: id? },
        record: Arc::new(NotificationRecord {
            id: id?,
            user_id: user_id?,
            at: at?,
            kind: kind?,
            task_id,
            team_id,
            actor_id,
            text: text?,
            read_at,
        }),
    })
}

/// The position of `user`'s notification `id`, if they have one.
pub(crate) async fn position_of(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: Uuid,
) -> Result<Option<Position>> {
    let tx: Option<i64> = notifications::table
        .filter(notifications::id.eq(id))
        .filter(notifications::user_id.eq(user.0))
        .select(notifications::tx)
        .first(conn)
        .await
        .optional()?;
    Ok(tx.map(|tx| Position { tx, id }))
}
