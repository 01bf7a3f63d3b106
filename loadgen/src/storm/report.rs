//! The storm's report: the correctness fields first (they must read 0 or "all"), then the
//! timings.

use std::time::Duration;

use serde_json::{Value, json};

use super::load::{Health, Writes};
use super::session::Counts;
use super::tally::Resumes;
use super::verify::Verified;

/// Everything a storm measured.
pub struct StormReport {
    pub nodes: Vec<String>,
    pub killed_node: usize,
    pub sessions: usize,
    pub users: usize,
    pub teams: usize,
    /// Sessions that were on the killed node.
    pub orphans: usize,
    /// Of those, how many were live on another node within the deadline.
    pub back: usize,
    /// Kill → the last orphan live again (none unless all came back).
    pub last_back: Option<Duration>,
    pub resumes: Resumes,
    pub counts: Counts,
    pub writes: Writes,
    pub health: Health,
    pub verified: Verified,
    /// CPU seconds of every side over the write phase.
    pub cpu: Value,
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

impl StormReport {
    fn replay_share(&self) -> f64 {
        let total = self.resumes.by_replay + self.resumes.by_snapshot;
        if total == 0 {
            0.0
        } else {
            self.resumes.by_replay as f64 / total as f64
        }
    }

    /// The report as one JSON object.
    pub fn json(&self) -> Value {
        json!({
            "mode": "storm",
            "nodes": self.nodes,
            "killed_node": self.killed_node,
            "sessions": self.sessions,
            "users": self.users,
            "teams": self.teams,
            "topics_per_session": 2,
            "orphaned_sessions": self.orphans,
            "sessions_back": self.back,
            "last_back_ms": self.last_back.map(ms),
            "resumes": self.resumes.by_replay + self.resumes.by_snapshot,
            "resumed_by_replay": self.resumes.by_replay,
            "resumed_by_snapshot": self.resumes.by_snapshot,
            "replay_share": self.replay_share(),
            "resume_ms": self.resumes.latency.summary_or_null(),
            "gaps": self.counts.gaps,
            "snapshots_mid_run": self.counts.snapshots_mid_run,
            "subscribed_version_mismatches": self.counts.subscribed_mismatches,
            "connection_drops": self.counts.drops,
            "failed_connects": self.counts.failed_connects,
            "server_errors": self.counts.errors,
            "subscribe_retries": self.counts.subscribe_retries,
            "first_server_error": self.counts.first_error,
            "version_mismatches": self.verified.mismatches,
            "topics_checked": self.verified.topics_checked,
            "first_version_mismatch": self.verified.first_mismatch,
            "writes": self.writes.sent,
            "writes_failed": self.writes.failed,
            "writes_per_second": self.writes.sent as f64 / self.writes.seconds.max(f64::EPSILON),
            "first_write_error": self.writes.first_error,
            "write_ms": self.writes.answered.summary_or_null(),
            "health_ms": self.health.latency.summary_or_null(),
            "health_failed": self.health.failed,
            "first_health_error": self.health.first_error,
            "cpu_seconds": self.cpu,
        })
    }

    /// The report as lines a person reads.
    pub fn table(&self) -> String {
        let p = |h: &crate::report::Histogram| {
            format!(
                "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                h.ms(0.5),
                h.ms(0.99),
                h.ms(1.0)
            )
        };
        let mut out = String::new();
        for (index, url) in self.nodes.iter().enumerate() {
            let killed = if index == self.killed_node {
                " (killed)"
            } else {
                ""
            };
            out += &format!("node {index}: {url}{killed}\n");
        }
        out += &format!(
            "{} sessions of {} users in {} teams, two topics each\n",
            self.sessions, self.users, self.teams
        );
        out += &format!(
            "orphaned {}, back {}, last back {}\n",
            self.orphans,
            self.back,
            self.last_back.map_or_else(
                || "never".to_owned(),
                |d| format!("{:.0} ms after the kill", ms(d))
            )
        );
        out += &format!(
            "resumes {}: by replay {}, by snapshot {} ({:.2} % by replay); {}\n",
            self.resumes.by_replay + self.resumes.by_snapshot,
            self.resumes.by_replay,
            self.resumes.by_snapshot,
            self.replay_share() * 100.0,
            p(&self.resumes.latency)
        );
        out += &format!(
            "gaps {}, snapshots mid-run {}, version mismatches {} of {} topics, server errors {}\n",
            self.counts.gaps,
            self.counts.snapshots_mid_run,
            self.verified.mismatches,
            self.verified.topics_checked,
            self.counts.errors
        );
        out += &format!(
            "writes {} ({} failed), answered {}\n",
            self.writes.sent,
            self.writes.failed,
            p(&self.writes.answered)
        );
        out += &format!(
            "survivors' health: {} requests ({} failed), {}\n",
            self.health.latency.summary()["count"],
            self.health.failed,
            p(&self.health.latency)
        );
        out += &format!("CPU seconds over the writes: {}\n", self.cpu);
        out
    }
}
