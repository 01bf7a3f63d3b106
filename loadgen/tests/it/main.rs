//! `taskpulse-loadgen` against real servers: it measures every write end to end, on one node
//! or across two, loads one hot team, floods a server, holds idle sessions spread over users,
//! brings the sessions of a killed node back, fans one team out, drives the MCP server, and
//! refuses to aim anywhere but this machine.

mod mcp;
mod resilience;
mod server;

use std::process::Output;

use serde_json::{Value, json};
use server::Node;
use tokio::process::Command;

/// A short write phase and a shorter read phase, reported as JSON.
const SHORT_RUN: [&str; 9] = [
    "--rate",
    "20",
    "--duration",
    "2s",
    "--read-duration",
    "1s",
    "--readers",
    "4",
    "--json",
];

/// Runs the load generator with `args` to its end.
async fn loadgen(args: &[&str]) -> anyhow::Result<Output> {
    Ok(Command::new(env!("CARGO_BIN_EXE_taskpulse-loadgen"))
        .args(args)
        .output()
        .await?)
}

/// The stdout of a run that succeeded.
fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The servers run in this process: their CPU and memory are this process's.
fn server_pid() -> String {
    std::process::id().to_string()
}

#[tokio::test]
async fn loadgen_measures_every_write_through_to_the_websocket() -> anyhow::Result<()> {
    let node = Node::start(&["--no-rate-limit"]).await?;

    let output = loadgen(&[&["--url", &node.url, "--users", "3"][..], &SHORT_RUN].concat()).await?;

    let report: Value = serde_json::from_str(&succeeded(&output))?;
    assert_eq!(report["errors"], 0, "{report}");
    let writes = report["writes"].as_u64().unwrap_or_default();
    assert!(writes >= 20, "{report}");
    assert_eq!(report["commit_to_ws_ms"]["count"].as_u64(), Some(writes));
    for key in ["p50", "p90", "p99", "p999", "max"] {
        assert!(
            report["commit_to_ws_ms"][key]
                .as_f64()
                .is_some_and(|v| v > 0.0),
            "{key}: {report}"
        );
        assert!(report["write_ms"][key].is_number(), "{key}: {report}");
    }
    assert!(
        report["stats_get_rps"].as_f64().is_some_and(|v| v > 0.0),
        "{report}"
    );
    assert_eq!(report["nodes"], json!([node.url]), "{report}");
    assert_eq!(
        report["same_node_commit_to_ws_ms"]["count"].as_u64(),
        Some(writes),
        "one node: every write is same-node: {report}"
    );
    assert!(report["cross_node_commit_to_ws_ms"].is_null(), "{report}");
    Ok(())
}

#[tokio::test]
async fn loadgen_leaves_the_warm_up_writes_out_of_the_report() -> anyhow::Result<()> {
    let node = Node::start(&["--no-rate-limit"]).await?;
    let run = [
        "--url",
        &node.url,
        "--users",
        "3",
        "--rate",
        "20",
        "--warmup",
        "1s",
        "--duration",
        "1s",
        "--read-duration",
        "0s",
        "--json",
    ];

    let report: Value = serde_json::from_str(&succeeded(&loadgen(&run).await?))?;

    assert_eq!(report["errors"], 0, "{report}");
    let reported = report["writes"].as_u64().unwrap_or_default();
    assert!(
        (15..=22).contains(&reported),
        "one second at 20/s: {report}"
    );
    let created =
        r#"taskpulse_http_requests_total{method="POST",route="/api/v1/tasks",status="201"}"#;
    let created = counter(&node, created).await?;
    assert!(
        created >= (reported + 15) as f64,
        "the warm-up's writes were made too: {created} created, {reported} reported"
    );
    Ok(())
}

/// A counter of `node`'s `/metrics` (0 when absent).
async fn counter(node: &Node, sample: &str) -> anyhow::Result<f64> {
    let text = reqwest::get(format!("{}/metrics", node.url))
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0.0))
}

#[tokio::test]
async fn loadgen_with_two_urls_measures_every_delta_on_the_other_node() -> anyhow::Result<()> {
    let nodes = Node::cluster(2, &["--no-rate-limit"]).await?;
    let (a, b) = (&nodes[0], &nodes[1]);

    let output = loadgen(
        &[
            &["--url", &a.url, "--url", &b.url, "--users", "4"][..],
            &SHORT_RUN,
        ]
        .concat(),
    )
    .await?;

    let report: Value = serde_json::from_str(&succeeded(&output))?;
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["nodes"], json!([a.url, b.url]), "{report}");
    let writes = report["writes"].as_u64().unwrap_or_default();
    assert!(writes >= 20, "{report}");
    assert_eq!(report["commit_to_ws_ms"]["count"].as_u64(), Some(writes));
    let cross = &report["cross_node_commit_to_ws_ms"];
    assert_eq!(cross["count"].as_u64(), Some(writes), "{report}");
    for key in ["p50", "p90", "p99", "p999", "max"] {
        assert!(
            cross[key].as_f64().is_some_and(|v| v > 0.0),
            "{key}: {report}"
        );
    }
    assert!(
        report["same_node_commit_to_ws_ms"].is_null(),
        "with several nodes no session is on its writer's node: {report}"
    );
    // Each server took writes of its own: every delta above crossed from one to the other.
    let created =
        r#"taskpulse_http_requests_total{method="POST",route="/api/v1/tasks",status="201"}"#;
    let (on_a, on_b) = (counter(a, created).await?, counter(b, created).await?);
    assert!(
        on_a > 0.0 && on_b > 0.0,
        "writes on a: {on_a}, on b: {on_b}"
    );
    assert_eq!(on_a + on_b, writes as f64, "{report}");
    assert!(
        report["stats_get_rps"].as_f64().is_some_and(|v| v > 0.0),
        "{report}"
    );
    Ok(())
}

#[tokio::test]
async fn loadgen_hot_team_writes_into_one_team_and_reports_cpu_per_write() -> anyhow::Result<()> {
    let node = Node::start(&["--no-rate-limit"]).await?;

    let output = loadgen(&[
        "--url",
        &node.url,
        "--hot-team",
        "4",
        "--duration",
        "2s",
        "--json",
        "--server-pid",
        &server_pid(),
    ])
    .await?;

    let report: Value = serde_json::from_str(&succeeded(&output))?;
    assert_eq!(report["errors"], 0, "{report}");
    let writes = report["writes"].as_u64().unwrap_or_default();
    assert!(writes >= 4, "{report}");
    assert_eq!(
        report["write_ms"]["count"].as_u64(),
        Some(writes),
        "{report}"
    );
    assert_eq!(
        report["commit_to_ws_ms"]["count"], 0,
        "no sessions: {report}"
    );
    for side in ["server", "postgres"] {
        assert!(
            report["cpu_per_write_ms"][side]
                .as_f64()
                .is_some_and(|ms| ms > 0.0),
            "{side}: {report}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn loadgen_flood_reports_each_round_with_health_served_and_memory() -> anyhow::Result<()> {
    let node = Node::start(&[]).await?;

    let output = loadgen(&[
        "--url",
        &node.url,
        "--flood",
        "40",
        "--json",
        "--server-pid",
        &server_pid(),
    ])
    .await?;

    let rounds: Vec<Value> = succeeded(&output)
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(rounds.len(), 3, "{rounds:?}");
    for round in &rounds {
        assert_eq!(round["connections"], 40, "{round}");
        assert_eq!(round["health_status"], 200, "{round}");
        for key in ["rss_kib_before", "rss_kib_during", "rss_kib_after"] {
            assert!(
                round[key].as_u64().is_some_and(|kib| kib > 0),
                "{key}: {round}"
            );
        }
    }
    Ok(())
}

/// The JSON line of an `--idle-sessions` run against `node` with `extra` flags.
async fn idle_report(node: &Node, sessions: &str, extra: &[&str]) -> anyhow::Result<Value> {
    let output = loadgen(
        &[
            &["--url", &node.url, "--idle-sessions", sessions][..],
            &["--json", "--server-pid", &server_pid()],
            extra,
        ]
        .concat(),
    )
    .await?;
    Ok(serde_json::from_str(&succeeded(&output))?)
}

#[tokio::test]
async fn loadgen_idle_sessions_spread_over_users_within_the_default_per_user_limit()
-> anyhow::Result<()> {
    // The server's default --ws-max-sessions-per-user: 16, so 40 sessions need three users.
    let node = Node::start(&["--no-rate-limit"]).await?;

    let report = idle_report(&node, "40", &[]).await?;

    assert_eq!(report["idle_sessions"], 40, "{report}");
    assert_eq!(report["users"], 3, "{report}");
    assert!(
        report["server_rss_kib_before"]
            .as_u64()
            .is_some_and(|kib| kib > 0),
        "{report}"
    );
    for key in [
        "kib_per_session",
        "kib_per_subscribed_session",
        "second_half_kib_per_session",
        "second_half_kib_per_subscribed_session",
    ] {
        assert!(report[key].is_number(), "{key}: {report}");
    }
    let refused = r#"taskpulse_ws_sessions_closed_total{reason="policy"}"#;
    assert_eq!(
        counter(&node, refused).await?,
        0.0,
        "a session over the per-user limit"
    );
    Ok(())
}

#[tokio::test]
async fn loadgen_idle_sessions_go_over_the_users_asked_for() -> anyhow::Result<()> {
    let node = Node::start(&["--no-rate-limit"]).await?;

    let report = idle_report(&node, "20", &["--users", "5"]).await?;

    assert_eq!(report["idle_sessions"], 20, "{report}");
    assert_eq!(report["users"], 5, "{report}");
    Ok(())
}

#[tokio::test]
async fn loadgen_idle_sessions_of_too_few_users_stop_at_the_per_user_limit() -> anyhow::Result<()> {
    let node = Node::start(&["--no-rate-limit"]).await?;

    let output = loadgen(&[
        "--url",
        &node.url,
        "--idle-sessions",
        "20",
        "--users",
        "1",
        "--server-pid",
        &server_pid(),
    ])
    .await?;

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("too many sessions for this user"),
        "{stderr}"
    );
    Ok(())
}

#[tokio::test]
async fn loadgen_refuses_a_remote_target_among_several_urls() -> anyhow::Result<()> {
    let output = loadgen(&["--url", "http://127.0.0.1:8080,http://192.0.2.10:8080"]).await?;

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("only targets this machine"));
    Ok(())
}

#[tokio::test]
async fn loadgen_refuses_a_remote_target() -> anyhow::Result<()> {
    let output = loadgen(&["--url", "http://192.0.2.10:8080"]).await?;

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("only targets this machine"));
    Ok(())
}
