//! Scopes: a `read` token reads and is refused every write with 403 `insufficient_scope`; no
//! token creates tokens; on the WebSocket a read token may subscribe.

use serde_json::json;

use super::{create_token, secret};
use crate::common::{TestApp, assert_problem, expect_json};
use crate::ws::{connect, receive, send};

#[tokio::test]
async fn a_read_token_reads_and_is_refused_every_write() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({ "title": "mine" }))
        .await?;
    let task_path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap_or_default());
    let read = secret(&create_token(&app, &ada.access, &["read"]).await?);

    for path in [
        "/api/v1/tasks",
        "/api/v1/dashboard/statistics",
        task_path.as_str(),
    ] {
        assert_eq!(app.get_as(path, &read).await?.status(), 200, "{path}");
    }
    let writes = [
        (
            reqwest::Method::POST,
            "/api/v1/tasks",
            Some(json!({ "title": "no" })),
        ),
        (
            reqwest::Method::PATCH,
            task_path.as_str(),
            Some(json!({ "title": "no" })),
        ),
        (reqwest::Method::DELETE, task_path.as_str(), None),
        (
            reqwest::Method::POST,
            "/api/v1/teams",
            Some(json!({ "name": "no" })),
        ),
        (reqwest::Method::DELETE, "/api/v1/me", None),
    ];
    for (method, path, body) in writes {
        let response = app
            .send_as(method.clone(), path, &read, body.as_ref())
            .await?;
        let problem = assert_problem(response, 403, "insufficient_scope").await?;
        assert_eq!(
            problem["type"], "https://taskpulse.dev/problems/insufficient-scope",
            "{method} {path}"
        );
    }
    let still = expect_json(app.get_as(&task_path, &ada.access).await?, 200).await?;
    assert_eq!(still["title"], "mine");
    Ok(())
}

#[tokio::test]
async fn no_token_can_create_tokens() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let write = secret(&create_token(&app, &ada.access, &["read", "write"]).await?);

    let body = json!({ "name": "offspring", "scopes": ["read"] });
    let response = app.post_as("/api/v1/tokens", &write, &body).await?;

    assert_problem(response, 403, "insufficient_scope").await?;
    let listed = expect_json(app.get_as("/api/v1/tokens", &write).await?, 200).await?;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    Ok(())
}

#[tokio::test]
async fn a_read_token_subscribes_on_the_websocket_in_the_query_or_in_band() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let read = secret(&create_token(&app, &ada.access, &["read"]).await?);
    let mut by_query = connect(&app, Some(&read)).await?;
    let mut in_band = connect(&app, None).await?;
    send(
        &mut in_band,
        json!({ "type": "auth", "access_token": read }),
    )
    .await?;

    for socket in [&mut by_query, &mut in_band] {
        send(socket, json!({ "type": "subscribe", "topic": "user" })).await?;
        let mut message = receive(socket).await?;
        if message["type"] == "authenticated" {
            message = receive(socket).await?;
        }
        assert_eq!(message["type"], "snapshot", "{message}");
    }
    app.create_task(&ada.access, json!({ "title": "seen live" }))
        .await?;
    assert_eq!(receive(&mut by_query).await?["type"], "delta");
    Ok(())
}
