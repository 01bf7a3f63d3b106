//! What readers share with the aggregate actors without a round trip: per scope, the latest
//! published snapshot and the subscribers' outboxes (docs/architecture.md, "The live side":
//! hot reads read a published snapshot, not the actor).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Instant;

use dashmap::DashMap;
use ractor::ActorRef;

use crate::aggregate::AggregateMsg;
use crate::metrics::EngineMetrics;
use crate::model::UserId;
use crate::published::Snapshot;
use crate::stats::Scope;
use crate::subscription::Subscriber;

/// The live scopes of one engine, each in its slot; the engine's figures are kept beside them,
/// where every actor and cluster task already holds a reference.
pub(crate) struct Slots {
    pub by_scope: DashMap<Scope, Arc<Slot>>,
    pub metrics: EngineMetrics,
    started: Instant,
}

impl Slots {
    pub fn new() -> Self {
        Self {
            by_scope: DashMap::new(),
            metrics: EngineMetrics::default(),
            started: Instant::now(),
        }
    }

    /// Milliseconds since the engine started: a cheap clock for idleness.
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn slot(&self, scope: &Scope) -> Option<Arc<Slot>> {
        self.by_scope
            .get(scope)
            .map(|entry| Arc::clone(entry.value()))
    }
}

/// One live scope: its actor, its latest snapshot, its subscribers.
pub(crate) struct Slot {
    pub scope: Scope,
    actor: Mutex<Option<ActorRef<AggregateMsg>>>,
    current: RwLock<Option<Arc<Snapshot>>>,
    subscribers: Mutex<Vec<Arc<Subscriber>>>,
    last_used_ms: AtomicU64,
    /// When the scope's history was last read.
    history_used_ms: AtomicU64,
    /// The oldest version after which the actor can replay from memory (`i64::MAX`: none).
    replay_floor: AtomicI64,
}

impl Slot {
    pub fn new(scope: Scope, now_ms: u64) -> Self {
        Self {
            scope,
            actor: Mutex::new(None),
            current: RwLock::new(None),
            subscribers: Mutex::new(Vec::new()),
            last_used_ms: AtomicU64::new(now_ms),
            history_used_ms: AtomicU64::new(now_ms),
            replay_floor: AtomicI64::new(i64::MAX),
        }
    }

    pub fn actor(&self) -> Option<ActorRef<AggregateMsg>> {
        self.actor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn set_actor(&self, actor: Option<ActorRef<AggregateMsg>>) {
        *self.actor.lock().unwrap_or_else(PoisonError::into_inner) = actor;
    }

    pub fn current(&self) -> Option<Arc<Snapshot>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Publishes a new snapshot. Always before the matching delta reaches any outbox, so a
    /// subscriber that falls back to the slot never sees an older state than its deltas.
    pub fn publish(&self, snapshot: Arc<Snapshot>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(snapshot);
    }

    /// Whether a subscriber resuming after `since` can be served from the actor's memory
    /// (otherwise the change log is read first, or the aggregate caught up when the client
    /// has seen more than it holds).
    pub fn replays_from_memory(&self, since: i64) -> bool {
        let held = self
            .current()
            .is_some_and(|current| since <= current.version);
        held && since >= self.replay_floor.load(Ordering::Acquire)
    }

    pub fn set_replay_floor(&self, floor: i64) {
        self.replay_floor.store(floor, Ordering::Release);
    }

    pub fn touch(&self, now_ms: u64) {
        self.last_used_ms.store(now_ms, Ordering::Relaxed);
    }

    pub fn idle_for_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.last_used_ms.load(Ordering::Relaxed))
    }

    pub fn touch_history(&self, now_ms: u64) {
        self.history_used_ms.store(now_ms, Ordering::Relaxed);
    }

    /// Whether the history is held and nobody read it for `idle_ms`.
    pub fn history_idle(&self, now_ms: u64, idle_ms: u64) -> bool {
        let held = self
            .current()
            .is_some_and(|current| current.aggregate.history.is_some());
        held && now_ms.saturating_sub(self.history_used_ms.load(Ordering::Relaxed)) >= idle_ms
    }

    /// Whether a subscriber follows the scope's trends.
    pub fn has_history_followers(&self) -> bool {
        let mut follows = false;
        self.for_each_subscriber(|subscriber| follows |= subscriber.follows_history);
        follows
    }

    pub fn add_subscriber(&self, subscriber: Arc<Subscriber>) {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(subscriber);
    }

    /// Runs `f` on every open subscriber, forgetting the closed ones.
    pub fn for_each_subscriber(&self, mut f: impl FnMut(&Subscriber)) {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscribers.retain(|subscriber| !subscriber.is_closed());
        subscribers.iter().for_each(|subscriber| f(subscriber));
    }

    /// Whether anyone still listens.
    pub fn has_subscribers(&self) -> bool {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscribers.retain(|subscriber| !subscriber.is_closed());
        !subscribers.is_empty()
    }

    /// The users who subscribe now.
    pub fn subscriber_users(&self) -> Vec<UserId> {
        let mut users = Vec::new();
        self.for_each_subscriber(|subscriber| users.push(subscriber.user));
        users.sort_unstable();
        users.dedup();
        users
    }

    /// Revokes `user`'s subscriptions that were allowed before `before` (a later one was
    /// allowed by a membership check newer than the revocation's evidence).
    pub fn revoke_allowed_before(&self, user: UserId, before: Instant) {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscribers.retain(|subscriber| {
            let revoke = subscriber.user == user && subscriber.allowed_at < before;
            if revoke {
                subscriber.revoke();
            }
            !revoke
        });
    }

    /// Tells `user`'s subscribers (all when `None`) that they may no longer read this scope.
    pub fn revoke(&self, user: Option<UserId>) {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscribers.retain(|subscriber| {
            let revoke = user.is_none_or(|u| subscriber.user == u);
            if revoke {
                subscriber.revoke();
            }
            !revoke
        });
    }
}
