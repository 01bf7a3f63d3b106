//! The engine's settings.

use std::time::Duration;

use crate::store::PoolOptions;

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
    /// How this engine shares its database with other nodes.
    pub cluster: ClusterConfig,
    /// The engine's connections to its database.
    pub pool: PoolOptions,
    /// How long an ended sign-in session or account is remembered: at least as long as an
    /// access token lives, so that none outlives its session.
    pub session_memory: Duration,
    /// How the outbox's workers deliver notifications.
    pub notifications: NotificationConfig,
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
            cluster: ClusterConfig::default(),
            pool: PoolOptions::default(),
            session_memory: Duration::from_secs(15 * 60),
            notifications: NotificationConfig::default(),
        }
    }
}

/// Several engines (nodes) on one database (docs/cluster.md). On by default:
/// an engine cannot know whether it is alone.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// Off only for an engine that is sure to be alone on its database: no change log is
    /// written and no other node is heard (writes are a little cheaper; resume is then served
    /// from memory only).
    pub enabled: bool,
    /// This node's name in signals and health; unique per node (a random one by default).
    pub node_id: String,
    /// When other nodes are told that a scope moved.
    pub signal: SignalMode,
    /// How often the live scopes are compared with their rows, to heal lost signals and
    /// revocations (the bound on how long any aggregate can stay stale).
    pub heal_every: Duration,
    /// The change log keeps the last this many versions of each aggregate…
    pub log_keep_versions: i64,
    /// …and nothing older than this.
    pub log_keep_for: Duration,
    /// How often the change log is pruned.
    pub prune_every: Duration,
    /// The most logged changes replayed to a resuming subscriber (beyond: a snapshot).
    pub replay_limit: i64,
}

/// How a committed change is signalled to the other nodes (BENCHMARKS.md compares them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalMode {
    /// A NOTIFY after commit, batched per node: committers never wait on the signal. A node
    /// killed between commit and signal is covered by the periodic check.
    AfterCommit,
    /// A NOTIFY inside the writing transaction, delivered exactly with the commit; PostgreSQL
    /// then serialises every committer on a database-wide lock.
    InTransaction,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            // The random tail of a UUIDv7.
            node_id: uuid::Uuid::now_v7().simple().to_string()[20..].to_owned(),
            signal: SignalMode::AfterCommit,
            heal_every: Duration::from_millis(500),
            log_keep_versions: 1000,
            log_keep_for: Duration::from_secs(24 * 3600),
            prune_every: Duration::from_secs(30),
            replay_limit: 1000,
        }
    }
}

/// The outbox's workers (docs/notifications.md). Every node runs them; they share the work
/// through the database.
#[derive(Debug, Clone)]
pub struct NotificationConfig {
    /// Whether this node works the outbox (every node does by default; a node that does not
    /// still writes its changes' notices, for the others to deliver).
    pub work: bool,
    /// How long a claimed outbox row is its worker's: a worker that dies holding rows leaves
    /// them to another once this has passed.
    pub lease: Duration,
    /// How often the outbox is read besides after this node's own commits (rows of a node
    /// that died, leases that ran out).
    pub poll_every: Duration,
    /// The most rows one claim takes.
    pub batch: i64,
    /// Whether notifications are mailed (the embedder has an SMTP server): only then are
    /// email rows written — instant mails with the notifications, digests armed — and claimed.
    pub email: bool,
}

impl Default for NotificationConfig {
    fn default() -> Self {
        Self {
            work: true,
            lease: Duration::from_secs(30),
            poll_every: Duration::from_secs(1),
            batch: 200,
            email: false,
        }
    }
}
