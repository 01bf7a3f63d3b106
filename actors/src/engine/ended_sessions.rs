//! What the engine tells callers about ended sign-in sessions and accounts (the record itself
//! is `crate::endings`), and what a starting node reads of them.

use std::time::Duration;

use uuid::Uuid;

use super::Engine;
use crate::endings::{Ending, Endings};
use crate::model::UserId;
use crate::store::Pool;

impl Engine {
    /// Whether a token of `user` issued in `session` belongs to a session or an account that
    /// has ended (answered from memory).
    pub fn has_ended(&self, user: UserId, session: Option<Uuid>) -> bool {
        self.inner.endings.has_ended(user, session)
    }

    /// Endings as they happen, on this node or another: for holders of long-lived sessions
    /// (WebSocket connections) to close those that ended. A receiver that lags is told so and
    /// should check its sessions with [`Engine::has_ended`].
    pub fn endings(&self) -> tokio::sync::broadcast::Receiver<Ending> {
        self.inner.endings.subscribe()
    }
}

/// Reads the sessions ended within `memory` (a node starting now must refuse their tokens
/// too). Without the database now, it starts empty: the cluster signals fill it from here on.
/// Without local accounts there are no sign-in sessions of the engine's to read.
#[cfg(feature = "local-accounts")]
pub(super) async fn endings_since_start(pool: &Pool, endings: &Endings, memory: Duration) {
    use crate::store::refresh_tokens::families_revoked_since;
    use chrono::{DateTime, Utc};
    let since = chrono::Duration::from_std(memory)
        .ok()
        .and_then(|memory| Utc::now().checked_sub_signed(memory))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let read = async {
        let mut conn = pool.get().await?;
        families_revoked_since(&mut conn, since).await
    };
    match read.await {
        Ok(families) => {
            for family in families {
                endings.end(Ending::Session(family));
            }
        }
        Err(err) => tracing::warn!(error = %err, "cannot read the recently ended sessions"),
    }
}

#[cfg(not(feature = "local-accounts"))]
pub(super) async fn endings_since_start(_: &Pool, _: &Endings, _: Duration) {}
