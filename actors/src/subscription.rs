//! Subscriptions: a bounded outbox per subscriber that the aggregate fills without ever
//! waiting, and that collapses to one fresh snapshot when the subscriber falls behind.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::Notify;

use crate::model::UserId;
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
    /// The subscriber may no longer read this scope (e.g. removed from the team); nothing
    /// follows.
    Revoked,
}

enum Queued {
    Snapshot(Arc<Snapshot>),
    Delta(Arc<Delta>, Arc<Snapshot>),
}

#[derive(Default)]
struct OutboxState {
    queue: VecDeque<Queued>,
    /// The queue overflowed: what is queued no longer matters, a fresh snapshot does.
    resync: bool,
    revoked: bool,
    closed: bool,
}

/// The aggregate's side of a subscription.
pub(crate) struct Outbox {
    pub user: UserId,
    /// When the subscription was made (a revocation only ends older ones).
    pub attached_at: Instant,
    capacity: usize,
    /// The engine's count of collapses to a snapshot.
    collapsed: Arc<AtomicU64>,
    state: Mutex<OutboxState>,
    wake: Notify,
}

impl Outbox {
    pub fn new(user: UserId, capacity: usize, collapsed: Arc<AtomicU64>) -> Self {
        Self {
            user,
            attached_at: Instant::now(),
            capacity: capacity.max(1),
            collapsed,
            state: Mutex::new(OutboxState::default()),
            wake: Notify::new(),
        }
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut OutboxState) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn push(&self, item: Queued) {
        let pushed = self.with_state(|s| {
            if s.closed || s.revoked {
                return false;
            }
            if s.resync {
                return true;
            }
            if s.queue.len() >= self.capacity {
                // Latest wins: the slow subscriber gets one snapshot instead of a backlog.
                s.queue.clear();
                s.resync = true;
                self.collapsed.fetch_add(1, Ordering::Relaxed);
            } else {
                s.queue.push_back(item);
            }
            true
        });
        if pushed {
            self.wake.notify_one();
        }
    }

    pub fn push_snapshot(&self, snapshot: Arc<Snapshot>) {
        self.push(Queued::Snapshot(snapshot));
    }

    pub fn push_delta(&self, delta: Arc<Delta>, snapshot: Arc<Snapshot>) {
        self.push(Queued::Delta(delta, snapshot));
    }

    /// Replaces whatever is queued with a fresh snapshot from the slot.
    pub fn resync(&self) {
        self.with_state(|s| {
            s.queue.clear();
            s.resync = true;
        });
        self.wake.notify_one();
    }

    pub fn revoke(&self) {
        self.with_state(|s| {
            s.queue.clear();
            s.revoked = true;
        });
        self.wake.notify_one();
    }

    pub fn is_closed(&self) -> bool {
        self.with_state(|s| s.closed)
    }
}

/// A live view of one aggregate: a snapshot (or the deltas since a known version), then
/// consecutive deltas. Dropping it unsubscribes.
pub struct Subscription {
    outbox: Arc<Outbox>,
    slot: Arc<Slot>,
    last: Option<i64>,
    ended: bool,
}

impl Subscription {
    pub(crate) fn new(outbox: Arc<Outbox>, slot: Arc<Slot>, since: Option<i64>) -> Self {
        Self {
            outbox,
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
            enum Step {
                Revoked,
                Resync,
                Item(Queued),
                Wait,
            }
            let step = self.outbox.with_state(|s| {
                if s.revoked {
                    Step::Revoked
                } else if s.resync {
                    s.resync = false;
                    Step::Resync
                } else {
                    s.queue.pop_front().map_or(Step::Wait, Step::Item)
                }
            });
            match step {
                Step::Revoked => {
                    self.ended = true;
                    return Some(SubscriptionEvent::Revoked);
                }
                Step::Resync => {
                    if let Some(snapshot) = self.slot.current() {
                        return Some(self.accept_snapshot(snapshot));
                    }
                }
                Step::Item(Queued::Snapshot(snapshot)) => {
                    if self.last.is_none_or(|last| snapshot.version != last) {
                        return Some(self.accept_snapshot(snapshot));
                    }
                }
                Step::Item(Queued::Delta(delta, snapshot)) => match self.last {
                    Some(last) if snapshot.version == last + 1 => {
                        self.last = Some(snapshot.version);
                        return Some(SubscriptionEvent::Delta { delta, snapshot });
                    }
                    Some(last) if snapshot.version <= last => {}
                    // A gap, or deltas before the first snapshot: start from the slot.
                    _ => self.outbox.resync(),
                },
                Step::Wait => self.outbox.wake.notified().await,
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
        self.outbox.with_state(|s| {
            s.closed = true;
            s.queue.clear();
        });
    }
}
