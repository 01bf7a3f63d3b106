//! Revocation: a deleted token answers 401 at once, on this node and on another, and the
//! WebSocket sessions it opened close with 4401.

use std::time::Duration;

use serde_json::json;

use super::{create_token, secret};
use crate::common::{TestApp, assert_problem, expect_json};
use crate::ws::{close_code, connect, receive, send};

fn token_path(created: &serde_json::Value) -> String {
    format!(
        "/api/v1/tokens/{}",
        created["id"].as_str().unwrap_or_default()
    )
}

#[tokio::test]
async fn a_revoked_token_is_401_at_once_and_gone_from_the_list() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let created = create_token(&app, &ada.access, &["read"]).await?;
    let token = secret(&created);
    // Used once, so this node remembers it.
    expect_json(app.get_as("/api/v1/me", &token).await?, 200).await?;

    expect_json(
        app.delete_as(&token_path(&created), &ada.access).await?,
        204,
    )
    .await?;

    assert_problem(
        app.get_as("/api/v1/me", &token).await?,
        401,
        "unauthenticated",
    )
    .await?;
    let listed = expect_json(app.get_as("/api/v1/tokens", &ada.access).await?, 200).await?;
    assert_eq!(listed["items"], json!([]));
    let again = app.delete_as(&token_path(&created), &ada.access).await?;
    assert_problem(again, 404, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn a_token_revoked_on_one_node_is_refused_by_another_and_its_socket_closes()
-> anyhow::Result<()> {
    let nodes = TestApp::builder().spawn_cluster(2).await?;
    let (a, b) = (&nodes[0], &nodes[1]);
    let ada = a.register("ada@example.com").await?;
    let created = create_token(a, &ada.access, &["read"]).await?;
    let token = secret(&created);
    // Node b has read the token and remembers it.
    expect_json(b.get_as("/api/v1/me", &token).await?, 200).await?;
    let mut socket = connect(b, Some(&token)).await?;
    send(&mut socket, json!({ "type": "subscribe", "topic": "user" })).await?;
    assert_eq!(receive(&mut socket).await?["type"], "snapshot");

    expect_json(a.delete_as(&token_path(&created), &ada.access).await?, 204).await?;

    let code = tokio::time::timeout(Duration::from_secs(2), close_code(&mut socket)).await??;
    assert_eq!(code, 4401);
    // The signal that closed the socket has reached b's memory of endings too.
    assert_problem(
        b.get_as("/api/v1/me", &token).await?,
        401,
        "unauthenticated",
    )
    .await?;
    let mut again = connect(b, Some(&token)).await?;
    assert_eq!(close_code(&mut again).await?, 4401);
    Ok(())
}

#[tokio::test]
async fn another_users_token_cannot_be_revoked() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let grace = app.register("grace@example.com").await?;
    let created = create_token(&app, &ada.access, &["read"]).await?;

    let response = app.delete_as(&token_path(&created), &grace.access).await?;

    assert_problem(response, 404, "not_found").await?;
    expect_json(app.get_as("/api/v1/me", &secret(&created)).await?, 200).await?;
    Ok(())
}

#[tokio::test]
async fn deleting_the_account_ends_its_tokens() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let write = secret(&create_token(&app, &ada.access, &["read", "write"]).await?);
    expect_json(app.get_as("/api/v1/me", &write).await?, 200).await?;

    expect_json(app.delete_as("/api/v1/me", &write).await?, 204).await?;

    assert_problem(
        app.get_as("/api/v1/me", &write).await?,
        401,
        "unauthenticated",
    )
    .await?;
    Ok(())
}
