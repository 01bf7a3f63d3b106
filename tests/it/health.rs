//! The liveness and readiness probes (API.md, "Operations"): no authentication, 200 on a
//! healthy server, never rate limited. Readiness during a database outage is in
//! `tests/outage.rs`, during shutdown in `tests/shutdown.rs`.

use crate::common::{TestApp, expect_json};
use serde_json::json;

#[tokio::test]
async fn live_answers_200_without_a_token() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let live = expect_json(app.get("/api/v1/health/live").await?, 200).await?;

    assert_eq!(live, json!({ "status": "alive" }));
    Ok(())
}

#[tokio::test]
async fn ready_answers_200_on_a_healthy_server() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let ready = expect_json(app.get("/api/v1/health/ready").await?, 200).await?;

    assert_eq!(ready, json!({ "status": "ready", "not_ready": [] }));
    Ok(())
}

#[tokio::test]
async fn the_probes_are_never_rate_limited() -> anyhow::Result<()> {
    // One request, then one a second: twenty in a row cannot all pass unless exempt (they
    // would have to take nineteen seconds).
    let app = TestApp::builder()
        .with_arg("--rate-limit-per-second")
        .with_arg("1")
        .with_arg("--rate-limit-burst")
        .with_arg("1")
        .spawn()
        .await?;

    let mut statuses = Vec::new();
    for path in [
        "/api/v1/health/live",
        "/api/v1/health/ready",
        "/api/v1/tasks",
    ] {
        for _ in 0..20 {
            statuses.push((path, app.get(path).await?.status().as_u16()));
        }
    }

    let limited = |wanted: &str| {
        statuses
            .iter()
            .filter(|(path, status)| *path == wanted && *status == 429)
            .count()
    };
    assert_eq!(limited("/api/v1/health/live"), 0, "{statuses:?}");
    assert_eq!(limited("/api/v1/health/ready"), 0, "{statuses:?}");
    assert!(
        limited("/api/v1/tasks") > 0,
        "the limit is on: {statuses:?}"
    );
    Ok(())
}
