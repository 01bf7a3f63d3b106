//! The `notifications` WebSocket topic: `subscribed`, then each notification as it is made,
//! exactly as the inbox shows it; `since` replays; on any node; bad resume fields refused.

use serde_json::{Value, json};

use super::wait_for;
use crate::common::{Registered, TestApp, id_of};
use crate::ws::{Socket, connect_to, receive, send};

const TOPIC: &str = "notifications";

/// A socket of `user` on the server at `url` following the topic (after `since`), past its
/// `subscribed`.
async fn follow(url: &str, user: &Registered, since: Option<&str>) -> anyhow::Result<Socket> {
    let mut socket = connect_to(url, Some(&user.access)).await?;
    let mut subscribe = json!({ "type": "subscribe", "topic": TOPIC });
    if let Some(since) = since {
        subscribe["since"] = json!(since);
    }
    send(&mut socket, subscribe).await?;
    let answer = receive(&mut socket).await?;
    anyhow::ensure!(
        answer == json!({ "type": "subscribed", "topic": TOPIC }),
        "expected subscribed, got {answer}"
    );
    Ok(socket)
}

/// The next `notification` message's notification, checking the message's shape.
async fn next(socket: &mut Socket) -> anyhow::Result<Value> {
    let message = receive(socket).await?;
    anyhow::ensure!(
        message["type"] == "notification" && message["topic"] == TOPIC,
        "expected a notification, got {message}"
    );
    Ok(message["notification"].clone())
}

/// Shares a new task titled `title` of `owner` with `with`.
async fn share_new(
    app: &TestApp,
    owner: &Registered,
    with: &Registered,
    title: &str,
) -> anyhow::Result<()> {
    let task = app
        .create_task(&owner.access, json!({ "title": title }))
        .await?;
    app.share(&owner.access, &id_of(&task), &with.user_id, "view")
        .await
}

#[tokio::test]
async fn the_topic_streams_each_notification_as_the_inbox_shows_it() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let mut live = follow(&app.base_url, &bob, None).await?;

    share_new(&app, &ada, &bob, "one").await?;
    share_new(&app, &ada, &bob, "two").await?;
    let streamed = [next(&mut live).await?, next(&mut live).await?];

    let mut listed = wait_for(&app, &bob.access, 2).await?;
    listed.reverse();
    assert_eq!(
        streamed.to_vec(),
        listed,
        "the topic, and the inbox oldest first"
    );
    assert!(
        streamed[0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("“one”")
    );
    Ok(())
}

#[tokio::test]
async fn the_topic_carries_only_the_callers_notifications() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let cy = app.register("cy@example.com").await?;
    let mut bobs = follow(&app.base_url, &bob, None).await?;

    share_new(&app, &ada, &cy, "for cy").await?;
    share_new(&app, &ada, &bob, "for bob").await?;
    let first = next(&mut bobs).await?;

    assert!(
        first["text"]
            .as_str()
            .unwrap_or_default()
            .contains("for bob"),
        "{first}"
    );
    Ok(())
}

#[tokio::test]
async fn since_replays_what_came_after_then_carries_on_live_on_another_node() -> anyhow::Result<()>
{
    let nodes = TestApp::builder().spawn_cluster(2).await?;
    let (a, b) = (&nodes[0], &nodes[1]);
    let ada = a.register("ada@example.com").await?;
    let bob = a.register("bob@example.com").await?;
    let mut on_a = follow(&a.base_url, &bob, None).await?;
    share_new(a, &ada, &bob, "seen").await?;
    let seen = next(&mut on_a).await?;
    drop(on_a);

    share_new(a, &ada, &bob, "missed").await?;
    wait_for(a, &bob.access, 2).await?;
    let mut on_b = follow(&b.base_url, &bob, seen["id"].as_str()).await?;
    let replayed = next(&mut on_b).await?;
    share_new(a, &ada, &bob, "live from a").await?;
    let live = next(&mut on_b).await?;

    assert!(
        replayed["text"]
            .as_str()
            .unwrap_or_default()
            .contains("missed"),
        "{replayed}"
    );
    assert!(
        live["text"]
            .as_str()
            .unwrap_or_default()
            .contains("live from a"),
        "{live}"
    );
    Ok(())
}

#[tokio::test]
async fn a_since_not_of_the_caller_and_aggregate_resume_fields_are_errors() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    share_new(&app, &ada, &bob, "bob's").await?;
    let bobs = wait_for(&app, &bob.access, 1).await?;
    let mut socket = connect_to(&app.base_url, Some(&ada.access)).await?;

    let mut codes = Vec::new();
    for subscribe in [
        json!({ "type": "subscribe", "topic": TOPIC, "since": bobs[0]["id"] }),
        json!({ "type": "subscribe", "topic": TOPIC, "since": "not-an-id" }),
        json!({ "type": "subscribe", "topic": TOPIC, "since_version": 3 }),
    ] {
        send(&mut socket, subscribe).await?;
        let answer = receive(&mut socket).await?;
        assert_eq!(answer["type"], "error", "{answer}");
        assert_eq!(answer["topic"], TOPIC);
        codes.push(answer["code"].as_str().unwrap_or_default().to_owned());
    }
    send(&mut socket, json!({ "type": "ping", "id": 1 })).await?;
    let still_open = receive(&mut socket).await?;

    assert_eq!(
        codes,
        ["invalid_since", "invalid_since", "malformed_message"]
    );
    assert_eq!(still_open, json!({ "type": "pong", "id": 1 }));
    Ok(())
}
