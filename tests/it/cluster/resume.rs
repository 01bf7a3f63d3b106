//! Resume (`since_version`) on a node other than the one the client left: exactly the missed
//! deltas, from the change log, even when no node remembers them and while writes go on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use super::statistics;
use super::ws::{Received, kind_and_version, next, receive, send, subscribe};
use crate::common::TestApp;

/// Resumes tried, each by a new user, and writers per user meanwhile: enough that the race
/// shows in nearly every run.
const ROUNDS: usize = 20;
const WRITERS: usize = 3;

async fn create_tasks(app: &TestApp, access: &str, count: usize) -> anyhow::Result<()> {
    for n in 0..count {
        app.create_task(access, json!({ "title": format!("task {n}") }))
            .await?;
    }
    Ok(())
}

/// Subscribes on `node` after `since`, and answers the versions of the messages that follow
/// until `count` arrived, failing on anything but a delta; then checks that the replay ends
/// with `subscribed` at the last of them and nothing else was queued (a ping's pong comes
/// next).
async fn resumed_versions(
    node: &TestApp,
    access: &str,
    since: i64,
    count: usize,
) -> anyhow::Result<Vec<i64>> {
    let mut socket = subscribe(&node.base_url, access, "user", Some(since)).await?;
    let mut versions = Vec::with_capacity(count);
    for _ in 0..count {
        let message = receive(&mut socket).await?;
        match kind_and_version(&message) {
            (Some("delta"), Some(version)) => versions.push(version),
            _ => anyhow::bail!("expected a delta, got {message}"),
        }
    }
    let live = receive(&mut socket).await?;
    anyhow::ensure!(
        kind_and_version(&live) == (Some("subscribed"), versions.last().copied()),
        "the replay did not end with subscribed at its last version: {live}"
    );
    send(&mut socket, json!({ "type": "ping", "id": "end" })).await?;
    let after = receive(&mut socket).await?;
    anyhow::ensure!(
        after["type"] == "pong",
        "more than the missed deltas: {after}"
    );
    Ok(versions)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_resumes_on_another_node_with_exactly_the_missed_deltas() -> anyhow::Result<()> {
    let nodes = TestApp::builder().spawn_cluster(2).await?;
    let (a, b) = (&nodes[0], &nodes[1]);
    let ann = a.register("ann@example.com").await?;
    create_tasks(a, &ann.access, 2).await?;
    let mut on_a = subscribe(&a.base_url, &ann.access, "user", None).await?;
    let seen = receive(&mut on_a).await?["version"].as_i64().unwrap_or(-1);
    drop(on_a);
    create_tasks(a, &ann.access, 5).await?;

    let replayed = resumed_versions(b, &ann.access, seen, 5).await?;

    let head = statistics(b, &ann.access).await?["version"].as_i64();
    assert_eq!(replayed, (seen + 1..=seen + 5).collect::<Vec<_>>());
    assert_eq!(replayed.last().copied(), head);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_resumes_from_the_log_after_every_node_was_restarted() -> anyhow::Result<()> {
    let mut nodes = TestApp::builder().spawn_cluster(2).await?;
    let ann = nodes[0].register("ann@example.com").await?;
    let mut on_a = subscribe(&nodes[0].base_url, &ann.access, "user", None).await?;
    let seen = receive(&mut on_a).await?["version"].as_i64().unwrap_or(-1);
    drop(on_a);
    create_tasks(&nodes[0], &ann.access, 4).await?;

    // Nothing of those changes is left in any node's memory.
    for node in &mut nodes {
        node.kill().await?;
    }
    for node in &mut nodes {
        node.start_again().await?;
    }
    let replayed = resumed_versions(&nodes[1], &ann.access, seen, 4).await?;

    let head = statistics(&nodes[1], &ann.access).await?;
    assert_eq!(replayed, (seen + 1..=seen + 4).collect::<Vec<_>>());
    assert_eq!(replayed.last().copied(), head["version"].as_i64());
    assert_eq!(head["total"], 4);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resume_on_a_node_that_just_loaded_the_scope_replays_deltas_while_writes_go_on()
-> anyhow::Result<()> {
    let nodes = TestApp::builder()
        .with_arg("--no-rate-limit")
        .spawn_cluster(2)
        .await?;
    let (a, b) = (&nodes[0], &nodes[1]);
    let mut first_after_resume = Vec::new();

    // Each round: a new user, written through a only (b never loaded its scope), resumes on
    // b while the writes go on.
    for round in 0..ROUNDS {
        let user = a.register(&format!("user{round}@example.com")).await?;
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                let (http, url) = (a.http.clone(), a.url("/api/v1/tasks"));
                tokio::spawn(write_until(
                    http,
                    url,
                    user.access.clone(),
                    Arc::clone(&stop),
                ))
            })
            .collect();
        let mut on_a = subscribe(&a.base_url, &user.access, "user", None).await?;
        let mut seen = receive(&mut on_a).await?["version"].as_i64().unwrap_or(-1);
        while seen < 3 {
            seen = receive(&mut on_a).await?["version"].as_i64().unwrap_or(-1);
        }
        let mut on_b = subscribe(&b.base_url, &user.access, "user", Some(seen)).await?;
        // b may hold nothing newer yet: then it says the client is live at `seen` first.
        let mut first = receive(&mut on_b).await?;
        if kind_and_version(&first) == (Some("subscribed"), Some(seen)) {
            first = receive(&mut on_b).await?;
        }
        stop.store(true, Ordering::Relaxed);
        for writer in writers {
            writer.await??;
        }
        first_after_resume.push((
            seen,
            kind_and_version(&first).0.map(str::to_owned),
            first["version"].as_i64(),
        ));
    }

    for (seen, kind, version) in &first_after_resume {
        assert_eq!(
            (kind.as_deref(), *version),
            (Some("delta"), Some(seen + 1)),
            "{first_after_resume:?}"
        );
    }
    Ok(())
}

/// Creates tasks through `url` until `stop`.
async fn write_until(
    http: reqwest::Client,
    url: String,
    access: String,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    while !stop.load(Ordering::Relaxed) {
        let created = http
            .post(&url)
            .bearer_auth(&access)
            .json(&json!({ "title": "more" }))
            .send()
            .await?;
        anyhow::ensure!(created.status() == 201, "create: {}", created.status());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resume_on_a_node_that_has_not_heard_of_the_last_change_never_goes_back()
-> anyhow::Result<()> {
    // One node id for both, so each takes the other's signals for its own and ignores them:
    // b hears of a's commits only from its periodic check, every 2 s.
    let nodes = TestApp::builder()
        .with_arg("--node-id")
        .with_arg("twin")
        .with_arg("--cluster-check-every")
        .with_arg("2s")
        .spawn_cluster(2)
        .await?;
    let (a, b) = (&nodes[0], &nodes[1]);
    let ann = a.register("ann@example.com").await?;
    // b loads ann's scope (it stays live there) at version 0.
    let mut on_b = subscribe(&b.base_url, &ann.access, "user", None).await?;
    receive(&mut on_b).await?;
    drop(on_b);
    let mut on_a = subscribe(&a.base_url, &ann.access, "user", None).await?;
    receive(&mut on_a).await?;
    create_tasks(a, &ann.access, 1).await?;
    let seen = receive(&mut on_a).await?["version"].as_i64().unwrap_or(-1);

    let mut resumed = subscribe(&b.base_url, &ann.access, "user", Some(seen)).await?;
    create_tasks(a, &ann.access, 1).await?;

    // Nothing was missed: b, caught up to what the client saw, says so at once; the next
    // message is the next change, whenever b hears of it.
    let mut messages = Vec::new();
    for _ in 0..2 {
        messages.push(match next(&mut resumed, super::SOON).await? {
            Received::Message(message) => message,
            Received::Closed(why) => anyhow::bail!("closed: {why}"),
        });
    }
    assert_eq!(
        kind_and_version(&messages[0]),
        (Some("subscribed"), Some(seen))
    );
    assert_eq!(
        kind_and_version(&messages[1]),
        (Some("delta"), Some(seen + 1))
    );
    Ok(())
}
