//! The access log: one structured line per request (target `taskpulse::access`), never a
//! token or a password.

use std::time::Duration;

use crate::common::{PASSWORD, TestApp, id_of, poll_until};

/// A server writing JSON log lines at INFO, captured.
async fn app_logging_json() -> anyhow::Result<TestApp> {
    TestApp::builder()
        .with_log_filter("info")
        .with_arg("--log-format")
        .with_arg("json")
        .with_captured_logs()
        .spawn()
        .await
}

/// The access-log lines of the request with this id, once there is at least one.
async fn access_lines(app: &TestApp, request_id: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    poll_until(Duration::from_secs(10), || async {
        let lines: Vec<serde_json::Value> = app
            .logs()
            .iter()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|line| line["target"] == "taskpulse::access")
            .filter(|line| line["request_id"] == request_id)
            .collect();
        Ok(if lines.is_empty() {
            Err(format!("no access line for {request_id} yet"))
        } else {
            Ok(lines)
        })
    })
    .await
}

#[tokio::test]
async fn an_authenticated_request_is_one_json_line_with_route_template_and_user()
-> anyhow::Result<()> {
    let app = app_logging_json().await?;
    let user = app.register("access-log@example.com").await?;
    let task = app
        .create_task(&user.access, serde_json::json!({ "title": "logged" }))
        .await?;

    let response = app
        .http
        .get(app.url(&format!("/api/v1/tasks/{}", id_of(&task))))
        .bearer_auth(&user.access)
        .header("x-request-id", "access-log-read-1")
        .send()
        .await?;
    assert_eq!(response.status(), 200);

    let lines = access_lines(&app, "access-log-read-1").await?;
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["level"], "INFO", "{line}");
    assert_eq!(line["method"], "GET", "{line}");
    assert_eq!(line["route"], "/api/v1/tasks/{id}", "{line}");
    assert_eq!(line["status"], 200, "{line}");
    assert!(
        line["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{line}"
    );
    assert_eq!(line["user_id"], user.user_id.as_str(), "{line}");
    Ok(())
}

#[tokio::test]
async fn an_anonymous_request_has_no_user_and_an_unknown_path_no_template() -> anyhow::Result<()> {
    let app = app_logging_json().await?;

    let response = app
        .http
        .get(app.url("/api/v1/no-such-thing/42"))
        .header("x-request-id", "access-log-unmatched-1")
        .send()
        .await?;
    assert_eq!(response.status(), 404);

    let lines = access_lines(&app, "access-log-unmatched-1").await?;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["route"], "unmatched", "{}", lines[0]);
    assert_eq!(lines[0]["status"], 404, "{}", lines[0]);
    assert!(lines[0].get("user_id").is_none(), "{}", lines[0]);
    Ok(())
}

#[tokio::test]
async fn no_line_carries_a_token_or_a_password() -> anyhow::Result<()> {
    let app = app_logging_json().await?;
    let user = app.register("no-secrets@example.com").await?;
    let sign_in = app
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({ "email": user.email, "password": PASSWORD }),
        )
        .await?;
    assert_eq!(sign_in.status(), 200);
    let fresh: serde_json::Value = sign_in.json().await?;
    app.get_as("/api/v1/tasks", &user.access).await?;
    // A WebSocket upgrade carries its token in the query string.
    app.http
        .get(app.url(&format!("/api/v1/ws?access_token={}", user.access)))
        .header("x-request-id", "access-log-ws-1")
        .send()
        .await?;

    access_lines(&app, "access-log-ws-1").await?;
    let secrets = [
        user.access.as_str(),
        user.refresh.as_str(),
        PASSWORD,
        fresh["access_token"].as_str().unwrap_or("no access token"),
        fresh["refresh_token"]
            .as_str()
            .unwrap_or("no refresh token"),
    ];
    for line in app.logs() {
        for secret in secrets {
            assert!(!line.contains(secret), "a secret leaked: {line}");
        }
    }
    Ok(())
}
