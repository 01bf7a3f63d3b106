//! Feed topics over a real WebSocket (API.md, "WebSocket"): `feed:user` and `feed:team:<id>`
//! answer `subscribed`, then each audit entry as it commits, exactly as `GET /api/v1/audit-logs`
//! shows it; who sees what; the end of a team feed at the member's removal; `since` resuming,
//! on the same node and on another. The single-node cases run against both adapters of the live
//! protocol (see `ws.rs`).

use crate::common::{Registered, TestApp, expect_json, id_of};
use crate::ws::{Adapter, Live, Socket, connect_to, on_both_adapters, receive, send};
use serde_json::{Value, json};

/// A socket of `user` on the server at `url` subscribed to `topic` (resuming after `since`),
/// past its `subscribed`.
async fn follow(
    url: &str,
    user: &Registered,
    topic: &str,
    since: Option<&str>,
) -> anyhow::Result<Socket> {
    let mut socket = connect_to(url, Some(&user.access)).await?;
    let mut subscribe = json!({ "type": "subscribe", "topic": topic });
    if let Some(since) = since {
        subscribe["since"] = json!(since);
    }
    send(&mut socket, subscribe).await?;
    let answer = receive(&mut socket).await?;
    anyhow::ensure!(
        answer == json!({ "type": "subscribed", "topic": topic }),
        "expected subscribed, got {answer}"
    );
    Ok(socket)
}

/// The next `feed` message's entry, checking the message's shape and topic.
async fn entry(socket: &mut Socket, topic: &str) -> anyhow::Result<Value> {
    let message = receive(socket).await?;
    anyhow::ensure!(
        message["type"] == "feed" && message["topic"] == topic,
        "expected a feed message of {topic}, got {message}"
    );
    let keys: Vec<&String> = message
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    anyhow::ensure!(keys.len() == 3, "unexpected fields in {message}");
    Ok(message["entry"].clone())
}

/// `user`'s own audit entries as REST pages them (newest first).
async fn own_entries(app: &TestApp, user: &Registered) -> anyhow::Result<Vec<Value>> {
    let page = expect_json(
        app.get_as("/api/v1/audit-logs?limit=100", &user.access)
            .await?,
        200,
    )
    .await?;
    Ok(page["items"].as_array().cloned().unwrap_or_default())
}

async fn set_status(
    app: &TestApp,
    user: &Registered,
    task: &str,
    status: &str,
) -> anyhow::Result<()> {
    let path = format!("/api/v1/tasks/{task}");
    let body = json!({ "status": status });
    expect_json(app.patch_as(&path, &user.access, &body).await?, 200).await?;
    Ok(())
}

on_both_adapters!(
    the_user_feed_streams_the_callers_entries_as_rest_shows_them_in_commit_order,
    the_user_feed_follows_tasks_shared_with_the_caller_and_nothing_else,
    a_team_feed_is_for_members_of_any_role_and_ends_at_their_removal,
    since_replays_the_entries_after_it_then_carries_on_live,
    a_since_that_names_no_entry_or_the_wrong_resume_field_is_an_error,
);

async fn the_user_feed_streams_the_callers_entries_as_rest_shows_them_in_commit_order(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let before = own_entries(&app, &ann).await?.len();
    let mut feed = follow(&app.live_url(), &ann, "feed:user", None).await?;

    let first = app
        .create_task(&ann.access, json!({ "title": "one" }))
        .await?;
    app.create_task(&ann.access, json!({ "title": "two" }))
        .await?;
    set_status(&app, &ann, &id_of(&first), "completed").await?;
    let mut streamed = Vec::new();
    for _ in 0..3 {
        streamed.push(entry(&mut feed, "feed:user").await?);
    }

    let metrics = app.get("/metrics").await?.text().await?;
    let mut listed = own_entries(&app, &ann).await?;
    listed.truncate(listed.len() - before);
    listed.reverse();
    assert_eq!(
        streamed, listed,
        "the feed, and REST's entries oldest first"
    );
    let actions: Vec<&str> = streamed
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["task.create", "task.create", "task.update"]);
    assert_eq!(streamed[2]["target_id"], first["id"]);
    assert_eq!(streamed[2]["details"]["status"], "completed");
    assert_eq!(
        streamed[2]["details"]["title"], "one",
        "an update names its task"
    );
    // The server's /metrics count its own sessions' feeds; the axum example serves no metrics.
    if matches!(adapter, Adapter::Poem) {
        for line in [
            "taskpulse_feed_subscriptions 1\n",
            "taskpulse_feed_entries_delivered_total 3\n",
        ] {
            assert!(metrics.contains(line), "/metrics lacks {line:?}");
        }
    }
    Ok(())
}

async fn the_user_feed_follows_tasks_shared_with_the_caller_and_nothing_else(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let carol = app.register("carol@example.com").await?;
    let mut bobs = follow(&app.live_url(), &bob, "feed:user", None).await?;
    let mut carols = follow(&app.live_url(), &carol, "feed:user", None).await?;

    let task = id_of(
        &app.create_task(&ann.access, json!({ "title": "before sharing" }))
            .await?,
    );
    app.share(&ann.access, &task, &bob.user_id, "edit").await?;
    set_status(&app, &ann, &task, "in_progress").await?;
    set_status(&app, &bob, &task, "completed").await?;
    let unshare = format!("/api/v1/tasks/{task}/shares/{}", bob.user_id);
    assert_eq!(app.delete_as(&unshare, &ann.access).await?.status(), 204);
    set_status(&app, &ann, &task, "pending").await?;
    // Entries come in commit order: were Ann's private ones in Bob's or Carol's feed, they
    // would come before these.
    app.create_task(&bob.access, json!({ "title": "bob's own" }))
        .await?;
    app.create_task(&carol.access, json!({ "title": "carol's own" }))
        .await?;

    let mut seen_by_bob = Vec::new();
    for _ in 0..5 {
        let entry = entry(&mut bobs, "feed:user").await?;
        if entry["target_id"] == json!(task) {
            assert_eq!(entry["details"]["title"], "before sharing", "{entry}");
        }
        seen_by_bob.push((entry["action"].clone(), entry["actor_id"].clone()));
    }
    let carols_first = entry(&mut carols, "feed:user").await?;

    let (ann_id, bob_id) = (json!(ann.user_id), json!(bob.user_id));
    assert_eq!(
        seen_by_bob,
        [
            (json!("task.share"), ann_id.clone()),
            (json!("task.update"), ann_id.clone()),
            (json!("task.update"), bob_id.clone()),
            (json!("task.unshare"), ann_id),
            (json!("task.create"), bob_id),
        ]
    );
    assert_eq!(carols_first["details"]["title"], "carol's own");
    Ok(())
}

async fn a_team_feed_is_for_members_of_any_role_and_ends_at_their_removal(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let carol = app.register("carol@example.com").await?;
    let team = app.create_team(&ann.access, "Platform").await?;
    app.add_member(&ann.access, &team, &bob.user_id, "viewer")
        .await?;
    let topic = format!("feed:team:{team}");

    let mut outsider = app.connect(Some(&carol.access)).await?;
    send(
        &mut outsider,
        json!({ "type": "subscribe", "topic": topic }),
    )
    .await?;
    let refused = receive(&mut outsider).await?;
    send(
        &mut outsider,
        json!({ "type": "subscribe", "topic": "feed:team:nope" }),
    )
    .await?;
    let invalid = receive(&mut outsider).await?;
    let mut bobs = follow(&app.live_url(), &bob, &topic, None).await?;
    let task = app
        .create_task(&ann.access, json!({ "title": "Ship v2", "team_id": team }))
        .await?;
    set_status(&app, &ann, &id_of(&task), "completed").await?;
    let member = format!("/api/v1/teams/{team}/members/{}", bob.user_id);
    assert_eq!(app.delete_as(&member, &ann.access).await?.status(), 204);
    let created = entry(&mut bobs, &topic).await?;
    let completed = entry(&mut bobs, &topic).await?;
    let removed = entry(&mut bobs, &topic).await?;
    let ended = receive(&mut bobs).await?;

    assert_eq!(refused["type"], "error");
    assert_eq!(refused["code"], "forbidden");
    assert_eq!(refused["topic"], json!(topic));
    assert_eq!(invalid["code"], "invalid_topic");
    assert_eq!(created["action"], "task.create");
    assert_eq!(created["team_id"], json!(team));
    assert_eq!(completed["action"], "task.update");
    assert_eq!(removed["action"], "team.member_remove");
    assert_eq!(removed["details"]["user_id"], json!(bob.user_id));
    assert_eq!(
        ended,
        json!({ "type": "unsubscribed", "topic": topic, "reason": "membership_revoked" })
    );
    Ok(())
}

async fn since_replays_the_entries_after_it_then_carries_on_live(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let mut feed = follow(&app.live_url(), &ann, "feed:user", None).await?;
    app.create_task(&ann.access, json!({ "title": "seen" }))
        .await?;
    let seen = entry(&mut feed, "feed:user").await?;
    drop(feed);

    for title in ["missed 1", "missed 2"] {
        app.create_task(&ann.access, json!({ "title": title }))
            .await?;
    }
    let mut resumed = follow(&app.live_url(), &ann, "feed:user", seen["id"].as_str()).await?;
    let replayed = [
        entry(&mut resumed, "feed:user").await?,
        entry(&mut resumed, "feed:user").await?,
    ];
    app.create_task(&ann.access, json!({ "title": "live" }))
        .await?;
    let live = entry(&mut resumed, "feed:user").await?;

    let titles: Vec<&Value> = replayed.iter().map(|e| &e["details"]["title"]).collect();
    assert_eq!(titles, [&json!("missed 1"), &json!("missed 2")]);
    assert_eq!(
        live["details"]["title"], "live",
        "nothing repeated or skipped"
    );
    Ok(())
}

async fn a_since_that_names_no_entry_or_the_wrong_resume_field_is_an_error(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let mut socket = app.connect(Some(&ann.access)).await?;
    let asks = [
        json!({ "type": "subscribe", "topic": "feed:user", "since": uuid::Uuid::now_v7() }),
        json!({ "type": "subscribe", "topic": "feed:user", "since": "yesterday" }),
        json!({ "type": "subscribe", "topic": "feed:user", "since_version": 3 }),
        json!({ "type": "subscribe", "topic": "user", "since": uuid::Uuid::now_v7() }),
    ];
    let mut codes = Vec::new();
    for ask in asks {
        send(&mut socket, ask).await?;
        let answer = receive(&mut socket).await?;
        assert_eq!(answer["type"], "error", "{answer}");
        codes.push(answer["code"].clone());
    }
    send(&mut socket, json!({ "type": "ping", "id": 1 })).await?;
    let still_open = receive(&mut socket).await?;

    assert_eq!(
        codes,
        [
            "invalid_since",
            "invalid_since",
            "malformed_message",
            "malformed_message"
        ]
    );
    assert_eq!(still_open, json!({ "type": "pong", "id": 1 }));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_feed_follows_another_nodes_entries_and_resumes_on_any_node() -> anyhow::Result<()> {
    let nodes = TestApp::builder().spawn_cluster(2).await?;
    let (a, b) = (&nodes[0], &nodes[1]);
    let ann = a.register("ann@example.com").await?;
    let bob = a.register("bob@example.com").await?;
    let team = a.create_team(&ann.access, "Platform").await?;
    let topic = format!("feed:team:{team}");
    a.add_member(&ann.access, &team, &bob.user_id, "member")
        .await?;

    let mut on_a = follow(&a.base_url, &ann, &topic, None).await?;
    a.create_task(
        &bob.access,
        json!({ "title": "seen on a", "team_id": team }),
    )
    .await?;
    let seen = entry(&mut on_a, &topic).await?;
    drop(on_a);
    a.create_task(&bob.access, json!({ "title": "missed", "team_id": team }))
        .await?;
    let mut on_b = follow(&b.base_url, &ann, &topic, seen["id"].as_str()).await?;
    let replayed = entry(&mut on_b, &topic).await?;
    a.create_task(
        &bob.access,
        json!({ "title": "live from a", "team_id": team }),
    )
    .await?;
    let live = entry(&mut on_b, &topic).await?;

    assert_eq!(replayed["details"]["title"], "missed");
    assert_eq!(live["details"]["title"], "live from a");
    assert_eq!(live["actor_id"], json!(bob.user_id));
    Ok(())
}
