//! The engine's side of delivering webhook events (docs/webhooks.md, "Delivery"): claiming
//! webhooks with their pending events, and recording what became of each attempt. Sending is
//! the embedder's (crate `api` sends over HTTP: the engine knows no network but its database).
//!
//! A webhook is held by one worker at a time (a lease on its row, taken with
//! `FOR UPDATE SKIP LOCKED`), which sends its events in commit order and stops at the first
//! failure: the events after it wait, so the receiver sees them in order. The failed event is
//! tried again under the same `webhook-id` after a growing delay, for a day; then the webhook
//! is disabled and its creator notified.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::Value;
use uuid::Uuid;

use super::Engine;
use crate::error::{Error, Result};
use crate::metrics::OutboxCounters;
use crate::model::{NotificationKind, UserId};
use crate::notice::Notice;
use crate::notify::CommittedFor;
use crate::notify::Notifier;
use crate::store::durable_outbox::insert_notice;
use crate::store::webhook_outbox::{self as store, ClaimedWebhook};
use crate::store::webhooks::DeliveryRow;

/// How long a failing webhook is retried before it is disabled.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// How long the delivery log keeps an attempt.
const LOG_KEEPS: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A claimed webhook and the events to send, in order. Its lease ends at `lease_ends`: a
/// sender starts no request it could not finish before then.
#[derive(Debug, Clone)]
pub struct WebhookBatch {
    /// The webhook.
    pub webhook: Uuid,
    /// Where to POST.
    pub url: String,
    /// The `whsec_…` secret to sign with.
    pub secret: String,
    /// The events, oldest first.
    pub events: Vec<PendingEvent>,
    lease: DateTime<Utc>,
    failing_since: Option<DateTime<Utc>>,
    created_by: Option<Uuid>,
}

impl WebhookBatch {
    /// When this worker's hold on the webhook ends (the database's clock).
    pub fn lease_ends(&self) -> DateTime<Utc> {
        self.lease
    }
}

/// One event to send.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    /// The outbox row.
    outbox_id: Uuid,
    /// The body's `id` and the `webhook-id` header: the same on every attempt.
    pub event_id: Uuid,
    /// `task.created`, …
    pub event: String,
    /// When the change committed.
    pub at: DateTime<Utc>,
    /// The body's `data`.
    pub data: Value,
    /// 1 for the first attempt.
    pub attempt: i32,
}

/// How far a sender got with a batch: `attempts` were made for `batch.events[from..]` (all
/// delivered, but for a failure that ends them); `ends_batch` gives the webhook back.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// The batch.
    pub batch: &'a WebhookBatch,
    /// The first event these attempts are for.
    pub from: usize,
    /// The attempts, in order.
    pub attempts: &'a [Attempt],
    /// Whether the sender is done with the batch (the webhook is released).
    pub ends_batch: bool,
}

/// What became of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// When it was made.
    pub at: DateTime<Utc>,
    /// The receiver's status; `None`: no answer (refused, unreachable, timed out).
    pub response_status: Option<u16>,
}

impl Attempt {
    /// A 2xx answer ends an event's delivery; anything else is tried again.
    pub fn succeeded(&self) -> bool {
        self.response_status
            .is_some_and(|s| (200..300).contains(&s))
    }
}

/// Claims and records webhook deliveries for one node's sender.
#[derive(Clone)]
pub struct WebhookOutbox {
    engine: Engine,
}

impl Engine {
    /// The handle a webhook sender works with.
    pub fn webhook_outbox(&self) -> WebhookOutbox {
        WebhookOutbox {
            engine: self.clone(),
        }
    }
}

impl WebhookOutbox {
    fn notifier(&self) -> &Arc<Notifier> {
        &self.engine.inner.notifier
    }

    /// Until this node committed events for a webhook — answers which — or `poll_every` (the
    /// engine's notification settings) passed — answers any: the events of a node that died
    /// before sending them, retries that fell due and leases that ran out are found by polling.
    pub async fn wait(&self) -> CommittedFor {
        let notifier = self.notifier();
        tokio::select! {
            committed = notifier.webhooks_committed() => committed,
            () = tokio::time::sleep(notifier.poll_every()) => CommittedFor::any(),
        }
    }

    /// Whether this node works the outbox at all (`NotificationConfig::work`).
    pub fn works(&self) -> bool {
        self.notifier().works()
    }

    /// Claims up to `webhooks` webhooks with events due, each with its first `per_webhook`
    /// events, for the lease the engine's settings give.
    pub async fn claim(&self, webhooks: i64, per_webhook: i64) -> Result<Vec<WebhookBatch>> {
        let mut conn = self.engine.conn().await?;
        let lease = self.notifier().lease();
        let claimed = store::claim(&mut conn, lease, webhooks).await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let mut pending = store::pending(&mut conn, &claimed, per_webhook).await?;
        let mut batches = Vec::with_capacity(claimed.len());
        for ClaimedWebhook {
            id,
            url,
            secret,
            leased_until,
            failing_since,
            created_by,
            ..
        } in claimed
        {
            let (mine, rest): (Vec<_>, Vec<_>) =
                pending.into_iter().partition(|row| row.webhook_id == id);
            pending = rest;
            let events = (mine.into_iter())
                .map(|row| PendingEvent {
                    outbox_id: row.id,
                    event_id: row.event_id,
                    event: row.kind,
                    at: row.at,
                    data: row.details,
                    attempt: row.attempts + 1,
                })
                .collect();
            batches.push(WebhookBatch {
                webhook: id,
                url,
                secret,
                events,
                lease: leased_until,
                failing_since,
                created_by,
            });
        }
        Ok(batches)
    }

    /// Records deliveries made so far, all successful, of `batch.events[from..]`, keeping the
    /// hold on the webhook: a sender that dies later sends again only what followed.
    pub async fn delivered(
        &self,
        batch: &WebhookBatch,
        from: usize,
        attempts: &[Attempt],
    ) -> Result<()> {
        self.record_all(&[Progress {
            batch,
            from,
            attempts,
            ends_batch: false,
        }])
        .await
    }

    /// Records the last attempts of a batch, of `batch.events[from..]` — deliveries, then at
    /// most one failure (the events after it were not tried) — and gives the webhook back: due
    /// again at once after successes, after a growing delay after a failure; disabled, with its
    /// creator notified, when it has failed for [`GIVE_UP_AFTER`].
    pub async fn record(
        &self,
        batch: &WebhookBatch,
        from: usize,
        attempts: &[Attempt],
    ) -> Result<()> {
        self.record_all(&[Progress {
            batch,
            from,
            attempts,
            ends_batch: true,
        }])
        .await
    }

    /// Records the progress of several batches (of any webhooks) in one transaction, as
    /// [`WebhookOutbox::delivered`] and [`WebhookOutbox::record`] record one: a sender
    /// delivering to many webhooks records them together, with a few statements whatever
    /// their number. The webhooks are locked first, in id order (a deletion locks its webhook
    /// before its events too, so the two never deadlock). A transaction that records attempts
    /// commits without waiting for the disk (`store::delivered` says why).
    pub async fn record_all(&self, progress: &[Progress<'_>]) -> Result<()> {
        if progress.is_empty() {
            return Ok(());
        }
        let mut conn = self.engine.conn().await?;
        let (delivered, failed, disabled) = conn
            .transaction::<_, Error, _>(async |conn| {
                let webhooks: Vec<Uuid> = progress.iter().map(|p| p.batch.webhook).collect();
                // Deleted meanwhile, with their events and their log: nothing to record.
                let alive = store::lock_all(conn, &webhooks).await?;
                let progress: Vec<&Progress> = (progress.iter())
                    .filter(|p| alive.contains(&p.batch.webhook))
                    .collect();
                let mut delivered = Vec::new();
                let mut log = Vec::new();
                let mut released = Vec::new();
                let mut failures = Vec::new();
                for p in &progress {
                    let (events, rows, failure) = sort_out(p.batch, p.from, p.attempts);
                    delivered.extend(events);
                    log.extend(rows);
                    match failure {
                        Some(failure) => failures.push((p.batch, failure)),
                        None if p.ends_batch => released.push((p.batch.webhook, p.batch.lease)),
                        None => {}
                    }
                }
                store::delivered(conn, &delivered, &log).await?;
                store::release_all(conn, &released).await?;
                let mut disabled = 0;
                for (batch, (event, attempt)) in &failures {
                    disabled += usize::from(failed(conn, batch, event, attempt).await?);
                }
                Ok((delivered.len(), failures.len(), disabled))
            })
            .await?;
        let counters = &self.notifier().counters;
        OutboxCounters::add(&counters.webhooks_delivered, delivered);
        OutboxCounters::add(&counters.webhooks_failed, failed);
        if disabled > 0 {
            OutboxCounters::add(&counters.webhooks_disabled, disabled);
            // The creators' in-app notifications are to be made.
            self.notifier().poke();
        }
        Ok(())
    }

    /// Drops delivery log entries older than a week.
    pub async fn prune_log(&self) -> Result<usize> {
        let mut conn = self.engine.conn().await?;
        store::prune_log(&mut conn, LOG_KEEPS).await
    }
}

/// Records `batch`'s failed `attempt` at `event` (inside the caller's transaction, its webhook
/// locked) and gives the webhook back with its next retry — or, after failing for
/// [`GIVE_UP_AFTER`], disables it and tells its creator: answers whether it did.
async fn failed(
    conn: &mut AsyncPgConnection,
    batch: &WebhookBatch,
    event: &PendingEvent,
    attempt: &Attempt,
) -> Result<bool> {
    let failing_since = batch.failing_since.unwrap_or(attempt.at);
    let failures = store::failed(conn, event.outbox_id).await?.unwrap_or(1);
    if attempt.at - failing_since >= delta(GIVE_UP_AFTER) {
        let row = log_row(batch, event, attempt, "abandoned", None);
        store::delivered(conn, &[], &[row]).await?;
        store::disable(conn, batch.webhook).await?;
        if let Some(notice) = disabled_notice(batch) {
            insert_notice(conn, &notice).await?;
        }
        return Ok(true);
    }
    let retry_at = attempt.at + delta(retry_delay(failures, attempt.at - failing_since));
    let row = log_row(batch, event, attempt, "failed", Some(retry_at));
    store::delivered(conn, &[], &[row]).await?;
    let (retry, since) = (Some(retry_at), Some(failing_since));
    store::release(conn, batch.webhook, batch.lease, retry, since).await?;
    Ok(false)
}

/// The delay before the next attempt, after `failures` failed ones in a row over `failing`:
/// 1 s, 2 s, 4 s … up to a minute during the first hour (a receiver back after a short outage
/// hears everything within a minute), then every 5 minutes until the day is over.
pub fn retry_delay(failures: i32, failing: TimeDelta) -> Duration {
    if failing >= TimeDelta::hours(1) {
        return Duration::from_secs(300);
    }
    let exponent = u32::try_from(failures.clamp(1, 7) - 1).unwrap_or(0);
    Duration::from_secs((1u64 << exponent).min(60))
}

type Failure<'a> = Option<(&'a PendingEvent, Attempt)>;

/// The events `attempts` delivered (from `batch.events[from]` on), their log rows, and the
/// failed attempt that ended them, if one did.
fn sort_out<'a>(
    batch: &'a WebhookBatch,
    from: usize,
    attempts: &[Attempt],
) -> (Vec<Uuid>, Vec<DeliveryRow>, Failure<'a>) {
    let mut delivered = Vec::new();
    let mut log = Vec::new();
    for (event, attempt) in batch.events.iter().skip(from).zip(attempts) {
        if !attempt.succeeded() {
            return (delivered, log, Some((event, *attempt)));
        }
        delivered.push(event.outbox_id);
        log.push(log_row(batch, event, attempt, "delivered", None));
    }
    (delivered, log, None)
}

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

fn log_row(
    batch: &WebhookBatch,
    event: &PendingEvent,
    attempt: &Attempt,
    status: &str,
    next_attempt_at: Option<DateTime<Utc>>,
) -> DeliveryRow {
    DeliveryRow {
        id: Uuid::now_v7(),
        webhook_id: batch.webhook,
        event_id: event.event_id,
        event: event.event.clone(),
        attempt: event.attempt,
        at: attempt.at,
        status: status.to_owned(),
        response_status: attempt.response_status.map(i32::from),
        next_attempt_at,
    }
}

/// The in-app notice telling a disabled webhook's creator.
fn disabled_notice(batch: &WebhookBatch) -> Option<Notice> {
    let creator = UserId(batch.created_by?);
    Some(Notice {
        kind: NotificationKind::WebhookDisabled,
        actor: creator,
        task: None,
        team: None,
        recipients: vec![creator],
        details: serde_json::json!({ "url": batch.url, "webhook_id": batch.webhook }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_grow_to_a_minute_then_slow_down_after_an_hour() {
        let secs = |failures, minutes| retry_delay(failures, TimeDelta::minutes(minutes)).as_secs();

        assert_eq!(
            [secs(1, 0), secs(2, 0), secs(3, 0), secs(7, 5), secs(40, 30)],
            [1, 2, 4, 60, 60]
        );
        assert_eq!(secs(41, 61), 300);
    }
}
