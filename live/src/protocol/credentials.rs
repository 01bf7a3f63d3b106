//! A session's token: the first authentication, renewal in band, and the expiry that closes
//! the session with 4401 unless a newer token came first.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use taskpulse_actors::UserId;

use super::messages::ServerMessage;
use super::session::Session;
use super::{AuthError, CloseCode, ErrorCode};

impl Session {
    /// Checks the session's first token: the session then belongs to its user.
    pub(super) async fn authenticate(&mut self, token: &str) {
        let identity = match self.hub.authenticator().authenticate(token).await {
            Ok(identity) => identity,
            Err(AuthError::Rejected) => {
                let reason = "invalid or expired access token";
                return self.close(CloseCode::Unauthenticated, reason);
            }
            Err(AuthError::Unavailable(why)) => {
                tracing::warn!(error = %why, "cannot check a session's token");
                return self.close(CloseCode::TryAgain, "the database is unavailable");
            }
        };
        let (user, sid) = (identity.user, identity.session);
        // Watch before checking, so that an ending between the two is not missed.
        let endings = self.hub.engine().endings();
        if self.hub.engine().has_ended(user, sid) {
            return self.close(CloseCode::Unauthenticated, "the session has ended");
        }
        match self.hub.engine().is_account(user).await {
            Ok(true) => {}
            Ok(false) => {
                let reason = "the account no longer exists";
                return self.close(CloseCode::Unauthenticated, reason);
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot tell whether a session's account exists");
                return self.close(CloseCode::TryAgain, "the database is unavailable");
            }
        }
        if !self.hub.join(user) {
            return self.close(CloseCode::Policy, "too many sessions for this user");
        }
        self.user = Some(user);
        self.sid = sid;
        self.endings = Some(endings);
        self.deadline = instant_at(identity.expires_at);
    }

    /// `auth` on an authenticated session: a newer token of the same user replaces the old
    /// one (its expiry, and the sign-in session whose end closes the session); every
    /// subscription stays. Any other token is refused and the old one kept.
    pub(super) async fn renew(&mut self, user: UserId, token: &str) {
        let refuse = |code, message| ServerMessage::error(code, message, None);
        let identity = match self.hub.authenticator().authenticate(token).await {
            Ok(identity) => identity,
            Err(AuthError::Rejected) => {
                let message = "the token is invalid or expired; the session keeps its token";
                return self.send(refuse(ErrorCode::InvalidToken, message));
            }
            Err(AuthError::Unavailable(why)) => {
                tracing::warn!(error = %why, "cannot check a renewed token");
                let message = "the token cannot be checked now; the session keeps its token";
                return self.send(refuse(ErrorCode::Unavailable, message));
            }
        };
        if identity.user != user {
            let message = "the token is another user's; the session keeps its token";
            return self.send(refuse(ErrorCode::UserMismatch, message));
        }
        // The endings watched since the first token cover the new sign-in session too: one
        // that ended before now is known to `has_ended`, a later one arrives on the watch.
        if identity.session != self.sid && self.hub.engine().has_ended(user, identity.session) {
            let message = "the token's sign-in session has ended; the session keeps its token";
            return self.send(refuse(ErrorCode::InvalidToken, message));
        }
        self.sid = identity.session;
        self.deadline = instant_at(identity.expires_at);
        let expires_at = i64::try_from(identity.expires_at).unwrap_or(i64::MAX);
        let expires_at = chrono::DateTime::from_timestamp(expires_at, 0).unwrap_or_default();
        self.send(ServerMessage::Authenticated { expires_at });
    }
}

/// The instant of `expires_at` (seconds since the Unix epoch); `None` past what the clock can
/// hold (a token that does not expire in practice).
fn instant_at(expires_at: u64) -> Option<Instant> {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let expires_in = Duration::from_secs(expires_at).saturating_sub(since_epoch);
    Instant::now().checked_add(expires_in)
}
