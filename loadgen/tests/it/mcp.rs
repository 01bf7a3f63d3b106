//! `--mcp-calls` and `--mcp-sessions` against a real server: every tool call answered and
//! counted by the server, every session notified of its user's write.

use serde_json::Value;

use super::server::Node;
use super::{loadgen, server_pid, succeeded};

#[tokio::test]
async fn loadgen_mcp_calls_are_all_answered_and_timed_by_the_server() -> anyhow::Result<()> {
    let node = Node::start(&["--no-rate-limit"]).await?;

    let output = loadgen(&[
        "--url",
        &node.url,
        "--mcp-calls",
        "20",
        "--rate",
        "50",
        "--json",
    ])
    .await?;

    let report: Value = serde_json::from_str(&succeeded(&output))?;
    for phase in ["rest", "mcp"] {
        assert_eq!(report[phase]["sent"], 20, "{phase}: {report}");
        assert_eq!(report[phase]["ok"], 20, "{phase}: {report}");
        assert_eq!(report[phase]["failed"], 0, "{phase}: {report}");
        assert_eq!(report[phase]["ms"]["count"], 20, "{phase}: {report}");
        assert!(
            report[phase]["ms"]["p99"].as_f64().is_some_and(|v| v > 0.0),
            "{phase}: {report}"
        );
    }
    assert_eq!(report["server_tool_call"]["calls"], 20, "{report}");
    assert!(
        (report["server_tool_call"]["mean_ms"].as_f64()).is_some_and(|v| v > 0.0),
        "{report}"
    );
    Ok(())
}

#[tokio::test]
async fn loadgen_mcp_sessions_are_measured_and_each_hears_its_users_write() -> anyhow::Result<()> {
    let node = Node::start(&["--no-rate-limit"]).await?;

    let output = loadgen(&[
        "--url",
        &node.url,
        "--mcp-sessions",
        "20",
        "--json",
        "--server-pid",
        &server_pid(),
        "--mcp-hold",
        "1s",
    ])
    .await?;

    let report: Value = serde_json::from_str(&succeeded(&output))?;
    assert_eq!(report["mcp_sessions"], 20, "{report}");
    assert_eq!(report["users"], 2, "16 sessions a user at most: {report}");
    assert_eq!(report["notified"], 20, "{report}");
    assert_eq!(report["expected"], 20, "{report}");
    assert_eq!(report["write_to_notification_ms"]["count"], 20, "{report}");
    assert_eq!(report["close_failures"], 0, "{report}");
    assert!(report["kib_per_session"].is_number(), "{report}");
    assert!(report["kib_per_session_held"].is_number(), "{report}");
    Ok(())
}
