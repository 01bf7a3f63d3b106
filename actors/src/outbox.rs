//! The bounded queue between a producer that must never wait (an aggregate actor, the feed
//! tailer) and one subscriber. When the subscriber falls behind, the queue does not grow: what
//! it holds is dropped and the subscriber catches up from the source instead (a fresh snapshot
//! from the slot, the audit log), so a slow subscriber costs the producer nothing.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use tokio::sync::Notify;

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// The item waits for the subscriber.
    Queued,
    /// The queue was full: it is cleared and the subscriber is behind.
    Overflowed,
    /// Not needed: the subscriber is behind already (it catches up from the source), revoked
    /// or gone.
    Dropped,
}

/// What the subscriber takes next.
#[derive(Debug)]
pub(crate) enum Next<T> {
    /// It may no longer follow: nothing follows.
    Revoked,
    /// It missed items: it catches up from the source (the mark is taken with this answer).
    Behind,
    /// The next item.
    Item(T),
    /// Nothing yet: [`Outbox::wait`].
    Empty,
}

struct State<T> {
    queue: VecDeque<T>,
    behind: bool,
    revoked: bool,
    closed: bool,
}

/// One subscriber's queue.
pub(crate) struct Outbox<T> {
    capacity: usize,
    state: Mutex<State<T>>,
    wake: Notify,
}

impl<T> Outbox<T> {
    /// Holds at most `capacity` items (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            state: Mutex::new(State {
                queue: VecDeque::new(),
                behind: false,
                revoked: false,
                closed: false,
            }),
            wake: Notify::new(),
        }
    }

    fn with_state<R>(&self, f: impl FnOnce(&mut State<T>) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Queues `item` without waiting; when the queue is full, latest wins: the subscriber gets
    /// one catch-up instead of a backlog.
    pub fn push(&self, item: T) -> Pushed {
        let pushed = self.with_state(|s| {
            if s.closed || s.revoked || s.behind {
                Pushed::Dropped
            } else if s.queue.len() >= self.capacity {
                s.queue.clear();
                s.behind = true;
                Pushed::Overflowed
            } else {
                s.queue.push_back(item);
                Pushed::Queued
            }
        });
        if pushed != Pushed::Dropped {
            self.wake.notify_one();
        }
        pushed
    }

    /// Drops whatever is queued: the subscriber catches up from the source.
    pub fn fall_behind(&self) {
        self.with_state(|s| {
            s.queue.clear();
            s.behind = true;
        });
        self.wake.notify_one();
    }

    /// Drops whatever is queued and ends the subscription: its next step is
    /// [`Next::Revoked`].
    pub fn revoke(&self) {
        self.with_state(|s| {
            s.queue.clear();
            s.revoked = true;
        });
        self.wake.notify_one();
    }

    /// The subscriber is gone: nothing is queued for it any more.
    pub fn close(&self) {
        self.with_state(|s| {
            s.closed = true;
            s.queue.clear();
        });
    }

    pub fn is_closed(&self) -> bool {
        self.with_state(|s| s.closed)
    }

    /// The subscriber's next step: a revocation first, then a catch-up, then the queue.
    pub fn next(&self) -> Next<T> {
        self.with_state(|s| {
            if s.revoked {
                Next::Revoked
            } else if s.behind {
                s.behind = false;
                Next::Behind
            } else {
                s.queue.pop_front().map_or(Next::Empty, Next::Item)
            }
        })
    }

    /// Until the producer has pushed, fallen behind or revoked since the last wake.
    pub async fn wait(&self) {
        self.wake.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(outbox: &Outbox<u32>) -> Vec<String> {
        std::iter::from_fn(|| match outbox.next() {
            Next::Empty => None,
            Next::Revoked => Some("revoked".to_owned()),
            Next::Behind => Some("behind".to_owned()),
            Next::Item(item) => Some(item.to_string()),
        })
        .take(10)
        .collect()
    }

    #[test]
    fn a_full_queue_collapses_to_one_catch_up_and_drops_what_comes_until_it_is_taken() {
        let outbox = Outbox::new(2);

        let pushed: Vec<Pushed> = (1..=4).map(|item| outbox.push(item)).collect();

        use Pushed::{Dropped, Overflowed, Queued};
        assert_eq!(pushed, [Queued, Queued, Overflowed, Dropped]);
        assert_eq!(drain(&outbox), ["behind"]);
        assert_eq!(outbox.push(5), Queued);
        assert_eq!(drain(&outbox), ["5"]);
    }

    #[test]
    fn a_revocation_comes_before_anything_else_and_nothing_is_queued_after_it() {
        let outbox = Outbox::new(4);
        outbox.push(1);
        outbox.fall_behind();

        outbox.revoke();

        assert_eq!(outbox.push(2), Pushed::Dropped);
        assert!(matches!(outbox.next(), Next::Revoked));
        assert!(matches!(outbox.next(), Next::Revoked));
    }

    #[test]
    fn a_closed_outbox_holds_nothing() {
        let outbox = Outbox::new(4);
        outbox.push(1);

        outbox.close();

        assert!(outbox.is_closed());
        assert_eq!(outbox.push(2), Pushed::Dropped);
        assert_eq!(drain(&outbox), Vec::<String>::new());
    }
}
