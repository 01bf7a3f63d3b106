//! The live protocol of docs/websocket.md, on any stream of text frames: the messages both
//! ways ([`protocol`]) and a session per connection — the authentication handshake,
//! subscribe and unsubscribe, a snapshot then consecutive deltas, resume, feeds, revocation,
//! pings and limits.
//!
//! A web framework needs only a thin adapter: it upgrades the request (refusing foreign
//! origins with [`LiveHub::origin_allowed`] and, once [`LiveHub::shut_down`] was called,
//! everyone), turns its frames into [`Incoming`] and [`Outgoing`] into its frames, and hands
//! the connection to [`LiveHub::serve`]. Tokens are checked by the embedder's
//! [`Authenticate`]. taskpulse's own server is one such adapter (poem); `examples/axum-live`
//! is another.

mod answers;
mod auth;
mod closed;
mod codes;
mod credentials;
mod hub;
pub mod messages;
mod origin;
mod session;
mod socket;
mod subscribe;
mod topics;

use std::time::Duration;

pub use answers::{ANSWER_BUCKETS, AnswerTimes};
pub use auth::{AuthError, Authenticate, Identity};
pub use codes::{CloseCode, ErrorCode, UnsubscribeReason};
pub use hub::LiveHub;
pub use origin::origin_allowed;
pub use socket::{Incoming, Outgoing};

/// Messages above this close the session with 1009: an adapter configures its framework to
/// refuse longer frames and messages, and reports them as [`Incoming::TooBig`].
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// How sessions behave; the defaults are those of docs/websocket.md, "Limits".
#[derive(Debug, Clone)]
pub struct LiveSettings {
    /// Origins allowed to open a session; empty: the server's own; `*`: any.
    pub allowed_origins: Vec<String>,
    /// Sessions one user may hold at once.
    pub max_sessions_per_user: usize,
    /// Topics one session may subscribe to.
    pub max_topics_per_session: usize,
    /// How often the server pings.
    pub ping_every: Duration,
    /// Silence after which a session is closed.
    pub silence_limit: Duration,
    /// Time to authenticate by message when the upgrade carried no token.
    pub auth_timeout: Duration,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            max_sessions_per_user: 16,
            max_topics_per_session: 32,
            ping_every: Duration::from_secs(20),
            silence_limit: Duration::from_secs(60),
            auth_timeout: Duration::from_secs(5),
        }
    }
}
