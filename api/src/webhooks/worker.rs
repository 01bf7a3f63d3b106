//! This node's webhook sender: claims webhooks with events due from the engine's outbox (each
//! held by one node at a time), POSTs their events in order over one connection per webhook —
//! kept between batches — and records every attempt (`WebhookOutbox::record_all` decides
//! retries and disabling; batches that finish together are recorded in one transaction).
//!
//! It claims right after this node committed events for a webhook, a few more times shortly
//! after (an event committed while an older transaction was still open is below the horizon
//! only once that one ends), when one of its deliveries finishes (more may wait behind it),
//! and every `poll_every` besides (another node's events when that node died, retries due).
//! Commits and looks for webhooks it is delivering already claim nothing: the claim after that
//! delivery takes their events.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::Utc;
use taskpulse_actors::{
    Attempt, CommittedFor, Engine, PendingEvent, Progress, WebhookBatch, WebhookOutbox,
};
use taskpulse_live::shapes::webhooks::WebhookBody;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use url::Url;
use uuid::Uuid;

use super::destination::{self, Destination, DestinationPolicy};
use super::sender::{Connection, Sender};
use super::signature;

/// No answer within this is a failed attempt (API.md).
const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// Webhooks delivered at once by this node.
const IN_FLIGHT: usize = 64;
/// Events one claim takes per webhook.
const PER_WEBHOOK: i64 = 100;
/// The looks after a commit's poke: 10, 20, 40, 80 and 160 ms later.
const SETTLE: Duration = Duration::from_millis(10);
const SETTLE_LOOKS: u32 = 5;
/// The least time between two claims: under a stream of commits (each one a poke) one claim
/// takes what came meanwhile, instead of one claim per commit that mostly finds its webhook
/// held already.
const CLAIM_GAP: Duration = Duration::from_millis(10);
/// A sender records its deliveries at least every this many events…
const RECORD_EVERY_EVENTS: usize = 50;
/// …and this often.
const RECORD_EVERY: Duration = Duration::from_millis(50);
/// The most batches' progress recorded in one transaction.
const RECORD_TOGETHER: usize = 64;
/// How often the delivery log is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Connections kept open between batches (one per webhook).
const KEPT_CONNECTIONS: usize = 256;
/// The most connections the sender holds at once: those kept and those of the deliveries in
/// flight.
pub const MOST_CONNECTIONS: usize = KEPT_CONNECTIONS + IN_FLIGHT;

/// Starts this node's sender (it stops at once on a node that does not work the outbox).
pub fn spawn_sender(engine: &Engine, policy: DestinationPolicy) -> JoinHandle<()> {
    let outbox = engine.webhook_outbox();
    tokio::spawn(async move {
        if !outbox.works() {
            return;
        }
        match Sender::new() {
            Ok(sender) => {
                let (recorder, queue) = mpsc::channel(IN_FLIGHT);
                tokio::spawn(record_together(outbox.clone(), queue));
                let courier = Courier {
                    outbox,
                    sender,
                    policy,
                    recorder,
                    kept: Mutex::default(),
                    delivering: Mutex::default(),
                };
                run(Arc::new(courier)).await;
            }
            Err(err) => tracing::error!(%err, "webhooks cannot be sent: no TLS client"),
        }
    })
}

/// What every delivery of this node shares.
struct Courier {
    outbox: WebhookOutbox,
    sender: Sender,
    policy: DestinationPolicy,
    /// Where deliveries hand their progress to be recorded (`record_together`).
    recorder: mpsc::Sender<ToRecord>,
    /// Open connections between batches, by webhook.
    kept: Mutex<HashMap<Uuid, Connection>>,
    /// The webhooks this node is delivering now.
    delivering: Mutex<HashSet<Uuid>>,
}

async fn run(courier: Arc<Courier>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let finished = Arc::new(Notify::new());
    let mut pruned_at: Option<Instant> = None;
    let mut settle_looks = 0;
    // The webhooks the latest commits (and the looks after them) are about.
    let mut committed = CommittedFor::any();
    let mut claim = true;
    loop {
        let free = slots.available_permits();
        if claim && free > 0 {
            match courier.outbox.claim(free as i64, PER_WEBHOOK).await {
                Ok(batches) => {
                    for batch in batches {
                        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                            return;
                        };
                        let (courier, finished) = (Arc::clone(&courier), Arc::clone(&finished));
                        courier.delivering().insert(batch.webhook);
                        tokio::spawn(async move {
                            let webhook = batch.webhook;
                            courier.deliver(batch).await;
                            courier.delivering().remove(&webhook);
                            drop(slot);
                            finished.notify_one();
                        });
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "claiming webhook deliveries failed: retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
        }
        if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            pruned_at = Some(Instant::now());
            if let Err(err) = courier.outbox.prune_log().await {
                tracing::warn!(error = %err, "pruning the webhook delivery log failed");
            }
        }
        tokio::time::sleep(CLAIM_GAP).await;
        let next_look = async {
            match settle_looks {
                0 => std::future::pending().await,
                n => tokio::time::sleep(SETTLE * 2u32.pow(SETTLE_LOOKS - n)).await,
            }
        };
        claim = tokio::select! {
            more = courier.outbox.wait() => {
                if settle_looks == 0 {
                    committed = more;
                } else {
                    committed.merge(more);
                }
                settle_looks = SETTLE_LOOKS;
                committed.beyond(&courier.delivering())
            }
            () = finished.notified() => true,
            () = next_look => {
                settle_looks -= 1;
                committed.beyond(&courier.delivering())
            }
        };
    }
}

/// One batch's progress, for `record_together`, and where to say whether it was recorded.
struct ToRecord {
    batch: Arc<WebhookBatch>,
    from: usize,
    attempts: Vec<Attempt>,
    ends_batch: bool,
    recorded: oneshot::Sender<bool>,
}

/// Records the deliveries' progress, taking together whatever is waiting when it starts a
/// transaction: with many webhooks in flight, one transaction records many batches (a few
/// statements whatever their number, on one connection, so deliveries never crowd the
/// writes out of the pool), and alone a batch is recorded at once.
async fn record_together(outbox: WebhookOutbox, mut queue: mpsc::Receiver<ToRecord>) {
    while let Some(first) = queue.recv().await {
        let mut taken = vec![first];
        while taken.len() < RECORD_TOGETHER {
            match queue.try_recv() {
                Ok(more) => taken.push(more),
                Err(_) => break,
            }
        }
        let progress: Vec<Progress> = (taken.iter())
            .map(|t| Progress {
                batch: &t.batch,
                from: t.from,
                attempts: &t.attempts,
                ends_batch: t.ends_batch,
            })
            .collect();
        let outcome = outbox.record_all(&progress).await;
        if let Err(err) = &outcome {
            // The leases run out and other claims send the events again: at least once.
            tracing::warn!(batches = taken.len(), error = %err, "recording webhook deliveries failed");
        }
        for t in taken {
            let _ = t.recorded.send(outcome.is_ok());
        }
    }
}

impl Courier {
    /// Hands `attempts` (for `batch.events[from..]`) to the recorder; answers whether they
    /// were recorded.
    async fn record(
        &self,
        batch: &Arc<WebhookBatch>,
        from: usize,
        attempts: Vec<Attempt>,
        ends_batch: bool,
    ) -> bool {
        let (recorded, answer) = oneshot::channel();
        let to_record = ToRecord {
            batch: Arc::clone(batch),
            from,
            attempts,
            ends_batch,
            recorded,
        };
        self.recorder.send(to_record).await.is_ok() && answer.await.unwrap_or(false)
    }

    fn delivering(&self) -> std::sync::MutexGuard<'_, HashSet<Uuid>> {
        self.delivering
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends a batch's events in order until one fails or the lease would not cover another
    /// attempt, recording deliveries as it goes (a node that dies mid-batch leaves little to
    /// send twice), then the end of the batch.
    async fn deliver(&self, batch: WebhookBatch) {
        let batch = Arc::new(batch);
        // The lease by this node's clock, a second early for the skew between the two.
        let left = (batch.lease_ends() - Utc::now())
            .to_std()
            .unwrap_or_default();
        let lease_ends = Instant::now() + left.saturating_sub(Duration::from_secs(1));
        let mut recorded = 0;
        let mut pending: Vec<Attempt> = Vec::new();
        let mut since_record = Instant::now();
        let outcome = 'sending: {
            let Some((url, destination)) = self.checked_destination(&batch).await else {
                break 'sending Some(no_answer());
            };
            let mut connection = self.take_kept(batch.webhook, &destination);
            for event in &batch.events {
                if Instant::now() + ANSWER_WITHIN > lease_ends {
                    break;
                }
                let at = Utc::now();
                let response_status =
                    (self.send(&destination, &url, &mut connection, &batch, event)).await;
                let attempt = Attempt {
                    at,
                    response_status,
                };
                if !attempt.succeeded() {
                    break 'sending Some(attempt);
                }
                pending.push(attempt);
                if pending.len() >= RECORD_EVERY_EVENTS || since_record.elapsed() >= RECORD_EVERY {
                    let count = pending.len();
                    if !self
                        .record(&batch, recorded, std::mem::take(&mut pending), false)
                        .await
                    {
                        return;
                    }
                    recorded += count;
                    since_record = Instant::now();
                }
            }
            if let Some(connection) = connection {
                self.keep(batch.webhook, connection);
            }
            None
        };
        pending.extend(outcome);
        self.record(&batch, recorded, pending, true).await;
    }

    /// The webhook's URL with the addresses it may be called at now: checked again at every
    /// delivery, so a DNS answer that changed since the webhook was made cannot aim it inside.
    async fn checked_destination(&self, batch: &WebhookBatch) -> Option<(Url, Destination)> {
        let url = match Url::parse(&batch.url) {
            Ok(url) => url,
            Err(err) => {
                tracing::warn!(webhook = %batch.webhook, %err, "a stored webhook URL does not parse");
                return None;
            }
        };
        match destination::resolve(&url, self.policy).await {
            Ok(destination) => Some((url, destination)),
            Err(refusal) => {
                tracing::warn!(webhook = %batch.webhook, %refusal, "webhook destination refused");
                None
            }
        }
    }

    /// One event: its body, its signature, the POST; the receiver's status, or `None`
    /// without an answer. A connection kept from an earlier batch that fails before answering
    /// (the receiver closed it meanwhile) is replaced by a new one, once.
    async fn send(
        &self,
        destination: &Destination,
        url: &Url,
        connection: &mut Option<Connection>,
        batch: &WebhookBatch,
        event: &PendingEvent,
    ) -> Option<u16> {
        let body = match serde_json::to_vec(&WebhookBody::from(event)) {
            Ok(body) => body,
            Err(err) => {
                tracing::error!(%err, "a webhook body does not serialize");
                return None;
            }
        };
        let message_id = event.event_id.to_string();
        let timestamp = Utc::now().timestamp();
        let headers = match signature::headers(&batch.secret, &message_id, timestamp, &body) {
            Ok(headers) => headers,
            Err(err) => {
                tracing::error!(webhook = %batch.webhook, %err, "a webhook secret cannot sign");
                return None;
            }
        };
        let mut reused = connection.as_ref().is_some_and(Connection::is_ready);
        loop {
            if !connection.as_ref().is_some_and(Connection::is_ready) {
                match self.sender.connect(destination, ANSWER_WITHIN).await {
                    Ok(opened) => *connection = Some(opened),
                    Err(err) => {
                        tracing::debug!(webhook = %batch.webhook, %err, "webhook connection failed");
                        *connection = None;
                        return None;
                    }
                }
            }
            let open = connection.as_mut()?;
            match open
                .post(url, &headers, body.clone().into(), ANSWER_WITHIN)
                .await
            {
                Ok(status) => return Some(status),
                Err(err) => {
                    tracing::debug!(webhook = %batch.webhook, %err, "webhook request failed");
                    *connection = None;
                    if !std::mem::take(&mut reused) {
                        return None;
                    }
                }
            }
        }
    }

    /// The connection kept for this webhook, if it may carry a delivery to `destination`.
    fn take_kept(&self, webhook: Uuid, destination: &Destination) -> Option<Connection> {
        let kept = self
            .kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&webhook);
        kept.filter(|connection| connection.serves(destination))
    }

    fn keep(&self, webhook: Uuid, connection: Connection) {
        if !connection.is_ready() {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.retain(|_, connection| connection.is_ready());
        if kept.len() >= KEPT_CONNECTIONS {
            return;
        }
        kept.insert(webhook, connection);
    }
}

fn no_answer() -> Attempt {
    Attempt {
        at: Utc::now(),
        response_status: None,
    }
}
