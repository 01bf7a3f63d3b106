//! The `notifications` topic on this node: notifications as their transactions commit, to the
//! subscribers of their user, the same way feeds hand out audit entries (docs/feeds.md): one
//! tailer per node reads the `notifications` table forward, below the horizon, for the users
//! followed here, and hands each to their subscribers' queues without waiting; a subscriber
//! that falls behind or resumes with `since` reads the table itself. Every node reads the same
//! table in the same order, so a client resumes on any node.
//!
//! The tailer reads right after this node's worker made notifications, when another node
//! signals that it made some (the cluster listener), and every `POLL_EVERY` besides.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use uuid::Uuid;

use super::inbox_subscription::{NotificationSubscription, Queued};
use crate::error::{Error, FieldError, Result};
use crate::feed::Start;
use crate::model::UserId;
use crate::outbox::Outbox;
use crate::store::Pool;
use crate::store::feed::{self, Position};
use crate::store::notifications::{self, InboxRead};

/// Notifications per read of the table.
pub(super) const READ_BATCH: i64 = 500;

/// How often the tailer reads while anyone follows the topic, whatever it heard.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// The least time between two reads (a poke meanwhile is kept for after).
const READ_GAP: Duration = Duration::from_millis(2);

/// How long the tailer waits after the database failed it.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// This node's `notifications` subscribers and where the tailer is.
pub(crate) struct Inboxes {
    pool: Pool,
    queue: usize,
    registry: Mutex<Registry>,
    wake: Notify,
}

#[derive(Default)]
struct Registry {
    /// Every notification up to here went to the subscribers attached when it was read;
    /// `None` while nobody follows the topic.
    cursor: Option<Position>,
    subscribers: HashMap<UserId, Vec<Arc<Outbox<Queued>>>>,
}

impl Inboxes {
    pub(crate) fn new(pool: Pool, queue: usize) -> Arc<Self> {
        Arc::new(Self {
            pool,
            queue: queue.max(1),
            registry: Mutex::default(),
            wake: Notify::new(),
        })
    }

    /// Notifications were made (here or on another node): the tailer reads now.
    pub(crate) fn poke(&self) {
        self.wake.notify_one();
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Follows `user`'s notifications from the one after `since` (one of theirs) when given,
    /// else from now on. A `since` that is not one of theirs is a validation error.
    pub(crate) async fn subscribe(
        self: &Arc<Self>,
        user: UserId,
        since: Option<Uuid>,
    ) -> Result<NotificationSubscription> {
        let since = match since {
            None => None,
            Some(id) => Some(
                notifications::position_of(&mut *self.pool.get().await?, user, id)
                    .await?
                    .ok_or_else(|| {
                        Error::Validation(vec![FieldError::new(
                            "since",
                            "is not one of your notifications",
                        )])
                    })?,
            ),
        };
        loop {
            if let Some((outbox, cursor)) = self.attach(user) {
                let start = match since {
                    Some(since) => Start::After(since),
                    None => Start::Now(feed::snapshot(&mut *self.pool.get().await?).await?),
                };
                self.poke();
                return Ok(NotificationSubscription::new(
                    Arc::clone(self),
                    user,
                    outbox,
                    cursor,
                    start,
                ));
            }
            let head = feed::head(&mut *self.pool.get().await?).await?;
            let mut registry = self.registry();
            if registry.cursor.is_none() {
                registry.cursor = Some(head);
            }
        }
    }

    fn attach(&self, user: UserId) -> Option<(Arc<Outbox<Queued>>, Position)> {
        let mut registry = self.registry();
        let cursor = registry.cursor?;
        let outbox = Arc::new(Outbox::new(self.queue));
        (registry.subscribers.entry(user).or_default()).push(Arc::clone(&outbox));
        Some((outbox, cursor))
    }

    /// `user`'s notifications after `after`, from the table (a subscriber catching up).
    pub(super) async fn read_user(&self, user: UserId, after: Position) -> Result<InboxRead> {
        let mut conn = self.pool.get().await?;
        notifications::read_after(&mut conn, after, &[user.0], READ_BATCH).await
    }

    /// Where the tailer is and whom it reads for; `None` (the cursor forgotten) when nobody
    /// follows the topic.
    fn interest(&self) -> Option<(Position, Vec<Uuid>)> {
        let mut registry = self.registry();
        registry.subscribers.retain(|_, outboxes| {
            outboxes.retain(|outbox| !outbox.is_closed());
            !outboxes.is_empty()
        });
        if registry.subscribers.is_empty() {
            registry.cursor = None;
            return None;
        }
        let users = registry.subscribers.keys().map(|user| user.0).collect();
        Some((registry.cursor?, users))
    }

    /// Hands what the tailer read from `from` to the subscribers, and moves the cursor on.
    fn deliver(&self, from: Position, users: &[Uuid], read: InboxRead) {
        let mut registry = self.registry();
        if registry.cursor != Some(from) {
            return;
        }
        for row in &read.rows {
            let user = UserId(row.record.user_id);
            for outbox in registry.subscribers.get(&user).into_iter().flatten() {
                outbox.push(Queued::from(row));
            }
        }
        // A subscriber that came during the read was not in it: it reads the table itself.
        for (user, outboxes) in &registry.subscribers {
            if !users.contains(&user.0) {
                outboxes.iter().for_each(|outbox| outbox.fall_behind());
            }
        }
        registry.cursor = Some(read.done_to);
    }
}

/// Runs until the task is aborted.
pub(crate) async fn tail(inboxes: Arc<Inboxes>) {
    loop {
        let Some((from, users)) = inboxes.interest() else {
            inboxes.wake.notified().await;
            continue;
        };
        let read = async {
            let mut conn = inboxes.pool.get().await?;
            notifications::read_after(&mut conn, from, &users, READ_BATCH).await
        };
        match read.await {
            Ok(read) => {
                let more = read.rows.len() as i64 >= READ_BATCH;
                inboxes.deliver(from, &users, read);
                if more {
                    continue;
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "the notifications topic cannot read: retrying");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        }
        tokio::time::sleep(READ_GAP).await;
        tokio::select! {
            () = inboxes.wake.notified() => {}
            () = tokio::time::sleep(POLL_EVERY) => {}
        }
    }
}
