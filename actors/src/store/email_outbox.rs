//! Mails in the outbox (docs/notifications.md, "Email"): rows of channel `email`, one
//! recipient each (`recipients[1]`), of kind `notification` (an instant mail, made with its
//! notification) or `digest` (a user's next daily digest, due at its hour and re-armed when
//! sent). Claimed like every outbox row (`FOR UPDATE SKIP LOCKED` and a lease); a failed one is
//! due again later, a sent one deleted (or, a digest, re-armed).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Int4, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{notifications, outbox, users};
use crate::error::Result;
use crate::model::UserId;

/// The kind of a digest's row.
pub(crate) const DIGEST: &str = "digest";

/// A claimed mail, with its recipient as their account is now (`None`: deleted).
#[derive(Debug, Clone, QueryableByName)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub(crate) struct ClaimedMail {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// When the change it tells of happened (an instant mail's).
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub recipient: Uuid,
    #[diesel(sql_type = Jsonb)]
    pub details: serde_json::Value,
    /// Attempts so far, this one included.
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub failing_since: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub leased_until: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub display_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub time_zone: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub email_notifications: Option<String>,
}

/// Claims up to `limit` due mails for `lease`, oldest first; rows another worker holds are
/// skipped, never waited for.
pub(crate) async fn claim(
    conn: &mut AsyncPgConnection,
    lease: Duration,
    limit: i64,
) -> Result<Vec<ClaimedMail>> {
    Ok(diesel::sql_query(
        "WITH claimed AS (UPDATE outbox SET leased_until = now() + make_interval(secs => $1), \
           attempts = attempts + 1 \
           WHERE id IN (SELECT id FROM outbox WHERE channel = 'email' AND due_at <= now() \
             AND (leased_until IS NULL OR leased_until <= now()) \
             ORDER BY due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) \
           RETURNING id, kind, at, recipients[1] AS recipient, details, attempts, failing_since, \
             leased_until) \
         SELECT c.id, c.kind, c.at, c.recipient, c.details, c.attempts, c.failing_since, \
           c.leased_until, u.email, u.display_name, u.time_zone, u.email_notifications \
         FROM claimed c LEFT JOIN users u ON u.id = c.recipient ORDER BY c.id",
    )
    .bind::<Double, _>(lease.as_secs_f64())
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// A notification a digest lists.
#[derive(Debug, Clone, Queryable)]
pub(crate) struct DigestLine {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub text: String,
}

/// `user`'s first `limit` notifications made after `after` (ids are UUIDv7: in the order
/// they were made), and how many there are in all.
pub(crate) async fn notifications_after(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    after: Uuid,
    limit: i64,
) -> Result<(Vec<DigestLine>, i64)> {
    let newer = notifications::table
        .filter(notifications::user_id.eq(user))
        .filter(notifications::id.gt(after));
    let total: i64 = newer.count().get_result(conn).await?;
    if total == 0 {
        return Ok((Vec::new(), 0));
    }
    let lines = newer
        .select((notifications::id, notifications::at, notifications::text))
        .order(notifications::id)
        .limit(limit)
        .load(conn)
        .await?;
    Ok((lines, total))
}

/// Deletes a sent (or abandoned) mail — unless the lease ran out meanwhile and another worker
/// holds it.
pub(crate) async fn delete(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    lease: DateTime<Utc>,
) -> Result<()> {
    diesel::delete(
        outbox::table
            .find(id)
            .filter(outbox::leased_until.eq(lease)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes a mail due again at `due_at`, with `details` and `failing_since` (`None`: a fresh
/// start, its attempts counted from zero) — unless the lease ran out meanwhile.
pub(crate) async fn reschedule(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    lease: DateTime<Utc>,
    due_at: DateTime<Utc>,
    details: &serde_json::Value,
    failing_since: Option<DateTime<Utc>>,
) -> Result<()> {
    let target = outbox::table
        .find(id)
        .filter(outbox::leased_until.eq(lease));
    let release = (
        outbox::due_at.eq(due_at),
        outbox::details.eq(details),
        outbox::failing_since.eq(failing_since),
        outbox::leased_until.eq(None::<DateTime<Utc>>),
    );
    if failing_since.is_none() {
        diesel::update(target)
            .set((release, outbox::attempts.eq(0)))
            .execute(conn)
            .await?;
    } else {
        diesel::update(target).set(release).execute(conn).await?;
    }
    Ok(())
}

/// Arms `user`'s digest for `due_at`, listing what is made after `after`; an armed one is moved
/// to `due_at` and keeps what it lists from.
pub(crate) async fn arm_digest(
    conn: &mut AsyncPgConnection,
    user: UserId,
    due_at: DateTime<Utc>,
    after: Uuid,
) -> Result<()> {
    diesel::sql_query(
        "INSERT INTO outbox (id, channel, kind, recipients, due_at, details) \
         VALUES ($1, 'email', 'digest', ARRAY[$2], $3, jsonb_build_object('after', $4::text)) \
         ON CONFLICT ((recipients[1])) WHERE channel = 'email' AND kind = 'digest' \
         DO UPDATE SET due_at = EXCLUDED.due_at, attempts = 0, failing_since = NULL",
    )
    .bind::<diesel::sql_types::Uuid, _>(Uuid::now_v7())
    .bind::<diesel::sql_types::Uuid, _>(user.0)
    .bind::<Timestamptz, _>(due_at)
    .bind::<Text, _>(after.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Drops `user`'s armed digest, if any.
pub(crate) async fn disarm_digest(conn: &mut AsyncPgConnection, user: UserId) -> Result<()> {
    diesel::sql_query(
        "DELETE FROM outbox WHERE channel = 'email' AND kind = 'digest' AND recipients[1] = $1",
    )
    .bind::<diesel::sql_types::Uuid, _>(user.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Users who chose `daily` and have no digest armed (they chose it while nothing was mailed),
/// with their time zones.
pub(crate) async fn unarmed_daily(conn: &mut AsyncPgConnection) -> Result<Vec<(Uuid, String)>> {
    Ok(users::table
        .filter(users::email_notifications.eq("daily"))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            outbox::table
                .filter(outbox::channel.eq("email"))
                .filter(outbox::kind.eq(DIGEST))
                .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "outbox.recipients[1] = users.id",
                )),
        )))
        .select((users::id, users::time_zone))
        .load(conn)
        .await?)
}
