//! The HTTP surface every later route builds on: health, the OpenAPI document, Swagger UI,
//! request ids and problem+json for what no route handles.

use crate::common::{TestApp, assert_problem};

#[tokio::test]
async fn health_reports_a_real_database_round_trip() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let response = app.get("/api/v1/health").await?;

    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await?;
    assert_eq!(body["status"], "healthy");
    assert!(body["version"].is_string());
    assert!(body["uptime_seconds"].is_u64());
    let services = body["services"].as_array().cloned().unwrap_or_default();
    let database = services.iter().find(|s| s["name"] == "database");
    let engine = services.iter().find(|s| s["name"] == "engine");
    assert!(database.is_some_and(|d| d["status"] == "healthy" && d["latency_ms"].is_number()));
    assert!(engine.is_some());
    Ok(())
}

#[tokio::test]
async fn unknown_route_is_a_problem_404() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let response = app.get("/api/v1/no-such-thing").await?;

    assert_problem(response, 404, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn wrong_method_is_a_problem_405() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let response = app.http.delete(app.url("/api/v1/health")).send().await?;

    assert_problem(response, 405, "method_not_allowed").await?;
    Ok(())
}

#[tokio::test]
async fn body_over_64_kib_is_a_problem_413() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let response = app
        .http
        .post(app.url("/api/v1/health"))
        .header("content-type", "application/json")
        .body(vec![b' '; 64 * 1024 + 1])
        .send()
        .await?;

    assert_problem(response, 413, "payload_too_large").await?;
    Ok(())
}

#[tokio::test]
async fn a_json_body_giving_a_key_twice_is_a_problem_400_and_nothing_is_stored()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    for body in [
        r#"{"title":"a","title":"b"}"#,
        r#"{"title":"a","due_at":null,"priority":"low","due_at":null}"#,
    ] {
        let response = app
            .http
            .post(app.url("/api/v1/tasks"))
            .bearer_auth(&ada.access)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        assert_problem(response, 400, "malformed_request").await?;
    }

    let listed: serde_json::Value = app
        .get_as("/api/v1/tasks", &ada.access)
        .await?
        .json()
        .await?;
    assert_eq!(listed["items"], serde_json::json!([]), "{listed}");
    // The same body with distinct keys is taken.
    let response = app
        .http
        .post(app.url("/api/v1/tasks"))
        .bearer_auth(&ada.access)
        .header("content-type", "application/json")
        .body(r#"{"title":"a","priority":"low"}"#)
        .send()
        .await?;
    assert_eq!(response.status(), 201);
    Ok(())
}

#[tokio::test]
async fn every_response_carries_a_request_id() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let ok = app.get("/api/v1/health").await?;
    let missing = app.get("/missing").await?;
    let echoed = app
        .http
        .get(app.url("/api/v1/health"))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await?;

    assert!(ok.headers().contains_key("x-request-id"));
    assert!(missing.headers().contains_key("x-request-id"));
    assert_eq!(echoed.headers()["x-request-id"], "trace-abc-123");
    Ok(())
}

#[tokio::test]
async fn openapi_document_and_swagger_ui_are_served() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let spec: serde_json::Value = app.get("/openapi.json").await?.json().await?;
    let docs = app.get("/docs").await?;

    assert!(
        spec["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    assert!(spec["paths"]["/api/v1/health"]["get"].is_object());
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await?.contains("swagger"));
    Ok(())
}
