//! Topics: a snapshot then one delta per change, resume, forbidden topics and revocation,
//! unsubscribing and the protocol's errors, and a slow client beside a quick one.

use serde_json::{Value, json};

use super::{Adapter, Live, on_both_adapters, receive, send, subscribed};

on_both_adapters!(
    subscribe_sends_a_snapshot_then_a_delta_per_change,
    resume_replays_missed_deltas,
    a_foreign_topic_is_forbidden_and_a_removed_member_is_unsubscribed,
    unsubscribe_and_the_protocols_other_errors_answer_as_documented,
    a_client_that_stops_reading_never_delays_another,
);

async fn subscribe_sends_a_snapshot_then_a_delta_per_change(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let (mut socket, snapshot) = subscribed(&app, &ann, "user").await?;

    app.create_task(&ann.access, json!({ "title": "one" }))
        .await?;
    let first = receive(&mut socket).await?;
    app.create_task(
        &ann.access,
        json!({ "title": "two", "status": "completed" }),
    )
    .await?;
    let second = receive(&mut socket).await?;

    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(snapshot["topic"], "user");
    assert_eq!(snapshot["version"], 0);
    assert_eq!(snapshot["stats"]["total"], 0);
    assert!(
        snapshot["breakdown"]["by_status"].is_object() && snapshot["activity"]["days"].is_array()
    );
    assert_eq!(first["type"], "delta");
    assert_eq!(first["version"], 1);
    assert_eq!(first["changes"], json!({ "total": 1, "pending": 1 }));
    assert_eq!(first["stats"]["pending"], 1);
    assert_eq!(second["version"], 2);
    assert_eq!(second["changes"], json!({ "total": 1, "completed": 1 }));
    Ok(())
}

async fn resume_replays_missed_deltas(adapter: Adapter) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let (socket, _) = subscribed(&app, &ann, "user").await?;
    drop(socket);
    for title in ["a", "b", "c"] {
        app.create_task(&ann.access, json!({ "title": title }))
            .await?;
    }

    let mut socket = app.connect(Some(&ann.access)).await?;
    send(
        &mut socket,
        json!({ "type": "subscribe", "topic": "user", "since_version": 1 }),
    )
    .await?;
    // Deltas 2 and 3, and `subscribed` once the replay is done (on a second node, the axum
    // case, version 3 may still be on its way then and come after it, live).
    let mut messages: Vec<Value> = Vec::new();
    while !messages
        .iter()
        .any(|m| m["type"] == "delta" && m["version"] == 3)
    {
        messages.push(receive(&mut socket).await?);
    }
    let mut stale = app.connect(Some(&ann.access)).await?;
    send(
        &mut stale,
        json!({ "type": "subscribe", "topic": "user", "since_version": -5 }),
    )
    .await?;
    let fallback = receive(&mut stale).await?;

    let replayed: Vec<Value> = (messages.iter())
        .filter(|m| m["type"] == "delta")
        .cloned()
        .collect();
    let versions: Vec<Option<i64>> = replayed.iter().map(|m| m["version"].as_i64()).collect();
    assert_eq!(versions, [Some(2), Some(3)], "{messages:?}");
    let live = messages.iter().position(|m| m["type"] == "subscribed");
    if live.is_none() {
        messages.push(receive(&mut socket).await?);
    }
    let at = messages
        .iter()
        .position(|m| m["type"] == "subscribed")
        .unwrap_or_default();
    let reached = 1 + i64::try_from(at).unwrap_or_default();
    assert_eq!(
        messages[at],
        json!({ "type": "subscribed", "topic": "user", "version": reached }),
        "{messages:?}"
    );
    assert_eq!(
        (fallback["type"].as_str(), fallback["version"].as_i64()),
        (Some("snapshot"), Some(3))
    );
    // What each replayed delta changed is measured from the version before it, not from zero.
    for delta in &replayed {
        assert_eq!(
            delta["changes"],
            json!({ "total": 1, "pending": 1 }),
            "{delta}"
        );
    }
    Ok(())
}

async fn a_foreign_topic_is_forbidden_and_a_removed_member_is_unsubscribed(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let owner = app.register("owner@example.com").await?;
    let member = app.register("member@example.com").await?;
    let team = app.create_team(&owner.access, "Team").await?;
    let topic = format!("team:{team}");
    app.add_member(&owner.access, &team, &member.user_id, "member")
        .await?;

    let (mut socket, snapshot) = subscribed(&app, &member, &topic).await?;
    let outsider = app.register("outsider@example.com").await?;
    let (_outsider_socket, refused) = subscribed(&app, &outsider, &topic).await?;
    let removed = app
        .delete_as(
            &format!("/api/v1/teams/{team}/members/{}", member.user_id),
            &owner.access,
        )
        .await?;
    let revoked = receive(&mut socket).await?;

    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(snapshot["breakdown"]["by_member"], json!([]));
    assert_eq!(
        refused,
        json!({ "type": "error", "code": "forbidden", "message": refused["message"], "topic": topic })
    );
    assert_eq!(removed.status(), 204);
    assert_eq!(
        revoked,
        json!({ "type": "unsubscribed", "topic": topic, "reason": "membership_revoked" })
    );
    Ok(())
}

async fn unsubscribe_and_the_protocols_other_errors_answer_as_documented(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let (mut socket, _) = subscribed(&app, &ann, "user").await?;

    send(
        &mut socket,
        json!({ "type": "unsubscribe", "topic": "user" }),
    )
    .await?;
    let unsubscribed = receive(&mut socket).await?;
    app.create_task(&ann.access, json!({ "title": "unseen" }))
        .await?;
    send(
        &mut socket,
        json!({ "type": "unsubscribe", "topic": "user" }),
    )
    .await?;
    let not_subscribed = receive(&mut socket).await?;
    send(
        &mut socket,
        json!({ "type": "subscribe", "topic": "teams" }),
    )
    .await?;
    let invalid_topic = receive(&mut socket).await?;
    send(
        &mut socket,
        json!({ "type": "auth", "access_token": ann.access }),
    )
    .await?;
    let already = receive(&mut socket).await?;
    send(&mut socket, json!({ "type": "ping", "id": "last" })).await?;
    // Nothing of the unsubscribed topic came in between: the pong is next.
    let pong = receive(&mut socket).await?;

    assert_eq!(
        unsubscribed,
        json!({ "type": "unsubscribed", "topic": "user", "reason": "requested" })
    );
    let code = |m: &Value| (m["type"].clone(), m["code"].clone(), m["topic"].clone());
    assert_eq!(
        code(&not_subscribed),
        (json!("error"), json!("not_subscribed"), json!("user"))
    );
    assert_eq!(
        code(&invalid_topic),
        (json!("error"), json!("invalid_topic"), json!("teams"))
    );
    // A second `auth` with the session's own token renews it (renewal.rs has the rest).
    assert_eq!(already["type"], "authenticated");
    assert_eq!(pong, json!({ "type": "pong", "id": "last" }));
    Ok(())
}

async fn a_client_that_stops_reading_never_delays_another(adapter: Adapter) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let (_stalled, _) = subscribed(&app, &ann, "user").await?;
    let (mut reader, _) = subscribed(&app, &ann, "user").await?;

    let mut versions = Vec::new();
    for n in 0..60 {
        app.create_task(
            &ann.access,
            json!({ "title": format!("t{n}"), "description": "x".repeat(2000) }),
        )
        .await?;
        versions.push(receive(&mut reader).await?["version"].as_i64());
    }

    assert_eq!(versions, (1..=60).map(Some).collect::<Vec<_>>());
    Ok(())
}
