//! The engine's own figures, for an embedder's metrics exporter: deltas applied, and how long
//! a write waits for its live aggregates (read-your-writes delivery latency).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the delivery latency buckets, in seconds.
pub const DELIVERY_BUCKETS: [f64; 12] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
];

/// Counters updated by the actors and the write path; cheap, lock-free.
#[derive(Debug, Default)]
pub(crate) struct EngineMetrics {
    applied: AtomicU64,
    buckets: [AtomicU64; DELIVERY_BUCKETS.len()],
    deliveries: AtomicU64,
    delivery_micros: AtomicU64,
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
}
