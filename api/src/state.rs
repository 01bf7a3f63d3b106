//! What every handler shares.

use std::sync::Arc;
use std::time::Instant;

use taskpulse_actors::Pool;

/// The shared state of the API: cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
pub struct Inner {
    /// The database pool.
    pub pool: Pool,
    /// When the server started, for `uptime_seconds`.
    pub started_at: Instant,
}

impl AppState {
    /// State over a pool, started now.
    pub fn new(pool: Pool) -> Self {
        Self(Arc::new(Inner {
            pool,
            started_at: Instant::now(),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
