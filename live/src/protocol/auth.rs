//! Who a session speaks for: the embedder checks the token, whatever issued it.

use futures_util::future::BoxFuture;
use taskpulse_actors::UserId;
use uuid::Uuid;

/// Checks the access token a session authenticates with (on the upgrade or in its first
/// message). Whether the token's sign-in session or account ended since is the hub's to ask
/// the engine, before and during the session.
pub trait Authenticate: Send + Sync + 'static {
    /// Whom `token` speaks for, or why not.
    fn authenticate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Identity, AuthError>>;
}

/// Whom a valid token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// The user (an account of the engine).
    pub user: UserId,
    /// The sign-in session the token was issued in, if it belongs to one: the session closes
    /// when that ends (`Engine::has_ended`).
    pub session: Option<Uuid>,
    /// When the token expires, in seconds since the Unix epoch: the session closes then.
    pub expires_at: u64,
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// Invalid or expired: the session closes with 4401.
    Rejected,
    /// It cannot be checked now (a database or a provider is down): the session closes with
    /// 1013, try again later.
    Unavailable(String),
}
