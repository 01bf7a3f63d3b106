//! The live protocol of docs/websocket.md, on any stream of text frames: the messages both
//! ways ([`protocol`]) and a session per connection — the authentication handshake,
//! subscribe and unsubscribe, a snapshot then consecutive deltas, resume, feeds, revocation,
//! pings and limits.
//!
//! A web framework needs only a thin adapter: it upgrades the request (refusing foreign
//! origins with [`LiveHub::origin_allowed`] and, once [`LiveHub::shut_down`] was called,
//! everyone), turns its frames into [`Incoming`] and [`Outgoing`] into its frames, and hands
//! the connection to [`LiveHub::serve`]. Tokens are checked by the embedder's
//! [`Authenticate`]. taskpulse's own server is one such adapter (poem); `examples/axum_live.rs`
//! is another.

mod auth;
mod closed;
mod forward;
mod hub;
pub mod protocol;
mod session;
mod socket;
mod subscribe;
mod views;

use std::time::Duration;

pub use auth::{AuthError, Authenticate, Identity};
pub use hub::LiveHub;
pub use socket::{Incoming, Outgoing};

/// Messages above this close the session with 1009: an adapter configures its framework to
/// refuse longer frames and messages, and reports them as [`Incoming::TooBig`].
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Close codes (docs/websocket.md, "Close codes").
pub mod close {
    /// The token is missing, invalid or expired, or its session or account ended.
    pub const UNAUTHENTICATED: u16 = 4401;
    /// A message above [`super::MAX_MESSAGE_BYTES`].
    pub const TOO_BIG: u16 = 1009;
    /// The peer went silent, or the server shuts down.
    pub const GOING_AWAY: u16 = 1001;
    /// Policy violation (too many sessions for one user).
    pub const POLICY: u16 = 1008;
    /// Try again later (IANA-registered): the session cannot be set up right now.
    pub const TRY_AGAIN: u16 = 1013;
}

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

/// The one origin rule, for WebSocket upgrades and (in taskpulse's server) CORS alike: with no
/// list, the server's own origin (same host and port as the request was sent to, its `Host`
/// header); else a listed origin, or any with `*`.
pub fn origin_allowed(listed: &[String], origin: &str, host: Option<&str>) -> bool {
    if listed.is_empty() {
        let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        return host.is_some_and(|host| host.eq_ignore_ascii_case(authority));
    }
    listed
        .iter()
        .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
}
