//! `serve`'s flags for running several nodes on one database.

use std::time::Duration;

use clap::{Args, ValueEnum};
use taskpulse_actors::{ClusterConfig, SignalMode};

/// Several nodes on one database: on by default, every `serve` on the same database joins.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// This node's id in signals, health and logs (letters, digits, `.`, `_`, `-`; at most 64);
    /// unique per node. Generated when absent.
    #[arg(long, env = "TASKPULSE_NODE_ID", value_parser = parse_node_id)]
    pub node_id: Option<String>,
    /// This node is alone on its database: write no change log and hear no other node. Only
    /// for a deployment that will never run a second node (or for measuring the machinery).
    #[arg(long, env = "TASKPULSE_SINGLE_NODE")]
    pub single_node: bool,
    /// When the other nodes are told of a commit: `after-commit` (a NOTIFY batched per node;
    /// committers never wait) or `in-transaction` (a NOTIFY inside each writing transaction;
    /// PostgreSQL then serialises committers). See BENCHMARKS.md.
    #[arg(long, env = "TASKPULSE_CLUSTER_SIGNAL", value_enum, default_value_t = SignalArg::AfterCommit)]
    pub cluster_signal: SignalArg,
    /// How often every live aggregate is compared with its row (and team subscriptions with
    /// the team's members): the bound on how long a lost signal can leave anything stale.
    #[arg(long, env = "TASKPULSE_CLUSTER_CHECK_EVERY", default_value = "500ms", value_parser = parse_check_every)]
    pub cluster_check_every: Duration,
    /// The change log keeps the last this many versions of each aggregate (clients further
    /// behind resume from a snapshot).
    #[arg(long, env = "TASKPULSE_CHANGE_LOG_KEEP_VERSIONS", default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
    pub change_log_keep_versions: i64,
    /// The change log keeps nothing older than this.
    #[arg(long, env = "TASKPULSE_CHANGE_LOG_KEEP_FOR", default_value = "24h", value_parser = humantime::parse_duration)]
    pub change_log_keep_for: Duration,
}

/// `--cluster-signal`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignalArg {
    /// A NOTIFY after commit, batched per node.
    AfterCommit,
    /// A NOTIFY inside each writing transaction.
    InTransaction,
}

impl ClusterArgs {
    /// The engine's cluster settings.
    pub fn cluster_config(&self) -> ClusterConfig {
        let defaults = ClusterConfig::default();
        ClusterConfig {
            enabled: !self.single_node,
            node_id: self.node_id.clone().unwrap_or(defaults.node_id),
            signal: match self.cluster_signal {
                SignalArg::AfterCommit => SignalMode::AfterCommit,
                SignalArg::InTransaction => SignalMode::InTransaction,
            },
            heal_every: self.cluster_check_every,
            log_keep_versions: self.change_log_keep_versions,
            log_keep_for: self.change_log_keep_for,
            ..defaults
        }
    }
}

fn parse_node_id(value: &str) -> Result<String, String> {
    let valid = (1..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(value.to_owned())
    } else {
        Err("a node id has 1 to 64 letters, digits, '.', '_' or '-'".to_owned())
    }
}

fn parse_check_every(value: &str) -> Result<Duration, String> {
    let every = humantime::parse_duration(value).map_err(|err| err.to_string())?;
    if (Duration::from_millis(10)..=Duration::from_secs(60)).contains(&every) {
        Ok(every)
    } else {
        Err("between 10ms and 60s".to_owned())
    }
}
