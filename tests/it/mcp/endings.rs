//! What ends MCP sessions and subscriptions besides the client: a personal access token
//! revoked, leaving the team (for a team's dashboard), and the server shutting down (its open
//! streams must not hold the shutdown up).

use std::time::Duration;

use serde_json::{Value, json};

use super::{mcp_url, open_session, post, request};
use crate::common::{TestApp, poll_until};
use crate::tokens::{create_token, secret};

#[tokio::test(flavor = "multi_thread")]
async fn revoking_a_token_ends_the_sessions_it_opened() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let created = create_token(&app, &ada.access, &["read", "write"]).await?;
    let session = open_session(&app, &secret(&created)).await?;
    let list = request(1, "tools/list", json!({}));
    let before = post(&app, Some(&ada.access), Some(&session), &list).await?;

    let id = created["id"].as_str().unwrap_or_default();
    let revoked = app
        .delete_as(&format!("/api/v1/tokens/{id}"), &ada.access)
        .await?;

    assert_eq!(before.status, 200, "ada's own sign-in may use it");
    assert_eq!(revoked.status(), 204);
    poll_until(Duration::from_secs(5), || async {
        let answer = post(&app, Some(&ada.access), Some(&session), &list).await?;
        Ok(match answer.status {
            404 => Ok(()),
            other => Err(other.to_string()),
        })
    })
    .await?;
    Ok(())
}

/// The JSON-RPC messages of the server-sent events in `text`.
fn events(text: &str) -> Vec<Value> {
    (text.lines())
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str(data.trim()).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn leaving_a_team_announces_its_dashboard_once_more_and_it_reads_not_found()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let owner = app.register("owner@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let team = app.create_team(&owner.access, "crew").await?;
    app.add_member(&owner.access, &team, &bob.user_id, "member")
        .await?;
    let session = open_session(&app, &bob.access).await?;
    let mut stream = (app.http.get(mcp_url(&app)))
        .bearer_auth(&bob.access)
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-06-18")
        .header("accept", "text/event-stream")
        .send()
        .await?;
    assert_eq!(stream.status(), 200);
    let uri = format!("taskpulse://dashboard/team/{team}");
    let subscribe = request(1, "resources/subscribe", json!({ "uri": uri }));
    let subscribed = post(&app, Some(&bob.access), Some(&session), &subscribe).await?;
    assert_eq!(subscribed.status, 200);

    let path = format!("/api/v1/teams/{team}/members/{}", bob.user_id);
    assert_eq!(app.delete_as(&path, &owner.access).await?.status(), 204);

    let mut seen = String::new();
    let announced = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = stream.chunk().await? {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            let updated = events(&seen).into_iter().any(|event| {
                event["method"] == "notifications/resources/updated"
                    && event["params"]["uri"] == uri
            });
            if updated {
                return anyhow::Ok(true);
            }
        }
        Ok(false)
    })
    .await;
    assert!(matches!(announced, Ok(Ok(true))), "{announced:?}: {seen}");
    let read = request(2, "resources/read", json!({ "uri": uri }));
    let answer = post(&app, Some(&bob.access), Some(&session), &read).await?;
    let error = &answer.messages.last().cloned().unwrap_or_default()["error"];
    assert_eq!(error["code"], -32002, "{error}");
    assert_eq!(error["data"]["code"], "not_found");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_open_stream_does_not_hold_up_the_shutdown() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let session = open_session(&app, &ada.access).await?;
    let mut stream = (app.http.get(mcp_url(&app)))
        .bearer_auth(&ada.access)
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-06-18")
        .header("accept", "text/event-stream")
        .send()
        .await?;
    assert_eq!(stream.status(), 200);

    let started = std::time::Instant::now();
    app.stop().await?;

    // The default grace is 10 s: the stream ended with its session, long before.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while stream.chunk().await.ok().flatten().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ended");
    Ok(())
}
