//! Delivering webhook events (docs/webhooks.md, "Delivery"): a worker holds a *webhook* (a
//! lease on its row), never single events, so a webhook's events go out one after the other in
//! commit order — `(tx, event_id)` order, read only below the horizon (no transaction that
//! could still commit an earlier position is running: docs/feeds.md) — whichever nodes work
//! the outbox.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Int4, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{outbox, webhooks};
use super::webhooks::DeliveryRow;
use crate::error::Result;

/// A webhook this worker holds until `leased_until`, with its first pending events.
#[derive(Debug, Clone, QueryableByName)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub(crate) struct ClaimedWebhook {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Text)]
    pub secret: String,
    #[diesel(sql_type = Timestamptz)]
    pub leased_until: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub failing_since: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    pub created_by: Option<Uuid>,
    #[diesel(sql_type = BigInt)]
    pub horizon: i64,
}

/// One pending event of a claimed webhook.
#[derive(Debug, Clone, QueryableByName)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub(crate) struct PendingRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub webhook_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub event_id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    #[diesel(sql_type = Jsonb)]
    pub details: serde_json::Value,
    /// Failed attempts so far.
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
}

/// Claims up to `limit` webhooks that have events below the horizon and are neither held by
/// another worker nor waiting for a retry: each is this worker's for `lease`. Webhooks another
/// claim is taking at this moment are skipped, never waited for. The lease commits without
/// waiting for the disk (as [`delivered`] records): one a crash forgets is no one's, and its
/// webhook is claimed again.
pub(crate) async fn claim(
    conn: &mut AsyncPgConnection,
    lease: Duration,
    limit: i64,
) -> Result<Vec<ClaimedWebhook>> {
    Ok(diesel::sql_query(
        "WITH horizon AS MATERIALIZED \
           (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin, \
             set_config('synchronous_commit', 'off', true) AS lazy), \
         claimed AS (UPDATE webhooks SET leased_until = now() + make_interval(secs => $1) \
           WHERE id IN (SELECT w.id FROM webhooks w WHERE w.disabled_at IS NULL \
             AND (w.leased_until IS NULL OR w.leased_until <= now()) \
             AND (w.retry_at IS NULL OR w.retry_at <= now()) \
             AND EXISTS (SELECT 1 FROM outbox o WHERE o.webhook_id = w.id \
               AND o.tx < (SELECT xmin FROM horizon)) \
             ORDER BY w.retry_at NULLS FIRST, w.id LIMIT $2 FOR UPDATE SKIP LOCKED) \
           RETURNING id, url, secret, leased_until, failing_since, created_by) \
         SELECT c.id, c.url, c.secret, c.leased_until, c.failing_since, c.created_by, \
           (SELECT xmin FROM horizon) AS horizon FROM claimed c",
    )
    .bind::<Double, _>(lease.as_secs_f64())
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// The first `per_webhook` pending events of each claimed webhook, below the horizon of its
/// claim, in commit order.
pub(crate) async fn pending(
    conn: &mut AsyncPgConnection,
    claimed: &[ClaimedWebhook],
    per_webhook: i64,
) -> Result<Vec<PendingRow>> {
    let ids: Vec<Uuid> = claimed.iter().map(|c| c.id).collect();
    let horizons: Vec<i64> = claimed.iter().map(|c| c.horizon).collect();
    Ok(diesel::sql_query(
        "SELECT o.id, o.webhook_id, o.event_id, o.kind, o.at, o.details, o.attempts \
         FROM unnest($1::uuid[], $2::bigint[]) AS w(id, horizon) \
         CROSS JOIN LATERAL (SELECT * FROM outbox o WHERE o.webhook_id = w.id \
           AND o.tx < w.horizon ORDER BY o.tx, o.event_id LIMIT $3) o \
         ORDER BY o.webhook_id, o.tx, o.event_id",
    )
    .bind::<Array<diesel::sql_types::Uuid>, _>(ids)
    .bind::<Array<BigInt>, _>(horizons)
    .bind::<BigInt, _>(per_webhook)
    .load(conn)
    .await?)
}

/// Locks the rows of the webhooks among `ids` that still exist, for the rest of the
/// transaction, in id order and before any of their events: a deletion locks its webhook's
/// row first too (then cascades to the events), so the two never deadlock. Answers which
/// exist.
pub(crate) async fn lock_all(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> Result<std::collections::HashSet<Uuid>> {
    let found: Vec<Uuid> = webhooks::table
        .filter(webhooks::id.eq_any(ids))
        .select(webhooks::id)
        .order(webhooks::id)
        .for_no_key_update()
        .load(conn)
        .await?;
    Ok(found.into_iter().collect())
}

/// Gives back each of `held` (webhook, lease) whose lease is still that one, with nothing
/// waiting and failing no more: [`release`] after successes, for many webhooks at once.
pub(crate) async fn release_all(
    conn: &mut AsyncPgConnection,
    held: &[(Uuid, DateTime<Utc>)],
) -> Result<()> {
    if held.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = held.iter().map(|(id, _)| *id).collect();
    let leases: Vec<DateTime<Utc>> = held.iter().map(|(_, lease)| *lease).collect();
    diesel::sql_query(
        "UPDATE webhooks w SET leased_until = NULL, retry_at = NULL, failing_since = NULL \
         FROM unnest($1::uuid[], $2::timestamptz[]) AS r(id, lease) \
         WHERE w.id = r.id AND w.leased_until = r.lease",
    )
    .bind::<Array<diesel::sql_types::Uuid>, _>(ids)
    .bind::<Array<Timestamptz>, _>(leases)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes delivered events and logs their attempts, in one statement whose transaction then
/// commits without waiting for the disk (`synchronous_commit` off, for that transaction only):
/// a database crash may forget the last few milliseconds of deliveries, and those events are
/// sent again — at least once, as promised — while the writes that share the disk never wait
/// behind a flush of the delivery log.
pub(crate) async fn delivered(
    conn: &mut AsyncPgConnection,
    events: &[Uuid],
    log: &[DeliveryRow],
) -> Result<()> {
    if events.is_empty() && log.is_empty() {
        return Ok(());
    }
    let column = |field: fn(&DeliveryRow) -> Uuid| log.iter().map(field).collect::<Vec<_>>();
    diesel::sql_query(
        "WITH lazy AS MATERIALIZED \
           (SELECT set_config('synchronous_commit', 'off', true) AS setting), \
         gone AS (DELETE FROM outbox WHERE id = ANY ($1) AND EXISTS (SELECT 1 FROM lazy)) \
         INSERT INTO webhook_deliveries (id, webhook_id, event_id, event, attempt, at, status, \
           response_status, next_attempt_at) \
         SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::int4[], \
           $7::timestamptz[], $8::text[], $9::int4[], $10::timestamptz[]) \
         WHERE EXISTS (SELECT 1 FROM lazy)",
    )
    .bind::<Array<diesel::sql_types::Uuid>, _>(events)
    .bind::<Array<diesel::sql_types::Uuid>, _>(column(|row| row.id))
    .bind::<Array<diesel::sql_types::Uuid>, _>(column(|row| row.webhook_id))
    .bind::<Array<diesel::sql_types::Uuid>, _>(column(|row| row.event_id))
    .bind::<Array<Text>, _>(log.iter().map(|row| row.event.as_str()).collect::<Vec<_>>())
    .bind::<Array<Int4>, _>(log.iter().map(|row| row.attempt).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(log.iter().map(|row| row.at).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(
        log.iter()
            .map(|row| row.status.as_str())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Nullable<Int4>>, _>(
        log.iter()
            .map(|row| row.response_status)
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Nullable<Timestamptz>>, _>(
        log.iter()
            .map(|row| row.next_attempt_at)
            .collect::<Vec<_>>(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts a failed attempt on an event; answers how many it has failed.
pub(crate) async fn failed(conn: &mut AsyncPgConnection, event: Uuid) -> Result<Option<i32>> {
    Ok(diesel::update(outbox::table.find(event))
        .set(outbox::attempts.eq(outbox::attempts + 1))
        .returning(outbox::attempts)
        .get_result(conn)
        .await
        .optional()?)
}

/// Ends this worker's hold on a webhook — unless its lease ran out meanwhile (another worker
/// may hold it now) — with its next retry (`None`: none is waiting) and since when it fails.
pub(crate) async fn release(
    conn: &mut AsyncPgConnection,
    webhook: Uuid,
    lease: DateTime<Utc>,
    retry_at: Option<DateTime<Utc>>,
    failing_since: Option<DateTime<Utc>>,
) -> Result<bool> {
    Ok(diesel::update(
        webhooks::table
            .find(webhook)
            .filter(webhooks::leased_until.eq(lease)),
    )
    .set((
        webhooks::leased_until.eq(None::<DateTime<Utc>>),
        webhooks::retry_at.eq(retry_at),
        webhooks::failing_since.eq(failing_since),
    ))
    .execute(conn)
    .await?
        > 0)
}

/// Disables a webhook that kept failing: its pending events are dropped.
pub(crate) async fn disable(conn: &mut AsyncPgConnection, webhook: Uuid) -> Result<()> {
    diesel::update(webhooks::table.find(webhook))
        .set((
            webhooks::disabled_at.eq(diesel::dsl::now),
            webhooks::leased_until.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await?;
    diesel::delete(outbox::table.filter(outbox::webhook_id.eq(webhook)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Drops log entries older than `keep`.
pub(crate) async fn prune_log(conn: &mut AsyncPgConnection, keep: Duration) -> Result<usize> {
    Ok(diesel::sql_query(
        "DELETE FROM webhook_deliveries WHERE at < now() - make_interval(secs => $1)",
    )
    .bind::<Double, _>(keep.as_secs_f64())
    .execute(conn)
    .await?)
}
