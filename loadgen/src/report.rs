//! Latency histograms and the printed report.

use std::time::Duration;

use serde_json::{Value, json};

use super::client::WriteOutcome;

/// Latencies in microseconds, 1 µs to 10 min at three significant figures.
pub struct Histogram(hdrhistogram::Histogram<u64>);

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self(
            hdrhistogram::Histogram::new_with_bounds(1, 600_000_000, 3)
                .expect("constant bounds are valid"),
        )
    }

    /// Adds one latency.
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .clamp(1, 600_000_000);
        let _ = self.0.record(micros);
    }

    /// Adds another histogram.
    pub fn add(&mut self, other: &Histogram) {
        let _ = self.0.add(&other.0);
    }

    pub fn ms(&self, quantile: f64) -> f64 {
        self.0.value_at_quantile(quantile) as f64 / 1000.0
    }

    /// `{p50, p90, p99, p999, max, count}` in milliseconds.
    pub fn summary(&self) -> Value {
        json!({
            "p50": self.ms(0.5), "p90": self.ms(0.9), "p99": self.ms(0.99), "p999": self.ms(0.999),
            "max": self.0.max() as f64 / 1000.0, "count": self.0.len(),
        })
    }

    /// [`Histogram::summary`], or null when nothing was recorded.
    pub fn summary_or_null(&self) -> Value {
        if self.0.is_empty() {
            Value::Null
        } else {
            self.summary()
        }
    }
}

/// Everything measured.
pub struct Report {
    /// The nodes' URLs, in order (node 0 first).
    pub nodes: Vec<String>,
    /// Write request to matching WebSocket delta, every write.
    pub delivered: Histogram,
    /// The same, for writes whose session was on the node that took the write.
    pub delivered_same_node: Histogram,
    /// The same, for writes whose session was on another node.
    pub delivered_cross_node: Histogram,
    /// Write request to its answer.
    pub answered: Histogram,
    /// Writes started.
    pub writes_sent: u64,
    /// Ticks that found no free user (the target rate was not reached).
    pub missed_ticks: u64,
    /// Writes that failed or whose delta never came.
    pub write_errors: u64,
    /// Length of the write phase.
    pub write_seconds: f64,
    /// When the write phase ended (the last write sent, before its outcome came).
    pub writes_ended: Option<std::time::Instant>,
    /// Statistics reads answered 200.
    pub reads_ok: u64,
    /// Statistics reads that failed.
    pub read_errors: u64,
    /// Read latency.
    pub read_latency: Histogram,
    /// Length of the read phase.
    pub read_seconds: f64,
    /// CPU per write of the server and PostgreSQL (`--server-pid`).
    pub cpu_per_write: Option<Value>,
    /// What the load generator's webhook receiver got (`--webhook-sink`).
    pub webhooks: Option<Value>,
    finished: u64,
    first_error: Option<String>,
}

impl Report {
    /// An empty report for a run against `nodes`.
    pub fn new(nodes: Vec<String>) -> Self {
        Self {
            nodes,
            delivered: Histogram::new(),
            delivered_same_node: Histogram::new(),
            delivered_cross_node: Histogram::new(),
            answered: Histogram::new(),
            writes_sent: 0,
            missed_ticks: 0,
            write_errors: 0,
            write_seconds: 0.0,
            writes_ended: None,
            reads_ok: 0,
            read_errors: 0,
            read_latency: Histogram::new(),
            read_seconds: 0.0,
            cpu_per_write: None,
            webhooks: None,
            finished: 0,
            first_error: None,
        }
    }

    /// Adds one write's outcome.
    pub fn record(&mut self, outcome: WriteOutcome) {
        self.finished += 1;
        if let Some(answered) = outcome.answered {
            self.answered.record(answered);
        }
        if let Some(delivered) = outcome.delivered {
            self.delivered.record(delivered);
            if outcome.cross_node {
                self.delivered_cross_node.record(delivered);
            } else {
                self.delivered_same_node.record(delivered);
            }
        }
        if let Some(error) = outcome.error {
            self.write_errors += 1;
            self.first_error.get_or_insert(error);
        }
    }

    /// Writes whose outcome is in.
    pub fn writes_finished(&self) -> u64 {
        self.finished
    }

    fn stats_rps(&self) -> f64 {
        if self.read_seconds > 0.0 {
            self.reads_ok as f64 / self.read_seconds
        } else {
            0.0
        }
    }

    fn writes_per_second(&self) -> f64 {
        if self.write_seconds > 0.0 {
            self.writes_sent as f64 / self.write_seconds
        } else {
            0.0
        }
    }

    /// The report as one JSON object. `commit_to_ws_ms` covers every write; the same-node and
    /// cross-node figures are null when no write of that kind was measured.
    pub fn json(&self) -> Value {
        json!({
            "nodes": self.nodes,
            "commit_to_ws_ms": self.delivered.summary(),
            "same_node_commit_to_ws_ms": self.delivered_same_node.summary_or_null(),
            "cross_node_commit_to_ws_ms": self.delivered_cross_node.summary_or_null(),
            "write_ms": self.answered.summary(),
            "writes": self.writes_sent,
            "writes_per_second": self.writes_per_second(),
            "missed_ticks": self.missed_ticks,
            "stats_get_rps": self.stats_rps(),
            "stats_get_ms": self.read_latency.summary(),
            "errors": self.write_errors + self.read_errors,
            "first_error": self.first_error,
            "cpu_per_write_ms": self.cpu_per_write,
            "webhooks": self.webhooks,
        })
    }

    /// The report as a table.
    pub fn table(&self) -> String {
        let row = |name: &str, h: &Histogram| {
            format!(
                "{name:<22} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9}\n",
                h.ms(0.5),
                h.ms(0.9),
                h.ms(0.99),
                h.ms(0.999),
                h.0.max() as f64 / 1000.0,
                h.0.len()
            )
        };
        let mut out = String::new();
        for (index, url) in self.nodes.iter().enumerate() {
            out += &format!("node {index}: {url}\n");
        }
        out += &format!(
            "{:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
            "latency (ms)", "p50", "p90", "p99", "p99.9", "max", "count"
        );
        out += &row("write → websocket", &self.delivered);
        for (name, h) in [
            ("  same node", &self.delivered_same_node),
            ("  cross node", &self.delivered_cross_node),
        ] {
            if !h.0.is_empty() {
                out += &row(name, h);
            }
        }
        out += &row("write answered", &self.answered);
        out += &row("statistics GET", &self.read_latency);
        out += &format!(
            "writes: {} in {:.1} s ({:.0}/s), missed ticks: {}\nstatistics GET: {:.0} req/s\nerrors: {}{}\n",
            self.writes_sent,
            self.write_seconds,
            self.writes_per_second(),
            self.missed_ticks,
            self.stats_rps(),
            self.write_errors + self.read_errors,
            self.first_error
                .as_ref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        );
        if let Some(cpu) = &self.cpu_per_write {
            out += &format!(
                "CPU per write: server {:.3} ms, PostgreSQL {:.3} ms\n",
                cpu["server"].as_f64().unwrap_or(0.0),
                cpu["postgres"].as_f64().unwrap_or(0.0)
            );
        }
        if let Some(webhooks) = &self.webhooks {
            out += &format!("webhooks received: {webhooks}\n");
        }
        out
    }
}
