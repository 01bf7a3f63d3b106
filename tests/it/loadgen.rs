//! `taskpulse loadgen` against the real server: it measures every write end to end and
//! refuses to aim anywhere but this machine.

use crate::common::{BINARY, ProcessApp};
use tokio::process::Command;

#[tokio::test]
async fn loadgen_measures_every_write_through_to_the_websocket() -> anyhow::Result<()> {
    let app = ProcessApp::builder()
        .with_arg("--no-rate-limit")
        .spawn()
        .await?;

    let output = Command::new(BINARY)
        .args([
            "loadgen",
            "--url",
            &app.base_url,
            "--users",
            "3",
            "--rate",
            "20",
        ])
        .args([
            "--duration",
            "2s",
            "--read-duration",
            "1s",
            "--readers",
            "4",
            "--json",
        ])
        .output()
        .await?;

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
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
    assert_eq!(
        report["nodes"],
        serde_json::json!([app.base_url]),
        "{report}"
    );
    assert_eq!(
        report["same_node_commit_to_ws_ms"]["count"].as_u64(),
        Some(writes),
        "one node: every write is same-node: {report}"
    );
    assert!(report["cross_node_commit_to_ws_ms"].is_null(), "{report}");
    Ok(())
}

#[tokio::test]
async fn loadgen_hot_team_writes_into_one_team_and_reports_cpu_per_write() -> anyhow::Result<()> {
    let app = ProcessApp::builder()
        .with_arg("--no-rate-limit")
        .spawn()
        .await?;
    let output = Command::new(BINARY)
        .args(["loadgen", "--url", &app.base_url, "--hot-team", "4"])
        .args(["--duration", "2s", "--json", "--server-pid"])
        .arg(app.pid()?.to_string())
        .output()
        .await?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
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
    let app = ProcessApp::builder().spawn().await?;
    let output = Command::new(BINARY)
        .args(["loadgen", "--url", &app.base_url, "--flood", "40", "--json"])
        .arg("--server-pid")
        .arg(app.pid()?.to_string())
        .output()
        .await?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rounds: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
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

#[tokio::test]
async fn loadgen_with_two_urls_measures_every_delta_on_the_other_node() -> anyhow::Result<()> {
    // The same server twice stands in for two nodes of a cluster: what is checked is the
    // placement (each user writes through one URL and listens on the other) and the report.
    let app = ProcessApp::builder()
        .with_arg("--no-rate-limit")
        .spawn()
        .await?;

    let output = Command::new(BINARY)
        .args(["loadgen", "--url", &app.base_url, "--url", &app.base_url])
        .args(["--users", "4", "--rate", "20", "--duration", "2s"])
        .args(["--read-duration", "1s", "--readers", "4", "--json"])
        .output()
        .await?;

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(
        report["nodes"],
        serde_json::json!([app.base_url, app.base_url]),
        "{report}"
    );
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
    assert!(
        report["stats_get_rps"].as_f64().is_some_and(|v| v > 0.0),
        "{report}"
    );
    Ok(())
}

#[tokio::test]
async fn loadgen_refuses_a_remote_target_among_several_urls() -> anyhow::Result<()> {
    let output = Command::new(BINARY)
        .args([
            "loadgen",
            "--url",
            "http://127.0.0.1:8080,http://192.0.2.10:8080",
        ])
        .output()
        .await?;

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("only targets this machine"));
    Ok(())
}

#[tokio::test]
async fn loadgen_refuses_a_remote_target() -> anyhow::Result<()> {
    let output = Command::new(BINARY)
        .args(["loadgen", "--url", "http://192.0.2.10:8080"])
        .output()
        .await?;

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("only targets this machine"));
    Ok(())
}
