//! The storm and fan-out modes at small scale: the report's correctness fields (every session
//! back, no gap, every version exact), never its timings.

use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::server::Node;
use super::succeeded;

/// How long the load generator may take to ask for the node to be stopped.
const KILL_PROMPT_TIMEOUT: Duration = Duration::from_secs(120);

/// The nodes' URLs, comma-separated.
fn urls(nodes: &[Node]) -> String {
    nodes
        .iter()
        .map(|node| node.url.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

#[tokio::test]
async fn loadgen_storm_brings_every_session_of_a_killed_node_back_with_exact_versions()
-> anyhow::Result<()> {
    let mut nodes = Node::cluster(3, &["--no-rate-limit"]).await?;
    let mut storm = Command::new(env!("CARGO_BIN_EXE_taskpulse-loadgen"))
        .args(["--url", &urls(&nodes), "--storm", "60", "--kill-node", "2"])
        .args([
            "--rate",
            "40",
            "--duration",
            "6s",
            "--kill-after",
            "2s",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut stderr = BufReader::new(storm.stderr.take().context("no stderr")?).lines();

    // The servers live in this process: "killing" node 2 drops its runtime at once, every
    // socket with it, as SIGKILL would (no goodbye frames, no graceful shutdown).
    let mut log = String::new();
    tokio::time::timeout(KILL_PROMPT_TIMEOUT, async {
        while let Some(line) = stderr.next_line().await? {
            log += &line;
            log.push('\n');
            if line.contains("stop node 2 now") {
                return anyhow::Ok(());
            }
        }
        anyhow::bail!("the load generator ended without asking for the kill")
    })
    .await
    .with_context(|| format!("no kill prompt: {log}"))??;
    nodes.pop().context("three nodes")?.kill();
    let rest = tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            log += &line;
            log.push('\n');
        }
        log
    });
    let output = storm.wait_with_output().await?;
    let log = rest.await?;

    assert!(output.status.success(), "{log}");
    let report: Value = serde_json::from_str(&succeeded(&output))?;
    assert_eq!(report["sessions"], 60, "{report}");
    // Four users of 15 sessions each, user u's all on node u mod 3: node 2 holds user 2's.
    assert_eq!(
        report["orphaned_sessions"], 15,
        "one user's sessions: {report}"
    );
    assert_eq!(report["sessions_back"], 15, "{report}");
    assert!(report["last_back_ms"].is_number(), "{report}");
    let resumes = report["resumes"].as_u64().unwrap_or_default();
    assert!(resumes >= 30, "two topics for each orphan: {report}");
    for zero in [
        "gaps",
        "version_mismatches",
        "subscribed_version_mismatches",
        "writes_failed",
        "server_errors",
        "health_failed",
    ] {
        assert_eq!(report[zero], 0, "{zero}: {report}");
    }
    assert_eq!(report["topics_checked"], 120, "{report}");
    assert!(report["writes"].as_u64().is_some_and(|w| w > 0), "{report}");
    Ok(())
}

#[tokio::test]
async fn loadgen_fanout_delivers_every_write_to_every_subscriber() -> anyhow::Result<()> {
    let nodes = Node::cluster(2, &["--no-rate-limit"]).await?;

    let output = Command::new(env!("CARGO_BIN_EXE_taskpulse-loadgen"))
        .args(["--url", &urls(&nodes), "--fanout", "60"])
        .args(["--rate", "20", "--duration", "2s", "--json"])
        .output()
        .await?;

    let report: Value = serde_json::from_str(&succeeded(&output))?;
    assert_eq!(report["subscribers"], 60, "{report}");
    let writes = report["writes"].as_u64().unwrap_or_default();
    assert!(writes > 0, "{report}");
    assert_eq!(
        report["write_to_last_delivery_ms"]["count"].as_u64(),
        Some(writes),
        "{report}"
    );
    assert_eq!(
        report["write_to_each_delivery_ms"]["count"].as_u64(),
        Some(writes * 60),
        "{report}"
    );
    for zero in [
        "writes_failed",
        "missing_deliveries",
        "gaps",
        "sessions_dropped",
    ] {
        assert_eq!(report[zero], 0, "{zero}: {report}");
    }
    Ok(())
}
