//! This node's mail sender: claims due mails from the engine's outbox (each held by one node
//! at a time), sends each over SMTP, and records what became of it (`EmailOutbox::sent` and
//! `failed` decide re-arming and retries). It claims right after this node made mails, and
//! every `poll_every` besides (digests and retries that fell due, another node's mails when
//! that node died).

use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use lettre::AsyncTransport;
use taskpulse_actors::{EmailOutbox, Engine, Mail};
use tokio::task::JoinHandle;

use super::message::compose;
use super::transport::Mailer;

/// Mails one claim takes.
const BATCH: i64 = 50;
/// Mails sent at once by this node.
const IN_FLIGHT: usize = 8;
/// The most connections to the mail server at once (one per mail in flight).
pub const MOST_CONNECTIONS: usize = IN_FLIGHT;
/// A mail is not started when the lease could not cover this much of its sending.
const SEND_WITHIN: Duration = Duration::from_secs(10);

/// Starts this node's mail sender (it stops at once on a node that does not work the outbox
/// or was not told to mail).
pub fn spawn_mailer(engine: &Engine, mailer: Mailer) -> JoinHandle<()> {
    let outbox = engine.email_outbox();
    tokio::spawn(async move {
        if !outbox.works() {
            return;
        }
        match outbox.arm_digests().await {
            Ok(0) => {}
            Ok(armed) => tracing::info!(armed, "daily digests armed"),
            Err(err) => tracing::warn!(error = %err, "arming the daily digests failed"),
        }
        run(outbox, mailer).await;
    })
}

async fn run(outbox: EmailOutbox, mailer: Mailer) {
    loop {
        match outbox.claim(BATCH).await {
            Ok(mails) => {
                let full = mails.len() as i64 >= BATCH;
                futures_util::stream::iter(mails)
                    .for_each_concurrent(IN_FLIGHT, |mail| {
                        let (outbox, mailer) = (&outbox, &mailer);
                        async move { deliver(outbox, mailer, mail).await }
                    })
                    .await;
                if full {
                    continue;
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "claiming mails failed: retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        }
        outbox.wait().await;
    }
}

/// Sends one mail and records the outcome.
async fn deliver(outbox: &EmailOutbox, mailer: &Mailer, mail: Mail) {
    let left = (mail.lease_ends() - Utc::now())
        .to_std()
        .unwrap_or_default();
    if left < SEND_WITHIN {
        // Claimed too long ago: the lease runs out and it is claimed again.
        return;
    }
    let message = match compose(&mailer.from, &mail) {
        Ok(message) => message,
        Err(err) => {
            // Nothing a retry would change (an address that is not one): dropped.
            tracing::warn!(%err, "a mail cannot be composed: dropped");
            record(outbox.sent(&mail).await);
            return;
        }
    };
    match mailer.transport.send(message).await {
        Ok(_) => record(outbox.sent(&mail).await),
        Err(err) => {
            tracing::info!(attempt = mail.attempt(), %err, "sending a mail failed: it is retried");
            record(outbox.failed(&mail).await);
        }
    }
}

fn record(result: taskpulse_actors::Result<()>) {
    if let Err(err) = result {
        // The lease runs out and the mail is claimed again: at least once.
        tracing::warn!(error = %err, "recording a mail failed");
    }
}
