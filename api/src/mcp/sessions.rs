//! Who each MCP session belongs to. The SDK's session manager knows sessions only by id; this
//! binds each to the user whose token opened it (a request with another user's token is
//! refused), bounds how many one user holds, and ends them when their sign-in session, token
//! or account ends (the engine's endings, as WebSocket sessions end) or when they sit idle.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use taskpulse_actors::{Ending, Engine, UserId};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

/// How MCP sessions are bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpSettings {
    /// Sessions one user may hold at once; one more `initialize` is refused.
    pub max_sessions_per_user: usize,
    /// A session with no request and no open stream for this long is ended.
    pub idle_timeout: Duration,
    /// The server's public base URL (`https://tasks.example.com`), for the protected-resource
    /// metadata; absent, it is taken from each request's `Host`.
    pub public_url: Option<String>,
}

impl Default for McpSettings {
    fn default() -> Self {
        Self {
            max_sessions_per_user: 16,
            idle_timeout: Duration::from_secs(30 * 60),
            public_url: None,
        }
    }
}

/// One bound session.
struct Bound {
    user: UserId,
    /// The sign-in session (or personal access token) of the token that opened it.
    sign_in: Option<Uuid>,
    last_seen: Instant,
    /// Open `GET` streams: a session that listens is not idle.
    open_streams: Arc<AtomicUsize>,
}

#[derive(Default)]
struct Table {
    sessions: HashMap<Arc<str>, Bound>,
    /// Per user: bound sessions and `initialize` requests under way.
    held: HashMap<UserId, usize>,
}

impl Table {
    fn release(&mut self, user: UserId) {
        if let Some(count) = self.held.get_mut(&user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.held.remove(&user);
            }
        }
    }
}

/// What a request may do with the session it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// The caller's own session.
    Own,
    /// No session of that id is bound here: the SDK answers as it does for unknown ones.
    Unknown,
    /// Another user's: refused as if it did not exist.
    NotOurs,
}

/// The bound sessions of one server.
pub(crate) struct McpSessions {
    settings: McpSettings,
    manager: Arc<LocalSessionManager>,
    table: Mutex<Table>,
}

impl McpSessions {
    pub fn new(settings: McpSettings, manager: Arc<LocalSessionManager>) -> Arc<Self> {
        Arc::new(Self {
            settings,
            manager,
            table: Mutex::default(),
        })
    }

    pub fn settings(&self) -> &McpSettings {
        &self.settings
    }

    pub fn manager(&self) -> &Arc<LocalSessionManager> {
        &self.manager
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Holds a place for a session `user` may be about to open; `None` when they hold the most
    /// allowed already. The place is given back unless [`Reservation::bind`] keeps it.
    pub fn reserve(self: &Arc<Self>, user: UserId) -> Option<Reservation> {
        let mut table = self.table();
        let held = table.held.entry(user).or_default();
        if *held >= self.settings.max_sessions_per_user {
            return None;
        }
        *held += 1;
        Some(Reservation {
            sessions: Arc::clone(self),
            user,
            bound: false,
        })
    }

    /// Whether `user` may use session `id`; touches it when they may.
    pub fn access(&self, id: &str, user: UserId) -> Access {
        let mut table = self.table();
        match table.sessions.get_mut(id) {
            None => Access::Unknown,
            Some(bound) if bound.user != user => Access::NotOurs,
            Some(bound) => {
                bound.last_seen = Instant::now();
                Access::Own
            }
        }
    }

    /// Counts a `GET` stream of session `id` open until the guard is dropped.
    pub fn stream_opened(&self, id: &str) -> Option<StreamGuard> {
        let table = self.table();
        let open = Arc::clone(&table.sessions.get(id)?.open_streams);
        open.fetch_add(1, Ordering::Relaxed);
        Some(StreamGuard(open))
    }

    /// Forgets session `id` (the client deleted it, or the SDK no longer has it).
    pub fn forget(&self, id: &str) {
        let mut table = self.table();
        if let Some(bound) = table.sessions.remove(id) {
            table.release(bound.user);
        }
    }

    /// Ends every session `ended` says goodbye to: forgotten here, closed in the SDK (which
    /// ends its streams and drops its handler, and with it its subscriptions).
    async fn end_where(&self, ended: impl Fn(&Bound) -> bool) {
        let ids = {
            let mut table = self.table();
            let ids = (table.sessions.iter())
                .filter(|(_, bound)| ended(bound))
                .map(|(id, _)| Arc::clone(id))
                .collect::<Vec<_>>();
            for id in &ids {
                if let Some(bound) = table.sessions.remove(id) {
                    table.release(bound.user);
                }
            }
            ids
        };
        for id in ids {
            if let Err(err) = self.manager.close_session(&id).await {
                tracing::debug!(%err, "an ended MCP session was already closed");
            }
        }
    }

    /// Ends the sessions a sign-in session's or an account's ending takes with it.
    async fn on_ending(&self, ending: Ending) {
        match ending {
            Ending::Account(user) => self.end_where(|bound| bound.user == user).await,
            Ending::Session(ended) => {
                self.end_where(|bound| bound.sign_in == Some(ended)).await;
            }
        }
    }

    /// Ends idle sessions, and forgets the ones the SDK ended on its own.
    async fn sweep(&self) {
        let idle_timeout = self.settings.idle_timeout;
        self.end_where(|bound| {
            bound.open_streams.load(Ordering::Relaxed) == 0
                && bound.last_seen.elapsed() >= idle_timeout
        })
        .await;
        let ids = (self.table().sessions.keys().cloned()).collect::<Vec<_>>();
        for id in ids {
            if !self.manager.has_session(&id).await.unwrap_or(true) {
                self.forget(&id);
            }
        }
    }
}

/// A place held for a session being opened.
pub(crate) struct Reservation {
    sessions: Arc<McpSessions>,
    user: UserId,
    bound: bool,
}

impl Reservation {
    /// The session opened: bind it to the user and the sign-in session of its token.
    pub fn bind(mut self, id: &str, sign_in: Option<Uuid>) {
        self.bound = true;
        let mut table = self.sessions.table();
        table.sessions.insert(
            Arc::from(id),
            Bound {
                user: self.user,
                sign_in,
                last_seen: Instant::now(),
                open_streams: Arc::default(),
            },
        );
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.bound {
            self.sessions.table().release(self.user);
        }
    }
}

/// One open `GET` stream of a session.
pub(crate) struct StreamGuard(Arc<AtomicUsize>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How often idle sessions are looked for, at most: twice per idle timeout when it is shorter.
const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// How often at least (a very short idle timeout must not make the sweep spin).
const SWEEP_AT_MOST_EVERY: Duration = Duration::from_millis(100);

/// Watches the engine's endings and sweeps idle sessions until the sessions are gone (the app
/// was dropped) or the engine stops announcing endings.
pub(crate) async fn watch(sessions: Weak<McpSessions>, engine: Engine) {
    let mut endings = engine.endings();
    let every = match sessions.upgrade() {
        Some(sessions) => {
            (sessions.settings.idle_timeout / 2).clamp(SWEEP_AT_MOST_EVERY, SWEEP_EVERY)
        }
        None => return,
    };
    let mut sweep = tokio::time::interval(every);
    loop {
        let ending = tokio::select! {
            ending = endings.recv() => Some(ending),
            _ = sweep.tick() => None,
        };
        let Some(sessions) = sessions.upgrade() else {
            return;
        };
        match ending {
            None => sessions.sweep().await,
            Some(Ok(ending)) => sessions.on_ending(ending).await,
            // Missed some: ask about each session whether its own ended.
            Some(Err(RecvError::Lagged(_))) => {
                sessions
                    .end_where(|bound| engine.has_ended(bound.user, bound.sign_in))
                    .await;
            }
            Some(Err(RecvError::Closed)) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(max: usize) -> Arc<McpSessions> {
        let settings = McpSettings {
            max_sessions_per_user: max,
            ..McpSettings::default()
        };
        McpSessions::new(settings, Arc::default())
    }

    #[test]
    fn a_user_holds_at_most_the_bound_and_an_unused_place_is_given_back() {
        let sessions = sessions(2);
        let user = UserId::new();
        let first = sessions.reserve(user);
        assert!(first.is_some());
        let second = sessions.reserve(user);
        assert!(second.is_some());
        assert!(sessions.reserve(user).is_none(), "a third is refused");
        assert!(sessions.reserve(UserId::new()).is_some(), "others are not");

        drop(second);
        let third = sessions.reserve(user).expect("the place came back");
        third.bind("s-1", None);
        assert!(sessions.reserve(user).is_none());
        sessions.forget("s-1");
        assert!(sessions.reserve(user).is_some());
    }

    #[test]
    fn a_session_is_its_users_alone() {
        let sessions = sessions(4);
        let (owner, other) = (UserId::new(), UserId::new());
        if let Some(place) = sessions.reserve(owner) {
            place.bind("s-1", None);
        }
        assert_eq!(sessions.access("s-1", owner), Access::Own);
        assert_eq!(sessions.access("s-1", other), Access::NotOurs);
        assert_eq!(sessions.access("s-2", owner), Access::Unknown);
    }
}
