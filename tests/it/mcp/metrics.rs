//! `/metrics` times every MCP tool call by tool and outcome (the server's own time, which a
//! client's figures cannot split from the transport's and its own).

use serde_json::json;

use super::{open_session, post, request};
use crate::common::TestApp;

/// The value of one sample (name and labels exactly as rendered) in Prometheus text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn tool_calls_are_timed_by_tool_and_outcome() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let session = open_session(&app, &ada.access).await?;
    let token = Some(ada.access.as_str());
    let call = |id: i64, name: &str, arguments: serde_json::Value| {
        request(
            id,
            "tools/call",
            json!({"name": name, "arguments": arguments}),
        )
    };

    let created = post(
        &app,
        token,
        Some(&session),
        &call(1, "create_task", json!({"title": "Timed"})),
    )
    .await?;
    let refused = post(
        &app,
        token,
        Some(&session),
        &call(2, "get_task", json!({"id": 7})),
    )
    .await?;
    let unknown = post(
        &app,
        token,
        Some(&session),
        &call(3, "no_such_tool", json!({})),
    )
    .await?;
    let text = app.get("/metrics").await?.text().await?;

    assert_eq!(created.status, 200);
    assert_eq!(refused.status, 200);
    assert_eq!(unknown.status, 200);
    let family = "taskpulse_mcp_tool_call_seconds";
    let count = |tool: &str, outcome: &str| {
        sample(
            &text,
            &format!(r#"{family}_count{{tool="{tool}",outcome="{outcome}"}}"#),
        )
    };
    assert_eq!(count("create_task", "ok"), Some(1.0), "{text}");
    assert_eq!(count("get_task", "error"), Some(1.0), "{text}");
    assert_eq!(count("create_task", "error"), None, "{text}");
    assert!(!text.contains("no_such_tool"), "unknown tools are no label");
    assert!(text.contains(&format!("# HELP {family} ")), "{text}");
    assert!(
        text.contains(&format!("# TYPE {family} histogram")),
        "{text}"
    );
    let (accepted, findings) = crate::metrics::promtool_findings(text.clone()).await?;
    assert!(accepted, "promtool check metrics failed: {findings}");
    assert_eq!(findings.trim(), "", "promtool check metrics");
    Ok(())
}
