//! The sessions of one server: their settings, who holds how many, how many sockets are open,
//! why sessions ended, and the shutdown that closes them all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

use taskpulse_actors::{Engine, UserId};

use super::answers::{Answer, AnswerTimes, SubscribeAnswers};
use super::closed::{CloseReason, ClosedSessions};
use super::{Authenticate, LiveSettings, origin_allowed};

/// Serves the live protocol over the connections an adapter hands to [`LiveHub::serve`].
/// Cheap to clone: clones share the sessions.
#[derive(Clone)]
pub struct LiveHub(Arc<Inner>);

struct Inner {
    engine: Engine,
    settings: LiveSettings,
    authenticator: Box<dyn Authenticate>,
    sessions: Mutex<HashMap<UserId, usize>>,
    open: OpenSockets,
    closed: ClosedSessions,
    answers: SubscribeAnswers,
    shutdown: watch::Sender<bool>,
}

impl LiveHub {
    /// A hub serving `engine`'s aggregates and feeds to the users `authenticator` accepts.
    pub fn new(engine: Engine, settings: LiveSettings, authenticator: impl Authenticate) -> Self {
        Self(Arc::new(Inner {
            engine,
            settings,
            authenticator: Box::new(authenticator),
            sessions: Mutex::default(),
            open: OpenSockets::default(),
            closed: ClosedSessions::default(),
            answers: SubscribeAnswers::default(),
            shutdown: watch::Sender::new(false),
        }))
    }

    /// The settings.
    pub fn settings(&self) -> &LiveSettings {
        &self.0.settings
    }

    pub(super) fn engine(&self) -> &Engine {
        &self.0.engine
    }

    pub(super) fn authenticator(&self) -> &dyn Authenticate {
        self.0.authenticator.as_ref()
    }

    /// Counts a socket as open until the guard is dropped.
    pub(super) fn socket_opened(&self) -> OpenSocket<'_> {
        self.0.open.open()
    }

    /// Whether a request with this `Origin` header, sent to `host` (its `Host` header), may
    /// open a session. A request without `Origin` is not a browser's and is not refused for it.
    pub fn origin_allowed(&self, origin: &str, host: Option<&str>) -> bool {
        origin_allowed(&self.0.settings.allowed_origins, origin, host)
    }

    /// Closes every session with 1001 and refuses new ones ([`Self::is_shutting_down`]: an
    /// adapter answers upgrades 503 from then on). Calling it again changes nothing.
    pub fn shut_down(&self) {
        self.0
            .shutdown
            .send_if_modified(|begun| !std::mem::replace(begun, true));
    }

    /// Whether [`Self::shut_down`] was called.
    pub fn is_shutting_down(&self) -> bool {
        *self.0.shutdown.borrow()
    }

    /// Whether [`Self::shut_down`] was called, to wait on.
    pub(super) fn shutdown_watch(&self) -> watch::Receiver<bool> {
        self.0.shutdown.subscribe()
    }

    /// Waits until every socket is closed: after [`Self::shut_down`], each closes once its
    /// client answered the close frame.
    pub async fn all_closed(&self) {
        self.0.open.none_open().await;
    }

    /// Open sockets, authenticated or not.
    pub fn open_sockets(&self) -> usize {
        self.0.open.count()
    }

    /// Authenticated sessions.
    pub fn live_sessions(&self) -> usize {
        self.0
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .sum()
    }

    /// Sessions ended since start, by reason (`client`, `unauthenticated`, `silent`,
    /// `too_big`, `policy`, `shutdown`, `error`), every reason listed.
    pub fn closed_sessions(&self) -> Vec<(&'static str, u64)> {
        self.0.closed.read()
    }

    pub(super) fn count_closed(&self, reason: CloseReason) {
        self.0.closed.count(reason);
    }

    /// How long aggregate and trends subscriptions waited for their answer, since start
    /// (`snapshot` and `subscribed`, both listed).
    pub fn subscribe_answers(&self) -> Vec<AnswerTimes> {
        self.0.answers.read()
    }

    pub(super) fn answered(&self, answer: Answer, waited: std::time::Duration) {
        self.0.answers.record(answer, waited);
    }

    /// Counts a session in; false when the user already holds the most allowed.
    pub(super) fn join(&self, user: UserId) -> bool {
        let mut sessions = self
            .0
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = sessions.entry(user).or_default();
        if *count >= self.0.settings.max_sessions_per_user {
            return false;
        }
        *count += 1;
        true
    }

    pub(super) fn leave(&self, user: UserId) {
        let mut sessions = self
            .0
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = sessions.get_mut(&user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                sessions.remove(&user);
            }
        }
    }
}

/// Counts the open sockets, authenticated or not (the per-user count only sees the former),
/// so that the shutdown knows when the last one is gone.
#[derive(Debug, Default)]
pub(super) struct OpenSockets(watch::Sender<usize>);

/// One open socket; counted out when dropped, however its task ends.
pub(super) struct OpenSocket<'a>(&'a OpenSockets);

impl OpenSockets {
    fn open(&self) -> OpenSocket<'_> {
        self.0.send_modify(|open| *open += 1);
        OpenSocket(self)
    }

    fn count(&self) -> usize {
        *self.0.borrow()
    }

    async fn none_open(&self) {
        let mut open = self.0.subscribe();
        // The sender lives as long as `self`, so this cannot fail while we wait.
        let _ = open.wait_for(|open| *open == 0).await;
    }
}

impl Drop for OpenSocket<'_> {
    fn drop(&mut self) {
        self.0.0.send_modify(|open| *open = open.saturating_sub(1));
    }
}
