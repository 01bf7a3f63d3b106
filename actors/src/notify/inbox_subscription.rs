//! One subscriber of the `notifications` topic: a queue the tailer fills without waiting, read
//! in order, going to the table itself whenever the queue cannot hold what it missed (as a feed
//! subscription does: `feed/subscription.rs`). Never skips a notification, never repeats one.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::inboxes::{Inboxes, READ_BATCH};
use crate::feed::Start;
use crate::model::UserId;
use crate::outbox::{Next, Outbox};
use crate::store::feed::{Position, Snapshot};
use crate::store::notifications::{NotificationRecord, PlacedNotification};

/// How long a subscriber that cannot read the table waits before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A notification waiting in a subscriber's queue.
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    position: Position,
    record: Arc<NotificationRecord>,
}

impl From<&PlacedNotification> for Queued {
    fn from(row: &PlacedNotification) -> Self {
        Self {
            position: row.position,
            record: Arc::clone(&row.record),
        }
    }
}

/// A user's live notifications: those after its start, in order, each once. Dropping it
/// unsubscribes.
pub struct NotificationSubscription {
    inboxes: Arc<Inboxes>,
    user: UserId,
    outbox: Arc<Outbox<Queued>>,
    last: Position,
    before: Option<Snapshot>,
    caught_up: VecDeque<Queued>,
}

impl NotificationSubscription {
    pub(super) fn new(
        inboxes: Arc<Inboxes>,
        user: UserId,
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
            inboxes,
            user,
            outbox,
            last,
            before,
            caught_up: VecDeque::new(),
        }
    }

    /// The next notification. Waits for the database when it must read the table and the
    /// database does not answer.
    pub async fn next(&mut self) -> Option<Arc<NotificationRecord>> {
        loop {
            if let Some(item) = self.caught_up.pop_front() {
                if let Some(record) = self.accept(item) {
                    return Some(record);
                }
                continue;
            }
            match self.outbox.next() {
                Next::Behind => self.read_table().await,
                Next::Item(item) => {
                    if let Some(record) = self.accept(item) {
                        return Some(record);
                    }
                }
                Next::Empty => self.outbox.wait().await,
                Next::Revoked => return None,
            }
        }
    }

    async fn read_table(&mut self) {
        match self.inboxes.read_user(self.user, self.last).await {
            Ok(read) => {
                if read.rows.len() as i64 >= READ_BATCH {
                    self.outbox.fall_behind();
                }
                self.caught_up.extend(read.rows.iter().map(Queued::from));
            }
            Err(err) => {
                tracing::warn!(error = %err, "a notifications subscriber cannot read: retrying");
                self.outbox.fall_behind();
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
    }

    fn accept(&mut self, item: Queued) -> Option<Arc<NotificationRecord>> {
        if item.position <= self.last {
            return None;
        }
        self.last = item.position;
        if let Some(before) = &self.before
            && before.saw(item.position.tx)
        {
            return None;
        }
        Some(item.record)
    }
}

impl Drop for NotificationSubscription {
    fn drop(&mut self) {
        self.outbox.close();
    }
}
