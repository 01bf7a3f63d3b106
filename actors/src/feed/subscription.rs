//! One subscriber's side of a feed: an outbox (`outbox.rs`) the tailer fills without waiting,
//! and the subscription that reads it in order, going to the log itself whenever the outbox
//! cannot hold what it missed (it fell behind, it resumes after an older entry, it came in the
//! middle of a read). A feed never skips an entry and never repeats one: everything is ordered by
//! position, and whatever is at or before the last position handed out is dropped.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{FeedTopic, Feeds};
use crate::audit_action::AuditAction;
use crate::model::UserId;
use crate::outbox::{Next, Outbox};
use crate::store::AuditRecord;
use crate::store::feed::{FeedRow, Position, Snapshot};

/// How long a subscriber that cannot read the log waits before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// What a feed subscriber receives.
#[derive(Debug, Clone)]
pub enum FeedEvent {
    /// One audit entry, as committed, in commit order.
    Entry(Arc<AuditRecord>),
    /// The subscriber may no longer read this feed (it left the team, or the team is gone);
    /// nothing follows. The entry that ended it came just before.
    Revoked,
}

/// An entry waiting in a subscriber's outbox.
#[derive(Debug, Clone)]
pub(super) struct Queued {
    position: Position,
    record: Arc<AuditRecord>,
}

impl From<&FeedRow> for Queued {
    fn from(row: &FeedRow) -> Self {
        Self {
            position: row.position,
            record: Arc::clone(&row.record),
        }
    }
}

/// Where a subscription starts.
pub(crate) enum Start {
    /// After this entry.
    After(Position),
    /// With the first entry `snapshot` did not see: after the tailer's cursor when the
    /// subscription attached, less what had committed above it by then.
    Now(Snapshot),
}

/// A live feed: the entries after its start, in order, each once. Dropping it unsubscribes.
pub struct FeedSubscription {
    feeds: Arc<Feeds>,
    user: UserId,
    topic: FeedTopic,
    /// The tailer's side: it fills it without waiting.
    outbox: Arc<Outbox<Queued>>,
    /// The last position handed out (or the start).
    last: Position,
    /// Entries of transactions this snapshot saw came before the subscription.
    before: Option<Snapshot>,
    /// Entries read from the log, not handed out yet.
    caught_up: VecDeque<Queued>,
    /// The entry just handed out ended the subscriber's access.
    revoking: bool,
    ended: bool,
}

impl FeedSubscription {
    /// `user`'s subscription to `topic`, attached to the tailer at `cursor`, starting at
    /// `start`.
    pub(super) fn new(
        feeds: Arc<Feeds>,
        (user, topic): (UserId, FeedTopic),
        outbox: Arc<Outbox<Queued>>,
        cursor: Position,
        start: Start,
    ) -> Self {
        let (last, before) = match start {
            Start::After(since) => (since, None),
            Start::Now(snapshot) => (cursor, Some(snapshot)),
        };
        if last < cursor {
            outbox.fall_behind();
        }
        Self {
            feeds,
            user,
            topic,
            outbox,
            last,
            before,
            caught_up: VecDeque::new(),
            revoking: false,
            ended: false,
        }
    }

    /// The topic followed.
    pub fn topic(&self) -> FeedTopic {
        self.topic
    }

    /// The next entry; `None` once revoked. Waits for the database when it must read the log
    /// and the database does not answer.
    pub async fn next(&mut self) -> Option<FeedEvent> {
        loop {
            if self.ended {
                return None;
            }
            if self.revoking {
                self.ended = true;
                return Some(FeedEvent::Revoked);
            }
            if let Some(item) = self.caught_up.pop_front() {
                if let Some(event) = self.accept(item) {
                    return Some(event);
                }
                continue;
            }
            match self.outbox.next() {
                // Whatever the tailer hands over from now on comes after what the read finds
                // (it reads up to a later horizon): nothing falls between.
                Next::Behind => self.read_log().await,
                Next::Item(item) => {
                    if let Some(event) = self.accept(item) {
                        return Some(event);
                    }
                }
                Next::Empty => self.outbox.wait().await,
                // Nothing revokes a feed's outbox: access ends with the entry that ends it
                // (`revokes`), in commit order.
                Next::Revoked => return None,
            }
        }
    }

    /// Reads one batch of what the subscriber lacks from the log.
    async fn read_log(&mut self) {
        match self.feeds.read_topic(self.topic, self.last).await {
            Ok(read) => {
                if read.rows.len() as i64 >= super::READ_BATCH {
                    // More to read once this batch is handed out.
                    self.outbox.fall_behind();
                }
                self.caught_up.extend(read.rows.iter().map(Queued::from));
            }
            Err(err) => {
                tracing::warn!(error = %err, "a feed cannot read the audit log: retrying");
                self.outbox.fall_behind();
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
    }

    /// Hands out `item` unless it was handed out already.
    fn accept(&mut self, item: Queued) -> Option<FeedEvent> {
        if item.position <= self.last {
            return None;
        }
        if let Some(before) = &self.before
            && before.saw(item.position.tx)
        {
            self.last = item.position;
            return None;
        }
        self.last = item.position;
        self.revoking = self.revokes(&item.record);
        self.feeds.delivered.fetch_add(1, Ordering::Relaxed);
        Some(FeedEvent::Entry(item.record))
    }

    /// Whether the entry ends the subscriber's access to its team's feed: its removal or
    /// departure, or the team's deletion. The feed carries them in commit order on every node,
    /// so the end comes exactly after the entry that caused it.
    fn revokes(&self, record: &AuditRecord) -> bool {
        let FeedTopic::Team(_) = self.topic else {
            return false;
        };
        match AuditAction::parse(&record.action) {
            Some(AuditAction::TeamDelete) => true,
            Some(AuditAction::TeamMemberRemove | AuditAction::TeamMemberLeave) => {
                record.details.get("user_id").and_then(|v| v.as_str())
                    == Some(self.user.0.to_string().as_str())
            }
            _ => false,
        }
    }
}

impl Drop for FeedSubscription {
    fn drop(&mut self) {
        self.outbox.close();
    }
}
