//! `GET /metrics`: Prometheus text with request counts and latency histograms by route
//! template and status, pool usage and live aggregates.

mod common;

use common::{TestApp, expect_json};
use serde_json::json;

#[tokio::test]
async fn requests_are_counted_by_route_template_and_status() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Write"}))
        .await?;
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap_or_default());
    expect_json(app.get_as(&path, &ada.access).await?, 200).await?;
    app.get("/api/v1/tasks").await?;

    let response = app.get("/metrics").await?;

    assert_eq!(response.status(), 200);
    let text = response.text().await?;
    let has = |needle: &str| text.lines().any(|l| l.contains(needle));
    assert!(
        has(
            r#"taskpulse_http_requests_total{method="GET",route="/api/v1/tasks/:param0",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(has(r#"route="/api/v1/tasks",status="401""#), "{text}");
    assert!(
        has(r#"route="/api/v1/auth/register",status="201""#),
        "{text}"
    );
    assert!(
        has("taskpulse_http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(
        !text.contains(task["id"].as_str().unwrap_or("-")),
        "no concrete ids"
    );
    assert!(has("taskpulse_db_pool_connections "), "{text}");
    assert!(has("taskpulse_live_aggregates "), "{text}");
    Ok(())
}
