//! Feed topics: the audit log as it commits, per user and per team (docs/feeds.md).
//!
//! One tailer per node reads the log forward (`store/feed.rs`) for the topics this node's
//! subscribers follow and hands each entry to them. A subscriber that falls behind, or that
//! resumes after an entry it names, reads what it lacks from the log itself. Every node reads
//! the same log in the same order, so a feed is the same on every node and a client may resume
//! on any of them.

mod subscription;
mod tailer;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use uuid::Uuid;

use subscription::Queued;
pub(crate) use subscription::Start;
pub use subscription::{FeedEvent, FeedSubscription};
pub(crate) use tailer::tail;

use crate::error::Result;
use crate::metrics::FeedFigures;
use crate::model::{TeamId, UserId};
use crate::outbox::Outbox;
use crate::store::Pool;
use crate::store::feed::{self, Interest, Position, Read};

/// A feed: what one user's actions and tasks went through, or what happened in one team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedTopic {
    /// The user's own actions and the changes to the tasks it owns or that are shared with it.
    User(UserId),
    /// The team's entries.
    Team(TeamId),
}

/// Entries per read of the log.
const READ_BATCH: i64 = 500;

/// Up to this many topics followed, the tailer asks PostgreSQL for their entries only; beyond,
/// it reads every entry and hands out those that someone here follows.
const MATCHED_IN_SQL: usize = 64;

/// How often the tailer reads the log while anyone follows a feed, whatever it heard: entries
/// that moved no aggregate (a sign-in, a new member) send no signal to the other nodes.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// This node's feeds: who follows what, and where the tailer is.
pub(crate) struct Feeds {
    pool: Pool,
    queue: usize,
    registry: Mutex<Registry>,
    /// Something committed (here or, by a signal, on another node): read the log now.
    wake: Notify,
    /// Entries handed out by subscriptions.
    delivered: AtomicU64,
    catch_ups: AtomicU64,
}

#[derive(Default)]
struct Registry {
    /// Every entry up to here went to the subscribers attached when it was read. `None` while
    /// nobody follows a feed: the tailer then reads nothing at all.
    cursor: Option<Position>,
    subscribers: HashMap<FeedTopic, Vec<Arc<Outbox<Queued>>>>,
}

impl Feeds {
    /// `queue` entries at most wait for each subscriber; beyond, it reads the log itself.
    pub fn new(pool: Pool, queue: usize) -> Arc<Self> {
        Arc::new(Self {
            pool,
            queue: queue.max(1),
            registry: Mutex::default(),
            wake: Notify::new(),
            delivered: AtomicU64::new(0),
            catch_ups: AtomicU64::new(0),
        })
    }

    /// Something was committed: the tailer reads the log now.
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Follows `topic` for `user` (who may read it: the caller checks), from the entry after
    /// `since` when given, else from now on.
    pub async fn subscribe(
        self: &Arc<Self>,
        user: UserId,
        topic: FeedTopic,
        since: Option<Position>,
    ) -> Result<FeedSubscription> {
        loop {
            if let Some((outbox, cursor)) = self.attach(topic) {
                let start = match since {
                    Some(since) => Start::After(since),
                    // Taken once attached: whatever it did not see comes after the cursor.
                    None => Start::Now(feed::snapshot(&mut *self.pool.get().await?).await?),
                };
                self.poke();
                return Ok(FeedSubscription::new(
                    Arc::clone(self),
                    (user, topic),
                    outbox,
                    cursor,
                    start,
                ));
            }
            // The first subscriber: the tailer starts where the log is now.
            let head = feed::head(&mut *self.pool.get().await?).await?;
            let mut registry = self.registry();
            if registry.cursor.is_none() {
                registry.cursor = Some(head);
            }
        }
    }

    /// Registers a subscriber at the tailer's cursor, when the tailer has one.
    fn attach(&self, topic: FeedTopic) -> Option<(Arc<Outbox<Queued>>, Position)> {
        let mut registry = self.registry();
        let cursor = registry.cursor?;
        let outbox = Arc::new(Outbox::new(self.queue));
        (registry.subscribers.entry(topic).or_default()).push(Arc::clone(&outbox));
        Some((outbox, cursor))
    }

    /// The position of the entry `id`, if there is one.
    pub async fn position_of(&self, id: Uuid) -> Result<Option<Position>> {
        feed::position_of(&mut *self.pool.get().await?, id).await
    }

    /// Subscriptions open now, entries handed out, catch-ups.
    pub fn figures(&self) -> FeedFigures {
        let registry = self.registry();
        let open = registry.subscribers.values().flatten();
        FeedFigures {
            subscriptions: open.filter(|outbox| !outbox.is_closed()).count() as u64,
            entries_delivered: self.delivered.load(Ordering::Relaxed),
            catch_ups: self.catch_ups.load(Ordering::Relaxed),
        }
    }

    /// The entries of `topic` after `after`, from the log (a subscriber catching up).
    async fn read_topic(&self, topic: FeedTopic, after: Position) -> Result<Read> {
        self.catch_ups.fetch_add(1, Ordering::Relaxed);
        let interest = match topic {
            FeedTopic::User(user) => Interest {
                users: vec![user.0],
                ..Interest::default()
            },
            FeedTopic::Team(team) => Interest {
                teams: vec![team.0],
                ..Interest::default()
            },
        };
        feed::read_after(&mut *self.pool.get().await?, after, &interest, READ_BATCH).await
    }

    /// Where the tailer is and what its subscribers follow; `None` (and the cursor forgotten)
    /// when nobody follows anything.
    fn interest(&self) -> Option<(Position, Interest)> {
        let mut registry = self.registry();
        registry.subscribers.retain(|_, outboxes| {
            outboxes.retain(|outbox| !outbox.is_closed());
            !outboxes.is_empty()
        });
        if registry.subscribers.is_empty() {
            registry.cursor = None;
            return None;
        }
        let mut interest = Interest {
            everything: registry.subscribers.len() > MATCHED_IN_SQL,
            ..Interest::default()
        };
        if !interest.everything {
            for topic in registry.subscribers.keys() {
                match topic {
                    FeedTopic::User(user) => interest.users.push(user.0),
                    FeedTopic::Team(team) => interest.teams.push(team.0),
                }
            }
        }
        Some((registry.cursor?, interest))
    }

    /// Hands what the tailer read from `from` to the subscribers, and moves the cursor on.
    fn deliver(&self, from: Position, interest: &Interest, read: Read) {
        let mut registry = self.registry();
        if registry.cursor != Some(from) {
            // Everyone left and someone came since the read began: it starts later than this.
            return;
        }
        for row in &read.rows {
            let topics = row.record.team_id.map(|team| FeedTopic::Team(TeamId(team)));
            let users = row
                .audience
                .iter()
                .map(|user| FeedTopic::User(UserId(*user)));
            for topic in topics.into_iter().chain(users) {
                for outbox in registry.subscribers.get(&topic).into_iter().flatten() {
                    outbox.push(Queued::from(row));
                }
            }
        }
        // A subscriber that came during the read was not in its interest: it reads the log
        // itself up to where the others are.
        for (topic, outboxes) in &registry.subscribers {
            let read_for = interest.everything
                || match topic {
                    FeedTopic::User(user) => interest.users.contains(&user.0),
                    FeedTopic::Team(team) => interest.teams.contains(&team.0),
                };
            if !read_for {
                outboxes.iter().for_each(|outbox| outbox.fall_behind());
            }
        }
        registry.cursor = Some(read.done_to);
    }
}
