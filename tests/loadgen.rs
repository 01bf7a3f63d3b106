//! `taskpulse loadgen` against the real server: it measures every write end to end and
//! refuses to aim anywhere but this machine.

mod common;

use common::{BINARY, TestApp};
use tokio::process::Command;

#[tokio::test]
async fn loadgen_measures_every_write_through_to_the_websocket() -> anyhow::Result<()> {
    let app = TestApp::builder()
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
