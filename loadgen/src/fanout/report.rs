//! The fan-out's report: for every write, the time until the last subscriber held its version.

use serde_json::{Value, json};

use super::Writes;
use super::session::Record;
use crate::report::Histogram;

/// Everything a fan-out measured.
pub struct FanoutReport {
    json: Value,
}

impl FanoutReport {
    /// Matches every write (version `start + k + 1`) with every subscriber's arrival of it.
    pub fn new(
        nodes: Vec<String>,
        members: usize,
        start: i64,
        writes: Writes,
        records: &[Record],
        cpu: Value,
    ) -> Self {
        let mut to_last = Histogram::new();
        let mut to_each = Histogram::new();
        let mut missing = 0u64;
        for (k, sent) in writes.sent.iter().enumerate() {
            let version = start + k as i64 + 1;
            let mut last = None;
            for record in records {
                let index = usize::try_from(version - record.first - 1).ok();
                match index.and_then(|i| record.arrivals.get(i)) {
                    Some(arrived) => {
                        to_each.record(arrived.saturating_duration_since(*sent));
                        last = last.max(Some(*arrived));
                    }
                    None => missing += 1,
                }
            }
            if let Some(last) = last {
                to_last.record(last.saturating_duration_since(*sent));
            }
        }
        let sum = |field: fn(&Record) -> u64| records.iter().map(field).sum::<u64>();
        let seconds = writes.seconds.max(f64::EPSILON);
        let json = json!({
            "mode": "fanout",
            "nodes": nodes,
            "write_node": super::WRITE_NODE,
            "subscribers": records.len(),
            "members": members,
            "writes": writes.sent.len() as u64 + writes.failed,
            "writes_failed": writes.failed,
            "first_write_error": writes.first_error,
            "writes_per_second": writes.sent.len() as f64 / seconds,
            "write_ms": writes.answered.summary_or_null(),
            "latency_from": "write request sent",
            "write_to_last_delivery_ms": to_last.summary_or_null(),
            "write_to_each_delivery_ms": to_each.summary_or_null(),
            "missing_deliveries": missing,
            "deltas_collapsed": sum(|r| r.collapsed),
            "snapshots_mid_run": sum(|r| r.snapshots_mid_run),
            "gaps": sum(|r| r.gaps),
            "sessions_dropped": records.iter().filter(|r| r.dropped).count(),
            "cpu_seconds": cpu,
        });
        Self { json }
    }

    /// The report as one JSON object.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The report as lines a person reads.
    pub fn table(&self) -> String {
        let j = &self.json;
        let p = |h: &Value| {
            format!(
                "p50 {} ms, p99 {} ms, max {} ms ({} samples)",
                h["p50"], h["p99"], h["max"], h["count"]
            )
        };
        let mut out = String::new();
        for (index, url) in j["nodes"].as_array().into_iter().flatten().enumerate() {
            out += &format!("node {index}: {}\n", url.as_str().unwrap_or_default());
        }
        out += &format!(
            "{} subscribers ({} members) of one team; {} writes through node {} ({} failed, {:.1}/s)\n",
            j["subscribers"],
            j["members"],
            j["writes"],
            j["write_node"],
            j["writes_failed"],
            j["writes_per_second"].as_f64().unwrap_or_default()
        );
        out += &format!("write answered: {}\n", p(&j["write_ms"]));
        out += &format!(
            "write sent → last subscriber: {}\n",
            p(&j["write_to_last_delivery_ms"])
        );
        out += &format!(
            "write sent → each subscriber: {}\n",
            p(&j["write_to_each_delivery_ms"])
        );
        out += &format!(
            "missing deliveries {}, deltas collapsed {}, snapshots mid-run {}, gaps {}, sessions dropped {}\n",
            j["missing_deliveries"],
            j["deltas_collapsed"],
            j["snapshots_mid_run"],
            j["gaps"],
            j["sessions_dropped"]
        );
        out += &format!("CPU seconds over the writes: {}\n", j["cpu_seconds"]);
        out
    }
}
