//! The engine's own figures, for an embedder's metrics exporter: deltas applied, and how long
//! a write waits for its live aggregates (read-your-writes delivery latency).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the delivery latency buckets, in seconds.
pub const DELIVERY_BUCKETS: [f64; 12] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
];

/// Upper bounds of the cross-node lag buckets (commit on one node to hand-over on another),
/// in seconds.
pub const CLUSTER_LAG_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Counters updated by the actors and the write path; cheap, lock-free.
#[derive(Debug, Default)]
pub(crate) struct EngineMetrics {
    applied: AtomicU64,
    buckets: [AtomicU64; DELIVERY_BUCKETS.len()],
    deliveries: AtomicU64,
    delivery_micros: AtomicU64,
    /// Shared with every subscriber's outbox, which counts its own collapses.
    pub collapsed: Arc<AtomicU64>,
    pub cluster: ClusterMetrics,
}

/// What the cluster machinery counts.
#[derive(Debug, Default)]
pub(crate) struct ClusterMetrics {
    received: AtomicU64,
    read_from_log: AtomicU64,
    resume_log_reads: AtomicU64,
    lag_buckets: [AtomicU64; CLUSTER_LAG_BUCKETS.len()],
    lag_count: AtomicU64,
    lag_micros: AtomicU64,
    healed: AtomicU64,
    signals_sent: AtomicU64,
    signal_failures: AtomicU64,
    listener_connects: AtomicU64,
    pruned: AtomicU64,
    log_bytes: AtomicU64,
    log_rows: AtomicU64,
}

impl ClusterMetrics {
    /// A change another node committed, handed to a live aggregate here `lag` after commit.
    pub fn received(&self, lag: Duration) {
        self.received.fetch_add(1, Ordering::Relaxed);
        let seconds = lag.as_secs_f64();
        if let Some(bucket) = CLUSTER_LAG_BUCKETS.iter().position(|b| seconds <= *b) {
            self.lag_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
        self.lag_count.fetch_add(1, Ordering::Relaxed);
        self.lag_micros.fetch_add(
            u64::try_from(lag.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Changes of other nodes read from the change log (they did not travel in a signal).
    pub fn read_from_log(&self, changes: usize) {
        self.read_from_log
            .fetch_add(changes as u64, Ordering::Relaxed);
    }

    /// A change-log read for subscribers resuming further back than memory reaches.
    pub fn resume_log_read(&self) {
        self.resume_log_reads.fetch_add(1, Ordering::Relaxed);
    }

    /// Scopes found behind their rows by the periodic check (a signal was lost or late).
    pub fn healed(&self, scopes: usize) {
        self.healed.fetch_add(scopes as u64, Ordering::Relaxed);
    }

    pub fn signal_sent(&self) {
        self.signals_sent.fetch_add(1, Ordering::Relaxed);
    }

    pub fn signal_failed(&self) {
        self.signal_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn listener_connected(&self) {
        self.listener_connects.fetch_add(1, Ordering::Relaxed);
    }

    pub fn pruned(&self, rows: u64) {
        self.pruned.fetch_add(rows, Ordering::Relaxed);
    }

    pub fn log_size(&self, bytes: u64, rows: u64) {
        self.log_bytes.store(bytes, Ordering::Relaxed);
        self.log_rows.store(rows, Ordering::Relaxed);
    }

    fn read(&self) -> ClusterFigures {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ClusterFigures {
            changes_received: load(&self.received),
            changes_read_from_log: load(&self.read_from_log),
            resume_log_reads: load(&self.resume_log_reads),
            lag_buckets: std::array::from_fn(|i| load(&self.lag_buckets[i])),
            lag_count: load(&self.lag_count),
            lag_seconds_sum: load(&self.lag_micros) as f64 / 1e6,
            healed: load(&self.healed),
            signals_sent: load(&self.signals_sent),
            signal_failures: load(&self.signal_failures),
            listener_connects: load(&self.listener_connects),
            log_pruned: load(&self.pruned),
            log_bytes: load(&self.log_bytes),
            log_rows: load(&self.log_rows),
        }
    }
}

/// The cluster machinery's figures at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterFigures {
    /// Changes committed by other nodes and handed to live aggregates here.
    pub changes_received: u64,
    /// Changes of other nodes this node read from the change log (too large to travel in a
    /// signal, or announced by a lost one).
    pub changes_read_from_log: u64,
    /// Change-log reads for subscribers resuming further back than memory reached (one
    /// serves every subscriber resuming the same scope from the same version meanwhile).
    pub resume_log_reads: u64,
    /// Of those, how many arrived within each bound of [`CLUSTER_LAG_BUCKETS`] after their
    /// commit (not cumulative).
    pub lag_buckets: [u64; CLUSTER_LAG_BUCKETS.len()],
    /// The lag histogram's count.
    pub lag_count: u64,
    /// The lags, summed.
    pub lag_seconds_sum: f64,
    /// Scopes the periodic check found behind their rows and caught up.
    pub healed: u64,
    /// Signals (NOTIFYs) sent to the other nodes.
    pub signals_sent: u64,
    /// Signals that could not be sent (the periodic check covers them).
    pub signal_failures: u64,
    /// Times the listener connected (1 + reconnections).
    pub listener_connects: u64,
    /// Change-log rows pruned by this node.
    pub log_pruned: u64,
    /// The change log's size on disk, as last measured.
    pub log_bytes: u64,
    /// The change log's estimated row count, as last measured.
    pub log_rows: u64,
}

impl EngineMetrics {
    pub fn delta_applied(&self) {
        self.applied.fetch_add(1, Ordering::Relaxed);
    }

    pub fn delivered(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        if let Some(bucket) = DELIVERY_BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        self.delivery_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub fn read(&self, live_aggregates: usize) -> MetricsSnapshot {
        MetricsSnapshot {
            live_aggregates,
            deltas_applied: self.applied.load(Ordering::Relaxed),
            delivery_buckets: std::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed)),
            deliveries: self.deliveries.load(Ordering::Relaxed),
            delivery_seconds_sum: self.delivery_micros.load(Ordering::Relaxed) as f64 / 1e6,
            subscribers_collapsed: self.collapsed.load(Ordering::Relaxed),
            cluster: self.cluster.read(),
            feeds: FeedFigures::default(),
            outbox: OutboxFigures::default(),
        }
    }
}

/// The engine's figures at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsSnapshot {
    /// Aggregate actors alive now.
    pub live_aggregates: usize,
    /// Deltas applied by aggregates since start.
    pub deltas_applied: u64,
    /// Writes whose delivery took at most each bound of [`DELIVERY_BUCKETS`] (not cumulative).
    pub delivery_buckets: [u64; DELIVERY_BUCKETS.len()],
    /// Writes delivered since start (the histogram's count; slower ones than the last bound
    /// count here only).
    pub deliveries: u64,
    /// Their delivery time, summed.
    pub delivery_seconds_sum: f64,
    /// Times a subscriber fell so far behind that its queued deltas were replaced by one
    /// fresh snapshot.
    pub subscribers_collapsed: u64,
    /// Several nodes: what was heard, healed and pruned.
    pub cluster: ClusterFigures,
    /// Feed topics: who follows them, what they were handed.
    pub feeds: FeedFigures,
    /// The durable outbox's work on this node: notifications made, webhook and mail attempts.
    pub outbox: OutboxFigures,
}

/// What this node's outbox workers did since start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxFigures {
    /// In-app notifications made (reminders included).
    pub notifications_made: u64,
    /// Webhook events delivered (answered 2xx).
    pub webhooks_delivered: u64,
    /// Webhook attempts that failed (another answer, none, or a refused address).
    pub webhooks_failed: u64,
    /// Webhooks disabled after failing for a day.
    pub webhooks_disabled: u64,
    /// Mails the SMTP server accepted (instant ones and digests).
    pub mails_sent: u64,
    /// Mail attempts that failed (to be retried, or dropped after a day).
    pub mails_failed: u64,
}

/// The counters behind [`OutboxFigures`].
#[derive(Debug, Default)]
pub(crate) struct OutboxCounters {
    pub notifications_made: AtomicU64,
    pub webhooks_delivered: AtomicU64,
    pub webhooks_failed: AtomicU64,
    pub webhooks_disabled: AtomicU64,
    pub mails_sent: AtomicU64,
    pub mails_failed: AtomicU64,
}

impl OutboxCounters {
    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn read(&self) -> OutboxFigures {
        OutboxFigures {
            notifications_made: self.notifications_made.load(Ordering::Relaxed),
            webhooks_delivered: self.webhooks_delivered.load(Ordering::Relaxed),
            webhooks_failed: self.webhooks_failed.load(Ordering::Relaxed),
            webhooks_disabled: self.webhooks_disabled.load(Ordering::Relaxed),
            mails_sent: self.mails_sent.load(Ordering::Relaxed),
            mails_failed: self.mails_failed.load(Ordering::Relaxed),
        }
    }
}

/// The feeds' figures at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedFigures {
    /// Feed subscriptions open on this node.
    pub subscriptions: u64,
    /// Entries handed to feed subscribers on this node.
    pub entries_delivered: u64,
    /// Times a feed subscriber read the audit log itself (it fell behind, resumed with
    /// `since`, or came during a read).
    pub catch_ups: u64,
}
