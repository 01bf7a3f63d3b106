//! The outbox's workers on this node (docs/notifications.md). Every node runs them on the same
//! table: a claim takes due rows with `FOR UPDATE SKIP LOCKED` and a lease, so each row is
//! worked by one node at a time, and a node that dies holding rows leaves them to another once
//! the lease has run out.
//!
//! A worker reads right after this node's own commits (`Engine::publish` pokes it) and every
//! `poll_every` besides, for the rows of nodes that died between commit and delivery and for
//! leases that ran out.

mod committed_for;
mod in_app;
mod inbox_subscription;
mod inboxes;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

pub use committed_for::CommittedFor;
pub use inbox_subscription::NotificationSubscription;
pub(crate) use inboxes::{Inboxes, tail as tail_inboxes};

use crate::cluster::Announcer;
use crate::config::NotificationConfig;
use crate::metrics::OutboxCounters;
use crate::store::Pool;

/// How long a worker waits after the database failed it.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The least time between two claims (a poke meanwhile is kept for after): under a stream of
/// notices one claim takes what came meanwhile, instead of one claim per commit.
const CLAIM_GAP: Duration = Duration::from_millis(2);

/// This node's outbox workers: what wakes them, and what they need.
pub(crate) struct Notifier {
    pool: Pool,
    config: NotificationConfig,
    wake: Notify,
    /// This node committed events for webhooks (their sender is the embedder's)…
    webhooks: Notify,
    /// …for these.
    webhooks_committed: Mutex<CommittedFor>,
    /// This node made mails to send (their sender is the embedder's too).
    mail: Notify,
    /// This node's `notifications` topic, told when the worker made some.
    inboxes: Arc<Inboxes>,
    /// The other nodes' topics, told the same.
    announcer: Announcer,
    /// What the workers did, for `/metrics`.
    pub(crate) counters: OutboxCounters,
}

impl Notifier {
    pub(crate) fn new(
        pool: Pool,
        config: NotificationConfig,
        inboxes: Arc<Inboxes>,
        announcer: Announcer,
    ) -> Arc<Self> {
        Arc::new(Self {
            pool,
            config,
            wake: Notify::new(),
            webhooks: Notify::new(),
            webhooks_committed: Mutex::default(),
            mail: Notify::new(),
            inboxes,
            announcer,
            counters: OutboxCounters::default(),
        })
    }

    /// Something committed on this node: its notices are due now.
    pub(crate) fn poke(&self) {
        self.wake.notify_one();
    }

    /// Something committed on this node put events in the outbox for these webhooks.
    pub(crate) fn poke_webhooks(&self, committed: CommittedFor) {
        self.webhooks_committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .merge(committed);
        self.webhooks.notify_one();
    }

    /// Until [`Notifier::poke_webhooks`] (or at once, when it was poked since the last wait):
    /// the webhooks it was poked for since.
    pub(crate) async fn webhooks_committed(&self) -> CommittedFor {
        self.webhooks.notified().await;
        std::mem::take(
            &mut self
                .webhooks_committed
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// This node's worker put mails in the outbox.
    pub(crate) fn poke_mail(&self) {
        self.mail.notify_one();
    }

    /// Until [`Notifier::poke_mail`] (or at once, when it was poked since the last wait).
    pub(crate) async fn mail_made(&self) {
        self.mail.notified().await;
    }

    /// Whether notifications are mailed (`NotificationConfig::email`).
    pub(crate) fn mails(&self) -> bool {
        self.config.email
    }

    pub(crate) fn poll_every(&self) -> Duration {
        self.config.poll_every
    }

    pub(crate) fn lease(&self) -> Duration {
        self.config.lease
    }

    pub(crate) fn works(&self) -> bool {
        self.config.work
    }
}

/// Delivers in-app rows until the task is aborted (at once, on a node that does not work the
/// outbox).
pub(crate) async fn work_in_app(notifier: Arc<Notifier>) {
    if !notifier.config.work {
        return;
    }
    loop {
        match in_app::deliver_due(&notifier).await {
            // A full batch: more may be due at once.
            Ok(delivered) if delivered as i64 >= notifier.config.batch => continue,
            Ok(_) => tokio::time::sleep(CLAIM_GAP).await,
            Err(err) => {
                tracing::warn!(error = %err, "the outbox's in-app worker failed: retrying");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        }
        tokio::select! {
            () = notifier.wake.notified() => {}
            () = tokio::time::sleep(notifier.config.poll_every) => {}
        }
    }
}
