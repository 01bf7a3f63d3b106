//! The engine's settings.

use std::time::Duration;

/// How the engine behaves; the defaults suit a server.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// An aggregate with no subscribers and no reads for this long is stopped (its memory
    /// freed); the next use re-reads it.
    pub idle_after: Duration,
    /// How long an out-of-order delta waits for the versions before it before the actor
    /// re-reads its row instead.
    pub gap_timeout: Duration,
    /// How many recent changes each aggregate keeps for resuming subscribers.
    pub history_len: usize,
    /// How many events a subscriber may have queued before it is collapsed to a snapshot.
    pub subscriber_queue: usize,
    /// How long a write waits for the local aggregates to reflect it (read-your-writes).
    pub applied_timeout: Duration,
    /// How long a call to an actor may take.
    pub call_timeout: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            idle_after: Duration::from_secs(300),
            gap_timeout: Duration::from_millis(100),
            history_len: 128,
            subscriber_queue: 256,
            applied_timeout: Duration::from_secs(2),
            call_timeout: Duration::from_secs(5),
        }
    }
}
