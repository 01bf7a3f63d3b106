//! Sign-in sessions and accounts that ended: a sign-out, a refresh token presented twice, a
//! deleted account. Access tokens are checked against this in memory (no round trip per
//! request), so it needs to remember an ending only as long as an access token can outlive it.
//! Every node learns of an ending through the cluster signal, and a node that starts reads the
//! recent ones from the refresh tokens' revocations.

use std::time::{Duration, Instant};

use dashmap::DashMap;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::model::UserId;

/// Something whose access tokens stop working at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ending {
    /// A sign-in session (the refresh-token family its tokens were issued in).
    Session(Uuid),
    /// Every session of a deleted account.
    Account(UserId),
}

/// Endings seen recently, and a feed of new ones for whoever holds long-lived sessions
/// (WebSocket connections). Every authenticated request reads it: a concurrent map, so that
/// readers on different threads never wait on one lock.
pub(crate) struct Endings {
    ended: DashMap<Ending, Instant>,
    remember_for: Duration,
    feed: broadcast::Sender<Ending>,
}

impl Endings {
    pub fn new(remember_for: Duration) -> Self {
        Self {
            ended: DashMap::new(),
            remember_for,
            feed: broadcast::channel(1024).0,
        }
    }

    /// Records an ending and tells the feed's listeners (once per ending).
    pub fn end(&self, ending: Ending) {
        let now = Instant::now();
        let remember_for = self.remember_for;
        // Endings are rare (sign-outs, reuses, deletions): pruning on each one keeps the map
        // to what a live token could still need.
        self.ended
            .retain(|_, at| now.duration_since(*at) < remember_for);
        if self.ended.insert(ending, now).is_none() {
            // Nobody listening is fine: the check below still refuses the tokens.
            let _ = self.feed.send(ending);
        }
    }

    /// Whether a token of `user`, issued in `session`, belongs to something that ended.
    pub fn has_ended(&self, user: UserId, session: Option<Uuid>) -> bool {
        self.ended.contains_key(&Ending::Account(user))
            || session.is_some_and(|session| self.ended.contains_key(&Ending::Session(session)))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Ending> {
        self.feed.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ended_session_or_account_is_remembered_and_announced_once() {
        let endings = Endings::new(Duration::from_secs(60));
        let mut feed = endings.subscribe();
        let (user, session) = (UserId::new(), Uuid::now_v7());

        assert!(!endings.has_ended(user, Some(session)));
        endings.end(Ending::Session(session));
        endings.end(Ending::Session(session));

        assert!(endings.has_ended(user, Some(session)));
        assert!(!endings.has_ended(user, Some(Uuid::now_v7())));
        assert!(!endings.has_ended(user, None));
        assert_eq!(feed.try_recv().ok(), Some(Ending::Session(session)));
        assert!(feed.try_recv().is_err(), "announced once");

        endings.end(Ending::Account(user));
        assert!(endings.has_ended(user, None));
        assert!(!endings.has_ended(UserId::new(), None));
    }

    #[test]
    fn endings_are_forgotten_once_no_token_can_outlive_them() {
        let endings = Endings::new(Duration::ZERO);
        let session = Uuid::now_v7();
        endings.end(Ending::Session(session));
        // The next ending prunes the first: it is older than the memory.
        endings.end(Ending::Session(Uuid::now_v7()));
        assert!(!endings.has_ended(UserId::new(), Some(session)));
    }
}
