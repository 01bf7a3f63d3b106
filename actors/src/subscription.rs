//! Subscriptions: an outbox per subscriber (`outbox.rs`) that the aggregate fills without ever
//! waiting, and that collapses to one fresh snapshot when the subscriber falls behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::model::UserId;
use crate::outbox::{Next, Outbox, Pushed};
use crate::published::Snapshot;
use crate::slots::Slot;
use crate::stats::Delta;

/// What a subscriber receives.
#[derive(Debug, Clone)]
pub enum SubscriptionEvent {
    /// The whole aggregate; deltas that follow start at `version + 1`.
    Snapshot(Arc<Snapshot>),
    /// One change, and the aggregate after it (`snapshot.version` = previous + 1).
    Delta {
        /// The change.
        delta: Arc<Delta>,
        /// The aggregate after it.
        snapshot: Arc<Snapshot>,
    },
    /// A resume (`since_version`) replayed every change it missed, none included: the
    /// subscriber holds `version` and is live again.
    Resumed {
        /// The version reached.
        version: i64,
    },
    /// The subscriber may no longer read this scope (e.g. removed from the team); nothing
    /// follows.
    Revoked,
}

enum Queued {
    Snapshot(Arc<Snapshot>),
    Delta(Arc<Delta>, Arc<Snapshot>),
    Resumed(i64),
}

/// The aggregate's side of a subscription: whose it is, and its outbox.
pub(crate) struct Subscriber {
    pub user: UserId,
    /// Whether it follows the scope's history (trends), which the aggregate then keeps.
    pub follows_history: bool,
    /// The moment of the evidence that allowed it (a membership query, remembered or just
    /// made): a revocation ends the subscriptions allowed before it.
    pub allowed_at: Instant,
    /// The engine's count of collapses to a snapshot.
    collapsed: Arc<AtomicU64>,
    outbox: Outbox<Queued>,
}

impl Subscriber {
    pub fn new(
        user: UserId,
        follows_history: bool,
        allowed_at: Instant,
        capacity: usize,
        collapsed: Arc<AtomicU64>,
    ) -> Self {
        Self {
            user,
            follows_history,
            allowed_at,
            collapsed,
            outbox: Outbox::new(capacity),
        }
    }

    fn push(&self, item: Queued) {
        if self.outbox.push(item) == Pushed::Overflowed {
            self.collapsed.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn push_snapshot(&self, snapshot: Arc<Snapshot>) {
        self.push(Queued::Snapshot(snapshot));
    }

    pub fn push_delta(&self, delta: Arc<Delta>, snapshot: Arc<Snapshot>) {
        self.push(Queued::Delta(delta, snapshot));
    }

    /// Marks the end of a resume's replay.
    pub fn push_resumed(&self, version: i64) {
        self.push(Queued::Resumed(version));
    }

    /// Replaces whatever is queued with a fresh snapshot from the slot.
    pub fn resync(&self) {
        self.outbox.fall_behind();
    }

    pub fn revoke(&self) {
        self.outbox.revoke();
    }

    pub fn is_closed(&self) -> bool {
        self.outbox.is_closed()
    }
}

/// A live view of one aggregate: a snapshot (or the deltas since a known version), then
/// consecutive deltas. Dropping it unsubscribes.
pub struct Subscription {
    subscriber: Arc<Subscriber>,
    slot: Arc<Slot>,
    last: Option<i64>,
    ended: bool,
}

impl Subscription {
    pub(crate) fn new(subscriber: Arc<Subscriber>, slot: Arc<Slot>, since: Option<i64>) -> Self {
        Self {
            subscriber,
            slot,
            last: since,
            ended: false,
        }
    }

    /// The version of the last event handed out.
    pub fn version(&self) -> Option<i64> {
        self.last
    }

    /// The next event; `None` once revoked. Versions never go back and never skip: a gap
    /// (which the engine avoids) is turned into a fresh snapshot here.
    pub async fn next(&mut self) -> Option<SubscriptionEvent> {
        loop {
            if self.ended {
                return None;
            }
            match self.subscriber.outbox.next() {
                Next::Revoked => {
                    self.ended = true;
                    return Some(SubscriptionEvent::Revoked);
                }
                Next::Behind => {
                    if let Some(snapshot) = self.slot.current() {
                        return Some(self.accept_snapshot(snapshot));
                    }
                }
                Next::Item(Queued::Snapshot(snapshot)) => {
                    if self.last.is_none_or(|last| snapshot.version != last) {
                        return Some(self.accept_snapshot(snapshot));
                    }
                }
                Next::Item(Queued::Delta(delta, snapshot)) => match self.last {
                    Some(last) if snapshot.version == last + 1 => {
                        self.last = Some(snapshot.version);
                        return Some(SubscriptionEvent::Delta { delta, snapshot });
                    }
                    Some(last) if snapshot.version <= last => {}
                    // A gap, or deltas before the first snapshot: start from the slot.
                    _ => self.subscriber.resync(),
                },
                // Stale when a snapshot replaced the replay: that snapshot said it already.
                Next::Item(Queued::Resumed(version)) => {
                    if self.last == Some(version) {
                        return Some(SubscriptionEvent::Resumed { version });
                    }
                }
                Next::Empty => self.subscriber.outbox.wait().await,
            }
        }
    }

    fn accept_snapshot(&mut self, snapshot: Arc<Snapshot>) -> SubscriptionEvent {
        self.last = Some(snapshot.version);
        SubscriptionEvent::Snapshot(snapshot)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.subscriber.outbox.close();
    }
}
