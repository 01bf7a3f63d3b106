//! This node's webhook sender: claims webhooks with events due from the engine's outbox (each
//! held by one node at a time), POSTs their events in order over one connection per webhook,
//! and records every attempt (`WebhookOutbox::record` decides retries and disabling).
//!
//! It claims right after this node committed events for a webhook, shortly after that once
//! more (an event committed while an older transaction was still open is below the horizon
//! only once that one ends), when one of its deliveries finishes (more may wait behind it),
//! and every `poll_every` besides (another node's events when that node died, retries due).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use taskpulse_actors::{Attempt, Engine, WebhookBatch, WebhookOutbox};
use taskpulse_live::shapes::webhooks::WebhookBody;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::destination::{self, DestinationPolicy};
use super::sender::{Connection, Sender};
use super::signature;

/// No answer within this is a failed attempt (API.md).
const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// Webhooks delivered at once by this node.
const IN_FLIGHT: usize = 64;
/// Events one claim takes per webhook.
const PER_WEBHOOK: i64 = 100;
/// The second look after a commit's poke.
const SETTLE: Duration = Duration::from_millis(10);
/// The least time between two claims.
const CLAIM_GAP: Duration = Duration::from_millis(2);
/// A sender records its deliveries at least every this many events…
const RECORD_EVERY_EVENTS: usize = 10;
/// …and this often.
const RECORD_EVERY: Duration = Duration::from_millis(50);
/// How often the delivery log is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Starts this node's sender (it stops at once on a node that does not work the outbox).
pub fn spawn_sender(engine: &Engine, policy: DestinationPolicy) -> JoinHandle<()> {
    let outbox = engine.webhook_outbox();
    tokio::spawn(async move {
        if !outbox.works() {
            return;
        }
        match Sender::new() {
            Ok(sender) => run(outbox, Arc::new(sender), policy).await,
            Err(err) => tracing::error!(%err, "webhooks cannot be sent: no TLS client"),
        }
    })
}

async fn run(outbox: WebhookOutbox, sender: Arc<Sender>, policy: DestinationPolicy) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let finished = Arc::new(Notify::new());
    let mut pruned_at: Option<Instant> = None;
    let mut settle = false;
    loop {
        let free = slots.available_permits();
        if free > 0 {
            match outbox.claim(free as i64, PER_WEBHOOK).await {
                Ok(batches) => {
                    for batch in batches {
                        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                            return;
                        };
                        let (outbox, sender) = (outbox.clone(), Arc::clone(&sender));
                        let finished = Arc::clone(&finished);
                        tokio::spawn(async move {
                            deliver(&outbox, &sender, policy, batch).await;
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
            if let Err(err) = outbox.prune_log().await {
                tracing::warn!(error = %err, "pruning the webhook delivery log failed");
            }
        }
        tokio::time::sleep(CLAIM_GAP).await;
        let poked = if std::mem::take(&mut settle) {
            tokio::select! {
                () = outbox.wait() => true,
                () = finished.notified() => false,
                () = tokio::time::sleep(SETTLE) => false,
            }
        } else {
            tokio::select! {
                () = outbox.wait() => true,
                () = finished.notified() => false,
            }
        };
        settle = poked;
    }
}

/// Sends a batch's events in order until one fails or the lease would not cover another
/// attempt, recording deliveries as it goes (a node that dies mid-batch leaves little to send
/// twice), then the end of the batch.
async fn deliver(
    outbox: &WebhookOutbox,
    sender: &Sender,
    policy: DestinationPolicy,
    batch: WebhookBatch,
) {
    // The lease by this node's clock, a second early for the skew between the two.
    let left = (batch.lease_ends() - Utc::now())
        .to_std()
        .unwrap_or_default();
    let lease_ends = Instant::now() + left.saturating_sub(Duration::from_secs(1));
    let mut recorded = 0;
    let mut pending: Vec<Attempt> = Vec::new();
    let mut since_record = Instant::now();
    let outcome = 'sending: {
        let (url, destination) = match checked_destination(policy, &batch).await {
            Some(target) => target,
            None => break 'sending Some(no_answer()),
        };
        let mut connection: Option<Connection> = None;
        for event in &batch.events {
            if Instant::now() + ANSWER_WITHIN > lease_ends {
                break 'sending None;
            }
            let at = Utc::now();
            let response_status =
                send(sender, &destination, &url, &mut connection, &batch, event).await;
            let attempt = Attempt {
                at,
                response_status,
            };
            if !attempt.succeeded() {
                break 'sending Some(attempt);
            }
            pending.push(attempt);
            if pending.len() >= RECORD_EVERY_EVENTS || since_record.elapsed() >= RECORD_EVERY {
                if let Err(err) = outbox.delivered(&batch, recorded, &pending).await {
                    tracing::warn!(webhook = %batch.webhook, error = %err, "recording webhook deliveries failed");
                    // The lease runs out and another claim sends them again: at least once.
                    return;
                }
                recorded += pending.len();
                pending.clear();
                since_record = Instant::now();
            }
        }
        None
    };
    pending.extend(outcome);
    if let Err(err) = outbox.record(&batch, recorded, &pending).await {
        tracing::warn!(webhook = %batch.webhook, error = %err, "recording webhook deliveries failed");
    }
}

fn no_answer() -> Attempt {
    Attempt {
        at: Utc::now(),
        response_status: None,
    }
}

/// The webhook's URL with the addresses it may be called at now: checked again at every
/// delivery, so a DNS answer that changed since the webhook was made cannot aim it inside.
async fn checked_destination(
    policy: DestinationPolicy,
    batch: &WebhookBatch,
) -> Option<(url::Url, destination::Destination)> {
    let url = match url::Url::parse(&batch.url) {
        Ok(url) => url,
        Err(err) => {
            tracing::warn!(webhook = %batch.webhook, %err, "a stored webhook URL does not parse");
            return None;
        }
    };
    match destination::resolve(&url, policy).await {
        Ok(destination) => Some((url, destination)),
        Err(refusal) => {
            tracing::warn!(webhook = %batch.webhook, %refusal, "webhook destination refused");
            None
        }
    }
}

/// One event: its body, its signature, the POST (over the open connection when it can carry
/// another request); the receiver's status, or `None` without an answer.
async fn send(
    sender: &Sender,
    destination: &destination::Destination,
    url: &url::Url,
    connection: &mut Option<Connection>,
    batch: &WebhookBatch,
    event: &taskpulse_actors::PendingEvent,
) -> Option<u16> {
    let body = match serde_json::to_vec(&WebhookBody::from(event)) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(%err, "a webhook body does not serialize");
            return None;
        }
    };
    let message_id = event.event_id.to_string();
    let headers =
        match signature::headers(&batch.secret, &message_id, Utc::now().timestamp(), &body) {
            Ok(headers) => headers,
            Err(err) => {
                tracing::error!(webhook = %batch.webhook, %err, "a webhook secret cannot sign");
                return None;
            }
        };
    if !connection.as_ref().is_some_and(Connection::is_ready) {
        match sender.connect(destination, ANSWER_WITHIN).await {
            Ok(opened) => *connection = Some(opened),
            Err(err) => {
                tracing::debug!(webhook = %batch.webhook, %err, "webhook connection failed");
                *connection = None;
                return None;
            }
        }
    }
    let open = connection.as_mut()?;
    match open.post(url, &headers, body.into(), ANSWER_WITHIN).await {
        Ok(status) => Some(status),
        Err(err) => {
            tracing::debug!(webhook = %batch.webhook, %err, "webhook request failed");
            *connection = None;
            None
        }
    }
}
